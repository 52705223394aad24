// A volume's write buffer: writes wait in memory and each dirty block is written out once per
// flush (whole, durable before the block map names it, or as its changed pages in the journal);
// reads see buffered and journaled writes; the buffer stays bounded; a crash (a fresh VolumeData
// over the same stores) keeps what was flushed and only that; settle folds the journal; snapshots
// of a volume in use hold every write completed before them; encrypted volumes store whole blocks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlockStore } from '../../adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { BLOCK_SIZE } from '../../ports/block-store.ts';
import { randomIds } from '../../ports/ids.ts';
import type { Caller } from '../context.ts';
import { standaloneEncryption } from '../encryption/ebs-encryption.ts';
import { SnapshotService } from '../snapshots/snapshot-service.ts';
import { VolumeData, type VolumeDataDeps } from './volume-data.ts';
import { VolumeService } from './volume-service.ts';
import { VolumeSnapshots } from './volume-snapshots.ts';

const caller: Caller = { account: '123456789012', region: 'us-east-1' };
const KiB = 1024;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'amiforge-voldata-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Stores, a volume service and an empty 1 GiB volume; `log` records block puts, syncs, map and journal writes in order. */
async function world(opts: { encrypted?: boolean } = {}) {
  const root = mkdtempSync(join(dir, 'w-'));
  const store = new SqliteMetadataStore(join(root, 'metadata.sqlite'));
  const blocks = new FsBlockStore({ root: join(root, 'blocks') });
  const clock = { now: () => new Date() };
  const encryption = await standaloneEncryption(store, clock);
  const snapshots = new SnapshotService({ store, clock, ids: randomIds, copier: { start: () => {} }, encryption });
  const volumes = new VolumeService({ store, clock, ids: randomIds, snapshots, blocks, encryption });
  const vol = await volumes.make(caller, { size: 1, availabilityZone: 'us-east-1a', encrypted: opts.encrypted });
  const log: string[] = [];
  const put = blocks.put.bind(blocks);
  blocks.put = async (domain, hash, data) => {
    log.push(`put ${hash}`);
    return put(domain, hash, data);
  };
  const sync = blocks.sync.bind(blocks);
  blocks.sync = async (domain, hashes) => {
    log.push(`sync ${[...hashes].sort().join(',')}`);
    return sync(domain, hashes);
  };
  const commit = store.volumes.commitWrites.bind(store.volumes);
  store.volumes.commitWrites = async (volumeId, writes) => {
    for (const b of writes.blocks) log.push(`map ${b.index} ${b.hash}`);
    for (const p of writes.pages) log.push(`page ${p.index}/${p.page}`);
    return commit(volumeId, writes);
  };
  const data = (extra: Partial<VolumeDataDeps> = {}) => new VolumeData({ store, blocks, keys: encryption.keys, ...extra });
  const storedFiles = () => readdirSync(join(root, 'blocks'), { recursive: true }).filter((f) => /[0-9a-f]{64}$/.test(String(f))).length;
  return { store, blocks, volumes, vol, log, data, storedFiles, encryption, close: () => store.close() };
}

const puts = (log: string[]) => log.filter((l) => l.startsWith('put ')).length;

