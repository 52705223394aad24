// Accounting and clean-up of left-behind snapshots on the SQLite store: which snapshots count as
// left behind, why some are kept, billed bytes with shared blocks counted once, and that clean-up
// deletes only what its plan lists and only through DeleteSnapshot's rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { BLOCK_SIZE } from '../../ports/block-store.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import { SnapshotCleanUp } from './snapshot-clean-up.ts';
import { StorageMaintenance } from './storage-maintenance.ts';
import { GIB, monthlyCost, parsePrice } from './storage-pricing.ts';

const R = 'us-east-1';
const A = '111111111111';
const B = '222222222222';
let seq = 0;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const hash = (c: string) => c.repeat(64);

function snapshot(owner: string, extra: Partial<SnapshotRecord> = {}): SnapshotRecord {
  const now = new Date(0).toISOString();
  return {
    region: R, snapshotId: `snap-0${hex(++seq, 16)}`, ownerId: owner, volumeSize: 1, state: 'completed', progress: 100, startTime: now,
    volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 60, lastActivity: now, createVolumePermissions: [], ...extra,
  };
}

function imageOn(owner: string, snapshotIds: string[]): ImageRecord {
  const id = `ami-0${hex(++seq, 16)}`;
  return {
    region: R, launchPermissions: [],
    image: {
      imageId: id, ownerId: owner, name: `image-${id}`, state: 'available', creationDate: new Date(0).toISOString(),
      blockDeviceMappings: snapshotIds.map((snapshotId, i) => ({ deviceName: `/dev/xvd${'abcdef'[i]}`, ebs: { snapshotId } })),
    },
  };
}

function volumeFrom(owner: string, snapshotId: string): VolumeRecord {
  return {
    region: R, volumeId: `vol-0${hex(++seq, 16)}`, ownerId: owner, size: 1, volumeType: 'gp3', availabilityZone: `${R}a`,
    state: 'available', snapshotId, createTime: new Date(0).toISOString(), encrypted: false, attachments: [],
  };
}

/** Inserts a completed snapshot whose map holds `blocks` (one hash character per block). */
async function withBlocks(store: SqliteMetadataStore, owner: string, blocks: string, extra: Partial<SnapshotRecord> = {}): Promise<string> {
  const s = snapshot(owner, extra);
  await store.snapshots.insert(s);
  for (let i = 0; i < blocks.length; i++) await store.snapshots.putBlock(s.snapshotId, i, hash(blocks[i]));
  return s.snapshotId;
}

async function register(store: SqliteMetadataStore, owner: string, snapshotIds: string[]): Promise<string> {
  const r = imageOn(owner, snapshotIds);
  await store.images.insert(r);
  return r.image.imageId;
}

