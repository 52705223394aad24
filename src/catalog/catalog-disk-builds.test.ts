// Catalogue images whose root snapshot is a built disk: loaded from the build's block manifest
// into every region (by hard link in the filesystem store), or left out, saying how to build it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlockStore } from '../adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../adapters/sqlite/sqlite-store.ts';
import { BLOCK_SIZE } from '../ports/block-store.ts';
import { loadCatalog, type CatalogImage } from './catalog.ts';

const image: CatalogImage = {
  regions: { 'us-east-1': 'ami-0aa0ce174620ddbc5', 'eu-west-1': 'ami-085fd67c355b99e70' },
  ownerId: '136693071363', name: 'debian-12-amd64-20241201-1948', architecture: 'x86_64', rootDeviceName: '/dev/xvda',
  creationDate: '2024-12-12T00:00:00.000Z', rootDisk: 'debian-12',
  blockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-034b33fffca04043f', VolumeSize: 8 } }],
};

async function withDirs(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-catalog-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a rootDisk build is loaded from its block manifest into each region, by link, with its block map', async () => {
  await withDirs(async (dir) => {
    // A 3 MiB disk with data in blocks 0 and 5 (the same bytes twice) and 2; the rest zero.
    const disk = Buffer.alloc(6 * BLOCK_SIZE);
    disk.write('boot sector', 0);
    disk.write('root filesystem', 2 * BLOCK_SIZE);
    disk.write('boot sector', 5 * BLOCK_SIZE);
    const build = join(dir, 'builds', 'debian-12');
    await mkdir(build, { recursive: true });
    await writeFile(join(dir, 'disk.raw'), disk);
    execFileSync(process.execPath, [new URL('../../scripts/disk-blocks.ts', import.meta.url).pathname, join(dir, 'disk.raw'), build]);

    const store = new SqliteMetadataStore(':memory:');
    const blocks = new FsBlockStore({ root: join(dir, 'store') });
    const skipped: string[] = [];
    const count = await loadCatalog(store, blocks, [image], { buildDir: join(dir, 'builds'), onSkipped: (_, r) => skipped.push(r) });
    assert.equal(count, 2);
    assert.deepEqual(skipped, []);
    for (const region of Object.keys(image.regions)) {
      const img = await store.images.get(region, image.regions[region]);
      const snapshotId = img!.image.blockDeviceMappings![0].ebs!.snapshotId!;
      const map = await store.snapshots.blocks(snapshotId, 0, 100);
      assert.deepEqual(map.map((e) => e.index), [0, 2, 5]);
      assert.equal(map[0].hash, map[2].hash);
      for (const e of map) {
        const data = await blocks.get(region, e.hash);
        assert.ok(data.equals(disk.subarray(e.index * BLOCK_SIZE, (e.index + 1) * BLOCK_SIZE)), `block ${e.index} in ${region}`);
      }
    }
    // Linked, not copied: the build's file and both regions' blocks are one inode.
    const hash = (await store.snapshots.blocks((await store.images.get('us-east-1', image.regions['us-east-1']))!.image.blockDeviceMappings![0].ebs!.snapshotId!, 0, 1))[0].hash;
    assert.equal((await stat(join(build, 'blocks', hash))).nlink, 3);
    // Loading again (a restart, a reset) changes nothing.
    assert.equal(await loadCatalog(store, blocks, [image], { buildDir: join(dir, 'builds') }), 2);
  });
});

test('without the build the image is left out, naming the script that builds it', async () => {
  await withDirs(async (dir) => {
    const store = new SqliteMetadataStore(':memory:');
    const skipped: string[] = [];
    const count = await loadCatalog(store, new FsBlockStore({ root: join(dir, 'store') }), [image], {
      buildDir: join(dir, 'builds'), onSkipped: (_, r) => skipped.push(r),
    });
    assert.equal(count, 0);
    assert.match(skipped[0], /scripts\/build-debian-image\.sh/);
    assert.equal(await store.images.get('us-east-1', image.regions['us-east-1']), undefined);
  });
});

test('the base image is taken from its block manifest when the build made one, else read from rootfs.raw: the same snapshot', async () => {
  await withDirs(async (dir) => {
    const disk = Buffer.alloc(4 * BLOCK_SIZE);
    disk.write('ext4 superblock', 1024);
    disk.write('busybox', 3 * BLOCK_SIZE + 7);
    const base = join(dir, 'base-image');
    await mkdir(base);
    await writeFile(join(base, 'rootfs.raw'), disk);
    const minimal: CatalogImage = { ...image, name: 'amiforge-minimal-linux', ownerId: '000000000000', rootDisk: 'base-image', regions: { 'us-east-1': 'ami-02200e10ac256b497' } };
    const maps: unknown[] = [];
    for (const split of [false, true]) {
      if (split) execFileSync(process.execPath, [new URL('../../scripts/disk-blocks.ts', import.meta.url).pathname, join(base, 'rootfs.raw'), base]);
      const store = new SqliteMetadataStore(':memory:');
      const blocks = new FsBlockStore({ root: join(dir, `store-${split}`) });
      assert.equal(await loadCatalog(store, blocks, [minimal], { baseImageDir: base }), 1);
      const img = await store.images.get('us-east-1', 'ami-02200e10ac256b497');
      const map = await store.snapshots.blocks(img!.image.blockDeviceMappings![0].ebs!.snapshotId!, 0, 100);
      for (const e of map) assert.ok((await blocks.get('us-east-1', e.hash)).equals(disk.subarray(e.index * BLOCK_SIZE, (e.index + 1) * BLOCK_SIZE)));
      maps.push(map.map((e) => [e.index, e.hash]));
      // Split: the store's block is the build's file, linked.
      if (split) assert.equal((await stat(join(base, 'blocks', map[0].hash))).nlink, 2);
    }
    assert.deepEqual(maps[1], maps[0]);
    assert.deepEqual((maps[0] as unknown[][]).map((e) => e[0]), [0, 3]);
  });
});
