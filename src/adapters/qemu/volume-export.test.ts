// The volume export's block cache: concurrent pieces of the same blocks stay coherent with a
// reference copy, eviction keeps memory bounded, and cached blocks are not fetched again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlockStore } from '../fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../sqlite/sqlite-store.ts';
import { VolumeData } from '../../domain/volumes/volume-data.ts';
import { BLOCK_SIZE } from '../../ports/block-store.ts';
import { importRawImage, makeVolume } from '../../../test/support/qemu.ts';
import { volumeExport } from './volume-export.ts';

test('concurrent reads and writes across blocks match a reference copy; cached blocks are fetched once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-volexp-'));
  const store = new SqliteMetadataStore(':memory:');
  const blocks = new FsBlockStore({ root: join(dir, 'blocks') });
  try {
    const span = 6 * BLOCK_SIZE;
    const reference = randomBytes(span);
    await writeFile(join(dir, 'image.raw'), reference);
    await importRawImage(store, blocks, join(dir, 'image.raw'), 'snap-0aaaaaaaaaaaaaaa1');
    const vol = await makeVolume(store, 'vol-0aaaaaaaaaaaaaaa1', 1, 'snap-0aaaaaaaaaaaaaaa1');
    const data = new VolumeData({ store, blocks });

    const roomy = volumeExport(data, vol, { cacheBlocks: 8 });
    for (let i = 0; i < 20; i++) await roomy.read(randomInt(0, span - 4096), 4096);
    assert.ok(data.stats.blocksRead <= 6, `${data.stats.blocksRead} fetches for 6 distinct blocks`);

    // A cache of 2 blocks under a storm of overlapping operations, some across block boundaries.
    const exp = volumeExport(data, vol, { cacheBlocks: 2 });
    const ops: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const offset = randomInt(0, span - 70_000);
      const length = randomInt(1, 70_000);
      if (i % 3 === 0) {
        const bytes = randomBytes(length);
        bytes.copy(reference, offset); // applied in issue order: each write's blocks are locked in order
        ops.push(exp.write(offset, bytes));
      } else {
        ops.push(exp.read(offset, length).then(() => {}));
      }
    }
    await Promise.all(ops);
    await exp.flush();
    assert.ok((await exp.read(0, span)).equals(reference), 'the export lost or reordered a write');
    // A fresh VolumeData (no cache anywhere) sees the same bytes in the store.
    assert.ok((await new VolumeData({ store, blocks }).read(vol, 0, span)).equals(reference));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
