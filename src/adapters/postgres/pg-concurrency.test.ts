// Rules SQLite kept with one writer, shown to hold with two amiforge nodes (two stores, two
// connection pools) writing one PostgreSQL database at the same moment: AMI names and client
// tokens stay unique, an image is never left on a snapshot moved to the Recycle Bin, the 50-tag
// limit holds across nodes, and a Recycle Bin move or restore happens once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { twoNodesOnOneDatabase } from '../../../test/support/pg-two-nodes.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import type { BinnedImage, BinnedSnapshot } from '../../ports/recycle-bin-repository.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { PgMetadataStore } from './pg-store.ts';

const A = '111111111111';
const R = 'us-east-1';
/** Races per case: enough that both orders of the two writers occur. */
const ROUNDS = 20;
const EPOCH = new Date(0).toISOString();

let nodes: [PgMetadataStore, PgMetadataStore];
twoNodesOnOneDatabase((n) => { nodes = n; });

let seq = 0;
const hex = () => (++seq).toString(16).padStart(17, '0');

function image(name: string, extra: Partial<ImageRecord> = {}, snapshotId?: string): ImageRecord {
  return {
    region: R,
    image: {
      imageId: `ami-${hex()}`, ownerId: A, name, state: 'available', creationDate: EPOCH,
      ...(snapshotId ? { blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId } }] } : {}),
    },
    launchPermissions: [],
    ...extra,
  };
}

function snapshot(): SnapshotRecord {
  return {
    region: R, snapshotId: `snap-${hex()}`, ownerId: A, volumeSize: 1, state: 'completed', progress: 100, startTime: EPOCH,
    volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 60, lastActivity: EPOCH, createVolumePermissions: [],
  };
}

const errorCode = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as { code?: string }).code ?? String(r.reason) : 'ok');

test('two nodes registering one AMI name at once: one image, the other InvalidAMIName.Duplicate', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const name = `race-name-${i}`;
    const results = await Promise.allSettled(nodes.map((n) => n.images.insert(image(name))));
    assert.deepEqual(results.map(errorCode).sort(), ['InvalidAMIName.Duplicate', 'ok']);
  }
});

test('two nodes copying with one ClientToken at once: one image, the other IdempotentParameterMismatch', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const clientToken = { token: `token-${i}`, requestDigest: 'd' };
    const results = await Promise.allSettled(nodes.map((n, k) => n.images.insert(image(`token-image-${i}-${k}`, { clientToken }))));
    assert.deepEqual(results.map(errorCode).sort(), ['IdempotentParameterMismatch', 'ok']);
    assert.ok(await nodes[0].images.findByClientToken(R, A, clientToken.token));
  }
});

test('an image registered on a snapshot while another node bins the snapshot: never both', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const snap = snapshot();
    await nodes[0].snapshots.insert(snap);
    const img = image(`on-snapshot-${i}`, {}, snap.snapshotId);
    const entry: BinnedSnapshot = {
      resourceType: 'EBS_SNAPSHOT', account: A, region: R, resourceId: snap.snapshotId, snapshot: snap, tags: [], enterTime: EPOCH, exitTime: EPOCH,
    };
    const [registered, binned] = await Promise.allSettled([
      nodes[0].images.insert(img, undefined, { requireSnapshots: [snap.snapshotId] }),
      nodes[1].recycleBin.binSnapshot(entry),
    ]);
    const stored = await nodes[1].images.get(R, img.image.imageId);
    const inBin = await nodes[0].recycleBin.getBinned(A, R, 'EBS_SNAPSHOT', snap.snapshotId);
    if (registered.status === 'fulfilled') {
      assert.deepEqual(binned, { status: 'fulfilled', value: { binned: false, inUseBy: img.image.imageId } });
      assert.ok(stored && !inBin && await nodes[0].snapshots.get(R, snap.snapshotId));
    } else {
      assert.equal(errorCode(registered), 'InvalidSnapshot.NotFound');
      assert.deepEqual(binned, { status: 'fulfilled', value: { binned: true } });
      assert.ok(!stored && inBin);
    }
  }
});

test('two nodes adding 30 tags each to one resource: the 50-tag limit holds across them', async () => {
  for (let i = 0; i < ROUNDS / 4; i++) {
    const resource = { id: `ami-tagged${i}`, type: 'image' };
    const results = await Promise.allSettled(nodes.map((n, k) => n.tags.put(A, R, [resource],
      Array.from({ length: 30 }, (_, t) => ({ Key: `node${k}-key${t}`, Value: 'v' })))));
    assert.deepEqual(results.map(errorCode).sort(), ['TagLimitExceeded', 'ok']);
    assert.equal((await nodes[0].tags.forResources(A, R, [resource.id])).get(resource.id)?.length, 30);
  }
});

