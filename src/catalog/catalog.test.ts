// The catalogue's kernel and ramdisk images: checked when read, registered per region when their
// file is built (and left out with the images that boot them when not), and mapped to their
// files for the QEMU driver.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlockStore } from '../adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../adapters/sqlite/sqlite-store.ts';
import { catalogFiles, loadCatalog, readCatalog, type CatalogImage } from './catalog.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'amiforge-catalog-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const kernel: CatalogImage = {
  regions: { 'us-east-1': 'aki-0000000000000000a', 'eu-west-1': 'aki-0000000000000000b' }, imageType: 'kernel', file: 'k/vmlinux',
  imageLocation: 'amiforge/vmlinux.manifest.xml', ownerId: '000000000000', name: 'test-kernel', architecture: 'x86_64', creationDate: '2024-12-12T00:00:00.000Z',
};
const machine: CatalogImage = {
  regions: { 'us-east-1': 'ami-0000000000000000a', 'eu-west-1': 'ami-0000000000000000b' }, ownerId: '000000000000', name: 'test-pv',
  architecture: 'x86_64', rootDeviceName: '/dev/xvda', virtualizationType: 'paravirtual', kernel: 'test-kernel', creationDate: '2024-12-12T00:00:00.000Z',
  blockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-0000000000000000a', VolumeSize: 1 } }],
};

function catalogFile(images: unknown[]): string {
  const file = join(dir, `catalog-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ images }));
  return file;
}

describe('kernel and ramdisk images in the catalogue', () => {
  test('readCatalog checks their ids, files and the references to them', () => {
    assert.equal(readCatalog(catalogFile([kernel, machine])).length, 2);
    assert.throws(() => readCatalog(catalogFile([{ ...kernel, regions: { 'us-east-1': 'ami-0000000000000000a' } }])), /expecting aki-/);
    assert.throws(() => readCatalog(catalogFile([{ ...kernel, file: undefined }])), /needs the file/);
    assert.throws(() => readCatalog(catalogFile([machine])), /kernel test-kernel is not a kernel image/);
    assert.throws(() => readCatalog(catalogFile([{ ...kernel, regions: { 'us-east-1': 'aki-0000000000000000a' } }, machine])), /has no id in eu-west-1/);
    assert.throws(() => readCatalog(catalogFile([kernel, { ...machine, virtualizationType: 'hvm' }])), /only a paravirtual image/);
  });

  test('without its file a kernel is left out, and so is the image that boots it; with it both are registered per region', async () => {
    const store = new SqliteMetadataStore(':memory:');
    const blocks = new FsBlockStore({ root: join(dir, 'blocks') });
    const buildDir = join(dir, 'build');
    const skipped: string[] = [];
    const onSkipped = (img: CatalogImage, reason: string) => skipped.push(`${img.name}: ${reason}`);
    assert.equal(await loadCatalog(store, blocks, [machine, kernel], { buildDir, onSkipped }), 0);
    assert.match(skipped[0], /^test-kernel: its file is not built/);
    assert.match(skipped[1], /^test-pv: its kernel image test-kernel is left out/);
    assert.deepEqual([...catalogFiles([kernel], buildDir)], []);

    mkdirSync(join(buildDir, 'k'), { recursive: true });
    writeFileSync(join(buildDir, 'k/vmlinux'), 'kernel');
    assert.equal(await loadCatalog(store, blocks, [machine, kernel], { buildDir }), 4);
    const k = (await store.images.get('eu-west-1', 'aki-0000000000000000b'))!;
    assert.equal(k.image.imageType, 'kernel');
    assert.equal(k.image.rootDeviceType, 'instance-store');
    assert.equal(k.image.imageLocation, 'amiforge/vmlinux.manifest.xml');
    assert.deepEqual(k.launchPermissions, [{ Group: 'all' }]);
    const m = (await store.images.get('eu-west-1', 'ami-0000000000000000b'))!;
    assert.equal(m.image.virtualizationType, 'paravirtual');
    assert.equal(m.image.kernelId, 'aki-0000000000000000b');
    assert.equal(m.image.ramdiskId, undefined);
    assert.deepEqual(catalogFiles([kernel, machine], buildDir), new Map([
      ['aki-0000000000000000a', join(buildDir, 'k/vmlinux')], ['aki-0000000000000000b', join(buildDir, 'k/vmlinux')],
    ]));
    await store.close();
  });
});
