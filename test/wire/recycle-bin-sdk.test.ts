// The Recycle Bin through @aws-sdk/client-rbin, @aws-sdk/client-ec2 and the aws CLI, against a
// real server in strict mode: retention rule CRUD, validation, locks and tags; deleted snapshots
// and deregistered images kept by tag-level and Region-level rules, listed, restored with their
// data, and deleted for good when their retention ends (the server's test clock moves forward);
// another account never sees, restores or changes any of it.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRuleCommand, DeleteRuleCommand, GetRuleCommand, ListRulesCommand, ListTagsForResourceCommand, LockRuleCommand,
  RbinClient, TagResourceCommand, UnlockRuleCommand, UntagResourceCommand, UpdateRuleCommand, type CreateRuleCommandInput,
} from '@aws-sdk/client-rbin';
import {
  CreateTagsCommand, CreateVolumeCommand, DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand,
  ListImagesInRecycleBinCommand, ListSnapshotsInRecycleBinCommand, RestoreImageFromRecycleBinCommand, RestoreSnapshotFromRecycleBinCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ListSnapshotBlocksCommand, type EBSClient } from '@aws-sdk/client-ebs';
import { ALICE, BOB, startServer, type RunningServer, type TestUser } from '../support/server.ts';
import { awsCli, boto3, credentialsOf, ec2Client, type Credentials } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { blockOf, ebsClient, getBlock, uploadSnapshot } from '../support/ebs.ts';
import { uploadImage } from '../support/instances.ts';

const DAY = 86_400;
/** An IAM-style user of Alice's who may only read retention rules. */
const RULE_READER: TestUser = {
  name: 'rule-reader', accessKeyId: 'AKIARULEREADER000001', secretAccessKey: 'rule-reader-secret-000000000000000000000',
  policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['rbin:GetRule', 'rbin:ListRules'], Resource: '*' }] }],
};

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceEbs: EBSClient;
let aliceRbin: RbinClient;
let bobRbin: RbinClient;

const rbinClient = (endpoint: string, credentials: Credentials) => new RbinClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