test('two nodes binning, then restoring, one image at once: one entry, then one image', async () => {
  for (let i = 0; i < ROUNDS / 2; i++) {
    const img = image(`bin-twice-${i}`);
    await nodes[0].images.insert(img, { account: A, tags: [{ Key: 'k', Value: 'v' }] });
    const entry: BinnedImage = {
      resourceType: 'EC2_IMAGE', account: A, region: R, resourceId: img.image.imageId, image: img, tags: [{ Key: 'k', Value: 'v' }],
      enterTime: EPOCH, exitTime: EPOCH,
    };
    await Promise.all(nodes.map((n) => n.recycleBin.binImage(entry)));
    assert.equal(await nodes[0].images.get(R, img.image.imageId), undefined);
    assert.deepEqual(await nodes[1].recycleBin.getBinned(A, R, 'EC2_IMAGE', img.image.imageId), entry);
    await Promise.all(nodes.map((n) => n.recycleBin.restore(entry)));
    assert.deepEqual(await nodes[1].images.get(R, img.image.imageId), img);
    assert.equal(await nodes[0].recycleBin.getBinned(A, R, 'EC2_IMAGE', img.image.imageId), undefined);
    assert.deepEqual((await nodes[0].tags.forResources(A, R, [img.image.imageId])).get(img.image.imageId), [{ Key: 'k', Value: 'v' }]);
  }
});

test('two nodes retagging one Recycle Bin entry at once: neither change is lost', async () => {
  const snap = snapshot();
  await nodes[0].snapshots.insert(snap);
  const entry: BinnedSnapshot = {
    resourceType: 'EBS_SNAPSHOT', account: A, region: R, resourceId: snap.snapshotId, snapshot: snap, tags: [], enterTime: EPOCH, exitTime: EPOCH,
  };
  assert.deepEqual(await nodes[0].recycleBin.binSnapshot(entry), { binned: true });
  await Promise.all(Array.from({ length: ROUNDS }, (_, i) =>
    nodes[i % 2]!.recycleBin.retag(A, R, snap.snapshotId, (tags) => [...tags, { Key: `k${i}`, Value: 'v' }])));
  const kept = await nodes[1].recycleBin.getBinned(A, R, 'EBS_SNAPSHOT', snap.snapshotId);
  assert.equal(kept?.tags.length, ROUNDS);
});

test('a node restoring an image while another deletes its snapshot: the snapshot is kept, in use either way', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const snap = snapshot();
    await nodes[0].snapshots.insert(snap);
    const img = image(`restore-on-snapshot-${i}`, {}, snap.snapshotId);
    await nodes[0].images.insert(img, undefined, { requireSnapshots: [snap.snapshotId] });
    const entry: BinnedImage = {
      resourceType: 'EC2_IMAGE', account: A, region: R, resourceId: img.image.imageId, image: img, tags: [], enterTime: EPOCH, exitTime: EPOCH,
    };
    await nodes[0].recycleBin.binImage(entry);
    const [, deleted] = await Promise.all([
      nodes[0].recycleBin.restore(entry),
      nodes[1].snapshots.deleteUnlessInUse(R, snap.snapshotId, { binnedImagesToo: true }),
    ]);
    assert.deepEqual(deleted, { deleted: false, inUseBy: img.image.imageId });
    assert.ok(await nodes[1].snapshots.get(R, snap.snapshotId));
    assert.deepEqual(await nodes[1].images.get(R, img.image.imageId), img);
  }
});

test('a node updating an image another node deregisters at once: no error, and nothing of the image is left', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const img = image(`update-vs-delete-${i}`);
    await nodes[0].images.insert(img);
    const shared: ImageRecord = { ...img, launchPermissions: [{ UserId: '222222222222' }] };
    const [, deleted] = await Promise.all([nodes[0].images.update(shared), nodes[1].images.delete(R, img.image.imageId)]);
    assert.equal(deleted, true);
    assert.equal(await nodes[0].images.get(R, img.image.imageId), undefined);
    const [left] = await nodes[0].db.query<{ n: number }>('SELECT count(*)::int AS n FROM launch_permissions WHERE image_id = $1', [img.image.imageId]);
    assert.equal(left!.n, 0);
  }
});
