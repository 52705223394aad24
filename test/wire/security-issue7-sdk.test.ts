// Adversarial probes of the image governance, CopyImage, ancestry and Recycle Bin surfaces from
// another account's side (strict mode: ALICE owns, BOB probes). For a resource BOB may not see,
// every answer must be the one a never-existing id gets (AWS answers NotFound, not AuthFailure,
// so that errors do not confirm that another account's resource exists), and nothing changes.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRuleCommand, GetRuleCommand, ListTagsForResourceCommand, LockRuleCommand, RbinClient, UnlockRuleCommand, UntagResourceCommand,
} from '@aws-sdk/client-rbin';
import {
  CancelImageLaunchPermissionCommand, CopyImageCommand, CreateTagsCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand,
  DisableImageCommand, DisableImageDeprecationCommand, DisableImageDeregistrationProtectionCommand, DisableSnapshotBlockPublicAccessCommand,
  EnableImageCommand, EnableImageDeprecationCommand, EnableImageDeregistrationProtectionCommand, EnableSnapshotBlockPublicAccessCommand,
  GetImageAncestryCommand, ListImagesInRecycleBinCommand, ModifyImageAttributeCommand, ModifySnapshotAttributeCommand,
  RestoreImageFromRecycleBinCommand, DeleteSnapshotCommand, DescribeImageAttributeCommand, DescribeTagsCommand, ListSnapshotsInRecycleBinCommand,
  type EC2Client, type Image,
} from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { ebsClient } from '../support/ebs.ts';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { AMI_ID, createSnapshot, expectAwsError, forgetSnapshots, registerEbs, type AwsError } from '../support/sdk.ts';

const MISSING_IMAGE = 'ami-0123456789abcdef0';
let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceRbin: RbinClient;
let bobRbin: RbinClient;
const rbin = (who: typeof ALICE) => new RbinClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(who), maxAttempts: 1 });

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
  aliceRbin = rbin(ALICE);
  bobRbin = rbin(BOB);
});
after(async () => {
  await server?.stop();
});
beforeEach(async () => {
  await server.reset();
  forgetSnapshots();
});

