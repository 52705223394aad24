// GetImageAncestry through the AWS SDK for JavaScript v3 (and boto3), against a server in strict
// mode. The chains are made the honest way: launch from an image, CreateImage, launch from that,
// CreateImage. CreateImage records the image the instance was launched from as SourceImageId and
// its region as SourceImageRegion; the walk follows them back to the root, and stops where the
// caller can no longer read an ancestor (not shared, deregistered).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateImageCommand, DeregisterImageCommand, DescribeImagesCommand, EnableAllowedImagesSettingsCommand, GetImageAncestryCommand,
  ModifyImageAttributeCommand, ReplaceImageCriteriaInAllowedImagesSettingsCommand, DisableAllowedImagesSettingsCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { boto3, credentialsOf, ec2Client } from '../support/clients.ts';
import { catalog } from '../support/catalog.ts';
import { CATALOGUE_AMI, runOne, waitImage, waitRunning } from '../support/instances.ts';
import { expectAwsError, registerEbs } from '../support/sdk.ts';

const AL2023_EU = catalog.find((i) => i.regions['us-east-1'] === CATALOGUE_AMI)!.regions['eu-west-1'];

let server: RunningServer;
let alice: EC2Client;
let aliceEu: EC2Client;
let bob: EC2Client;
/** CATALOGUE_AMI <- first <- second, all ALICE's in us-east-1 but the root. */
let first: string;
let second: string;

/** Launches from `imageId`, waits for it to run, and makes an image of it (available when returned). */
async function imageOf(c: EC2Client, imageId: string, name: string): Promise<string> {
  const instance = await runOne(c, { ImageId: imageId });
  await waitRunning(c, [instance.InstanceId!]);
  const made = await c.send(new CreateImageCommand({ InstanceId: instance.InstanceId, Name: name, NoReboot: true }));
  await waitImage(c, made.ImageId!);
  return made.ImageId!;
}

const ancestry = async (c: EC2Client, ImageId: string) =>
  ((await c.send(new GetImageAncestryCommand({ ImageId }))).ImageAncestryEntries ?? []).map((e) => ({
    id: e.ImageId, source: e.SourceImageId, region: e.SourceImageRegion, alias: e.ImageOwnerAlias, created: e.CreationDate,
  }));

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  aliceEu = ec2Client(server.endpoint, credentialsOf(ALICE), 'eu-west-1');
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
  first = await imageOf(alice, CATALOGUE_AMI, 'first');
  second = await imageOf(alice, first, 'second');
});
after(async () => {
  await server?.stop();
});

describe('CreateImage records its source', () => {
  test('SourceImageId and SourceImageRegion name the instance\'s image, and filter', async () => {
    const img = (await alice.send(new DescribeImagesCommand({ ImageIds: [second] }))).Images![0];
    assert.equal(img.SourceImageId, first);
    assert.equal(img.SourceImageRegion, 'us-east-1');
    const bySource = await alice.send(new DescribeImagesCommand({ Filters: [{ Name: 'source-image-id', Values: [CATALOGUE_AMI] }] }));
    assert.deepEqual(bySource.Images?.map((i) => i.ImageId), [first]);
    const registered = (await alice.send(new DescribeImagesCommand({ ImageIds: [CATALOGUE_AMI] }))).Images![0];
    assert.equal(registered.SourceImageId, undefined);
  });

  test('in another region, the source region is that region', async () => {
    const euImage = await imageOf(aliceEu, AL2023_EU, 'eu-made');
    const img = (await aliceEu.send(new DescribeImagesCommand({ ImageIds: [euImage] }))).Images![0];
    assert.deepEqual([img.SourceImageId, img.SourceImageRegion], [AL2023_EU, 'eu-west-1']);
    assert.deepEqual((await ancestry(aliceEu, euImage)).map((e) => e.id), [euImage, AL2023_EU]);
  });
});

