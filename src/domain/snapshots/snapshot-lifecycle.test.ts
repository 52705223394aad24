// What the wire tests cannot time: EBS direct uploads cancelled by their Timeout (a controlled
// clock), and copies whose source or destination is deleted while they run (deterministic here,
// because the deletion lands before the copier's first await resumes). In process, on the SQLite
// metadata store and the filesystem block store in a temp directory.
import { standaloneEncryption } from '../encryption/ebs-encryption.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlockStore } from '../../adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { BLOCK_SIZE } from '../../ports/block-store.ts';
import { randomIds } from '../../ports/ids.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { Caller } from '../context.ts';
import { isServiceError } from '../errors.ts';
import { EbsDirectService } from './ebs-direct-service.ts';
import { BackgroundSnapshotCopier } from './snapshot-copier.ts';
import { SnapshotService } from './snapshot-service.ts';

const EAST: Caller = { account: '111111111111', region: 'us-east-1' };
const WEST: Caller = { account: '111111111111', region: 'us-west-2' };

async function withWorld(fn: (w: {
  store: SqliteMetadataStore; blocks: FsBlockStore; clock: { now(): Date; advance(ms: number): void };
  ebs: EbsDirectService; snapshots: SnapshotService; copier: BackgroundSnapshotCopier; errors: string[];
}) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-lifecycle-'));
  const store = new SqliteMetadataStore(join(dir, 'metadata.sqlite'));
  const blocks = new FsBlockStore({ root: join(dir, 'blocks') });
  let now = Date.parse('2025-01-01T00:00:00Z');
  const clock = { now: () => new Date(now), advance: (ms: number) => { now += ms; } };
  const errors: string[] = [];
  const encryption = await standaloneEncryption(store, clock);
  const copier = new BackgroundSnapshotCopier({ store, blocks, clock, keys: encryption.keys, onError: (_id, err) => errors.push((err as Error).message) });
  const snapshots = new SnapshotService({ store, clock, ids: randomIds, copier, encryption });
  const ebs = new EbsDirectService({ store, blocks, clock, ids: randomIds, encryption });
  try {
    await fn({ store, blocks, clock, ebs, snapshots, copier, errors });
  } finally {
    await copier.idle();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const block = (seed: string) => Buffer.alloc(BLOCK_SIZE).fill(createHash('sha256').update(seed).digest());
const checksum = (data: Buffer) => createHash('sha256').update(data).digest('base64');

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isServiceError(err), String(err));
    return `${err.code}:${err.fields.Reason ?? ''}`;
  }
  return assert.fail('expected an error');
}

test('StartSnapshot Timeout: an upload idle for longer is cancelled (error), one kept busy is not', async () => {
  await withWorld(async ({ ebs, snapshots, clock }) => {
    const idle = (await ebs.start(EAST, { VolumeSize: 1, Timeout: 10 })).SnapshotId!;
    const busy = (await ebs.start(EAST, { VolumeSize: 1, Timeout: 10 })).SnapshotId!;
    const data = block('t');
    for (let minute = 0; minute < 15; minute += 5) {
      clock.advance(5 * 60_000);
      await ebs.putBlock(EAST, { SnapshotId: busy, BlockIndex: minute, BlockData: data, DataLength: BLOCK_SIZE, Checksum: checksum(data), ChecksumAlgorithm: 'SHA256' });
    }
    assert.equal(await reason(ebs.putBlock(EAST, {
      SnapshotId: idle, BlockIndex: 0, BlockData: data, DataLength: BLOCK_SIZE, Checksum: checksum(data), ChecksumAlgorithm: 'SHA256',
    })), 'ValidationException:INVALID_SNAPSHOT_ID');
    const [described] = (await snapshots.describe(EAST, { SnapshotIds: [idle] })).Snapshots;
    assert.equal(described.State, 'error');
    assert.match(described.StateMessage ?? '', /timeout of 10 minutes/);
    assert.equal((await ebs.complete(EAST, { SnapshotId: busy, ChangedBlocksCount: 3 })).Status, 'completed');
  });
});