async function errorOf(promise: Promise<unknown>): Promise<AwsError> {
  try {
    const out = await promise;
    return assert.fail(`expected an error, got ${JSON.stringify(out)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return e as AwsError;
  }
}

/** Bob's error for `id` is the one he gets for an id that never existed: same code, status and message. */
async function answersAsMissing(call: (id: string) => Promise<unknown>, id: string, missing = MISSING_IMAGE): Promise<void> {
  const real = await errorOf(call(id));
  const none = await errorOf(call(missing));
  assert.equal(real.name, none.name, `${real.name} (${real.message}) vs ${none.name} (${none.message})`);
  assert.equal(real.$metadata?.httpStatusCode, none.$metadata?.httpStatusCode);
  assert.equal(real.message.replaceAll(id, '<id>'), none.message.replaceAll(missing, '<id>'));
}

async function aliceImage(name: string): Promise<Image> {
  const id = await registerEbs(alice, name);
  return (await alice.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0];
}

const copyAs = (c: EC2Client, id: string, extra: Record<string, unknown> = {}) =>
  c.send(new CopyImageCommand({ Name: `copy-${Math.random().toString(36).slice(2)}`, SourceRegion: 'us-east-1', SourceImageId: id, ...extra }));

/** Every image call of issue 7 that names one image, as Bob. */
const BOB_CALLS: [string, (id: string) => Promise<unknown>][] = [
  ['DisableImage', (id) => bob.send(new DisableImageCommand({ ImageId: id }))],
  ['EnableImage', (id) => bob.send(new EnableImageCommand({ ImageId: id }))],
  ['EnableImageDeprecation', (id) => bob.send(new EnableImageDeprecationCommand({ ImageId: id, DeprecateAt: new Date(Date.now() + 86_400_000) }))],
  ['DisableImageDeprecation', (id) => bob.send(new DisableImageDeprecationCommand({ ImageId: id }))],
  ['EnableImageDeregistrationProtection', (id) => bob.send(new EnableImageDeregistrationProtectionCommand({ ImageId: id }))],
  ['DisableImageDeregistrationProtection', (id) => bob.send(new DisableImageDeregistrationProtectionCommand({ ImageId: id }))],
  ['CancelImageLaunchPermission', (id) => bob.send(new CancelImageLaunchPermissionCommand({ ImageId: id }))],
  ['GetImageAncestry', (id) => bob.send(new GetImageAncestryCommand({ ImageId: id }))],
  ['CopyImage', (id) => copyAs(bob, id)],
  ['CopyImage to another region', (id) => copyAs(ec2Client(server.endpoint, credentialsOf(BOB), 'us-west-2'), id)],
  ['DescribeImages', (id) => bob.send(new DescribeImagesCommand({ ImageIds: [id] }))],
  ['RestoreImageFromRecycleBin', (id) => bob.send(new RestoreImageFromRecycleBinCommand({ ImageId: id }))],
];

/** What Alice sees of her image, less what her own calls change. */
async function aliceView(id: string): Promise<Image | undefined> {
  return (await alice.send(new DescribeImagesCommand({ ImageIds: [id], IncludeDisabled: true }))).Images?.[0];
}

describe("another account's private, disabled and binned images", () => {
  test('a private image: every call answers Bob as for an id that never existed, and the image is unchanged', async () => {
    const image = await aliceImage('private');
    for (const [name, call] of BOB_CALLS) {
      await answersAsMissing(call, image.ImageId!).catch((err) => assert.fail(`${name}: ${(err as Error).message}`));
    }
    assert.deepEqual(await aliceView(image.ImageId!), image);
  });

  test('a disabled image that was shared with Bob: invisible to him in every call and listing', async () => {
    const image = await aliceImage('was-shared');
    await alice.send(new ModifyImageAttributeCommand({ ImageId: image.ImageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await alice.send(new DisableImageCommand({ ImageId: image.ImageId }));
    for (const [name, call] of BOB_CALLS) {
      await answersAsMissing(call, image.ImageId!).catch((err) => assert.fail(`${name}: ${(err as Error).message}`));
    }
    const listed = await bob.send(new DescribeImagesCommand({ IncludeDisabled: true, Filters: [{ Name: 'state', Values: ['disabled'] }] }));
    assert.deepEqual(listed.Images, []);
    const byOwner = await bob.send(new DescribeImagesCommand({ Owners: [ALICE.id], IncludeDisabled: true }));
    assert.deepEqual(byOwner.Images, []);
    assert.equal((await aliceView(image.ImageId!))?.State, 'disabled');
  });

  test('an image in Alice\'s Recycle Bin that was shared with Bob: not his to list, copy, trace or restore; nor Alice\'s to copy', async () => {
    await aliceRbin.send(new CreateRuleCommand({ ResourceType: 'EC2_IMAGE', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' } }));
    const image = await aliceImage('binned');
    await alice.send(new ModifyImageAttributeCommand({ ImageId: image.ImageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await alice.send(new DeregisterImageCommand({ ImageId: image.ImageId }));
    for (const [name, call] of BOB_CALLS) {
      await answersAsMissing(call, image.ImageId!).catch((err) => assert.fail(`${name}: ${(err as Error).message}`));
    }
    assert.deepEqual((await bob.send(new ListImagesInRecycleBinCommand({ ImageIds: [image.ImageId!] }))).Images, []);
    assert.deepEqual((await bob.send(new ListImagesInRecycleBinCommand({}))).Images, []);
    // In the bin, an image is no image to copy or trace, even for its owner.
    await expectAwsError(copyAs(alice, image.ImageId!), { name: 'InvalidAMIID.NotFound', status: 400 });
    await expectAwsError(alice.send(new GetImageAncestryCommand({ ImageId: image.ImageId })), { name: 'InvalidAMIID.NotFound', status: 400 });
    assert.deepEqual((await alice.send(new ListImagesInRecycleBinCommand({}))).Images?.map((i) => i.ImageId), [image.ImageId]);
  });

  test('what is in the bin takes tags only from its owner, no attribute calls, and none of Bob\'s tag or block calls', async () => {
    await aliceRbin.send(new CreateRuleCommand({ ResourceType: 'EC2_IMAGE', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' } }));
    await aliceRbin.send(new CreateRuleCommand({ ResourceType: 'EBS_SNAPSHOT', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' } }));
    const image = await aliceImage('binned-tags');
    const snapshotId = await createSnapshot(alice, 1);
    await alice.send(new ModifyImageAttributeCommand({ ImageId: image.ImageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [BOB.id] }));
    await bob.send(new CreateTagsCommand({ Resources: [image.ImageId!], Tags: [{ Key: 'bobs', Value: 'x' }] }));
    await alice.send(new DeregisterImageCommand({ ImageId: image.ImageId }));
    await alice.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
    // AWS lets the owner tag what is in its bin (a rule's exclusion tags can then let it go).
    await alice.send(new CreateTagsCommand({ Resources: [image.ImageId!], Tags: [{ Key: 'k', Value: 'v' }] }));
    await answersAsMissing((id) => alice.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' })), image.ImageId!);
    await answersAsMissing((id) => bob.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'k', Value: 'v' }] })), image.ImageId!);
    assert.deepEqual((await bob.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [image.ImageId!] }] }))).Tags, []);
    const missingSnapshot = 'snap-0123456789abcdef0';
    await answersAsMissing((id) => bob.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })), snapshotId, missingSnapshot);
    await answersAsMissing((id) => ebsClient(server.endpoint, credentialsOf(BOB)).send(new ListSnapshotBlocksCommand({ SnapshotId: id })), snapshotId, missingSnapshot);
    assert.deepEqual((await bob.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ['self'] }))).Snapshots, []);
    assert.deepEqual((await bob.send(new ListSnapshotsInRecycleBinCommand({ SnapshotIds: [snapshotId] }))).Snapshots, []);
    assert.deepEqual((await alice.send(new ListSnapshotsInRecycleBinCommand({ SnapshotIds: [snapshotId] }))).Snapshots?.map((x) => x.SnapshotId), [snapshotId]);
  });

  test('an image shared with Bob: owner-only calls are AuthFailure and change nothing', async () => {
    const image = await aliceImage('shared');
    await alice.send(new ModifyImageAttributeCommand({ ImageId: image.ImageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    const ownerOnly = BOB_CALLS.filter(([n]) => /^(Enable|Disable)Image/.test(n));
    for (const [name, call] of ownerOnly) {
      const err = await errorOf(call(image.ImageId!));
      assert.equal(err.name, 'AuthFailure', `${name}: ${err.message}`);
    }
    assert.deepEqual(await aliceView(image.ImageId!), image);
  });
});

describe('CopyImage', () => {
  test('ClientToken is per account: Bob reusing Alice\'s token never gets her image', async () => {
    const image = await aliceImage('token-source');
    const input = { Name: 'same-name', SourceRegion: 'us-east-1', SourceImageId: image.ImageId!, ClientToken: 'shared-token-1' };
    const hers = (await alice.send(new CopyImageCommand(input))).ImageId!;
    await expectAwsError(bob.send(new CopyImageCommand(input)), { name: 'InvalidAMIID.NotFound', status: 400 });
    const bobsSource = await registerEbs(bob, 'bob-source');
    const his = (await bob.send(new CopyImageCommand({ ...input, SourceImageId: bobsSource }))).ImageId!;
    assert.match(his, AMI_ID);
    assert.notEqual(his, hers);
    assert.equal((await alice.send(new CopyImageCommand(input))).ImageId, hers);
    assert.deepEqual((await bob.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images?.map((i) => i.ImageId).sort(), [bobsSource, his].sort());
  });

  test("a copy of Alice's shared image carries Bob's tags on it, never hers, and none of her image's governance", async () => {
    const image = await aliceImage('tagged-source');
    const snapshotId = image.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    await alice.send(new ModifyImageAttributeCommand({ ImageId: image.ImageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [BOB.id] }));
    await alice.send(new CreateTagsCommand({ Resources: [image.ImageId!], Tags: [{ Key: 'secret', Value: 'alice-only' }] }));
    await alice.send(new EnableImageDeregistrationProtectionCommand({ ImageId: image.ImageId }));
    await alice.send(new EnableImageDeprecationCommand({ ImageId: image.ImageId, DeprecateAt: new Date(Date.now() + 86_400_000) }));
    await bob.send(new CreateTagsCommand({ Resources: [image.ImageId!], Tags: [{ Key: 'mine', Value: 'bob' }] }));
    const copy = (await copyAs(bob, image.ImageId!, { CopyImageTags: true })).ImageId!;
    const seen = (await bob.send(new DescribeImagesCommand({ ImageIds: [copy] }))).Images![0];
    assert.deepEqual(seen.Tags, [{ Key: 'mine', Value: 'bob' }]);
    assert.equal(seen.OwnerId, BOB.id);
    assert.equal(seen.DeprecationTime, undefined);
    assert.notEqual(seen.DeregistrationProtection, 'enabled');
    assert.deepEqual((await alice.send(new DescribeImagesCommand({ Owners: [BOB.id] }))).Images, []);
  });

  test("Alice's block-all-sharing keeps Bob from copying her public image's public snapshots; unblocking lets him", async () => {
    const snapshotId = await createSnapshot(alice, 8);
    const imageId = await registerEbs(alice, 'public-image', { BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } }] });
    await alice.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ Group: 'all' }] } }));
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', GroupNames: ['all'] }));
    await alice.send(new EnableSnapshotBlockPublicAccessCommand({ State: 'block-all-sharing' }));
    await expectAwsError(bob.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })), { name: 'InvalidSnapshot.NotFound' });
    await expectAwsError(copyAs(bob, imageId), { name: 'InvalidRequest', status: 400, message: /permission to access the storage/ });
    assert.deepEqual((await bob.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images, []);
    await alice.send(new DisableSnapshotBlockPublicAccessCommand({}));
    assert.match((await copyAs(bob, imageId)).ImageId!, AMI_ID);
  });


  test("Bob cannot encrypt his copy under Alice's key without a grant: refused as a key that is not there, and nothing is left", async () => {
    const kms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const bobsSource = await registerEbs(bob, 'bob-plain');
    const missingKey = key.Arn!.replace(/key\/.*$/, 'key/00000000-0000-4000-8000-000000000000');
    const real = await errorOf(copyAs(bob, bobsSource, { Encrypted: true, KmsKeyId: key.Arn }));
    const none = await errorOf(copyAs(bob, bobsSource, { Encrypted: true, KmsKeyId: missingKey }));
    assert.equal(real.$metadata?.httpStatusCode, 400, real.message);
    assert.equal(real.name, none.name);
    // The generic part is the same; KMS's own reason follows, as KMS itself would answer Bob.
    assert.match(real.message, /does not exist, or you do not have access to it/);
    assert.deepEqual((await bob.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images?.map((i) => i.ImageId), [bobsSource]);
    assert.equal((await bob.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots?.length, 1);
  });
});

describe('retention rules', () => {
  test("Alice's rule, by id or by ARN (even an ARN rewritten to Bob's account), is not found for Bob's lock, unlock and untag", async () => {
    const rule = await aliceRbin.send(new CreateRuleCommand({
      ResourceType: 'EBS_SNAPSHOT', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' }, Tags: [{ Key: 'k', Value: 'v' }],
    }));
    const lock = { UnlockDelay: { UnlockDelayValue: 7, UnlockDelayUnit: 'DAYS' as const } };
    await expectAwsError(bobRbin.send(new LockRuleCommand({ Identifier: rule.Identifier, LockConfiguration: lock })), { name: 'ResourceNotFoundException', status: 404 });
    await expectAwsError(bobRbin.send(new UnlockRuleCommand({ Identifier: rule.Identifier })), { name: 'ResourceNotFoundException', status: 404 });
    await expectAwsError(bobRbin.send(new UntagResourceCommand({ ResourceArn: rule.RuleArn, TagKeys: ['k'] })), { name: 'ResourceNotFoundException', status: 404 });
    const asBobs = rule.RuleArn!.replace(ALICE.id, BOB.id);
    await expectAwsError(bobRbin.send(new ListTagsForResourceCommand({ ResourceArn: asBobs })), { name: 'ResourceNotFoundException', status: 404 });
    await expectAwsError(bobRbin.send(new UntagResourceCommand({ ResourceArn: asBobs, TagKeys: ['k'] })), { name: 'ResourceNotFoundException', status: 404 });
    const kept = await aliceRbin.send(new GetRuleCommand({ Identifier: rule.Identifier }));
    assert.equal(kept.LockState, undefined);
    assert.deepEqual((await aliceRbin.send(new ListTagsForResourceCommand({ ResourceArn: rule.RuleArn }))).Tags, [{ Key: 'k', Value: 'v' }]);
  });
});
