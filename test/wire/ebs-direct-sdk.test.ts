// The EBS direct APIs through the official clients (@aws-sdk/client-ebs and boto3) against a real
// server in strict mode: StartSnapshot (idempotency, Timeout), PutSnapshotBlock's checks,
// CompleteSnapshot's count and LINEAR checksum, GetSnapshotBlock's tokens, ListSnapshotBlocks'
// pagination and ListChangedBlocks between snapshots of one lineage; and what another account
// cannot do. Errors are checked as the SDK exposes them: `name`, `Reason` and the HTTP status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  CompleteSnapshotCommand, GetSnapshotBlockCommand, ListChangedBlocksCommand, ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand, StartSnapshotCommand, paginateListSnapshotBlocks, type EBSClient,
} from '@aws-sdk/client-ebs';
import { DescribeImagesCommand, DescribeSnapshotsCommand, type EC2Client, type Snapshot } from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { boto3, credentialsOf, ec2Client } from '../support/clients.ts';
import {
  BLOCK_SIZE, blockOf, checksumOf, ebsClient, expectEbsError, fillBlock, getBlock, linearChecksum, putBlock, sha256, uploadSnapshot,
} from '../support/ebs.ts';

let server: RunningServer;
let alice: EBSClient;
let bob: EBSClient;
let aliceEc2: EC2Client;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ebsClient(server.endpoint, credentialsOf(ALICE));
  bob = ebsClient(server.endpoint, credentialsOf(BOB));
  aliceEc2 = ec2Client(server.endpoint, credentialsOf(ALICE));
});
after(async () => {
  await server?.stop();
});

const describeOne = async (id: string, c: EC2Client = aliceEc2): Promise<Snapshot> => {
  const out = await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
  assert.equal(out.Snapshots?.length, 1);
  return out.Snapshots![0];
};
const start = async (c: EBSClient, extra: { VolumeSize?: number; Description?: string; ParentSnapshotId?: string } = {}) =>
  (await c.send(new StartSnapshotCommand({ VolumeSize: 1, ...extra }))).SnapshotId!;
const tokens = async (c: EBSClient, id: string): Promise<Map<number, string>> => {
  const out = await c.send(new ListSnapshotBlocksCommand({ SnapshotId: id }));
  return new Map((out.Blocks ?? []).map((b) => [b.BlockIndex!, b.BlockToken!]));
};
const seedsOf = (entries: [number, string][]) => new Map(entries);