async function withStore(fn: (store: SqliteMetadataStore) => Promise<void>): Promise<void> {
  const store = new SqliteMetadataStore(':memory:');
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

const PRICE = 0.05;
const plan = (store: SqliteMetadataStore, extra: { ownerIds?: string[] } = {}) =>
  new SnapshotCleanUp({ store }).plan({ regions: [R], pricePerGbMonth: PRICE, ...extra });

test('a snapshot is left behind once the image that named it is deregistered and no other image names it', () => withStore(async (store) => {
  const shared = await withBlocks(store, A, 'ab');
  const lone = await withBlocks(store, A, 'c');
  const never = await withBlocks(store, A, 'd');
  const first = await register(store, A, [shared, lone]);
  const second = await register(store, A, [shared]);
  assert.deepEqual(await store.snapshots.leftBehind(R), [], 'nothing deregistered yet');
  await store.images.delete(R, first);
  const left = await store.snapshots.leftBehind(R);
  assert.deepEqual(left.map((l) => [l.snapshotId, l.imageIds]), [[lone, [first]]], 'the shared snapshot is still named by the second image');
  await store.images.delete(R, second);
  assert.deepEqual((await store.snapshots.leftBehind(R)).map((l) => [l.snapshotId, l.imageIds]).sort(), [[lone, [first]], [shared, [first, second]]].sort());
  assert.ok(!(await store.snapshots.leftBehind(R)).some((l) => l.snapshotId === never), 'a snapshot no image ever named is not left behind');
  // Registered again: in use, no longer left behind; deleting the snapshot forgets its record.
  await register(store, A, [shared]);
  assert.deepEqual((await store.snapshots.leftBehind(R)).map((l) => l.snapshotId), [lone]);
  await store.snapshots.delete(R, lone);
  assert.deepEqual(await store.snapshots.leftBehind(R), []);
  assert.deepEqual(await store.snapshots.leftBehind('us-west-2'), [], 'records are per region');
}));

test('clean-up keeps left-behind snapshots that are pending, being copied, or a volume was made from', () => withStore(async (store) => {
  const plain = await withBlocks(store, A, 'a');
  const pending = await withBlocks(store, A, 'b', { state: 'pending' });
  const copied = await withBlocks(store, A, 'c');
  const restored = await withBlocks(store, A, 'd');
  await store.images.delete(R, await register(store, A, [plain, pending, copied, restored]));
  await store.snapshots.insert(snapshot(A, { state: 'pending', copySource: { region: R, snapshotId: copied } }));
  const volume = volumeFrom(A, restored);
  await store.volumes.insert(volume);
  const [account] = (await plan(store)).accounts;
  assert.deepEqual(account.deletable.map((d) => d.snapshotId), [plain]);
  assert.deepEqual(Object.fromEntries(account.kept.map((k) => [k.snapshotId, k.keptBecause])), {
    [pending]: 'still being taken (pending)',
    [copied]: 'a copy of it is in progress',
    [restored]: `volume ${volume.volumeId} was made from it`,
  });
}));

test('reclaimable bytes count a block shared among the deleted snapshots once and leave out blocks kept ones still store', () => withStore(async (store) => {
  // x and y are left behind and share block "s"; z stays in use and shares block "k" with x.
  const x = await withBlocks(store, A, 'sxk');
  const y = await withBlocks(store, A, 'sy');
  const z = await withBlocks(store, A, 'kz');
  await store.images.delete(R, await register(store, A, [x, y]));
  await register(store, A, [z]);
  const p = await plan(store);
  const [account] = p.accounts;
  assert.deepEqual(account.deletable.map((d) => d.snapshotId).sort(), [x, y].sort());
  // s, x, y leave the bill; k stays (z stores it). The sum of own bytes would miss s.
  assert.equal(account.reclaimableBytes, 3 * BLOCK_SIZE);
  assert.equal(account.monthlySaving, (3 * BLOCK_SIZE / GIB) * PRICE);
  assert.deepEqual(p.totals, { snapshots: 2, reclaimableBytes: 3 * BLOCK_SIZE, monthlySaving: account.monthlySaving });

  const [report] = await new StorageMaintenance({ store, blocks: undefined as never }).usage({ regions: [R], pricePerGbMonth: PRICE });
  const a = report.accounts[0];
  assert.equal(a.storedBytes, 5 * BLOCK_SIZE, 'billed: s, x, k, y, z, each once');
  assert.equal(a.dataBytes, 7 * BLOCK_SIZE, 'logical data counts shared blocks in each snapshot');
  assert.equal(a.monthlyCost, monthlyCost(5 * BLOCK_SIZE, PRICE));
  assert.deepEqual(a.leftBehind, { snapshots: 2, kept: 0, reclaimableBytes: 3 * BLOCK_SIZE, monthlySaving: account.monthlySaving });
  assert.deepEqual(report.snapshots.filter((s) => s.leftBehindBy).map((s) => s.snapshotId).sort(), [x, y].sort());
  assert.equal(report.snapshots.find((s) => s.snapshotId === z)?.leftBehindBy, undefined);
}));

test('accounts are billed apart: a block two accounts store is on both bills and once in the region', () => withStore(async (store) => {
  const mine = await withBlocks(store, A, 'ab');
  await withBlocks(store, B, 'bc');
  await store.images.delete(R, await register(store, A, [mine]));
  const [report] = await new StorageMaintenance({ store, blocks: undefined as never }).usage({ regions: [R], pricePerGbMonth: PRICE });
  assert.deepEqual(report.accounts.map((a) => [a.ownerId, a.storedBytes / BLOCK_SIZE]), [[A, 2], [B, 2]]);
  assert.equal(report.storedBytes, 3 * BLOCK_SIZE);
  assert.equal(report.billedBytes, 4 * BLOCK_SIZE);
  // A's left-behind snapshot frees both its blocks from A's bill, though B also stores "b".
  assert.equal(report.accounts[0].leftBehind.reclaimableBytes, 2 * BLOCK_SIZE);
  assert.deepEqual((await plan(store, { ownerIds: [B] })).accounts, [], 'another owner has nothing left behind');
}));

test('apply deletes only the planned snapshots and skips one an image took up since the plan', () => withStore(async (store) => {
  const gone = await withBlocks(store, A, 'a');
  const retaken = await withBlocks(store, A, 'b');
  const others = await withBlocks(store, B, 'c');
  await store.images.delete(R, await register(store, A, [gone, retaken]));
  await store.images.delete(R, await register(store, B, [others]));
  const cleanUp = new SnapshotCleanUp({ store });
  const p = await cleanUp.plan({ regions: [R], ownerIds: [A], pricePerGbMonth: PRICE });
  const reused = await register(store, A, [retaken]);
  const progress: number[] = [];
  const outcomes = await cleanUp.apply(p, (done) => progress.push(done));
  assert.deepEqual(progress, [1, 2]);
  assert.deepEqual(outcomes.map((o) => [o.snapshotId, o.result]), [[gone, 'deleted'], [retaken, 'skipped']]);
  assert.match((outcomes[1] as { reason: string }).reason, new RegExp(`in use by ${reused}`));
  assert.equal(await store.snapshots.get(R, gone), undefined);
  assert.ok(await store.snapshots.get(R, retaken));
  assert.ok(await store.snapshots.get(R, others), 'another account\'s snapshot is untouched unless asked');
}));

test('prices parse as non-negative numbers only', () => {
  assert.equal(parsePrice('0.05'), 0.05);
  assert.equal(parsePrice('0'), 0);
  assert.equal(parsePrice('.0125'), 0.0125);
  for (const bad of ['', '-1', 'abc', '1,5', 'Infinity', 'NaN', '0x10']) assert.equal(parsePrice(bad), undefined, bad);
  assert.equal(monthlyCost(GIB, 0.05), 0.05);
});
