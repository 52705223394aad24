// Allowed AMIs through the AWS SDK for JavaScript v3 (and the aws CLI), against a server in strict
// mode: the settings per account and region, each criterion, enabled vs audit-mode vs disabled,
// DescribeImages' ImageAllowed member and image-allowed filter, RunInstances refused or not, and
// AWS's validation of the criteria. ALICE sets Allowed AMIs; BOB shares an image with her and
// must never be affected by her settings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeImagesCommand, DisableAllowedImagesSettingsCommand, EnableAllowedImagesSettingsCommand, GetAllowedImagesSettingsCommand,
  ModifyImageAttributeCommand, ReplaceImageCriteriaInAllowedImagesSettingsCommand, RunInstancesCommand,
  type EC2Client, type Image, type ImageCriterionRequest,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { awsCli, credentialsOf, ec2Client } from '../support/clients.ts';
import { amazonInUsEast1, catalog } from '../support/catalog.ts';
import { CATALOGUE_AMI } from '../support/instances.ts';
import { expectAwsError, registerEbs } from '../support/sdk.ts';

const UBUNTU = catalog.find((i) => i.name.startsWith('ubuntu/'))!.regions['us-east-1'];
const UBUNTU_EU = catalog.find((i) => i.name.startsWith('ubuntu/'))!.regions['eu-west-1'];

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceEu: EC2Client;
let aliceOwn: string;
let bobShared: string;
let bobPrivate: string;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
  aliceEu = ec2Client(server.endpoint, credentialsOf(ALICE), 'eu-west-1');
  aliceOwn = await registerEbs(alice, 'alice-own', { Architecture: 'x86_64' });
  bobShared = await registerEbs(bob, 'bob-golden-1', { Architecture: 'x86_64' });
  bobPrivate = await registerEbs(bob, 'bob-private', { Architecture: 'x86_64' });
  await bob.send(new ModifyImageAttributeCommand({ ImageId: bobShared, LaunchPermission: { Add: [{ UserId: ALICE.id }] } }));
});
after(async () => {
  await server?.stop();
});

const images = async (c: EC2Client, input = {}): Promise<Map<string, Image>> =>
  new Map(((await c.send(new DescribeImagesCommand(input))).Images ?? []).map((i) => [i.ImageId!, i]));
const allowedFlags = async (c: EC2Client): Promise<Record<string, boolean | undefined>> =>
  Object.fromEntries([...(await images(c))].map(([id, i]) => [id, i.ImageAllowed]));
const replace = (c: EC2Client, ImageCriteria?: ImageCriterionRequest[]) =>
  c.send(new ReplaceImageCriteriaInAllowedImagesSettingsCommand({ ImageCriteria }));
const enable = (c: EC2Client, state: 'enabled' | 'audit-mode') =>
  c.send(new EnableAllowedImagesSettingsCommand({ AllowedImagesSettingsState: state }));