describe('StartSnapshot', () => {
  test('returns a pending snapshot with its size, description, tags and block size', async () => {
    const before = Date.now();
    const out = await alice.send(new StartSnapshotCommand({
      VolumeSize: 8, Description: 'nightly backup', Tags: [{ Key: 'team', Value: 'storage' }, { Key: 'tier', Value: 'gold' }],
    }));
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.match(out.SnapshotId!, /^snap-[0-9a-f]{17}$/);
    assert.equal(out.OwnerId, ALICE.id);
    assert.equal(out.Status, 'pending');
    assert.equal(out.VolumeSize, 8);
    assert.equal(out.BlockSize, BLOCK_SIZE);
    assert.equal(out.Description, 'nightly backup');
    assert.deepEqual(out.Tags, [{ Key: 'team', Value: 'storage' }, { Key: 'tier', Value: 'gold' }]);
    assert.equal(out.SseType, 'none');
    assert.equal(out.ParentSnapshotId, undefined);
    assert.ok(out.StartTime!.getTime() >= before - 2000 && out.StartTime!.getTime() <= Date.now() + 2000);

    const s = await describeOne(out.SnapshotId!);
    assert.equal(s.State, 'pending');
    assert.equal(s.VolumeSize, 8);
    assert.equal(s.Description, 'nightly backup');
    assert.equal(s.OwnerId, ALICE.id);
    assert.deepEqual(s.Tags?.sort((a, b) => a.Key!.localeCompare(b.Key!)), out.Tags);
  });

  test('ClientToken: the same token with the same parameters returns the same snapshot', async () => {
    const ClientToken = randomUUID();
    const input = { VolumeSize: 2, Description: 'idempotent', ClientToken, Timeout: 30, Tags: [{ Key: 'k', Value: 'v' }] };
    const first = await alice.send(new StartSnapshotCommand(input));
    const again = await alice.send(new StartSnapshotCommand(input));
    assert.equal(again.SnapshotId, first.SnapshotId);
    assert.equal(again.Status, 'pending');
    assert.equal(again.VolumeSize, 2);
    assert.deepEqual(again.Tags, [{ Key: 'k', Value: 'v' }]);
    const listed = await aliceEc2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'description', Values: ['idempotent'] }] }));
    assert.deepEqual(listed.Snapshots?.map((s) => s.SnapshotId), [first.SnapshotId]);

    // Tokens are per account: another account's request with the same token is a new snapshot.
    const bobs = await bob.send(new StartSnapshotCommand(input));
    assert.notEqual(bobs.SnapshotId, first.SnapshotId);
    assert.equal(bobs.OwnerId, BOB.id);
  });

  test('ClientToken: the same token with different parameters is a ConflictException (409)', async () => {
    const ClientToken = randomUUID();
    const input = { VolumeSize: 2, Description: 'first', ClientToken, Timeout: 30 };
    await alice.send(new StartSnapshotCommand(input));
    for (const changed of [
      { ...input, Description: 'second' },
      { ...input, VolumeSize: 3 },
      { ...input, Timeout: 60 },
      { ...input, Tags: [{ Key: 'k', Value: 'v' }] },
    ]) {
      await expectEbsError(alice.send(new StartSnapshotCommand(changed)), { name: 'ConflictException', status: 409 });
    }
  });

  test('Timeout must be 10 to 4320 minutes; VolumeSize 1 GiB to 64 TiB', async () => {
    for (const Timeout of [10, 4320]) {
      const out = await alice.send(new StartSnapshotCommand({ VolumeSize: 1, Timeout }));
      assert.equal(out.Status, 'pending');
    }
    for (const Timeout of [9, 4321]) {
      await expectEbsError(alice.send(new StartSnapshotCommand({ VolumeSize: 1, Timeout })), {
        name: 'ValidationException', status: 400, reason: 'INVALID_PARAMETER_VALUE',
      });
    }
    await expectEbsError(alice.send(new StartSnapshotCommand({ VolumeSize: 0 })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_PARAMETER_VALUE',
    });
    assert.equal((await alice.send(new StartSnapshotCommand({ VolumeSize: 65536 }))).VolumeSize, 65536);
    await expectEbsError(alice.send(new StartSnapshotCommand({ VolumeSize: 65537 })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_VOLUME_SIZE',
    });
  });

  test('invalid tags are a ValidationException INVALID_TAG; KmsKeyArn needs Encrypted', async () => {
    for (const Tags of [[{ Key: 'aws:reserved', Value: 'x' }], [{ Key: 'dup', Value: '1' }, { Key: 'dup', Value: '2' }]]) {
      await expectEbsError(alice.send(new StartSnapshotCommand({ VolumeSize: 1, Tags })), {
        name: 'ValidationException', status: 400, reason: 'INVALID_TAG',
      });
    }
    // A key longer than the model's 127 characters fails the model's own constraint.
    await expectEbsError(alice.send(new StartSnapshotCommand({ VolumeSize: 1, Tags: [{ Key: 'k'.repeat(128), Value: '' }] })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_PARAMETER_VALUE',
    });
    await expectEbsError(alice.send(new StartSnapshotCommand({ VolumeSize: 1, KmsKeyArn: 'alias/aws/ebs' })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_PARAMETER_VALUE',
    });
  });

  test('ParentSnapshotId must name a completed snapshot the caller may use, no larger than the volume', async () => {
    await expectEbsError(alice.send(new StartSnapshotCommand({ VolumeSize: 1, ParentSnapshotId: 'snap-0000000000000000f' })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });
    const { snapshotId } = await uploadSnapshot(alice, { VolumeSize: 2 }, seedsOf([[0, 'p0']]));
    await expectEbsError(alice.send(new StartSnapshotCommand({ VolumeSize: 1, ParentSnapshotId: snapshotId })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_VOLUME_SIZE',
    });
    // Another account's private snapshot is not found, exactly like a missing one.
    await expectEbsError(bob.send(new StartSnapshotCommand({ VolumeSize: 2, ParentSnapshotId: snapshotId })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });
    const child = await alice.send(new StartSnapshotCommand({ VolumeSize: 4, ParentSnapshotId: snapshotId }));
    assert.equal(child.ParentSnapshotId, snapshotId);
    assert.equal(child.VolumeSize, 4);
  });
});