before(async () => {
  server = await startServer({ accounts: [{ ...ALICE, users: [RULE_READER] }, BOB] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
  aliceEbs = ebsClient(server.endpoint, credentialsOf(ALICE));
  aliceRbin = rbinClient(server.endpoint, credentialsOf(ALICE));
  bobRbin = rbinClient(server.endpoint, credentialsOf(BOB));
});
after(async () => {
  await server?.stop();
});
// Each test starts from an empty store and the real time (reset also sets the test clock back).
beforeEach(async () => {
  await server.reset();
});

/** Moves the server's clock forward; the Recycle Bin's sweep runs at once. */
async function advance(seconds: number): Promise<void> {
  const res = await server.ops(`/_amiforge/clock/advance/${seconds}`, { method: 'POST' });
  assert.equal(res.status, 200, await res.text());
}

async function rbinError(promise: Promise<unknown>, name: string, status: number, reason?: string): Promise<void> {
  const err = await expectAwsError(promise, { name, status });
  if (reason) assert.equal((err as { Reason?: string }).Reason, reason, `Reason of ${name}: ${err.message}`);
}

/**
 * Creates a rule through the aws CLI, whose botocore model has ExcludeResourceTags (the only
 * @aws-sdk/client-rbin release on the registry predates that member and drops it).
 */
async function createRuleCli(input: Record<string, unknown>, account = ALICE) {
  return awsCli(server.endpoint, credentialsOf(account), ['rbin', 'create-rule', '--cli-input-json', JSON.stringify(input)]);
}

const snapshotRule = (days: number, extra: Partial<CreateRuleCommandInput> = {}): CreateRuleCommandInput => ({
  ResourceType: 'EBS_SNAPSHOT', RetentionPeriod: { RetentionPeriodValue: days, RetentionPeriodUnit: 'DAYS' }, ...extra,
});
const imageRule = (days: number, extra: Partial<CreateRuleCommandInput> = {}): CreateRuleCommandInput => ({
  ResourceType: 'EC2_IMAGE', RetentionPeriod: { RetentionPeriodValue: days, RetentionPeriodUnit: 'DAYS' }, ...extra,
});

async function snapshotsInBin(c: EC2Client, ids?: string[]): Promise<string[]> {
  return ((await c.send(new ListSnapshotsInRecycleBinCommand({ SnapshotIds: ids }))).Snapshots ?? []).map((s) => s.SnapshotId!);
}
async function imagesInBin(c: EC2Client, ids?: string[]): Promise<string[]> {
  return ((await c.send(new ListImagesInRecycleBinCommand({ ImageIds: ids }))).Images ?? []).map((i) => i.ImageId!);
}
async function snapshotExists(c: EC2Client, id: string): Promise<boolean> {
  try {
    await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
    return true;
  } catch (err) {
    assert.equal((err as Error).name, 'InvalidSnapshot.NotFound');
    return false;
  }
}

describe('retention rules', () => {
  test('create, get, list with pages, update, tag and delete a rule', async () => {
    const created = await aliceRbin.send(new CreateRuleCommand(snapshotRule(7, { Description: 'keep a week', Tags: [{ Key: 'team', Value: 'platform' }] })));
    assert.match(created.Identifier!, /^[0-9a-zA-Z]{11}$/);
    assert.equal(created.RuleArn, `arn:aws:rbin:us-east-1:${ALICE.id}:rule/${created.Identifier}`);
    assert.equal(created.Status, 'available');
    assert.equal(created.LockState, undefined);
    assert.deepEqual(created.Tags, [{ Key: 'team', Value: 'platform' }]);
    const second = await aliceRbin.send(new CreateRuleCommand(snapshotRule(3, { ResourceTags: [{ ResourceTagKey: 'keep', ResourceTagValue: 'yes' }] })));
    await aliceRbin.send(new CreateRuleCommand(imageRule(3)));

    const got = await aliceRbin.send(new GetRuleCommand({ Identifier: created.Identifier }));
    assert.equal(got.Description, 'keep a week');
    assert.deepEqual(got.RetentionPeriod, { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' });
    assert.equal(got.ResourceType, 'EBS_SNAPSHOT');

    const first = await aliceRbin.send(new ListRulesCommand({ ResourceType: 'EBS_SNAPSHOT', MaxResults: 1 }));
    assert.equal(first.Rules?.length, 1);
    assert.ok(first.NextToken);
    const rest = await aliceRbin.send(new ListRulesCommand({ ResourceType: 'EBS_SNAPSHOT', MaxResults: 1, NextToken: first.NextToken }));
    assert.equal(rest.NextToken, undefined);
    assert.deepEqual([...first.Rules!, ...rest.Rules!].map((r) => r.Identifier).sort(), [created.Identifier, second.Identifier].sort());
    const tagged = await aliceRbin.send(new ListRulesCommand({ ResourceType: 'EBS_SNAPSHOT', ResourceTags: [{ ResourceTagKey: 'keep', ResourceTagValue: 'yes' }] }));
    assert.deepEqual(tagged.Rules?.map((r) => r.Identifier), [second.Identifier]);

    const updated = await aliceRbin.send(new UpdateRuleCommand({ Identifier: created.Identifier, Description: 'two weeks', RetentionPeriod: { RetentionPeriodValue: 14, RetentionPeriodUnit: 'DAYS' } }));
    assert.equal(updated.Description, 'two weeks');
    assert.equal(updated.RetentionPeriod?.RetentionPeriodValue, 14);

    await aliceRbin.send(new TagResourceCommand({ ResourceArn: created.RuleArn, Tags: [{ Key: 'env', Value: 'prod' }] }));
    await aliceRbin.send(new UntagResourceCommand({ ResourceArn: created.RuleArn, TagKeys: ['team'] }));
    assert.deepEqual((await aliceRbin.send(new ListTagsForResourceCommand({ ResourceArn: created.RuleArn }))).Tags, [{ Key: 'env', Value: 'prod' }]);

    await aliceRbin.send(new DeleteRuleCommand({ Identifier: created.Identifier }));
    await rbinError(aliceRbin.send(new GetRuleCommand({ Identifier: created.Identifier })), 'ResourceNotFoundException', 404, 'RULE_NOT_FOUND');
    await rbinError(aliceRbin.send(new DeleteRuleCommand({ Identifier: created.Identifier })), 'ResourceNotFoundException', 404, 'RULE_NOT_FOUND');
  });

  test("AWS's validation errors", async () => {
    const invalid = (input: CreateRuleCommandInput) => rbinError(aliceRbin.send(new CreateRuleCommand(input)), 'ValidationException', 400, 'INVALID_PARAMETER_VALUE');
    await invalid(snapshotRule(0));
    await invalid(snapshotRule(366));
    await invalid({ ResourceType: 'EBS_SNAPSHOT', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'WEEKS' as 'DAYS' } });
    await invalid({ ResourceType: 'EC2_INSTANCE' as 'EC2_IMAGE', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' } });
    const mixed = await createRuleCli({ ...snapshotRule(7, { ResourceTags: [{ ResourceTagKey: 'a' }] }), ExcludeResourceTags: [{ ResourceTagKey: 'b' }] });
    assert.notEqual(mixed.code, 0);
    assert.match(mixed.stderr, /ValidationException/);
    await invalid(snapshotRule(7, { ResourceTags: [{ ResourceTagKey: 'a' }], LockConfiguration: { UnlockDelay: { UnlockDelayValue: 7, UnlockDelayUnit: 'DAYS' } } }));
    await invalid(snapshotRule(7, { LockConfiguration: { UnlockDelay: { UnlockDelayValue: 3, UnlockDelayUnit: 'DAYS' } } }));
    await invalid(snapshotRule(7, { Tags: [{ Key: 'aws:reserved', Value: 'x' }] }));
    const tagLevel = await aliceRbin.send(new CreateRuleCommand(snapshotRule(7, { ResourceTags: [{ ResourceTagKey: 'a' }] })));
    await rbinError(aliceRbin.send(new LockRuleCommand({ Identifier: tagLevel.Identifier, LockConfiguration: { UnlockDelay: { UnlockDelayValue: 7, UnlockDelayUnit: 'DAYS' } } })),
      'ValidationException', 400, 'INVALID_PARAMETER_VALUE');
    await rbinError(aliceRbin.send(new UpdateRuleCommand({ Identifier: tagLevel.Identifier, ResourceType: 'EC2_IMAGE' })), 'ValidationException', 400);
    await rbinError(aliceRbin.send(new ListRulesCommand({ ResourceType: 'EBS_SNAPSHOT', NextToken: 'bm90LWEtdG9rZW4=' })), 'ValidationException', 400, 'INVALID_PAGE_TOKEN');
    await rbinError(aliceRbin.send(new GetRuleCommand({ Identifier: 'abcdefghijk' })), 'ResourceNotFoundException', 404, 'RULE_NOT_FOUND');
    // A tag pair may appear in five rules of a Region at most.
    for (let i = 0; i < 4; i++) await aliceRbin.send(new CreateRuleCommand(snapshotRule(7, { ResourceTags: [{ ResourceTagKey: 'a' }] })));
    await rbinError(aliceRbin.send(new CreateRuleCommand(snapshotRule(7, { ResourceTags: [{ ResourceTagKey: 'a' }] }))), 'ServiceQuotaExceededException', 402, 'SERVICE_QUOTA_EXCEEDED');
  });

  test('a locked rule cannot be updated or deleted until its unlock delay has passed', async () => {
    const rule = await aliceRbin.send(new CreateRuleCommand(imageRule(7, { LockConfiguration: { UnlockDelay: { UnlockDelayValue: 7, UnlockDelayUnit: 'DAYS' } } })));
    assert.equal(rule.LockState, 'locked');
    const id = rule.Identifier;
    await rbinError(aliceRbin.send(new DeleteRuleCommand({ Identifier: id })), 'ConflictException', 409, 'INVALID_RULE_STATE');
    await rbinError(aliceRbin.send(new UpdateRuleCommand({ Identifier: id, Description: 'changed' })), 'ConflictException', 409, 'INVALID_RULE_STATE');
    await rbinError(aliceRbin.send(new LockRuleCommand({ Identifier: id, LockConfiguration: { UnlockDelay: { UnlockDelayValue: 7, UnlockDelayUnit: 'DAYS' } } })),
      'ConflictException', 409, 'INVALID_RULE_STATE');
    assert.deepEqual((await aliceRbin.send(new ListRulesCommand({ ResourceType: 'EC2_IMAGE', LockState: 'locked' }))).Rules?.map((r) => r.Identifier), [id]);

    const unlocked = await aliceRbin.send(new UnlockRuleCommand({ Identifier: id }));
    assert.equal(unlocked.LockState, 'pending_unlock');
    const days = (unlocked.LockEndTime!.getTime() - Date.now()) / (DAY * 1000);
    assert.ok(days > 6.9 && days <= 7.01, `unlock delay of 7 days, got ${days}`);
    await rbinError(aliceRbin.send(new DeleteRuleCommand({ Identifier: id })), 'ConflictException', 409, 'INVALID_RULE_STATE');
    await rbinError(aliceRbin.send(new UnlockRuleCommand({ Identifier: id })), 'ConflictException', 409, 'INVALID_RULE_STATE');

    await advance(7 * DAY + 60);
    const after = await aliceRbin.send(new GetRuleCommand({ Identifier: id }));
    assert.equal(after.LockState, 'unlocked');
    assert.equal(after.LockEndTime, undefined);
    await aliceRbin.send(new UpdateRuleCommand({ Identifier: id, Description: 'changed' }));
    await aliceRbin.send(new DeleteRuleCommand({ Identifier: id }));
  });

  test("another account never sees or changes a rule", async () => {
    const rule = await aliceRbin.send(new CreateRuleCommand(snapshotRule(7)));
    assert.deepEqual((await bobRbin.send(new ListRulesCommand({ ResourceType: 'EBS_SNAPSHOT' }))).Rules, []);
    await rbinError(bobRbin.send(new GetRuleCommand({ Identifier: rule.Identifier })), 'ResourceNotFoundException', 404, 'RULE_NOT_FOUND');
    await rbinError(bobRbin.send(new UpdateRuleCommand({ Identifier: rule.Identifier, Description: 'mine' })), 'ResourceNotFoundException', 404);
    await rbinError(bobRbin.send(new DeleteRuleCommand({ Identifier: rule.Identifier })), 'ResourceNotFoundException', 404);
    await rbinError(bobRbin.send(new TagResourceCommand({ ResourceArn: rule.RuleArn, Tags: [{ Key: 'k', Value: 'v' }] })), 'ResourceNotFoundException', 404);
    await rbinError(bobRbin.send(new ListTagsForResourceCommand({ ResourceArn: rule.RuleArn })), 'ResourceNotFoundException', 404);
    assert.equal((await aliceRbin.send(new GetRuleCommand({ Identifier: rule.Identifier }))).Description, '');
  });

  test("an IAM-style user's policies decide which rule operations it may call", async () => {
    const rule = await aliceRbin.send(new CreateRuleCommand(snapshotRule(7)));
    const reader = rbinClient(server.endpoint, { accessKeyId: RULE_READER.accessKeyId, secretAccessKey: RULE_READER.secretAccessKey });
    assert.equal((await reader.send(new GetRuleCommand({ Identifier: rule.Identifier }))).Identifier, rule.Identifier);
    assert.equal((await reader.send(new ListRulesCommand({ ResourceType: 'EBS_SNAPSHOT' }))).Rules?.length, 1);
    await expectAwsError(reader.send(new DeleteRuleCommand({ Identifier: rule.Identifier })), { name: 'AccessDeniedException', status: 403, message: /rbin:DeleteRule/ });
    await expectAwsError(reader.send(new CreateRuleCommand(snapshotRule(1))), { name: 'AccessDeniedException', status: 403 });
    const readerEc2 = ec2Client(server.endpoint, { accessKeyId: RULE_READER.accessKeyId, secretAccessKey: RULE_READER.secretAccessKey });
    await expectAwsError(readerEc2.send(new ListSnapshotsInRecycleBinCommand({})), { name: 'UnauthorizedOperation', status: 403 });
    assert.ok(await aliceRbin.send(new GetRuleCommand({ Identifier: rule.Identifier })));
  });
});

describe('snapshots in the Recycle Bin', () => {
  test('a deleted snapshot goes to the bin, is hidden and unusable, and comes back with its data and tags', async () => {
    await aliceRbin.send(new CreateRuleCommand(snapshotRule(7)));
    const { snapshotId } = await uploadSnapshot(aliceEbs, { Description: 'precious', Tags: [{ Key: 'Name', Value: 'data' }] }, new Map([[0, 'rb-0'], [5, 'rb-5']]));
    await alice.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));

    assert.equal(await snapshotExists(alice, snapshotId), false);
    await expectAwsError(alice.send(new CreateVolumeCommand({ SnapshotId: snapshotId, AvailabilityZone: 'us-east-1a' })), { name: 'InvalidSnapshot.NotFound' });
    const listed = await alice.send(new ListSnapshotsInRecycleBinCommand({}));
    assert.equal(listed.Snapshots?.length, 1);
    const entry = listed.Snapshots![0];
    assert.equal(entry.SnapshotId, snapshotId);
    assert.equal(entry.Description, 'precious');
    assert.equal(entry.RecycleBinExitTime!.getTime() - entry.RecycleBinEnterTime!.getTime(), 7 * DAY * 1000);

    // Garbage collection runs meanwhile: the kept snapshot's blocks must survive it.
    assert.equal((await server.ops(`/_amiforge/gc`, { method: 'POST' })).status, 200);
    const restored = await alice.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: snapshotId }));
    assert.equal(restored.SnapshotId, snapshotId);
    assert.equal(restored.State, 'completed');
    assert.equal(restored.OwnerId, ALICE.id);
    assert.deepEqual(await snapshotsInBin(alice), []);
    const described = (await alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0];
    assert.deepEqual(described.Tags, [{ Key: 'Name', Value: 'data' }]);
    const blocks = await aliceEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
    assert.deepEqual(blocks.Blocks?.map((b) => b.BlockIndex), [0, 5]);
    assert.deepEqual((await getBlock(aliceEbs, snapshotId, 5, blocks.Blocks![1].BlockToken!)).data, blockOf('rb-5'));
    await alice.send(new CreateVolumeCommand({ SnapshotId: snapshotId, AvailabilityZone: 'us-east-1a' }));

    await expectAwsError(alice.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: snapshotId })), { name: 'InvalidSnapshot.NotFound', status: 400 });
  });

  test('tag-level rules keep only tagged snapshots; exclusion tags leave a Region-level rule', async () => {
    await aliceRbin.send(new CreateRuleCommand(snapshotRule(3, { ResourceTags: [{ ResourceTagKey: 'keep', ResourceTagValue: 'yes' }] })));
    const tagged = (await uploadSnapshot(aliceEbs, { Tags: [{ Key: 'keep', Value: 'yes' }] }, new Map([[0, 't']]))).snapshotId;
    const otherValue = (await uploadSnapshot(aliceEbs, { Tags: [{ Key: 'keep', Value: 'no' }] }, new Map([[0, 'u']]))).snapshotId;
    const untagged = (await uploadSnapshot(aliceEbs, {}, new Map([[0, 'v']]))).snapshotId;
    for (const id of [tagged, otherValue, untagged]) await alice.send(new DeleteSnapshotCommand({ SnapshotId: id }));
    assert.deepEqual(await snapshotsInBin(alice), [tagged]);
    await expectAwsError(alice.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: untagged })), { name: 'InvalidSnapshot.NotFound' });

    const excluding = await createRuleCli({ ...snapshotRule(5), ExcludeResourceTags: [{ ResourceTagKey: 'scratch' }] });
    assert.equal(excluding.code, 0, excluding.stderr);
    assert.deepEqual(excluding.json.ExcludeResourceTags, [{ ResourceTagKey: 'scratch' }]);
    const scratch = (await uploadSnapshot(aliceEbs, { Tags: [{ Key: 'scratch', Value: 'anything' }] }, new Map([[0, 'w']]))).snapshotId;
    const plain = (await uploadSnapshot(aliceEbs, {}, new Map([[0, 'x']]))).snapshotId;
    const both = (await uploadSnapshot(aliceEbs, { Tags: [{ Key: 'keep', Value: 'yes' }] }, new Map([[0, 'y']]))).snapshotId;
    for (const id of [scratch, plain, both]) await alice.send(new DeleteSnapshotCommand({ SnapshotId: id }));
    assert.deepEqual((await snapshotsInBin(alice)).sort(), [tagged, plain, both].sort());
    // Two rules match: the longest retention period wins.
    const entry = (await alice.send(new ListSnapshotsInRecycleBinCommand({ SnapshotIds: [both] }))).Snapshots![0];
    assert.equal(entry.RecycleBinExitTime!.getTime() - entry.RecycleBinEnterTime!.getTime(), 5 * DAY * 1000);
  });

  test('the bin is paged, and retention ends by deleting for good', async () => {
    await aliceRbin.send(new CreateRuleCommand(snapshotRule(1)));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await uploadSnapshot(aliceEbs, {}, new Map([[0, `p${i}`]]))).snapshotId);
    for (const id of ids) await alice.send(new DeleteSnapshotCommand({ SnapshotId: id }));
    const page = await alice.send(new ListSnapshotsInRecycleBinCommand({ MaxResults: 5 }));
    assert.equal(page.Snapshots?.length, 5);
    const next = await alice.send(new ListSnapshotsInRecycleBinCommand({ MaxResults: 5, NextToken: page.NextToken }));
    assert.equal(next.NextToken, undefined);
    assert.deepEqual([...page.Snapshots!, ...next.Snapshots!].map((s) => s.SnapshotId).sort(), ids.sort());
    await expectAwsError(alice.send(new ListSnapshotsInRecycleBinCommand({ MaxResults: 4 })), { name: 'InvalidParameterValue' });

    await advance(DAY - 60);
    assert.equal((await snapshotsInBin(alice)).length, 6);
    await advance(120);
    assert.deepEqual(await snapshotsInBin(alice), []);
    await expectAwsError(alice.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: ids[0] })), { name: 'InvalidSnapshot.NotFound' });
    assert.equal(await snapshotExists(alice, ids[0]), false);
  });

  test('another account never sees or restores what is in the bin', async () => {
    await aliceRbin.send(new CreateRuleCommand(snapshotRule(7)));
    const { snapshotId } = await uploadSnapshot(aliceEbs, {}, new Map([[0, 'mine']]));
    await alice.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
    assert.deepEqual(await snapshotsInBin(bob), []);
    assert.deepEqual(await snapshotsInBin(bob, [snapshotId]), []);
    await expectAwsError(bob.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: snapshotId })), { name: 'InvalidSnapshot.NotFound', status: 400 });
    // Bob's own Region-level rule does not keep Alice's deletions, nor do Alice's keep Bob's.
    const bobEbs = ebsClient(server.endpoint, credentialsOf(BOB));
    const bobs = (await uploadSnapshot(bobEbs, {}, new Map([[0, 'bobs']]))).snapshotId;
    await bob.send(new DeleteSnapshotCommand({ SnapshotId: bobs }));
    assert.deepEqual(await snapshotsInBin(bob), []);
    assert.deepEqual(await snapshotsInBin(alice), [snapshotId]);
  });
});