const launch = (c: EC2Client, ImageId: string) =>
  c.send(new RunInstancesCommand({ ImageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
const notAllowed = (id: string) => ({ name: 'InvalidAMIID.NotFound', status: 400, message: new RegExp(`\\[${id}\\].*Allowed AMIs`) });

/** Enabled with these criteria: the image ids ALICE then sees, all of them reported allowed. */
async function visibleWhenEnabled(criteria: ImageCriterionRequest[]): Promise<string[]> {
  await replace(alice, criteria);
  await enable(alice, 'enabled');
  const seen = await images(alice);
  for (const i of seen.values()) assert.equal(i.ImageAllowed, true, `${i.ImageId} listed while enabled`);
  return [...seen.keys()].sort();
}

describe('settings', () => {
  test('disabled with no criteria until set; DescribeImages has no ImageAllowed member', async () => {
    const s = await alice.send(new GetAllowedImagesSettingsCommand({}));
    assert.equal(s.State, 'disabled');
    assert.deepEqual(s.ImageCriteria ?? [], []);
    assert.equal(s.ManagedBy, 'account');
    const seen = await images(alice);
    for (const id of [aliceOwn, bobShared, UBUNTU, CATALOGUE_AMI]) assert.ok(seen.has(id), id);
    assert.ok(!seen.has(bobPrivate), 'an image never shared stays invisible');
    for (const i of seen.values()) assert.equal(i.ImageAllowed, undefined);
  });

  test('enable, replace, get, disable: the answers AWS gives, criteria kept across states', async () => {
    assert.deepEqual((await enable(alice, 'audit-mode')).AllowedImagesSettingsState, 'audit-mode');
    const criteria = [
      { ImageProviders: ['amazon', BOB.id] },
      { ImageNames: ['ubuntu/images/*'], CreationDateCondition: { MaximumDaysSinceCreated: 3650 }, DeprecationTimeCondition: { MaximumDaysSinceDeprecated: 0 } },
      { MarketplaceProductCodes: ['abcdefg1234567890'] },
    ];
    assert.equal((await replace(alice, criteria)).ReturnValue, true);
    let s = await alice.send(new GetAllowedImagesSettingsCommand({}));
    assert.equal(s.State, 'audit-mode');
    assert.deepEqual(s.ImageCriteria, criteria);
    assert.equal((await alice.send(new DisableAllowedImagesSettingsCommand({}))).AllowedImagesSettingsState, 'disabled');
    s = await alice.send(new GetAllowedImagesSettingsCommand({}));
    assert.equal(s.State, 'disabled');
    assert.deepEqual(s.ImageCriteria, criteria);
    assert.equal((await enable(alice, 'enabled')).AllowedImagesSettingsState, 'enabled');
    assert.equal((await alice.send(new GetAllowedImagesSettingsCommand({}))).State, 'enabled');
    await alice.send(new DisableAllowedImagesSettingsCommand({}));
  });

  test('per account and region: BOB and ALICE in another region are untouched', async () => {
    await replace(alice, [{ ImageProviders: ['amazon'] }]);
    await enable(alice, 'enabled');
    assert.equal((await bob.send(new GetAllowedImagesSettingsCommand({}))).State, 'disabled');
    assert.equal((await aliceEu.send(new GetAllowedImagesSettingsCommand({}))).State, 'disabled');
    assert.deepEqual((await aliceEu.send(new GetAllowedImagesSettingsCommand({}))).ImageCriteria ?? [], []);
    const bobSees = await images(bob);
    assert.ok(bobSees.has(UBUNTU));
    assert.equal(bobSees.get(UBUNTU)!.ImageAllowed, undefined);
    assert.equal((await launch(bob, UBUNTU)).Instances?.length, 1);
    const euSees = await images(aliceEu);
    assert.ok(euSees.has(UBUNTU_EU));
    assert.equal(euSees.get(UBUNTU_EU)!.ImageAllowed, undefined);
    // And BOB's own settings do not reach ALICE.
    await replace(bob, [{ ImageProviders: ['none'] }]);
    await enable(bob, 'enabled');
    assert.deepEqual((await alice.send(new GetAllowedImagesSettingsCommand({}))).ImageCriteria, [{ ImageProviders: ['amazon'] }]);
    await bob.send(new DisableAllowedImagesSettingsCommand({}));
    await alice.send(new DisableAllowedImagesSettingsCommand({}));
  });

  test('invalid criteria are refused with InvalidParameterValue, and nothing changes', async () => {
    await replace(alice, [{ ImageProviders: ['amazon'] }]);
    const bad: [ImageCriterionRequest[], RegExp][] = [
      [Array.from({ length: 11 }, () => ({ ImageProviders: ['amazon'] })), /maximum of 10/],
      [[{ ImageProviders: Array.from({ length: 201 }, () => BOB.id) }], /maximum is 200/],
      [[{ ImageNames: Array.from({ length: 51 }, (_, i) => `n${i}`) }], /maximum is 50/],
      [[{ MarketplaceProductCodes: Array.from({ length: 51 }, (_, i) => `c${i}`) }], /maximum is 50/],
      [[{ ImageProviders: ['none', 'amazon'] }], /none/],
      [[{ ImageProviders: ['amazon.com'] }], /amazon\.com/],
      [[{ ImageProviders: ['1234'] }], /1234/],
      [[{ ImageNames: ['a?'] }], /at least 3/],
      [[{ ImageNames: ['x'.repeat(129)] }], /1-128/],
      [[{ ImageNames: ['semi;colon'] }], /semi;colon/],
      [[{ MarketplaceProductCodes: ['not-alnum'] }], /not-alnum/],
      [[{ CreationDateCondition: { MaximumDaysSinceCreated: -1 } }], /-1/],
    ];
    for (const [criteria, message] of bad) {
      await expectAwsError(replace(alice, criteria), { name: 'InvalidParameterValue', status: 400, message });
    }
    assert.deepEqual((await alice.send(new GetAllowedImagesSettingsCommand({}))).ImageCriteria, [{ ImageProviders: ['amazon'] }]);
    await expectAwsError(alice.send(new EnableAllowedImagesSettingsCommand({ AllowedImagesSettingsState: 'on' as 'enabled' })),
      { name: 'InvalidParameterValue', status: 400 });
    await expectAwsError(alice.send(new EnableAllowedImagesSettingsCommand({ AllowedImagesSettingsState: 'enabled', DryRun: true })),
      { name: 'DryRunOperation', status: 412 });
    assert.equal((await alice.send(new GetAllowedImagesSettingsCommand({}))).State, 'disabled');
  });
});

describe('effects', () => {
  test('audit-mode: every image listed and launchable, ImageAllowed says which would be allowed', async () => {
    await replace(alice, [{ ImageProviders: ['amazon'] }]);
    await enable(alice, 'audit-mode');
    const flags = await allowedFlags(alice);
    for (const id of amazonInUsEast1) assert.equal(flags[id], true, id);
    assert.equal(flags[aliceOwn], true, 'own images are always allowed');
    assert.equal(flags[UBUNTU], false);
    assert.equal(flags[bobShared], false);
    const notYet = await images(alice, { Filters: [{ Name: 'image-allowed', Values: ['false'] }] });
    assert.ok(notYet.has(UBUNTU) && notYet.has(bobShared) && !notYet.has(aliceOwn) && !notYet.has(CATALOGUE_AMI));
    const byId = await images(alice, { ImageIds: [UBUNTU] });
    assert.equal(byId.get(UBUNTU)?.ImageAllowed, false);
    assert.equal((await launch(alice, UBUNTU)).Instances?.length, 1);
    assert.equal((await launch(alice, bobShared)).Instances?.length, 1);
  });

  test('enabled: not-allowed images are neither listed (even by id) nor launchable; allowed and own ones are', async () => {
    await replace(alice, [{ ImageProviders: ['amazon'] }]);
    await enable(alice, 'enabled');
    const seen = await images(alice);
    assert.deepEqual([...seen.keys()].sort(), [...amazonInUsEast1, aliceOwn].sort());
    for (const i of seen.values()) assert.equal(i.ImageAllowed, true);
    assert.equal((await images(alice, { ImageIds: [UBUNTU] })).size, 0, 'asked for by id: left out, not an error');
    assert.equal((await images(alice, { Filters: [{ Name: 'image-allowed', Values: ['false'] }] })).size, 0);
    await expectAwsError(launch(alice, UBUNTU), notAllowed(UBUNTU));
    await expectAwsError(launch(alice, bobShared), notAllowed(bobShared));
    assert.equal((await launch(alice, CATALOGUE_AMI)).Instances?.length, 1);
    assert.equal((await launch(alice, aliceOwn)).Instances?.length, 1);
    // An image ALICE was never granted is still plain not-found, as before.
    await expectAwsError(launch(alice, bobPrivate), { name: 'InvalidAMIID.NotFound', message: `The image id '[${bobPrivate}]' does not exist` });
  });

  test('each criterion while enabled: providers (account id, none), names, dates, product codes', async () => {
    assert.deepEqual(await visibleWhenEnabled([{ ImageProviders: [BOB.id] }]), [aliceOwn, bobShared].sort());
    assert.deepEqual(await visibleWhenEnabled([{ ImageProviders: ['none'] }]), [aliceOwn]);
    assert.deepEqual(await visibleWhenEnabled([{ ImageNames: ['ubuntu/images/*', 'bob-golden-?'] }]), [aliceOwn, bobShared, UBUNTU].sort());
    // The catalogue's images were made in 2024; BOB's image was registered moments ago.
    assert.deepEqual(await visibleWhenEnabled([{ CreationDateCondition: { MaximumDaysSinceCreated: 30 } }]), [aliceOwn, bobShared].sort());
    // Nothing here is deprecated, so MaximumDaysSinceDeprecated 0 leaves the providers' images in.
    assert.deepEqual(await visibleWhenEnabled([{ ImageProviders: ['amazon'], DeprecationTimeCondition: { MaximumDaysSinceDeprecated: 0 } }]),
      [...amazonInUsEast1, aliceOwn].sort());
    // No image here carries a marketplace product code.
    assert.deepEqual(await visibleWhenEnabled([{ MarketplaceProductCodes: ['abcdefg1234567890'] }]), [aliceOwn]);
    assert.deepEqual(await visibleWhenEnabled([{ ImageProviders: ['aws-marketplace', 'aws-backup-vault'] }]), [aliceOwn]);
  });

  test('parameters of one criterion AND together, criteria OR together; no criteria allows only own images', async () => {
    assert.deepEqual(await visibleWhenEnabled([{ ImageProviders: [BOB.id], ImageNames: ['silver-*'] }]), [aliceOwn]);
    assert.deepEqual(await visibleWhenEnabled([{ ImageProviders: [BOB.id], ImageNames: ['silver-*'] }, { ImageNames: ['bob-*'] }]),
      [aliceOwn, bobShared].sort());
    assert.deepEqual(await visibleWhenEnabled([]), [aliceOwn]);
    await replace(alice, undefined);
    assert.deepEqual((await alice.send(new GetAllowedImagesSettingsCommand({}))).ImageCriteria ?? [], []);
  });

  test('disabling lifts everything and drops ImageAllowed; BOB never saw a difference', async () => {
    await replace(alice, [{ ImageProviders: ['none'] }]);
    await enable(alice, 'enabled');
    await alice.send(new DisableAllowedImagesSettingsCommand({}));
    const flags = await allowedFlags(alice);
    assert.ok(UBUNTU in flags && bobShared in flags);
    assert.ok(Object.values(flags).every((f) => f === undefined));
    assert.equal((await launch(alice, UBUNTU)).Instances?.length, 1);
    const bobFlags = await allowedFlags(bob);
    assert.ok(bobPrivate in bobFlags && UBUNTU in bobFlags);
    assert.ok(Object.values(bobFlags).every((f) => f === undefined));
  });
});

describe('aws CLI', () => {
  test('replace, enable, get and describe-images --query ImageAllowed', async () => {
    const creds = credentialsOf(ALICE);
    let r = await awsCli(server.endpoint, creds, ['ec2', 'replace-image-criteria-in-allowed-images-settings',
      '--image-criteria', JSON.stringify([{ ImageProviders: ['amazon'], ImageNames: ['al2023-*'] }])]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.ReturnValue, true);
    r = await awsCli(server.endpoint, creds, ['ec2', 'enable-allowed-images-settings', '--allowed-images-settings-state', 'audit-mode']);
    assert.equal(r.json.AllowedImagesSettingsState, 'audit-mode');
    r = await awsCli(server.endpoint, creds, ['ec2', 'get-allowed-images-settings']);
    assert.deepEqual(r.json, { State: 'audit-mode', ImageCriteria: [{ ImageProviders: ['amazon'], ImageNames: ['al2023-*'] }], ManagedBy: 'account' });
    r = await awsCli(server.endpoint, creds, ['ec2', 'describe-images', '--image-ids', CATALOGUE_AMI, UBUNTU, '--query', 'Images[].[ImageId,ImageAllowed]']);
    assert.deepEqual(new Map(r.json), new Map([[CATALOGUE_AMI, true], [UBUNTU, false]]));
    r = await awsCli(server.endpoint, creds, ['ec2', 'replace-image-criteria-in-allowed-images-settings',
      '--image-criteria', JSON.stringify([{ ImageProviders: ['none', BOB.id] }])]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /InvalidParameterValue/);
    r = await awsCli(server.endpoint, creds, ['ec2', 'disable-allowed-images-settings']);
    assert.equal(r.json.AllowedImagesSettingsState, 'disabled');
  });
});