describe('PutSnapshotBlock', () => {
  test('a wrong checksum is a ValidationException and stores nothing', async () => {
    const id = await start(alice);
    const data = blockOf('checksum');
    const wrong = checksumOf(blockOf('something else'));
    await expectEbsError(alice.send(new PutSnapshotBlockCommand({
      SnapshotId: id, BlockIndex: 0, BlockData: data, DataLength: data.length, Checksum: wrong, ChecksumAlgorithm: 'SHA256',
    })), { name: 'ValidationException', status: 400, reason: 'INVALID_PARAMETER_VALUE' });
    // Nothing was written: zero changed blocks completes, and the snapshot lists no block.
    await alice.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 0 }));
    assert.equal((await tokens(alice, id)).size, 0);
  });

  test('a block must be exactly 512 KiB, and x-amz-Data-Length must match the body', async () => {
    const id = await start(alice);
    const short = Buffer.alloc(1000, 1);
    await expectEbsError(alice.send(new PutSnapshotBlockCommand({
      SnapshotId: id, BlockIndex: 0, BlockData: short, DataLength: short.length, Checksum: checksumOf(short), ChecksumAlgorithm: 'SHA256',
    })), { name: 'ValidationException', status: 400, reason: 'INVALID_BLOCK' });
    const data = blockOf('length');
    await expectEbsError(alice.send(new PutSnapshotBlockCommand({
      SnapshotId: id, BlockIndex: 0, BlockData: data, DataLength: BLOCK_SIZE - 1, Checksum: checksumOf(data), ChecksumAlgorithm: 'SHA256',
    })), { name: 'ValidationException', status: 400, reason: 'INVALID_PARAMETER_VALUE' });
    await alice.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 0 }));
  });

  test('the block index must lie within the volume', async () => {
    const id = await start(alice, { VolumeSize: 1 });
    const data = blockOf('edge');
    const last = (1024 * 1024 * 1024) / BLOCK_SIZE - 1;
    await putBlock(alice, id, last, data);
    await expectEbsError(alice.send(new PutSnapshotBlockCommand({
      SnapshotId: id, BlockIndex: last + 1, BlockData: data, DataLength: data.length, Checksum: checksumOf(data), ChecksumAlgorithm: 'SHA256',
    })), { name: 'ValidationException', status: 400, reason: 'INVALID_BLOCK' });
  });

  test('Progress is reported by DescribeSnapshots while the snapshot is pending', async () => {
    const id = await start(alice);
    await putBlock(alice, id, 0, blockOf('progress'), 40);
    const s = await describeOne(id);
    assert.equal(s.State, 'pending');
    assert.equal(s.Progress, '40%');
  });

  test('a completed snapshot accepts no more blocks', async () => {
    const { snapshotId } = await uploadSnapshot(alice, {}, seedsOf([[0, 'done']]));
    const data = blockOf('late');
    await expectEbsError(alice.send(new PutSnapshotBlockCommand({
      SnapshotId: snapshotId, BlockIndex: 1, BlockData: data, DataLength: data.length, Checksum: checksumOf(data), ChecksumAlgorithm: 'SHA256',
    })), { name: 'ValidationException', status: 400, reason: 'INVALID_SNAPSHOT_ID' });
    await expectEbsError(alice.send(new CompleteSnapshotCommand({ SnapshotId: snapshotId, ChangedBlocksCount: 1 })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_SNAPSHOT_ID',
    });
  });

  test('another account can neither write to nor complete the snapshot', async () => {
    const id = await start(alice);
    const data = blockOf('intruder');
    await expectEbsError(bob.send(new PutSnapshotBlockCommand({
      SnapshotId: id, BlockIndex: 0, BlockData: data, DataLength: data.length, Checksum: checksumOf(data), ChecksumAlgorithm: 'SHA256',
    })), { name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND' });
    await expectEbsError(bob.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 0 })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });
    await alice.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 0 }));
  });
});

