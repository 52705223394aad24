// What the wire tests cannot show because online garbage collection spares recent blocks: a
// snapshot in the Recycle Bin keeps its blocks through garbage collection with no grace period,
// and they are freed once its retention has ended. In process, on SQLite and the fs block store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlockStore } from '../../adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { Caller } from '../context.ts';
import { StorageMaintenance } from '../storage/storage-maintenance.ts';
import { RecycleBin } from './recycle-bin.ts';

const ALICE: Caller = { account: '111111111111', region: 'us-east-1' };

test('garbage collection keeps the blocks of a binned snapshot and frees them after its retention', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-rbin-'));
  const store = new SqliteMetadataStore(join(dir, 'metadata.sqlite'));
  const blocks = new FsBlockStore({ root: join(dir, 'blocks') });
  let now = Date.parse('2025-01-01T00:00:00Z');
  const bin = new RecycleBin({ store, clock: { now: () => new Date(now) } });
  const maintenance = new StorageMaintenance({ store, blocks });
  try {
    const data = Buffer.alloc(512 * 1024, 7);
    const hash = createHash('sha256').update(data).digest('hex');
    await blocks.put(ALICE.region, hash, data);
    const start = new Date(now).toISOString();
    const snap: SnapshotRecord = {
      region: ALICE.region, snapshotId: 'snap-0aaaaaaaaaaaaaaaa', ownerId: ALICE.account, volumeSize: 1, state: 'completed', progress: 100,
      startTime: start, volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 60, lastActivity: start, createVolumePermissions: [],
    };
    await store.snapshots.insert(snap);
    await store.snapshots.putBlocks(snap.snapshotId, [{ index: 0, hash }]);
    await store.recycleBin.insertRule({
      account: ALICE.account, region: ALICE.region, ruleId: 'aaaaaaaaaaa', resourceType: 'EBS_SNAPSHOT', retentionDays: 1,
      description: '', resourceTags: [], excludeResourceTags: [], tags: [], createdAt: start,
    });

    assert.equal(await bin.retainSnapshot(ALICE, snap), true);
    assert.equal(await store.snapshots.get(ALICE.region, snap.snapshotId), undefined);
    await maintenance.collectGarbage({ regions: [ALICE.region], graceMs: 0 });
    assert.equal(await blocks.has(ALICE.region, hash), true, 'a binned snapshot keeps its blocks');

    now += 86_400_000 - 1;
    assert.equal(await bin.purgeExpired(), 0);
    now += 1;
    assert.equal(await bin.purgeExpired(), 1);
    await maintenance.collectGarbage({ regions: [ALICE.region], graceMs: 0 });
    assert.equal(await blocks.has(ALICE.region, hash), false, 'freed once the retention has ended');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