describe('images in the Recycle Bin', () => {
  test('a deregistered image and its deleted snapshot are kept; the snapshot is restored first', async () => {
    await aliceRbin.send(new CreateRuleCommand(imageRule(7)));
    await aliceRbin.send(new CreateRuleCommand(snapshotRule(7)));
    const { imageId, snapshotId } = await uploadImage(alice, aliceEbs, 'golden', new Map([[0, blockOf('root')]]));
    await alice.send(new CreateTagsCommand({ Resources: [imageId], Tags: [{ Key: 'stage', Value: 'golden' }] }));
    const out = await alice.send(new DeregisterImageCommand({ ImageId: imageId, DeleteAssociatedSnapshots: true }));
    assert.deepEqual(out.DeleteSnapshotResults, [{ SnapshotId: snapshotId, ReturnCode: 'success' }]);

    assert.deepEqual((await alice.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images, []);
    const listed = (await alice.send(new ListImagesInRecycleBinCommand({}))).Images!;
    assert.deepEqual(listed.map((i) => [i.ImageId, i.Name]), [[imageId, 'golden']]);
    assert.deepEqual(await snapshotsInBin(alice), [snapshotId]);
    assert.deepEqual(await imagesInBin(bob), []);
    await expectAwsError(bob.send(new RestoreImageFromRecycleBinCommand({ ImageId: imageId })), { name: 'InvalidAMIID.NotFound', status: 400 });

    await expectAwsError(alice.send(new RestoreImageFromRecycleBinCommand({ ImageId: imageId })), { name: 'IncorrectState', status: 400, message: /restore it before the image/ });
    await alice.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: snapshotId }));
    assert.equal((await alice.send(new RestoreImageFromRecycleBinCommand({ ImageId: imageId }))).Return, true);
    const image = (await alice.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
    assert.equal(image.State, 'available');
    assert.equal(image.BlockDeviceMappings?.[0].Ebs?.SnapshotId, snapshotId);
    assert.deepEqual(image.Tags, [{ Key: 'stage', Value: 'golden' }]);
    assert.deepEqual(await imagesInBin(alice), []);
    // Its snapshot is in use again.
    await expectAwsError(alice.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })), { name: 'InvalidSnapshot.InUse' });
  });

  test('an image whose snapshot was deleted for good cannot be restored; exclusion tags skip the bin', async () => {
    const excluding = await createRuleCli({ ...imageRule(7), ExcludeResourceTags: [{ ResourceTagKey: 'disposable', ResourceTagValue: 'true' }] });
    assert.equal(excluding.code, 0, excluding.stderr);
    const kept = await uploadImage(alice, aliceEbs, 'kept', new Map([[0, blockOf('k')]]));
    const disposable = await uploadImage(alice, aliceEbs, 'disposable', new Map([[0, blockOf('d')]]));
    await alice.send(new CreateTagsCommand({ Resources: [disposable.imageId], Tags: [{ Key: 'disposable', Value: 'true' }] }));
    await alice.send(new DeregisterImageCommand({ ImageId: kept.imageId, DeleteAssociatedSnapshots: true }));
    await alice.send(new DeregisterImageCommand({ ImageId: disposable.imageId }));
    assert.deepEqual(await imagesInBin(alice), [kept.imageId]);
    await expectAwsError(alice.send(new RestoreImageFromRecycleBinCommand({ ImageId: disposable.imageId })), { name: 'InvalidAMIID.NotFound' });
    await expectAwsError(alice.send(new RestoreImageFromRecycleBinCommand({ ImageId: kept.imageId })), { name: 'IncorrectState', message: /has been deleted/ });

    await advance(7 * DAY + 1);
    assert.deepEqual(await imagesInBin(alice), []);
    await expectAwsError(alice.send(new RestoreImageFromRecycleBinCommand({ ImageId: kept.imageId })), { name: 'InvalidAMIID.NotFound' });
  });
});