describe('CompleteSnapshot', () => {
  test('a ChangedBlocksCount that differs from the blocks written fails the snapshot', async () => {
    const id = await start(alice);
    await putBlock(alice, id, 0, blockOf('c0'));
    await putBlock(alice, id, 5, blockOf('c5'));
    await expectEbsError(alice.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 3 })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_PARAMETER_VALUE',
    });
    const s = await describeOne(id);
    assert.equal(s.State, 'error');
    assert.match(s.StateMessage ?? '', /ChangedBlocksCount/);
    // A failed snapshot is final: the right count does not revive it, and it cannot be read.
    await expectEbsError(alice.send(new CompleteSnapshotCommand({ SnapshotId: id, ChangedBlocksCount: 2 })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_SNAPSHOT_ID',
    });
    await expectEbsError(alice.send(new ListSnapshotBlocksCommand({ SnapshotId: id })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_SNAPSHOT_ID',
    });
  });

  test('a wrong LINEAR aggregate checksum fails the snapshot', async () => {
    const id = await start(alice);
    const c0 = await putBlock(alice, id, 0, blockOf('l0'));
    const c1 = await putBlock(alice, id, 1, blockOf('l1'));
    // The digests in the wrong order: a different aggregate.
    const reversed = linearChecksum([c1, c0].map((c) => Buffer.from(c, 'base64')));
    await expectEbsError(alice.send(new CompleteSnapshotCommand({
      SnapshotId: id, ChangedBlocksCount: 2, Checksum: reversed, ChecksumAlgorithm: 'SHA256', ChecksumAggregationMethod: 'LINEAR',
    })), { name: 'ValidationException', status: 400, reason: 'INVALID_PARAMETER_VALUE' });
    assert.equal((await describeOne(id)).State, 'error');
  });

  test('the right count and LINEAR checksum complete it', async () => {
    const id = await start(alice, { Description: 'complete me' });
    const sums = [] as Buffer[];
    for (const i of [3, 7, 9]) sums.push(Buffer.from(await putBlock(alice, id, i, blockOf(`ok${i}`)), 'base64'));
    // Rewriting a block replaces it; it is still one changed block.
    sums[0] = Buffer.from(await putBlock(alice, id, 3, blockOf('ok3-again')), 'base64');
    const out = await alice.send(new CompleteSnapshotCommand({
      SnapshotId: id, ChangedBlocksCount: 3, Checksum: linearChecksum(sums), ChecksumAlgorithm: 'SHA256', ChecksumAggregationMethod: 'LINEAR',
    }));
    assert.equal(out.$metadata.httpStatusCode, 202);
    assert.equal(out.Status, 'completed');
    const s = await describeOne(id);
    assert.equal(s.State, 'completed');
    assert.equal(s.Progress, '100%');
    assert.deepEqual([...(await tokens(alice, id)).keys()], [3, 7, 9]);
    const t = await tokens(alice, id);
    assert.deepEqual((await getBlock(alice, id, 3, t.get(3)!)).data, blockOf('ok3-again'));
  });
});