describe('VolumeData write buffer', () => {
  test('small writes over a whole block store it once, at the flush, and reads see them before', async () => {
    const w = await world();
    const data = w.data();
    const expected = Buffer.alloc(BLOCK_SIZE);
    for (let i = 0; i < 128; i++) {
      const piece = randomBytes(4 * KiB);
      const at = (i * 7 % 128) * 4 * KiB;
      piece.copy(expected, at);
      await data.write(w.vol, BLOCK_SIZE * 5 + at, piece);
    }
    assert.equal(puts(w.log), 0, 'nothing is stored before a flush');
    assert.deepEqual(await w.store.volumes.ownBlocks(w.vol.volumeId), []);
    assert.ok((await data.read(w.vol, BLOCK_SIZE * 5, BLOCK_SIZE)).equals(expected), 'reads see the buffered writes');
    assert.equal(data.volumeWriteStats(w.vol.volumeId).dirtyBlocks, 1);
    await data.flush(w.vol);
    assert.equal(puts(w.log), 1, 'the block is stored once; the 127 versions before it never');
    assert.equal(w.storedFiles(), 1);
    const own = await w.store.volumes.ownBlocks(w.vol.volumeId);
    assert.deepEqual(own.map((b) => b.index), [5]);
    // Stored, synced, then mapped: the map never names a block that is not durable.
    assert.deepEqual(w.log.map((l) => l.split(' ')[0]), ['put', 'sync', 'map']);
    const s = data.volumeWriteStats(w.vol.volumeId);
    assert.deepEqual({ ...s }, { bytesWritten: 128 * 4 * KiB, blocksStored: 1, bytesStored: BLOCK_SIZE, bytesJournaled: 0, flushes: 1, dirtyBlocks: 0, journalPages: 0 });
    assert.equal(data.writeStats.bytesStored, BLOCK_SIZE);
    // Flushing a clean volume stores nothing.
    await data.flush(w.vol);
    assert.equal(puts(w.log), 1);
    assert.ok((await w.data().read(w.vol, BLOCK_SIZE * 5, BLOCK_SIZE)).equals(expected), 'another VolumeData reads the flushed bytes');
    await w.close();
  });

  test('the buffer is bounded: a write that needs room flushes first, and holds at most N blocks', async () => {
    const w = await world();
    const data = w.data({ writeBufferBlocks: 4 });
    for (let b = 0; b < 10; b++) {
      await data.write(w.vol, b * BLOCK_SIZE + 100, Buffer.from(`block ${b}`));
      assert.ok(data.volumeWriteStats(w.vol.volumeId).dirtyBlocks <= 4);
      // Rewriting a dirty block takes no room.
      await data.write(w.vol, b * BLOCK_SIZE + 200, Buffer.from(`again ${b}`));
    }
    assert.equal(data.volumeWriteStats(w.vol.volumeId).flushes, 2, 'two full buffers of 4 were written out; the last 2 blocks wait');
    assert.equal(data.volumeWriteStats(w.vol.volumeId).dirtyBlocks, 2);
    await data.flush(w.vol);
    assert.equal(data.volumeWriteStats(w.vol.volumeId).dirtyBlocks, 0);
    for (let b = 0; b < 10; b++) {
      assert.equal((await w.data().read(w.vol, b * BLOCK_SIZE + 100, 7)).toString(), `block ${b}`);
      assert.equal((await w.data().read(w.vol, b * BLOCK_SIZE + 200, 7)).toString(), `again ${b}`);
    }
    await w.close();
  });

  test('concurrent writes to one block all land; a write during a flush is kept for the next flush', async () => {
    const w = await world();
    const data = w.data({ noJournal: true }); // whole blocks, so the flush waits on the slow store below
    const expected = Buffer.alloc(BLOCK_SIZE);
    const writes = [];
    for (let i = 0; i < 100; i++) {
      const piece = randomBytes(1000);
      piece.copy(expected, i * 1000 + 7);
      writes.push(data.write(w.vol, BLOCK_SIZE * 2 + i * 1000 + 7, piece));
    }
    await Promise.all(writes);
    assert.ok((await data.read(w.vol, BLOCK_SIZE * 2, BLOCK_SIZE)).equals(expected));

    // A slow store: a write arrives while the flush stores the previous version.
    const put = w.blocks.put.bind(w.blocks);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    w.blocks.put = async (domain, hash, bytes) => {
      await gate;
      return put(domain, hash, bytes);
    };
    const flushing = data.flush(w.vol);
    await new Promise((r) => setTimeout(r, 20));
    await data.write(w.vol, BLOCK_SIZE * 2, Buffer.from('newer'));
    Buffer.from('newer').copy(expected, 0);
    release();
    await flushing;
    assert.equal(data.volumeWriteStats(w.vol.volumeId).dirtyBlocks, 1, 'the newer version is still dirty');
    assert.ok((await data.read(w.vol, BLOCK_SIZE * 2, BLOCK_SIZE)).equals(expected), 'reads see the newer version, not the flushed one');
    await data.flush(w.vol);
    assert.ok((await w.data().read(w.vol, BLOCK_SIZE * 2, BLOCK_SIZE)).equals(expected));
    await w.close();
  });

  test('a crash before the flush loses only the unflushed writes; after it, they are all there', async () => {
    const w = await world();
    const before = w.data();
    await before.write(w.vol, 0, Buffer.from('flushed'));
    await before.flush(w.vol);
    await before.write(w.vol, 0, Buffer.from('NOT FLUSHED'));
    await before.write(w.vol, 3 * BLOCK_SIZE, Buffer.from('nor this'));
    // The process dies: a new VolumeData over the same stores.
    const after = w.data();
    assert.equal((await after.read(w.vol, 0, 11)).toString(), 'flushed\0\0\0\0');
    assert.ok((await after.read(w.vol, 3 * BLOCK_SIZE, 8)).equals(Buffer.alloc(8)));
    await after.write(w.vol, 3 * BLOCK_SIZE, Buffer.from('second life'));
    await after.flush(w.vol);
    assert.equal((await w.data().read(w.vol, 3 * BLOCK_SIZE, 11)).toString(), 'second life');
    await w.close();
  });

  test('unbuffered (0 blocks): every write stores its whole block at once, as before buffering', async () => {
    const w = await world();
    const data = w.data({ writeBufferBlocks: 0 });
    for (let i = 0; i < 8; i++) await data.write(w.vol, i * 4 * KiB, randomBytes(4 * KiB));
    assert.equal(puts(w.log), 8);
    const s = data.volumeWriteStats(w.vol.volumeId);
    assert.equal(s.bytesStored / s.bytesWritten, BLOCK_SIZE / (4 * KiB));
    await data.flush(w.vol);
    assert.equal(w.log.filter((l) => l.startsWith('sync ')).length, 1, 'the flush syncs what was stored');
    await w.close();
  });

  test('a snapshot of a volume in use holds every buffered write', async () => {
    const w = await world();
    const data = w.data();
    const snaps = new VolumeSnapshots({
      store: w.store, blocks: w.blocks, clock: { now: () => new Date() }, ids: randomIds, volumes: w.volumes,
      flushVolume: (v) => data.settle(v), onError: () => {},
    });
    await data.write(w.vol, BLOCK_SIZE + 9, Buffer.from('in the snapshot'));
    const [snap] = await snaps.take(caller, [{ volume: w.vol, tags: [] }]);
    await snaps.idle();
    const hash = await w.store.snapshots.block(snap.snapshotId, 1);
    assert.ok(hash, 'the snapshot maps the written block');
    assert.equal((await w.blocks.get(caller.region, hash)).subarray(9, 24).toString(), 'in the snapshot');
    await w.close();
  });

  test('sparse 4 KiB writes flushed one by one go to the journal: stored once, kept by a crash, folded by settle', async () => {
    const w = await world();
    const data = w.data();
    const pieces = Array.from({ length: 10 }, (_, i) => ({ at: i * 3 * BLOCK_SIZE + (i % 128) * 4 * KiB, bytes: randomBytes(4 * KiB) }));
    for (const p of pieces) {
      await data.write(w.vol, p.at, p.bytes);
      await data.flush(w.vol);
    }
    const s = data.volumeWriteStats(w.vol.volumeId);
    assert.equal(puts(w.log), 0, 'no whole block stored');
    assert.equal(s.bytesStored, s.bytesWritten, 'each written byte stored once');
    assert.equal(s.journalPages, 10);
    const crashed = w.data();
    for (const p of pieces) assert.ok((await crashed.read(w.vol, p.at, p.bytes.length)).equals(p.bytes), 'a fresh VolumeData reads the journal');
    await crashed.settle(w.vol);
    assert.equal(puts(w.log), 10, 'settle stores each journaled block once');
    assert.deepEqual(await w.store.volumes.journalIndex(w.vol.volumeId), []);
    assert.equal((await w.store.volumes.ownBlocks(w.vol.volumeId)).length, 10);
    for (const p of pieces) assert.ok((await w.data().read(w.vol, p.at, p.bytes.length)).equals(p.bytes));
    await w.close();
  });

  test('a block with 7/8 of its pages changed is stored whole, and its older journal pages dropped', async () => {
    const w = await world();
    const data = w.data();
    await data.write(w.vol, 8 * KiB, Buffer.from('journaled first'));
    await data.flush(w.vol);
    assert.equal(data.volumeWriteStats(w.vol.volumeId).journalPages, 1);
    const most = randomBytes(BLOCK_SIZE / 8 * 6);
    await data.write(w.vol, BLOCK_SIZE / 4, most);
    await data.flush(w.vol);
    assert.equal(puts(w.log), 0, '6/8 of the block changed: still journaled');
    await data.write(w.vol, BLOCK_SIZE / 8, Buffer.alloc(BLOCK_SIZE / 8, 7));
    await data.write(w.vol, BLOCK_SIZE / 4, most);
    await data.flush(w.vol);
    assert.equal(puts(w.log), 1, '7/8 changed between two flushes: stored whole');
    assert.deepEqual(await w.store.volumes.journalIndex(w.vol.volumeId), [], 'the whole block holds the journaled page now');
    const fresh = w.data();
    assert.equal((await fresh.read(w.vol, 8 * KiB, 15)).toString(), 'journaled first');
    assert.ok((await fresh.read(w.vol, BLOCK_SIZE / 4, most.length)).equals(most));
    assert.ok((await fresh.read(w.vol, BLOCK_SIZE / 8, BLOCK_SIZE / 8)).equals(Buffer.alloc(BLOCK_SIZE / 8, 7)));
    // Unbuffered writes over a journaled page replace it too.
    await data.write(w.vol, 2 * BLOCK_SIZE, Buffer.from('old page'));
    await data.flush(w.vol);
    const direct = w.data({ writeBufferBlocks: 0 });
    await direct.write(w.vol, 2 * BLOCK_SIZE, Buffer.from('new'));
    await direct.flush(w.vol);
    assert.equal((await w.data().read(w.vol, 2 * BLOCK_SIZE, 8)).toString(), 'new page');
    assert.deepEqual(await w.store.volumes.journalIndex(w.vol.volumeId), []);
    await w.close();
  });

  test('a journal past its limit is folded into whole blocks at the next flush', async () => {
    const w = await world();
    const data = w.data({ journalLimit: 8 * 4 * KiB });
    for (let i = 0; i < 8; i++) {
      await data.write(w.vol, i * BLOCK_SIZE, Buffer.from(`page ${i}`));
      await data.flush(w.vol);
    }
    assert.equal(data.volumeWriteStats(w.vol.volumeId).journalPages, 8);
    assert.equal(puts(w.log), 0);
    await data.write(w.vol, 20 * BLOCK_SIZE, Buffer.from('one more'));
    await data.flush(w.vol);
    assert.equal(data.volumeWriteStats(w.vol.volumeId).journalPages, 0);
    assert.equal(puts(w.log), 9, 'the 8 journaled blocks and the new one, stored whole');
    for (let i = 0; i < 8; i++) assert.equal((await w.data().read(w.vol, i * BLOCK_SIZE, 6)).toString(), `page ${i}`);
    await w.close();
  });

  test('encrypted volumes: buffered blocks are sealed when stored and read back after a restart', async () => {
    const w = await world({ encrypted: true });
    assert.ok(w.vol.encrypted && w.vol.dataKey);
    const data = w.data();
    await data.unlock(caller, w.vol);
    await data.write(w.vol, 4 * KiB, Buffer.from('secret text'));
    assert.equal((await data.read(w.vol, 4 * KiB, 11)).toString(), 'secret text');
    await data.flush(w.vol);
    const [entry] = await w.store.volumes.ownBlocks(w.vol.volumeId);
    assert.equal(data.volumeWriteStats(w.vol.volumeId).journalPages, 0, 'encrypted volumes never journal plaintext pages');
    const stored = await w.blocks.get(caller.region, entry.hash);
    assert.equal(stored.indexOf('secret text'), -1, 'stored sealed, not in plaintext');
    assert.equal((await w.data().read(w.vol, 4 * KiB, 11)).toString(), 'secret text');
    await w.close();
  });

  test('a volume deleted with writes in memory: its flush maps nothing', async () => {
    const w = await world();
    const data = w.data();
    await data.write(w.vol, 0, Buffer.from('gone'));
    await w.store.volumes.delete(w.vol.region, w.vol.volumeId);
    await data.flush(w.vol);
    assert.deepEqual(await w.store.volumes.ownBlocks(w.vol.volumeId), []);
    assert.equal(w.log.filter((l) => l.startsWith('map ')).length, 0);
    await w.close();
  });
});