describe('GetImageAncestry', () => {
  test('the chain from the image to its Amazon root, in order, with AWS\'s members', async () => {
    const chain = await ancestry(alice, second);
    assert.deepEqual(chain.map(({ id, source, region, alias }) => ({ id, source, region, alias })), [
      { id: second, source: first, region: 'us-east-1', alias: undefined },
      { id: first, source: CATALOGUE_AMI, region: 'us-east-1', alias: undefined },
      { id: CATALOGUE_AMI, source: undefined, region: undefined, alias: 'amazon' },
    ]);
    for (const e of chain) assert.ok(e.created instanceof Date && !Number.isNaN(e.created.getTime()));
    const described = (await alice.send(new DescribeImagesCommand({ ImageIds: [second] }))).Images![0];
    assert.equal(chain[0].created!.toISOString(), new Date(described.CreationDate!).toISOString());
  });

  test('an image registered on snapshots is a root: its descendants end there', async () => {
    const registered = await registerEbs(alice, 'registered-root', { Architecture: 'x86_64' });
    const child = await imageOf(alice, registered, 'child-of-registered');
    assert.deepEqual((await ancestry(alice, child)).map((e) => [e.id, e.source]), [[child, registered], [registered, undefined]]);
    assert.deepEqual((await ancestry(alice, registered)).map((e) => e.id), [registered]);
  });

  test('errors: malformed, unknown, and another account\'s image that is not shared', async () => {
    await expectAwsError(alice.send(new GetImageAncestryCommand({ ImageId: 'ami-nope' })), { name: 'InvalidAMIID.Malformed', status: 400 });
    await expectAwsError(alice.send(new GetImageAncestryCommand({ ImageId: 'ami-0123456789abcdef0' })),
      { name: 'InvalidAMIID.NotFound', status: 400, message: "The image id '[ami-0123456789abcdef0]' does not exist" });
    await expectAwsError(bob.send(new GetImageAncestryCommand({ ImageId: second })),
      { name: 'InvalidAMIID.NotFound', message: `The image id '[${second}]' does not exist` });
    await expectAwsError(alice.send(new GetImageAncestryCommand({ ImageId: second, DryRun: true })), { name: 'DryRunOperation', status: 412 });
  });

  test('another account sees the chain only as far as it may read it', async () => {
    await alice.send(new ModifyImageAttributeCommand({ ImageId: second, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    // `first` is not shared with BOB: his chain ends at `second`, which still names its source.
    assert.deepEqual((await ancestry(bob, second)).map((e) => [e.id, e.source]), [[second, first]]);
    await alice.send(new ModifyImageAttributeCommand({ ImageId: first, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    assert.deepEqual((await ancestry(bob, second)).map((e) => e.id), [second, first, CATALOGUE_AMI]);
    await alice.send(new ModifyImageAttributeCommand({ ImageId: first, LaunchPermission: { Remove: [{ UserId: BOB.id }] } }));
    assert.deepEqual((await ancestry(bob, second)).map((e) => e.id), [second]);
  });

  test('Allowed AMIs: with BOB\'s setting enabled, an image it does not allow cannot be traced by him', async () => {
    await bob.send(new ReplaceImageCriteriaInAllowedImagesSettingsCommand({ ImageCriteria: [{ ImageProviders: ['amazon'] }] }));
    await bob.send(new EnableAllowedImagesSettingsCommand({ AllowedImagesSettingsState: 'enabled' }));
    await expectAwsError(bob.send(new GetImageAncestryCommand({ ImageId: second })), { name: 'InvalidAMIID.NotFound', message: /Allowed AMIs/ });
    assert.equal((await ancestry(bob, CATALOGUE_AMI)).length, 1);
    assert.equal((await ancestry(alice, second)).length, 3, 'ALICE is not affected by BOB\'s setting');
    await bob.send(new DisableAllowedImagesSettingsCommand({}));
    assert.equal((await ancestry(bob, second)).length, 1);
  });

  test('boto3: get_image_ancestry, and a deregistered ancestor ends the chain', async () => {
    const third = await imageOf(alice, second, 'third');
    const script = `print(json.dumps(ec2.get_image_ancestry(ImageId=${JSON.stringify(third)})["ImageAncestryEntries"], default=str))`;
    let r = await boto3(server.endpoint, credentialsOf(ALICE), script);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.map((e: { ImageId: string }) => e.ImageId), [third, second, first, CATALOGUE_AMI]);
    assert.equal(r.json[3].ImageOwnerAlias, 'amazon');
    await alice.send(new DeregisterImageCommand({ ImageId: first }));
    r = await boto3(server.endpoint, credentialsOf(ALICE), script);
    assert.deepEqual(r.json.map((e: { ImageId: string; SourceImageId?: string }) => [e.ImageId, e.SourceImageId]), [[third, second], [second, first]]);
  });
});