describe('GetSnapshotBlock', () => {
  let up: Awaited<ReturnType<typeof uploadSnapshot>>;
  let other: Awaited<ReturnType<typeof uploadSnapshot>>;
  before(async () => {
    up = await uploadSnapshot(alice, {}, seedsOf([[0, 'g0'], [1, 'g1'], [100, 'g100']]));
    other = await uploadSnapshot(alice, {}, seedsOf([[0, 'g0'], [1, 'other1']]));
  });

  test('returns the bytes written and their checksum', async () => {
    const t = await tokens(alice, up.snapshotId);
    for (const [index, seed] of [[0, 'g0'], [1, 'g1'], [100, 'g100']] as const) {
      const { data, checksum } = await getBlock(alice, up.snapshotId, index, t.get(index)!);
      assert.deepEqual(data, blockOf(seed));
      assert.equal(checksum, up.checksums.get(index));
    }
  });

  test('a malformed or foreign block token is a ValidationException INVALID_BLOCK_TOKEN', async () => {
    const mine = await tokens(alice, up.snapshotId);
    const theirs = await tokens(alice, other.snapshotId);
    const invalid = { name: 'ValidationException', status: 400, reason: 'INVALID_BLOCK_TOKEN' };
    const get = (index: number, token: string) =>
      alice.send(new GetSnapshotBlockCommand({ SnapshotId: up.snapshotId, BlockIndex: index, BlockToken: token }));
    await expectEbsError(get(0, Buffer.from('not a block token').toString('base64')), invalid);
    // Another snapshot's token for the same index, even for identical bytes.
    await expectEbsError(get(0, theirs.get(0)!), invalid);
    await expectEbsError(get(1, theirs.get(1)!), invalid);
    // This snapshot's token for another index.
    await expectEbsError(get(1, mine.get(0)!), invalid);
    await expectEbsError(get(2, mine.get(0)!), invalid);
  });

  test('a pending snapshot cannot be read; another account cannot read a private one', async () => {
    const id = await start(alice);
    await putBlock(alice, id, 0, blockOf('g0'));
    const token = (await tokens(alice, up.snapshotId)).get(0)!;
    await expectEbsError(alice.send(new GetSnapshotBlockCommand({ SnapshotId: id, BlockIndex: 0, BlockToken: token })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_SNAPSHOT_ID',
    });
    await expectEbsError(alice.send(new ListSnapshotBlocksCommand({ SnapshotId: id })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_SNAPSHOT_ID',
    });
    await expectEbsError(bob.send(new GetSnapshotBlockCommand({ SnapshotId: up.snapshotId, BlockIndex: 0, BlockToken: token })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });
    await expectEbsError(bob.send(new ListSnapshotBlocksCommand({ SnapshotId: up.snapshotId })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });
  });
});

describe('ListSnapshotBlocks', () => {
  // 150 blocks (75 MiB) at every third index, written through one reused buffer.
  const COUNT = 150;
  const indexes = Array.from({ length: COUNT }, (_, i) => i * 3);
  let up: Awaited<ReturnType<typeof uploadSnapshot>>;
  before(async () => {
    up = await uploadSnapshot(alice, { VolumeSize: 1, Description: 'many blocks' }, new Map(indexes.map((i) => [i, `many-${i}`])));
  });

  test('pages of MaxResults=100 with NextToken cover every block once, in order', async () => {
    const first = await alice.send(new ListSnapshotBlocksCommand({ SnapshotId: up.snapshotId, MaxResults: 100 }));
    assert.equal(first.Blocks?.length, 100);
    assert.ok(first.NextToken);
    assert.equal(first.VolumeSize, 1);
    assert.equal(first.BlockSize, BLOCK_SIZE);
    assert.ok(first.ExpiryTime!.getTime() > Date.now());
    const second = await alice.send(new ListSnapshotBlocksCommand({ SnapshotId: up.snapshotId, MaxResults: 100, NextToken: first.NextToken }));
    assert.equal(second.Blocks?.length, COUNT - 100);
    assert.equal(second.NextToken, undefined);
    assert.deepEqual([...first.Blocks!, ...second.Blocks!].map((b) => b.BlockIndex), indexes);

    // The SDK's paginator agrees.
    const paged: number[] = [];
    for await (const page of paginateListSnapshotBlocks({ client: alice, pageSize: 100 }, { SnapshotId: up.snapshotId })) {
      paged.push(...(page.Blocks ?? []).map((b) => b.BlockIndex!));
    }
    assert.deepEqual(paged, indexes);

    // Tokens from a later page read the right bytes.
    const last = second.Blocks!.at(-1)!;
    const { data } = await getBlock(alice, up.snapshotId, last.BlockIndex!, last.BlockToken!);
    assert.deepEqual(data, blockOf(`many-${last.BlockIndex}`));
  });

  test('StartingBlockIndex starts the listing at that index', async () => {
    const from = await alice.send(new ListSnapshotBlocksCommand({ SnapshotId: up.snapshotId, StartingBlockIndex: 301 }));
    assert.deepEqual(from.Blocks?.map((b) => b.BlockIndex), indexes.filter((i) => i >= 301));
    assert.equal(from.NextToken, undefined);
    const beyond = await alice.send(new ListSnapshotBlocksCommand({ SnapshotId: up.snapshotId, StartingBlockIndex: 5000 }));
    assert.deepEqual(beyond.Blocks, []);
  });

  test('ListChangedBlocks pages the same way', async () => {
    const first = await alice.send(new ListChangedBlocksCommand({ SecondSnapshotId: up.snapshotId, MaxResults: 100 }));
    assert.equal(first.ChangedBlocks?.length, 100);
    assert.ok(first.NextToken);
    const second = await alice.send(new ListChangedBlocksCommand({ SecondSnapshotId: up.snapshotId, MaxResults: 100, NextToken: first.NextToken }));
    assert.equal(second.NextToken, undefined);
    assert.deepEqual([...first.ChangedBlocks!, ...second.ChangedBlocks!].map((b) => b.BlockIndex), indexes);
  });

  test('MaxResults below 100 and a malformed NextToken are ValidationExceptions', async () => {
    await expectEbsError(alice.send(new ListSnapshotBlocksCommand({ SnapshotId: up.snapshotId, MaxResults: 99 })), {
      name: 'ValidationException', status: 400,
    });
    await expectEbsError(alice.send(new ListSnapshotBlocksCommand({ SnapshotId: up.snapshotId, NextToken: 'bm9wZQ==' })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_PAGE_TOKEN',
    });
  });
});

