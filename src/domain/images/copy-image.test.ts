// CopyImage in process, on an in-memory store and a temporary block store: what the wire tests
// cannot set up through the API (an AWS Marketplace product code, a disabled, deprecated or
// instance store-backed source) or cannot stop at will (a copy cut short by a restart, a copy
// whose source vanished).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlockStore } from '../../adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { BLOCK_SIZE } from '../../ports/block-store.ts';
import { randomIds } from '../../ports/ids.ts';
import type { ImageRecord, StoredImage } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { Caller } from '../context.ts';
import { standaloneEncryption } from '../encryption/ebs-encryption.ts';
import { BackgroundSnapshotCopier } from '../snapshots/snapshot-copier.ts';
import { SnapshotService } from '../snapshots/snapshot-service.ts';
import { ImageCopies } from './copy-image.ts';
import { PendingImages } from './pending-images.ts';

const alice: Caller = { account: '111111111111', region: 'us-east-1' };
const bobWest: Caller = { account: '222222222222', region: 'us-west-2' };
const aliceWest: Caller = { ...alice, region: 'us-west-2' };
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'amiforge-copy-image-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function world() {
  const store = new SqliteMetadataStore(':memory:');
  const blocks = new FsBlockStore({ root: mkdtempSync(join(dir, 'blocks-')) });
  const clock = { now: () => new Date('2026-01-01T00:00:00Z') };
  const deps = { store, clock, ids: randomIds };
  const encryption = await standaloneEncryption(store, clock);
  const errors: string[] = [];
  const newCopier = () => new BackgroundSnapshotCopier({ store, blocks, clock, keys: encryption.keys, onError: (id) => errors.push(id) });
  const copier = newCopier();
  const snapshots = new SnapshotService({ ...deps, copier, encryption });
  const pendingImages = new PendingImages({ store, sources: [copier] });
  const copies = new ImageCopies({ ...deps, snapshots, pendingImages });

  /** A completed snapshot of Alice's in us-east-1 whose blocks are `texts` (index → text). */
  async function snapshot(texts: string[], extra: Partial<SnapshotRecord> = {}): Promise<SnapshotRecord> {
    const record: SnapshotRecord = {
      region: 'us-east-1', snapshotId: randomIds.next('snap'), ownerId: alice.account, volumeSize: 1, state: 'completed', progress: 100,
      startTime: '2026-01-01T00:00:00Z', volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 0, lastActivity: '2026-01-01T00:00:00Z',
      createVolumePermissions: [], blockCount: texts.length, ...extra,
    };
    const entries = [];
    for (const [index, text] of texts.entries()) {
      const data = Buffer.alloc(BLOCK_SIZE);
      data.write(text);
      const hash = createHash('sha256').update(data).digest('hex');
      await blocks.put('us-east-1', hash, data);
      entries.push({ index, hash });
    }
    await store.snapshots.insert(record);
    await store.snapshots.putBlocks(record.snapshotId, entries);
    return record;
  }

  /** An available image of Alice's in us-east-1 on `snap`, shared with Bob (image and snapshot). */
  async function image(snap: SnapshotRecord | undefined, extra: Partial<StoredImage> = {}): Promise<ImageRecord> {
    const record: ImageRecord = {
      region: 'us-east-1', launchPermissions: [{ UserId: bobWest.account }],
      image: {
        imageId: randomIds.next('ami'), ownerId: alice.account, name: `image-${Math.random()}`, state: 'available', creationDate: '2026-01-01T00:00:00Z',
        rootDeviceName: '/dev/xvda', rootDeviceType: 'ebs', architecture: 'x86_64',
        blockDeviceMappings: snap ? [{ deviceName: '/dev/xvda', ebs: { snapshotId: snap.snapshotId, volumeSize: 1, encrypted: false } }] : [],
        ...extra,
      },
    };
    if (snap) {
      snap.createVolumePermissions = [{ UserId: bobWest.account }];
      await store.snapshots.update(snap);
    }
    await store.images.insert(record);
    return record;
  }

  const imageState = async (region: string, id: string) => (await store.images.get(region, id))!.image;
  return { store, blocks, copier, newCopier, snapshots, pendingImages, copies, snapshot, image, imageState, errors };
}

