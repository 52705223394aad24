// EC2's snapshot operations through @aws-sdk/client-ec2 (and a few aws CLI calls) against a real
// server in strict mode, with snapshots written through the EBS direct APIs: DescribeSnapshots
// (ids, owners, restorable-by, filters, pagination, every member of the Snapshot shape),
// DeleteSnapshot, DeregisterImage with DeleteAssociatedSnapshots, createVolumePermission sharing,
// RegisterImage against snapshots, and CopySnapshot within and across regions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListSnapshotBlocksCommand, StartSnapshotCommand, type EBSClient } from '@aws-sdk/client-ebs';
import {
  CopySnapshotCommand, DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand, ModifySnapshotAttributeCommand, RegisterImageCommand, ResetSnapshotAttributeCommand,
  paginateDescribeSnapshots, type DescribeSnapshotsCommandInput, type DescribeSnapshotsCommandOutput, type EC2Client, type Snapshot,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, type RunningServer } from '../support/server.ts';
import { awsCli, credentialsOf, ec2Client } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { BLOCK_SIZE, blockOf, ebsClient, expectEbsError, getBlock, putBlock, startAliceAndBob, uploadSnapshot } from '../support/ebs.ts';

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceEbs: EBSClient;
let bobEbs: EBSClient;

before(async () => {
  ({ server, alice, bob, aliceEbs, bobEbs } = await startAliceAndBob());
});
after(async () => {
  await server?.stop();
});

const MISSING = 'snap-0000000000000000f';

/** A completed snapshot of `size` GiB whose blocks are named by `seeds` (index → seed). */
async function snapshot(ebs: EBSClient, seeds: [number, string][], extra: { VolumeSize?: number; Description?: string; Tags?: { Key: string; Value: string }[] } = {}): Promise<string> {
  return (await uploadSnapshot(ebs, extra, new Map(seeds))).snapshotId;
}

async function ids(c: EC2Client, input: DescribeSnapshotsCommandInput): Promise<string[]> {
  const out = await c.send(new DescribeSnapshotsCommand(input));
  assert.equal(out.NextToken, undefined);
  return (out.Snapshots ?? []).map((s) => s.SnapshotId!).sort();
}

async function describeOne(c: EC2Client, id: string): Promise<Snapshot> {
  const out = await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
  assert.equal(out.Snapshots?.length, 1);
  return out.Snapshots![0];
}

async function sees(c: EC2Client, id: string): Promise<boolean> {
  const listed = (await ids(c, {})).includes(id);
  try {
    await describeOne(c, id);
    assert.ok(listed, `${id} found by id but not listed`);
    return true;
  } catch (e) {
    if ((e as Error).name !== 'InvalidSnapshot.NotFound') throw e;
    assert.ok(!listed, `${id} listed but not found by id`);
    return false;
  }
}