describe('ListChangedBlocks', () => {
  let parent: Awaited<ReturnType<typeof uploadSnapshot>>;
  let child: Awaited<ReturnType<typeof uploadSnapshot>>;
  before(async () => {
    parent = await uploadSnapshot(alice, { Description: 'parent' }, seedsOf([[0, 'p0'], [1, 'p1'], [2, 'p2'], [3, 'p3'], [4, 'p4']]));
    // The child changes blocks 1 and 3 and adds block 10.
    child = await uploadSnapshot(alice, { ParentSnapshotId: parent.snapshotId }, seedsOf([[1, 'c1'], [3, 'c3'], [10, 'c10']]));
  });

  test('the child lists its parent\'s blocks as well as its own', async () => {
    assert.deepEqual([...(await tokens(alice, child.snapshotId)).keys()], [0, 1, 2, 3, 4, 10]);
    const t = await tokens(alice, child.snapshotId);
    assert.deepEqual((await getBlock(alice, child.snapshotId, 2, t.get(2)!)).data, blockOf('p2'));
    assert.deepEqual((await getBlock(alice, child.snapshotId, 3, t.get(3)!)).data, blockOf('c3'));
  });

  test('parent to child: exactly the changed and new blocks, with each side\'s token', async () => {
    const out = await alice.send(new ListChangedBlocksCommand({ FirstSnapshotId: parent.snapshotId, SecondSnapshotId: child.snapshotId }));
    assert.equal(out.VolumeSize, 1);
    assert.equal(out.BlockSize, BLOCK_SIZE);
    assert.ok(out.ExpiryTime!.getTime() > Date.now());
    assert.deepEqual(out.ChangedBlocks?.map((b) => b.BlockIndex), [1, 3, 10]);
    const [b1, b3, b10] = out.ChangedBlocks!;
    for (const [b, index] of [[b1, 1], [b3, 3]] as const) {
      assert.ok(b.FirstBlockToken && b.SecondBlockToken, `both tokens for block ${index}`);
      assert.deepEqual((await getBlock(alice, parent.snapshotId, index, b.FirstBlockToken)).data, blockOf(`p${index}`));
      assert.deepEqual((await getBlock(alice, child.snapshotId, index, b.SecondBlockToken)).data, blockOf(`c${index}`));
    }
    // Block 10 is absent from the first snapshot: no FirstBlockToken.
    assert.equal(b10.FirstBlockToken, undefined);
    assert.deepEqual((await getBlock(alice, child.snapshotId, 10, b10.SecondBlockToken!)).data, blockOf('c10'));
    // A token of one side does not read the other side.
    await expectEbsError(alice.send(new GetSnapshotBlockCommand({ SnapshotId: child.snapshotId, BlockIndex: 1, BlockToken: b1.FirstBlockToken! })), {
      name: 'ValidationException', status: 400, reason: 'INVALID_BLOCK_TOKEN',
    });
  });

  test('child to parent: the same indexes, block 10 with only a FirstBlockToken', async () => {
    const out = await alice.send(new ListChangedBlocksCommand({ FirstSnapshotId: child.snapshotId, SecondSnapshotId: parent.snapshotId }));
    assert.deepEqual(out.ChangedBlocks?.map((b) => b.BlockIndex), [1, 3, 10]);
    const b10 = out.ChangedBlocks![2];
    assert.ok(b10.FirstBlockToken);
    assert.equal(b10.SecondBlockToken, undefined);
  });

  test('StartingBlockIndex limits the comparison', async () => {
    const out = await alice.send(new ListChangedBlocksCommand({
      FirstSnapshotId: parent.snapshotId, SecondSnapshotId: child.snapshotId, StartingBlockIndex: 2,
    }));
    assert.deepEqual(out.ChangedBlocks?.map((b) => b.BlockIndex), [3, 10]);
  });

  test('without FirstSnapshotId: every block of the second snapshot, with SecondBlockToken only', async () => {
    const out = await alice.send(new ListChangedBlocksCommand({ SecondSnapshotId: child.snapshotId }));
    assert.deepEqual(out.ChangedBlocks?.map((b) => b.BlockIndex), [0, 1, 2, 3, 4, 10]);
    for (const b of out.ChangedBlocks!) {
      assert.equal(b.FirstBlockToken, undefined);
      assert.ok(b.SecondBlockToken);
    }
    const b2 = out.ChangedBlocks!.find((b) => b.BlockIndex === 2)!;
    assert.deepEqual((await getBlock(alice, child.snapshotId, 2, b2.SecondBlockToken!)).data, blockOf('p2'));
  });

  test('siblings (two children of one parent) are of one lineage', async () => {
    const sibling = await uploadSnapshot(alice, { ParentSnapshotId: parent.snapshotId }, seedsOf([[1, 'c1'], [4, 's4']]));
    const out = await alice.send(new ListChangedBlocksCommand({ FirstSnapshotId: child.snapshotId, SecondSnapshotId: sibling.snapshotId }));
    // Block 1 is identical in both (same bytes), 3 and 10 only changed in the child, 4 in the sibling.
    assert.deepEqual(out.ChangedBlocks?.map((b) => b.BlockIndex), [3, 4, 10]);
  });

  test('two unrelated snapshots are a ValidationException UNRELATED_SNAPSHOTS', async () => {
    const unrelated = await uploadSnapshot(alice, {}, seedsOf([[1, 'c1']]));
    await expectEbsError(alice.send(new ListChangedBlocksCommand({ FirstSnapshotId: unrelated.snapshotId, SecondSnapshotId: child.snapshotId })), {
      name: 'ValidationException', status: 400, reason: 'UNRELATED_SNAPSHOTS',
    });
  });

  test('a child of another account\'s public snapshot: compared across accounts', async () => {
    const images = await aliceEc2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    const root = images.Images![0].BlockDeviceMappings![0].Ebs!;
    // Anyone may read a public snapshot's blocks.
    const listed = await bob.send(new ListSnapshotBlocksCommand({ SnapshotId: root.SnapshotId }));
    assert.deepEqual(listed.Blocks?.map((b) => b.BlockIndex), [0]);
    const { data } = await getBlock(bob, root.SnapshotId!, 0, listed.Blocks![0].BlockToken!);
    assert.match(data.subarray(0, 64).toString('utf8'), /^amiforge catalogue image/);
    // Bob builds on it and compares his child with it.
    const child = await uploadSnapshot(bob, { VolumeSize: root.VolumeSize, ParentSnapshotId: root.SnapshotId }, seedsOf([[1, 'bob-1']]));
    const out = await bob.send(new ListChangedBlocksCommand({ FirstSnapshotId: root.SnapshotId, SecondSnapshotId: child.snapshotId }));
    assert.deepEqual(out.ChangedBlocks?.map((b) => [b.BlockIndex, !!b.FirstBlockToken, !!b.SecondBlockToken]), [[1, false, true]]);
    // The child is Bob's alone.
    await expectEbsError(alice.send(new ListSnapshotBlocksCommand({ SnapshotId: child.snapshotId })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });
  });

  test('another account cannot compare private snapshots', async () => {
    await expectEbsError(bob.send(new ListChangedBlocksCommand({ FirstSnapshotId: parent.snapshotId, SecondSnapshotId: child.snapshotId })), {
      name: 'ResourceNotFoundException', status: 404, reason: 'SNAPSHOT_NOT_FOUND',
    });
  });
});

