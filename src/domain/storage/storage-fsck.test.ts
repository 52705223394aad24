// fsck reads blocks several at a time: every referenced block is checked once, missing and
// corrupt ones are listed in order, and a store that stops answering ends the run with its error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { BLOCK_SIZE, BlockCorruptError, BlockMissingError, BlockStoreUnavailableError, type BlockStore, type StoredBlockInfo } from '../../ports/block-store.ts';
import { StorageMaintenance } from './storage-maintenance.ts';

const R = 'us-east-1';
const hashOf = (n: number) => n.toString(16).padStart(64, '0');

async function storeWithBlocks(count: number): Promise<SqliteMetadataStore> {
  const store = new SqliteMetadataStore(':memory:');
  const now = new Date(0).toISOString();
  await store.snapshots.insert({
    region: R, snapshotId: 'snap-00000000000000001', ownerId: '111111111111', volumeSize: 1, state: 'completed', progress: 100,
    startTime: now, volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 60, lastActivity: now, createVolumePermissions: [],
  });
  await store.snapshots.putBlocks('snap-00000000000000001', Array.from({ length: count }, (_, i) => ({ index: i, hash: hashOf(i + 1) })));
  return store;
}

/** A block store whose get answers by hash; nothing listed. */
function blocksAnswering(get: (hash: string) => Promise<Buffer>): BlockStore & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    get: async (_domain: string, hash: string) => { reads.push(hash); return get(hash); },
    async *list(): AsyncIterable<StoredBlockInfo> {},
  } as unknown as BlockStore & { reads: string[] };
}

test('fsck checks every referenced block once and lists missing and corrupt ones in order', async () => {
  const store = await storeWithBlocks(100);
  const blocks = blocksAnswering(async (hash) => {
    await new Promise((r) => setImmediate(r));
    if (hash === hashOf(90) || hash === hashOf(7)) throw new BlockMissingError(R, hash);
    if (hash === hashOf(50)) throw new BlockCorruptError(R, hash);
    return Buffer.alloc(BLOCK_SIZE);
  });
  const [report] = await new StorageMaintenance({ store, blocks }).fsck({ regions: [R] });
  assert.equal(report.referenced, 100);
  assert.equal(new Set(blocks.reads).size, 100);
  assert.equal(blocks.reads.length, 100);
  assert.deepEqual(report.missing, [hashOf(7), hashOf(90)]);
  assert.deepEqual(report.corrupt, [hashOf(50)]);
});

test('fsck stops with the store\'s error when the store stops answering', async () => {
  const store = await storeWithBlocks(100);
  const blocks = blocksAnswering(async (hash) => {
    if (hash === hashOf(20)) throw new BlockStoreUnavailableError('block store s3://b at http://gw failed to get: ECONNREFUSED');
    return Buffer.alloc(BLOCK_SIZE);
  });
  await assert.rejects(new StorageMaintenance({ store, blocks }).fsck({ regions: [R] }), BlockStoreUnavailableError);
  // No new reads start once one failed: at most those already in flight.
  assert.ok(blocks.reads.length < 100);
});