describe('CopyImage rules the API cannot set up', () => {
  test('another account\'s image with an AWS Marketplace product code cannot be copied; its owner may copy it', async () => {
    const w = await world();
    const src = await w.image(await w.snapshot(['a']), { productCodes: [{ productCodeId: 'abc123', productCodeType: 'marketplace' }] });
    const req = { Name: 'marketplace copy', SourceRegion: 'us-east-1', SourceImageId: src.image.imageId };
    await assert.rejects(w.copies.copy(bobWest, req), { code: 'InvalidRequest', message: 'Images from AWS Marketplace cannot be copied to another AWS account.' });
    const own = await w.copies.copy(aliceWest, req);
    await w.copier.idle();
    const copied = await w.imageState('us-west-2', own.ImageId);
    assert.equal(copied.state, 'available');
    assert.deepEqual(copied.productCodes, [{ productCodeId: 'abc123', productCodeType: 'marketplace' }]);
  });

  test('a disabled image (or one not yet available) is InvalidAMIID.Unavailable to its owner; a deprecated one copies, undeprecated', async () => {
    const w = await world();
    const disabled = await w.image(await w.snapshot(['d']), { state: 'disabled' });
    await assert.rejects(w.copies.copy(aliceWest, { Name: 'disabled copy', SourceRegion: 'us-east-1', SourceImageId: disabled.image.imageId }), { code: 'InvalidAMIID.Unavailable' });
    const pending = await w.image(await w.snapshot(['p']), { state: 'pending' });
    await assert.rejects(w.copies.copy(aliceWest, { Name: 'pending copy', SourceRegion: 'us-east-1', SourceImageId: pending.image.imageId }), { code: 'InvalidAMIID.Unavailable' });
    const deprecated = await w.image(await w.snapshot(['old']), { deprecationTime: '2025-01-01T00:00:00.000Z', deregistrationProtection: 'enabled' });
    const out = await w.copies.copy(bobWest, { Name: 'deprecated copy', SourceRegion: 'us-east-1', SourceImageId: deprecated.image.imageId });
    await w.copier.idle();
    const copied = await w.imageState('us-west-2', out.ImageId);
    assert.equal(copied.state, 'available');
    assert.equal(copied.deprecationTime, undefined);
    assert.equal(copied.deregistrationProtection, undefined);
  });

  test('an instance store-backed image copies its record at once: there are no EBS snapshots to copy', async () => {
    const w = await world();
    const src = await w.image(undefined, { rootDeviceType: 'instance-store', imageLocation: 'bucket/image.manifest.xml', blockDeviceMappings: [{ deviceName: '/dev/sdb', virtualName: 'ephemeral0' }] });
    const out = await w.copies.copy(aliceWest, { Name: 'instance store copy', SourceRegion: 'us-east-1', SourceImageId: src.image.imageId });
    const copied = await w.imageState('us-west-2', out.ImageId);
    assert.equal(copied.state, 'available');
    assert.equal(copied.rootDeviceType, 'instance-store');
    assert.deepEqual(copied.blockDeviceMappings, [{ deviceName: '/dev/sdb', virtualName: 'ephemeral0' }]);
  });

  test('a copy whose source snapshot vanished before it ran fails, and fails its image with a StateReason', async () => {
    const w = await world();
    const snap = await w.snapshot(['gone']);
    const planned = await w.snapshots.planCopy(aliceWest, { source: snap, description: 'doomed' });
    const image: ImageRecord = {
      region: 'us-west-2', launchPermissions: [],
      image: { imageId: randomIds.next('ami'), ownerId: alice.account, name: 'doomed', state: 'pending', creationDate: '2026-01-01T00:00:00Z',
        sourceImageId: randomIds.next('ami'), sourceImageRegion: 'us-east-1', blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: planned.snapshotId } }] },
    };
    await w.store.images.insert(image);
    await w.store.snapshots.delete('us-east-1', snap.snapshotId);
    await w.snapshots.startCopies(aliceWest, [{ record: planned, tags: [] }]);
    await w.copier.idle();
    assert.equal((await w.store.snapshots.get('us-west-2', planned.snapshotId))!.state, 'error');
    const failed = await w.imageState('us-west-2', image.image.imageId);
    assert.equal(failed.state, 'failed');
    assert.equal(failed.stateReason?.code, 'Server.InternalError');
    assert.match(failed.stateReason!.message!, new RegExp(`could not be copied: its snapshot ${planned.snapshotId} failed: The copy failed: source snapshot`));
  });
});

describe('CopyImage across a restart', () => {
  test('a copy left pending resumes (copier.resumeAll) and its image settles; one never recorded fails the image', async () => {
    const w = await world();
    const src = await w.image(await w.snapshot(['r0', 'r1', 'r2']));
    // What a crash leaves: the image and its pending copy recorded, the copy never run.
    const planned = await w.snapshots.planCopy(aliceWest, { source: (await w.store.snapshots.get('us-east-1', src.image.blockDeviceMappings![0].ebs!.snapshotId!))!, description: 'resume me' });
    await w.store.snapshots.insert(planned);
    const pendingImage: ImageRecord = {
      region: 'us-west-2', launchPermissions: [],
      image: { ...structuredClone(src.image), imageId: randomIds.next('ami'), name: 'resumed', state: 'pending', sourceImageId: src.image.imageId, sourceImageRegion: 'us-east-1',
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: planned.snapshotId } }] },
    };
    await w.store.images.insert(pendingImage);
    const lost: ImageRecord = structuredClone(pendingImage);
    lost.image.imageId = randomIds.next('ami');
    lost.image.name = 'lost';
    lost.image.blockDeviceMappings = [{ deviceName: '/dev/xvda', ebs: { snapshotId: 'snap-0aaaaaaaaaaaaaaaa' } }];
    await w.store.images.insert(lost);

    const before = (await w.snapshots.describe(aliceWest, { SnapshotIds: [planned.snapshotId] })).Snapshots[0];
    assert.deepEqual([before.State, before.Progress], ['pending', '0%']);

    // The new process: a new copier (and PendingImages hearing it), then resume and recover.
    const copier = w.newCopier();
    const pending = new PendingImages({ store: w.store, sources: [copier] });
    assert.equal(await copier.resumeAll(), 1);
    await pending.recover();
    await copier.idle();
    assert.equal((await w.imageState('us-west-2', pendingImage.image.imageId)).state, 'available');
    const copy = (await w.store.snapshots.get('us-west-2', planned.snapshotId))!;
    assert.equal(copy.state, 'completed');
    assert.equal(copy.blockCount, 3);
    const failed = await w.imageState('us-west-2', lost.image.imageId);
    assert.equal(failed.state, 'failed');
    assert.match(failed.stateReason!.message!, /could not be copied: its snapshot snap-0aaaaaaaaaaaaaaaa was never copied/);
  });
});