describe('boto3', () => {
  test('start, put, complete, list and get round trip; a ValidationException with its Reason', async () => {
    const script = `
import base64, hashlib
ebs = boto3.client("ebs", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))
out = {}
s = ebs.start_snapshot(VolumeSize=1, Description="from boto3", Tags=[{"Key": "via", "Value": "boto3"}])
sid = s["SnapshotId"]
out["start"] = {"status": s["Status"], "size": s["VolumeSize"], "blockSize": s["BlockSize"], "owner": s["OwnerId"]}
data = bytes(range(256)) * 2048
digest = hashlib.sha256(data).digest()
checksum = base64.b64encode(digest).decode()
p = ebs.put_snapshot_block(SnapshotId=sid, BlockIndex=7, BlockData=data, DataLength=len(data), Checksum=checksum, ChecksumAlgorithm="SHA256")
out["put"] = p["Checksum"] == checksum
c = ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=1, Checksum=base64.b64encode(hashlib.sha256(digest).digest()).decode(),
                          ChecksumAlgorithm="SHA256", ChecksumAggregationMethod="LINEAR")
out["complete"] = c["Status"]
l = ebs.list_snapshot_blocks(SnapshotId=sid)
out["indexes"] = [b["BlockIndex"] for b in l["Blocks"]]
g = ebs.get_snapshot_block(SnapshotId=sid, BlockIndex=7, BlockToken=l["Blocks"][0]["BlockToken"])
body = g["BlockData"].read()
out["get"] = {"same": body == data, "checksum": g["Checksum"] == checksum, "length": g["DataLength"]}
try:
    ebs.get_snapshot_block(SnapshotId=sid, BlockIndex=7, BlockToken=base64.b64encode(b"forged").decode())
except botocore.exceptions.ClientError as e:
    out["error"] = {"code": e.response["Error"]["Code"], "reason": e.response.get("Reason"),
                    "status": e.response["ResponseMetadata"]["HTTPStatusCode"], "message": e.response["Error"]["Message"]}
print(json.dumps(out))
`;
    const r = await boto3(server.endpoint, credentialsOf(ALICE), script);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.start, { status: 'pending', size: 1, blockSize: BLOCK_SIZE, owner: ALICE.id });
    assert.equal(r.json.put, true);
    assert.equal(r.json.complete, 'completed');
    assert.deepEqual(r.json.indexes, [7]);
    assert.deepEqual(r.json.get, { same: true, checksum: true, length: BLOCK_SIZE });
    assert.equal(r.json.error.code, 'ValidationException');
    assert.equal(r.json.error.reason, 'INVALID_BLOCK_TOKEN');
    assert.equal(r.json.error.status, 400);
    assert.ok(r.json.error.message);
  });
});

// Keeps the helpers honest: the LINEAR checksum of one block is the SHA-256 of its digest.
test('LINEAR checksum of a single block', () => {
  const data = fillBlock(Buffer.alloc(BLOCK_SIZE), 'x');
  assert.equal(linearChecksum([sha256(data)]), sha256(sha256(data)).toString('base64'));
});