describe('the aws CLI and boto3', () => {
  test('boto3: a locked rule, an image kept by it, and Bob seeing none of it', async () => {
    const script = (body: string) => ['rbin = boto3.client("rbin", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))', body].join('\n');
    const { imageId } = await uploadImage(alice, aliceEbs, 'boto3-kept', new Map([[0, blockOf('b3')]]));
    const made = await boto3(server.endpoint, credentialsOf(ALICE), script([
      'rule = rbin.create_rule(ResourceType="EC2_IMAGE", RetentionPeriod={"RetentionPeriodValue": 10, "RetentionPeriodUnit": "DAYS"},',
      '                        LockConfiguration={"UnlockDelay": {"UnlockDelayValue": 7, "UnlockDelayUnit": "DAYS"}})',
      'try:',
      '    rbin.delete_rule(Identifier=rule["Identifier"])',
      '    code = None',
      'except botocore.exceptions.ClientError as e:',
      '    code = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]',
      `ec2.deregister_image(ImageId="${imageId}")`,
      'images = ec2.list_images_in_recycle_bin()["Images"]',
      'print(json.dumps({"lock": rule["LockState"], "deleteError": code, "bin": [i["ImageId"] for i in images]}))',
    ].join('\n')));
    assert.equal(made.code, 0, made.stderr);
    assert.deepEqual(made.json, { lock: 'locked', deleteError: ['ConflictException', 409], bin: [imageId] });
    const bobs = await boto3(server.endpoint, credentialsOf(BOB), script([
      'rules = rbin.list_rules(ResourceType="EC2_IMAGE")["Rules"]',
      'images = ec2.list_images_in_recycle_bin()["Images"]',
      'try:',
      `    ec2.restore_image_from_recycle_bin(ImageId="${imageId}")`,
      '    code = None',
      'except botocore.exceptions.ClientError as e:',
      '    code = e.response["Error"]["Code"]',
      'print(json.dumps({"rules": rules, "bin": images, "restore": code}))',
    ].join('\n')));
    assert.equal(bobs.code, 0, bobs.stderr);
    assert.deepEqual(bobs.json, { rules: [], bin: [], restore: 'InvalidAMIID.NotFound' });
  });


  test('rbin create-rule and list-rules, ec2 list-snapshots-in-recycle-bin and restore-snapshot-from-recycle-bin', async () => {
    const creds = credentialsOf(ALICE);
    const created = await awsCli(server.endpoint, creds, ['rbin', 'create-rule', '--resource-type', 'EBS_SNAPSHOT',
      '--retention-period', 'RetentionPeriodValue=2,RetentionPeriodUnit=DAYS', '--description', 'from the cli']);
    assert.equal(created.code, 0, created.stderr);
    const listed = await awsCli(server.endpoint, creds, ['rbin', 'list-rules', '--resource-type', 'EBS_SNAPSHOT']);
    assert.deepEqual(listed.json.Rules.map((r: { Identifier: string }) => r.Identifier), [created.json.Identifier]);
    const bad = await awsCli(server.endpoint, creds, ['rbin', 'delete-rule', '--identifier', 'zzzzzzzzzzz']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /ResourceNotFoundException/);

    const { snapshotId } = await uploadSnapshot(aliceEbs, {}, new Map([[0, 'cli']]));
    assert.equal((await awsCli(server.endpoint, creds, ['ec2', 'delete-snapshot', '--snapshot-id', snapshotId])).code, 0);
    const bin = await awsCli(server.endpoint, creds, ['ec2', 'list-snapshots-in-recycle-bin']);
    assert.deepEqual(bin.json.Snapshots.map((s: { SnapshotId: string }) => s.SnapshotId), [snapshotId]);
    const restored = await awsCli(server.endpoint, creds, ['ec2', 'restore-snapshot-from-recycle-bin', '--snapshot-id', snapshotId]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(restored.json.SnapshotId, snapshotId);
    assert.equal(await snapshotExists(alice, snapshotId), true);
  });
});