/** Polls DescribeSnapshots until the snapshot leaves `pending`; returns every state seen. */
async function waitCompleted(c: EC2Client, id: string): Promise<{ snapshot: Snapshot; states: string[] }> {
  const states: string[] = [];
  const deadline = Date.now() + 15_000;
  for (;;) {
    const s = await describeOne(c, id);
    if (states.at(-1) !== s.State) states.push(s.State!);
    if (s.State !== 'pending') return { snapshot: s, states };
    assert.match(s.Progress!, /^\d{1,2}%$/, 'a pending copy reports progress below 100%');
    if (Date.now() > deadline) assert.fail(`${id} still pending after 15 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Registers an EBS-backed image whose root (and optional extra devices) map the snapshots. */
async function register(c: EC2Client, name: string, root: string, extra: Record<string, string> = {}, rootSize?: number): Promise<string> {
  const out = await c.send(new RegisterImageCommand({
    Name: name,
    RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [
      { DeviceName: '/dev/xvda', Ebs: { SnapshotId: root, VolumeSize: rootSize } },
      ...Object.entries(extra).map(([DeviceName, SnapshotId]) => ({ DeviceName, Ebs: { SnapshotId } })),
    ],
  }));
  return out.ImageId!;
}

describe('DescribeSnapshots', () => {
  const mine: string[] = [];
  const sizes = new Map<string, number>();
  let tagged: string;
  let pending: string;
  let full: string;
  let started: number;
  let amazonRootSnapshots: string[];
  before(async () => {
    for (let i = 0; i < 6; i++) {
      const id = await snapshot(aliceEbs, [[0, `page-${i}`]], { VolumeSize: 1 + (i % 3), Description: `page-${i}` });
      mine.push(id);
      sizes.set(id, 1 + (i % 3));
    }
    tagged = await snapshot(aliceEbs, [[0, 't0'], [1, 't1'], [9, 't9']], {
      VolumeSize: 3, Description: 'tagged one', Tags: [{ Key: 'team', Value: 'storage' }, { Key: 'env', Value: 'prod' }],
    });
    mine.push(tagged);
    sizes.set(tagged, 3);
    started = Date.now();
    full = await snapshot(aliceEbs, [[0, 'full-0'], [4, 'full-4']], { VolumeSize: 5, Description: 'full shape', Tags: [{ Key: 'k', Value: 'v' }] });
    mine.push(full);
    sizes.set(full, 5);
    pending = (await aliceEbs.send(new StartSnapshotCommand({ VolumeSize: 2, Description: 'still uploading' }))).SnapshotId!;
    mine.push(pending);
    sizes.set(pending, 2);
    mine.sort();
    const images = await alice.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    amazonRootSnapshots = images.Images!.map((i) => i.BlockDeviceMappings!.find((m) => m.DeviceName === i.RootDeviceName)!.Ebs!.SnapshotId!).sort();
    assert.ok(amazonRootSnapshots.length > 0, 'the catalogue has amazon images in us-east-1');
  });

  test('every member of the Snapshot shape, truthfully', async () => {
    const id = full;
    const s = await describeOne(alice, id);
    assert.equal(s.SnapshotId, id);
    assert.equal(s.VolumeId, 'vol-ffffffff');
    assert.equal(s.State, 'completed');
    assert.equal(s.StateMessage, undefined);
    assert.ok(s.StartTime instanceof Date && Math.abs(s.StartTime.getTime() - started) < 5000, 'StartTime is when it was started');
    assert.ok(s.CompletionTime instanceof Date && s.CompletionTime.getTime() >= s.StartTime.getTime() - 1000, 'CompletionTime follows StartTime');
    assert.equal(s.Progress, '100%');
    assert.equal(s.OwnerId, ALICE.id);
    assert.equal(s.OwnerAlias, undefined);
    assert.equal(s.Description, 'full shape');
    assert.equal(s.VolumeSize, 5);
    assert.equal(s.Encrypted, false);
    assert.equal(s.KmsKeyId, undefined);
    assert.equal(s.DataEncryptionKeyId, undefined);
    assert.equal(s.StorageTier, 'standard');
    assert.equal(s.RestoreExpiryTime, undefined, 'only archived snapshots have a restore expiry');
    assert.equal(s.SseType, 'none');
    assert.equal(s.FullSnapshotSizeInBytes, 2 * BLOCK_SIZE, 'the full size is that of the blocks written');
    assert.equal(s.TransferType, undefined, 'only copies have a transfer type');
    assert.equal(s.CompletionDurationMinutes, undefined);
    assert.equal(s.AvailabilityZone, undefined);
    assert.equal(s.OutpostArn, undefined);
    assert.deepEqual(s.Tags, [{ Key: 'k', Value: 'v' }]);

    const p = await describeOne(alice, pending);
    assert.equal(p.State, 'pending');
    assert.equal(p.Progress, '0%');
    assert.equal(p.CompletionTime, undefined);
    assert.equal(p.FullSnapshotSizeInBytes, undefined, 'a pending snapshot has no full size yet');

    // A catalogue root snapshot: public, owned by amazon, with its alias.
    const root = await describeOne(alice, amazonRootSnapshots[0]);
    assert.equal(root.OwnerAlias, 'amazon');
    assert.equal(root.State, 'completed');
    assert.equal(root.Progress, '100%');
    assert.equal(root.VolumeId, 'vol-ffffffff');
    assert.ok(root.FullSnapshotSizeInBytes! >= BLOCK_SIZE);
  });

  test('SnapshotIds: found, missing, malformed, and another account\'s private snapshot', async () => {
    assert.deepEqual(await ids(alice, { SnapshotIds: [mine[0], mine[1]] }), [mine[0], mine[1]]);
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [mine[0], MISSING] })), {
      name: 'InvalidSnapshot.NotFound', status: 400, message: new RegExp(MISSING),
    });
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-xyz'] })), { name: 'InvalidSnapshotID.Malformed', status: 400 });
    await expectAwsError(bob.send(new DescribeSnapshotsCommand({ SnapshotIds: [mine[0]] })), { name: 'InvalidSnapshot.NotFound', status: 400 });
  });

  test('OwnerIds: self, amazon and an account id; the default lists own and public snapshots', async () => {
    assert.deepEqual(await ids(alice, { OwnerIds: ['self'] }), mine);
    assert.deepEqual(await ids(alice, { OwnerIds: [ALICE.id] }), mine);
    const amazon = await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ['amazon'] }));
    assert.deepEqual(amazon.Snapshots!.map((s) => s.SnapshotId).sort(), amazonRootSnapshots);
    for (const s of amazon.Snapshots!) assert.equal(s.OwnerAlias, 'amazon');
    assert.deepEqual(await ids(bob, { OwnerIds: [ALICE.id] }), [], 'private snapshots are not listed for others');
    assert.deepEqual(await ids(bob, { OwnerIds: ['self'] }), []);
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ OwnerIds: ['my-friends'] })), { name: 'InvalidUserID.Malformed', status: 400 });
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ['everyone'] })), { name: 'InvalidUserID.Malformed', status: 400 });

    const all = await ids(alice, {});
    for (const id of [...mine, ...amazonRootSnapshots]) assert.ok(all.includes(id), `${id} listed by default`);
    const bobs = await ids(bob, {});
    for (const id of amazonRootSnapshots) assert.ok(bobs.includes(id));
    for (const id of mine) assert.ok(!bobs.includes(id));
  });

  test('filters: status, owner-id, volume-size, description, tag:KEY, tag-key', async () => {
    const self = { OwnerIds: ['self'] };
    assert.deepEqual(await ids(alice, { ...self, Filters: [{ Name: 'status', Values: ['pending'] }] }), [pending]);
    assert.deepEqual(await ids(alice, { ...self, Filters: [{ Name: 'status', Values: ['completed'] }] }), mine.filter((i) => i !== pending));
    assert.deepEqual(await ids(alice, { Filters: [{ Name: 'owner-id', Values: [ALICE.id] }] }), mine);
    assert.deepEqual(await ids(alice, { ...self, Filters: [{ Name: 'volume-size', Values: ['3'] }] }), [...sizes].filter(([, n]) => n === 3).map(([i]) => i).sort());
    assert.deepEqual(await ids(alice, { ...self, Filters: [{ Name: 'volume-size', Values: ['1', '2'] }] }), [...sizes].filter(([, n]) => n < 3).map(([i]) => i).sort());
    assert.deepEqual(await ids(alice, { Filters: [{ Name: 'description', Values: ['page-*'] }] }), mine.filter((i) => i !== tagged && i !== pending && i !== full));
    assert.deepEqual(await ids(alice, { Filters: [{ Name: 'description', Values: ['tagged one', 'still uploading'] }] }), [tagged, pending].sort());
    assert.deepEqual(await ids(alice, { Filters: [{ Name: 'tag:team', Values: ['storage'] }] }), [tagged]);
    assert.deepEqual(await ids(alice, { Filters: [{ Name: 'tag:team', Values: ['other'] }] }), []);
    assert.deepEqual(await ids(alice, { Filters: [{ Name: 'tag-key', Values: ['env'] }] }), [tagged]);
    // Filters AND together.
    assert.deepEqual(await ids(alice, { Filters: [{ Name: 'tag:team', Values: ['storage'] }, { Name: 'volume-size', Values: ['1'] }] }), []);
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })), {
      name: 'InvalidParameterValue', status: 400,
    });
  });

  test('pagination: MaxResults 5 and NextToken cover every snapshot once', async () => {
    const first = await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], MaxResults: 5 }));
    assert.equal(first.Snapshots?.length, 5);
    assert.ok(first.NextToken);
    const seen = first.Snapshots!.map((s) => s.SnapshotId!);
    let token: string | undefined = first.NextToken;
    while (token) {
      const page: DescribeSnapshotsCommandOutput = await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], MaxResults: 5, NextToken: token }));
      assert.ok(page.Snapshots!.length <= 5);
      seen.push(...page.Snapshots!.map((s) => s.SnapshotId!));
      token = page.NextToken;
    }
    assert.deepEqual(seen.sort(), mine);
    const paged: string[] = [];
    for await (const page of paginateDescribeSnapshots({ client: alice, pageSize: 5 }, { OwnerIds: ['self'] })) {
      paged.push(...(page.Snapshots ?? []).map((s) => s.SnapshotId!));
    }
    assert.deepEqual(paged.sort(), mine);
  });

  test('pagination: MaxResults out of range, with SnapshotIds, or a bad NextToken', async () => {
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ MaxResults: 4 })), { name: 'InvalidParameterValue', status: 400 });
    // AWS: "if MaxResults is given a value larger than 1,000, only 1,000 results are returned".
    const big = await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], MaxResults: 5000 }));
    assert.equal(big.Snapshots?.length, mine.length);
    // AWS: "You cannot specify this parameter and the snapshot IDs parameter in the same request."
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [mine[0]], MaxResults: 5 })), {
      name: 'InvalidParameterCombination', status: 400,
    });
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ MaxResults: 5, NextToken: 'garbage' })), { name: 'InvalidPaginationToken', status: 400 });
  });

  test('aws CLI: describe-snapshots with owner and tag filter', async () => {
    const r = await awsCli(server.endpoint, credentialsOf(ALICE), ['ec2', 'describe-snapshots', '--owner-ids', 'self', '--filters', 'Name=tag:team,Values=storage']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.Snapshots.length, 1);
    const s = r.json.Snapshots[0];
    assert.equal(s.SnapshotId, tagged);
    assert.equal(s.State, 'completed');
    assert.equal(s.VolumeId, 'vol-ffffffff');
    assert.equal(s.Encrypted, false);
    assert.equal(s.StorageTier, 'standard');
    assert.equal(s.FullSnapshotSizeInBytes, 3 * BLOCK_SIZE);
  });
});

describe('DeleteSnapshot', () => {
  test('malformed and missing ids', async () => {
    await expectAwsError(alice.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-12' })), { name: 'InvalidSnapshotID.Malformed', status: 400 });
    await expectAwsError(alice.send(new DeleteSnapshotCommand({ SnapshotId: 'vol-0123456789abcdef0' })), { name: 'InvalidSnapshotID.Malformed', status: 400 });
    await expectAwsError(alice.send(new DeleteSnapshotCommand({ SnapshotId: MISSING })), { name: 'InvalidSnapshot.NotFound', status: 400 });
    const r = await awsCli(server.endpoint, credentialsOf(ALICE), ['ec2', 'delete-snapshot', '--snapshot-id', MISSING]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /InvalidSnapshot\.NotFound/);
  });

  test('in use by a registered image, deletable once it is deregistered', async () => {
    const id = await snapshot(aliceEbs, [[0, 'in-use']]);
    const imageId = await register(alice, 'uses-a-snapshot', id);
    await expectAwsError(alice.send(new DeleteSnapshotCommand({ SnapshotId: id })), {
      name: 'InvalidSnapshot.InUse', status: 400, message: new RegExp(imageId),
    });
    await alice.send(new DeregisterImageCommand({ ImageId: imageId }));
    assert.ok(await sees(alice, id), 'deregistering alone keeps the snapshot');
    const out = await alice.send(new DeleteSnapshotCommand({ SnapshotId: id }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(await sees(alice, id), false);
    await expectAwsError(alice.send(new DeleteSnapshotCommand({ SnapshotId: id })), { name: 'InvalidSnapshot.NotFound', status: 400 });
    await expectEbsError(aliceEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: id })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });
  });

  test('another account cannot delete a private snapshot, nor a public one it does not own', async () => {
    const id = await snapshot(aliceEbs, [[0, 'not-bobs']]);
    await expectAwsError(bob.send(new DeleteSnapshotCommand({ SnapshotId: id })), { name: 'InvalidSnapshot.NotFound', status: 400 });
    const [amazonRoot] = (await bob.send(new DescribeSnapshotsCommand({ OwnerIds: ['amazon'] }))).Snapshots!;
    await expectAwsError(bob.send(new DeleteSnapshotCommand({ SnapshotId: amazonRoot.SnapshotId! })), { name: 'AuthFailure' });
    assert.ok(await sees(alice, id));
  });
});

describe('DeregisterImage with DeleteAssociatedSnapshots', () => {
  test('deletes the image\'s snapshots, skipping one another image still uses', async () => {
    const root = await snapshot(aliceEbs, [[0, 'dereg-root']]);
    const shared = await snapshot(aliceEbs, [[0, 'dereg-shared']]);
    const first = await register(alice, 'dereg-first', root, { '/dev/sdb': shared });
    const second = await register(alice, 'dereg-second', shared);

    const out = await alice.send(new DeregisterImageCommand({ ImageId: first, DeleteAssociatedSnapshots: true }));
    assert.equal(out.Return, true);
    const results = [...out.DeleteSnapshotResults!].sort((a, b) => a.SnapshotId!.localeCompare(b.SnapshotId!));
    assert.deepEqual(results, [
      { SnapshotId: root, ReturnCode: 'success' },
      { SnapshotId: shared, ReturnCode: 'skipped' },
    ].sort((a, b) => a.SnapshotId.localeCompare(b.SnapshotId)));
    assert.equal(await sees(alice, root), false);
    assert.equal(await sees(alice, shared), true);

    const last = await alice.send(new DeregisterImageCommand({ ImageId: second, DeleteAssociatedSnapshots: true }));
    assert.deepEqual(last.DeleteSnapshotResults, [{ SnapshotId: shared, ReturnCode: 'success' }]);
    assert.equal(await sees(alice, shared), false);
  });

  test('without the flag, snapshots stay and no results are reported; others\' snapshots are missing-permissions', async () => {
    const root = await snapshot(aliceEbs, [[0, 'keep-root']]);
    const imageId = await register(alice, 'keep-snapshots', root);
    const out = await alice.send(new DeregisterImageCommand({ ImageId: imageId }));
    assert.equal(out.DeleteSnapshotResults, undefined);
    assert.ok(await sees(alice, root));

    const [amazonRoot] = (await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ['amazon'] }))).Snapshots!;
    const onPublic = await register(alice, 'on-a-public-snapshot', amazonRoot.SnapshotId!);
    const r = await alice.send(new DeregisterImageCommand({ ImageId: onPublic, DeleteAssociatedSnapshots: true }));
    assert.deepEqual(r.DeleteSnapshotResults, [{ SnapshotId: amazonRoot.SnapshotId, ReturnCode: 'missing-permissions' }]);
    assert.ok(await sees(alice, amazonRoot.SnapshotId!));
  });
});

describe('createVolumePermission', () => {
  const permissions = async (id: string) =>
    (await alice.send(new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' }))).CreateVolumePermissions;

  test('Add a UserId: the other account sees it, starts a child from it and reads its blocks; Remove: no more', async () => {
    const id = await snapshot(aliceEbs, [[0, 'share-0'], [2, 'share-2']], { VolumeSize: 2, Description: 'for bob' });
    assert.deepEqual(await permissions(id), []);
    assert.equal(await sees(bob, id), false);
    await expectEbsError(bobEbs.send(new StartSnapshotCommand({ VolumeSize: 2, ParentSnapshotId: id })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });

    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: BOB.id }] } }));
    assert.deepEqual(await permissions(id), [{ UserId: BOB.id }]);
    assert.equal(await sees(bob, id), true);
    assert.deepEqual(await ids(bob, { RestorableByUserIds: ['self'] }), [id]);
    assert.deepEqual(await ids(bob, { RestorableByUserIds: [BOB.id] }), [id], 'the caller\'s own account id means self');
    assert.deepEqual(await ids(bob, { RestorableByUserIds: [ALICE.id] }), [], 'another account id lists only the caller\'s own snapshots shared with it');
    assert.ok((await ids(alice, { RestorableByUserIds: [BOB.id] })).includes(id), 'the owner lists what it shares with an account');
    assert.ok(!(await ids(alice, { RestorableByUserIds: ['all'] })).includes(id));
    const asBob = await describeOne(bob, id);
    assert.equal(asBob.OwnerId, ALICE.id);
    assert.equal(asBob.Description, 'for bob');

    // Bob reads Alice's blocks and builds on them.
    const listed = await bobEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
    assert.deepEqual(listed.Blocks?.map((b) => b.BlockIndex), [0, 2]);
    assert.deepEqual((await getBlock(bobEbs, id, 2, listed.Blocks![1].BlockToken!)).data, blockOf('share-2'));
    const child = (await bobEbs.send(new StartSnapshotCommand({ VolumeSize: 2, ParentSnapshotId: id }))).SnapshotId!;
    await putBlock(bobEbs, child, 1, blockOf('bob-1'));
    const childBlocks = await bobEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
    assert.equal(childBlocks.Blocks?.length, 2, 'the parent is unchanged by the child');

    // Bob may use it but not manage it.
    await expectAwsError(bob.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Add: [{ Group: 'all' }] } })), { name: 'AuthFailure' });
    await expectAwsError(bob.send(new DeleteSnapshotCommand({ SnapshotId: id })), { name: 'AuthFailure' });

    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Remove: [{ UserId: BOB.id }] } }));
    assert.deepEqual(await permissions(id), []);
    assert.equal(await sees(bob, id), false);
    assert.deepEqual(await ids(bob, { RestorableByUserIds: ['self'] }), [child], 'only Bob\'s own child is left');
    await expectEbsError(bobEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: id })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });
  });

  test('RestorableByUserIds self lists the caller\'s own snapshots and those shared with it', async () => {
    const own = await snapshot(bobEbs, [[0, 'bobs-own']]);
    const shared = await snapshot(aliceEbs, [[0, 'to-bob']]);
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: shared, CreateVolumePermission: { Add: [{ UserId: BOB.id }] } }));
    const restorable = await ids(bob, { RestorableByUserIds: ['self'] });
    assert.ok(restorable.includes(own), 'own snapshots are restorable by self');
    assert.ok(restorable.includes(shared));
    await alice.send(new ResetSnapshotAttributeCommand({ SnapshotId: shared, Attribute: 'createVolumePermission' }));
  });

  test('Group all makes it public; Reset makes it private again', async () => {
    const id = await snapshot(aliceEbs, [[0, 'public']]);
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Add: [{ Group: 'all' }] } }));
    assert.deepEqual(await permissions(id), [{ Group: 'all' }]);
    assert.equal(await sees(bob, id), true);
    assert.ok((await ids(bob, { RestorableByUserIds: ['all'] })).includes(id));
    assert.ok(!(await ids(bob, { RestorableByUserIds: ['self'] })).includes(id), 'public is not an explicit permission');
    const t = await bobEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
    assert.deepEqual((await getBlock(bobEbs, id, 0, t.Blocks![0].BlockToken!)).data, blockOf('public'));

    // Only createVolumePermission can be reset; productCodes is refused and changes nothing.
    await expectAwsError(alice.send(new ResetSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'productCodes' })), {
      name: 'InvalidParameterValue', status: 400,
    });
    assert.deepEqual(await permissions(id), [{ Group: 'all' }]);
    const reset = await alice.send(new ResetSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' }));
    assert.equal(reset.$metadata.httpStatusCode, 200);
    assert.deepEqual(await permissions(id), []);
    assert.equal(await sees(bob, id), false);
  });

  test('aws CLI: the older OperationType and UserIds form, and describe-snapshot-attribute', async () => {
    const id = await snapshot(aliceEbs, [[0, 'cli-share']]);
    const creds = credentialsOf(ALICE);
    const add = await awsCli(server.endpoint, creds, ['ec2', 'modify-snapshot-attribute', '--snapshot-id', id, '--attribute', 'createVolumePermission',
      '--operation-type', 'add', '--user-ids', BOB.id]);
    assert.equal(add.code, 0, add.stderr);
    const d = await awsCli(server.endpoint, creds, ['ec2', 'describe-snapshot-attribute', '--snapshot-id', id, '--attribute', 'createVolumePermission']);
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(d.json, { SnapshotId: id, CreateVolumePermissions: [{ UserId: BOB.id }] });
    assert.equal(await sees(bob, id), true);
    // The same form through the SDK: OperationType with UserIds.
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission', OperationType: 'remove', UserIds: [BOB.id] }));
    assert.equal(await sees(bob, id), false);
    assert.deepEqual(await permissions(id), []);
  });

  test('invalid permissions are refused', async () => {
    const id = await snapshot(aliceEbs, [[0, 'invalid-perm']]);
    await expectAwsError(alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Add: [{ UserId: 'bob' }] } })), {
      name: 'InvalidParameterValue', status: 400,
    });
    await expectAwsError(alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Add: [{ Group: 'everyone' as 'all' }] } })), {
      name: 'InvalidParameterValue', status: 400,
    });
    assert.deepEqual(await permissions(id), []);
  });

  test('another account can neither see nor change a private snapshot\'s attributes', async () => {
    const id = await snapshot(aliceEbs, [[0, 'private-attrs']]);
    const notFound = { name: 'InvalidSnapshot.NotFound', status: 400 };
    await expectAwsError(bob.send(new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' })), notFound);
    await expectAwsError(bob.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Add: [{ UserId: BOB.id }] } })), notFound);
    await expectAwsError(bob.send(new ResetSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' })), notFound);
    await expectAwsError(bob.send(new DeleteSnapshotCommand({ SnapshotId: id })), notFound);
    assert.deepEqual(await permissions(id), []);
  });
});

describe('RegisterImage against snapshots', () => {
  test('a missing snapshot, or another account\'s private one, is InvalidSnapshot.NotFound', async () => {
    await expectAwsError(alice.send(new RegisterImageCommand({
      Name: 'missing-snapshot', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: MISSING } }],
    })), { name: 'InvalidSnapshot.NotFound', status: 400 });
    const id = await snapshot(aliceEbs, [[0, 'alice-private']]);
    await expectAwsError(bob.send(new RegisterImageCommand({
      Name: 'not-my-snapshot', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: id } }],
    })), { name: 'InvalidSnapshot.NotFound', status: 400 });
    // Once shared, Bob may register an image from it.
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, CreateVolumePermission: { Add: [{ UserId: BOB.id }] } }));
    const imageId = await register(bob, 'now-shared', id);
    const [img] = (await bob.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images!;
    assert.equal(img.OwnerId, BOB.id);
  });

  test('VolumeSize below the snapshot\'s is InvalidBlockDeviceMapping; absent, it is the snapshot\'s', async () => {
    const id = await snapshot(aliceEbs, [[0, 'three-gib']], { VolumeSize: 3 });
    await expectAwsError(alice.send(new RegisterImageCommand({
      Name: 'too-small', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: id, VolumeSize: 2 } }],
    })), { name: 'InvalidBlockDeviceMapping', status: 400 });
    const imageId = await register(alice, 'default-size', id);
    const [img] = (await alice.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images!;
    const root = img.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/xvda')!;
    assert.equal(root.Ebs!.SnapshotId, id);
    assert.equal(root.Ebs!.VolumeSize, 3);
    assert.equal(root.Ebs!.Encrypted, false);
    const bigger = await register(alice, 'bigger-root', id, {}, 10);
    const [big] = (await alice.send(new DescribeImagesCommand({ ImageIds: [bigger] }))).Images!;
    assert.equal(big.BlockDeviceMappings![0].Ebs!.VolumeSize, 10);
  });

  test('a pending snapshot cannot back an image', async () => {
    const id = (await aliceEbs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!;
    await expectAwsError(alice.send(new RegisterImageCommand({
      Name: 'pending-root', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: id } }],
    })), { name: 'IncorrectState', status: 400 });
  });
});

describe('CopySnapshot', () => {
  const seeds: [number, string][] = Array.from({ length: 24 }, (_, i) => [i * 5, `copy-${i}`]);
  let source: Awaited<ReturnType<typeof uploadSnapshot>>;
  let west: EC2Client;
  let westEbs: EBSClient;
  before(async () => {
    source = await uploadSnapshot(aliceEbs, { VolumeSize: 2, Description: 'copy source' }, new Map(seeds));
    west = ec2Client(server.endpoint, credentialsOf(ALICE), 'us-west-2');
    westEbs = ebsClient(server.endpoint, credentialsOf(ALICE), 'us-west-2');
  });

  async function sameBlocks(srcEbs: EBSClient, srcId: string, dstEbs: EBSClient, dstId: string): Promise<void> {
    const src = await srcEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: srcId }));
    const dst = await dstEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: dstId }));
    assert.deepEqual(dst.Blocks!.map((b) => b.BlockIndex), src.Blocks!.map((b) => b.BlockIndex));
    assert.equal(dst.VolumeSize, src.VolumeSize);
    for (let i = 0; i < src.Blocks!.length; i++) {
      const a = await getBlock(srcEbs, srcId, src.Blocks![i].BlockIndex!, src.Blocks![i].BlockToken!);
      const b = await getBlock(dstEbs, dstId, dst.Blocks![i].BlockIndex!, dst.Blocks![i].BlockToken!);
      assert.equal(b.checksum, a.checksum);
      assert.ok(a.data.equals(b.data), `block ${src.Blocks![i].BlockIndex} has the same bytes`);
    }
  }

  test('within the region: a new snapshot, pending then completed, with the same blocks, default description and tags', async () => {
    const out = await alice.send(new CopySnapshotCommand({
      SourceRegion: 'us-east-1', SourceSnapshotId: source.snapshotId,
      TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'copy', Value: 'local' }] }],
    }));
    assert.match(out.SnapshotId!, /^snap-[0-9a-f]{17}$/);
    assert.notEqual(out.SnapshotId, source.snapshotId);
    assert.deepEqual(out.Tags, [{ Key: 'copy', Value: 'local' }]);
    const { snapshot: s, states } = await waitCompleted(alice, out.SnapshotId!);
    assert.ok(['pending', 'completed'].includes(states[0]), `first state ${states[0]}`);
    assert.equal(s.State, 'completed');
    assert.equal(s.Progress, '100%');
    assert.equal(s.OwnerId, ALICE.id);
    assert.equal(s.VolumeSize, 2);
    assert.equal(s.VolumeId, 'vol-ffffffff');
    assert.equal(s.Encrypted, false);
    assert.equal(s.TransferType, 'standard');
    assert.equal(s.FullSnapshotSizeInBytes, seeds.length * BLOCK_SIZE);
    assert.equal(s.Description, `[Copied ${source.snapshotId} from us-east-1] copy source`);
    assert.deepEqual(s.Tags, [{ Key: 'copy', Value: 'local' }]);
    await sameBlocks(aliceEbs, source.snapshotId, aliceEbs, out.SnapshotId!);
  });

  test('across regions: a client in us-west-2 copies from us-east-1', async () => {
    const out = await west.send(new CopySnapshotCommand({
      SourceRegion: 'us-east-1', SourceSnapshotId: source.snapshotId, Description: 'west copy',
      TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'copy', Value: 'west' }] }],
    }));
    const id = out.SnapshotId!;
    const { snapshot: s, states } = await waitCompleted(west, id);
    assert.ok(['pending', 'completed'].includes(states[0]));
    assert.equal(s.State, 'completed');
    assert.equal(s.Description, 'west copy');
    assert.deepEqual(s.Tags, [{ Key: 'copy', Value: 'west' }]);
    assert.equal(s.VolumeSize, 2);
    // The copy lives in us-west-2 only.
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] })), { name: 'InvalidSnapshot.NotFound', status: 400 });
    await expectAwsError(west.send(new DescribeSnapshotsCommand({ SnapshotIds: [source.snapshotId] })), { name: 'InvalidSnapshot.NotFound', status: 400 });
    await sameBlocks(aliceEbs, source.snapshotId, westEbs, id);
  });

  test('a snapshot the caller cannot see is InvalidSnapshot.NotFound; once shared, the copy is the caller\'s', async () => {
    await expectAwsError(bob.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: source.snapshotId })), {
      name: 'InvalidSnapshot.NotFound', status: 400,
    });
    await expectAwsError(alice.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: MISSING })), {
      name: 'InvalidSnapshot.NotFound', status: 400,
    });
    // The source is in us-east-1, not us-west-2.
    await expectAwsError(west.send(new CopySnapshotCommand({ SourceRegion: 'us-west-2', SourceSnapshotId: source.snapshotId })), {
      name: 'InvalidSnapshot.NotFound', status: 400,
    });
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: source.snapshotId, CreateVolumePermission: { Add: [{ UserId: BOB.id }] } }));
    try {
      const out = await bob.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: source.snapshotId }));
      const { snapshot: s } = await waitCompleted(bob, out.SnapshotId!);
      assert.equal(s.OwnerId, BOB.id);
      assert.equal(await sees(alice, out.SnapshotId!), false, 'the copy is private to its owner');
      await sameBlocks(aliceEbs, source.snapshotId, bobEbs, out.SnapshotId!);
    } finally {
      await alice.send(new ResetSnapshotAttributeCommand({ SnapshotId: source.snapshotId, Attribute: 'createVolumePermission' }));
    }
  });

  test('invalid requests: a bad source region, a malformed id, a long description, a foreign tag type', async () => {
    const copy = (input: Partial<ConstructorParameters<typeof CopySnapshotCommand>[0]>) =>
      alice.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: source.snapshotId, ...input }));
    await expectAwsError(copy({ SourceRegion: 'mars-1' }), { name: 'InvalidParameterValue', status: 400 });
    await expectAwsError(copy({ SourceSnapshotId: 'snap-zz' }), { name: 'InvalidSnapshotID.Malformed', status: 400 });
    await expectAwsError(copy({ Description: 'x'.repeat(256) }), { name: 'InvalidParameterValue', status: 400 });
    await expectAwsError(copy({ TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'a', Value: 'b' }] }] }), { name: 'InvalidParameterValue', status: 400 });
  });

  test('a pending snapshot cannot be copied', async () => {
    const id = (await aliceEbs.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!;
    await expectAwsError(alice.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: id })), { name: 'IncorrectState', status: 400 });
  });
});