test('StartSnapshot Timeout defaults to 60 minutes', async () => {
  await withWorld(async ({ ebs, snapshots, clock }) => {
    const id = (await ebs.start(EAST, { VolumeSize: 1 })).SnapshotId!;
    clock.advance(59 * 60_000);
    assert.equal((await snapshots.describe(EAST, { SnapshotIds: [id] })).Snapshots[0].State, 'pending');
    clock.advance(2 * 60_000);
    // Listed without ids, and filtered by status, it is already an error.
    assert.deepEqual((await snapshots.describe(EAST, { Filters: [{ Name: 'status', Values: ['pending'] }] })).Snapshots, []);
    assert.deepEqual((await snapshots.describe(EAST, { Filters: [{ Name: 'status', Values: ['error'] }] })).Snapshots.map((s) => s.SnapshotId), [id]);
    assert.equal((await snapshots.describe(EAST, { SnapshotIds: [id] })).Snapshots[0].State, 'error');
  });
});

/** A completed snapshot mapping `count` indexes, all to one stored block (cheap to make large). */
async function bigSnapshot(store: SqliteMetadataStore, blocks: FsBlockStore, count: number): Promise<SnapshotRecord> {
  const data = block('big');
  const hash = createHash('sha256').update(data).digest('hex');
  await blocks.put('us-east-1', hash, data);
  const now = new Date().toISOString();
  const record: SnapshotRecord = {
    region: 'us-east-1', snapshotId: randomIds.next('snap'), ownerId: EAST.account, volumeSize: 2, state: 'completed', progress: 100,
    startTime: now, completionTime: now, volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 0, lastActivity: now,
    createVolumePermissions: [], blockCount: count,
  };
  await store.snapshots.insert(record);
  await store.snapshots.putBlocks(record.snapshotId, Array.from({ length: count }, (_, index) => ({ index, hash })));
  return record;
}

test('CopySnapshot: a copy of 3,000 blocks completes with every block mapped', async () => {
  await withWorld(async ({ store, blocks, snapshots, copier }) => {
    const src = await bigSnapshot(store, blocks, 3000);
    const { SnapshotId } = await snapshots.copy(WEST, { SourceRegion: 'us-east-1', SourceSnapshotId: src.snapshotId });
    await copier.idle();
    const [copy] = (await snapshots.describe(WEST, { SnapshotIds: [SnapshotId] })).Snapshots;
    assert.equal(copy.State, 'completed');
    assert.equal(copy.FullSnapshotSizeInBytes, 3000 * BLOCK_SIZE);
    assert.equal(await store.snapshots.countBlocks(SnapshotId), 3000);
  });
});

test('CopySnapshot: deleting the source mid-copy fails the copy instead of completing it with part of the blocks', async () => {
  await withWorld(async ({ store, blocks, snapshots, copier, errors }) => {
    const src = await bigSnapshot(store, blocks, 3000);
    const { SnapshotId } = await snapshots.copy(WEST, { SourceRegion: 'us-east-1', SourceSnapshotId: src.snapshotId });
    await snapshots.delete(EAST, { SnapshotId: src.snapshotId });
    await copier.idle();
    const [copy] = (await snapshots.describe(WEST, { SnapshotIds: [SnapshotId] })).Snapshots;
    assert.equal(copy.State, 'error');
    assert.match(copy.StateMessage ?? '', /deleted during the copy/);
    assert.equal(errors.length, 1);
  });
});

test('CopySnapshot: deleting the copy while it runs leaves no block map behind', async () => {
  await withWorld(async ({ store, blocks, snapshots, copier }) => {
    const src = await bigSnapshot(store, blocks, 1500);
    const { SnapshotId } = await snapshots.copy(WEST, { SourceRegion: 'us-east-1', SourceSnapshotId: src.snapshotId });
    await snapshots.delete(WEST, { SnapshotId });
    await copier.idle();
    assert.equal(await store.snapshots.get('us-west-2', SnapshotId), undefined);
    assert.equal(await store.snapshots.countBlocks(SnapshotId), 0);
  });
});
