// The NBD server against QEMU's own NBD client (qemu-io, qemu-img), and against a hand-rolled
// client for what QEMU's tools will not do on purpose: vanishing mid-request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { FsBlockStore } from '../fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../sqlite/sqlite-store.ts';
import { VolumeData } from '../../domain/volumes/volume-data.ts';
import { BLOCK_SIZE } from '../../ports/block-store.ts';
import { importRawImage, makeVolume, qemuIo, REGION } from '../../../test/support/qemu.ts';
import { NbdClient } from '../../../test/support/nbd-client.ts';
import { NbdServer, type NbdExport } from './nbd-server.ts';
import { volumeExport } from './volume-export.ts';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A RAM disk that records what it was asked, optionally slowly. */
class MemoryExport implements NbdExport {
  readonly bytes: Buffer;
  flushes = 0;
  active = 0;
  maxActive = 0;
  delayMs = 0;
  failReads = false;
  constructor(size: number) {
    this.bytes = Buffer.alloc(size);
  }
  get size(): number {
    return this.bytes.length;
  }
  private async op<T>(fn: () => T): Promise<T> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.delayMs) await sleep(this.delayMs);
      return fn();
    } finally {
      this.active--;
    }
  }
  read(offset: number, length: number): Promise<Buffer> {
    return this.op(() => {
      if (this.failReads) throw new Error('disk on fire');
      return Buffer.from(this.bytes.subarray(offset, offset + length));
    });
  }
  write(offset: number, data: Buffer): Promise<void> {
    return this.op(() => void data.copy(this.bytes, offset));
  }
  async flush(): Promise<void> {
    this.flushes++;
  }
}

async function withServer(exp: NbdExport, fn: (sock: string, server: NbdServer, dir: string) => Promise<void>, opts: { readOnly?: boolean } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-nbd-'));
  const errors: unknown[] = [];
  const server = new NbdServer({ export: exp, name: 'disk', readOnly: opts.readOnly, onError: (e) => errors.push(e) });
  const sock = join(dir, 'nbd.sock');
  await server.listen(sock);
  try {
    await fn(sock, server, dir);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const clean = (out: string) => assert.doesNotMatch(out, /fail|error/i, out);

test('qemu-io writes, reads back with pattern checks and flushes; qemu-img sees the size', async () => {
  const exp = new MemoryExport(8 * 1024 * 1024);
  await withServer(exp, async (sock) => {
    clean(await qemuIo(sock, 'disk', ['write -P 0xab 4096 65536', 'write -P 0x5c 1048575 3', 'flush', 'read -P 0xab 4096 65536', 'read -P 0x5c 1048575 3', 'read -P 0 0 4096']));
    assert.ok(exp.bytes.subarray(4096, 4096 + 65536).every((b) => b === 0xab));
    assert.deepEqual([...exp.bytes.subarray(1048574, 1048579)], [0, 0x5c, 0x5c, 0x5c, 0]);
    assert.ok(exp.flushes >= 1);
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', `nbd+unix:///disk?socket=${sock}`])).stdout);
    assert.equal(info['virtual-size'], 8 * 1024 * 1024);
    // Pattern mismatches are reported, not hidden.
    assert.match(await qemuIo(sock, 'disk', ['read -P 0xcd 4096 512']).catch((e) => e.stdout + e.stderr), /Pattern verification failed/);
  });
});

test('qemu-img convert copies the whole export out and back in, byte for byte', async () => {
  const exp = new MemoryExport(6 * 1024 * 1024 + 4096);
  randomBytes(exp.size).copy(exp.bytes);
  const original = Buffer.from(exp.bytes);
  await withServer(exp, async (sock, server, dir) => {
    const out = join(dir, 'copy.raw');
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', `nbd+unix:///disk?socket=${sock}`, out]);
    assert.ok((await readFile(out)).equals(original));
    exp.bytes.fill(0);
    await run('qemu-img', ['convert', '-n', '-f', 'raw', '-O', 'raw', out, `nbd+unix:///disk?socket=${sock}`]);
    assert.ok(exp.bytes.equals(original));
    assert.ok(server.stats.bytesRead >= exp.size && server.stats.bytesWritten > 0);
  });
});

test('concurrent requests: one client with aio, and several clients at once', async () => {
  const exp = new MemoryExport(16 * 1024 * 1024);
  exp.delayMs = 30;
  await withServer(exp, async (sock) => {
    const aio = [];
    for (let i = 0; i < 8; i++) aio.push(`aio_write -P ${i + 1} ${i * 1048576} 65536`);
    clean(await qemuIo(sock, 'disk', [...aio, 'aio_flush', ...aio.map((c) => c.replace('aio_write', 'aio_read')), 'aio_flush']));
    assert.ok(exp.maxActive > 1, `requests ran one at a time (max ${exp.maxActive})`);
    for (let i = 0; i < 8; i++) assert.equal(exp.bytes[i * 1048576 + 100], i + 1);
    const clients = [0, 1, 2, 3].map((i) => qemuIo(sock, 'disk', [`write -P ${0x70 + i} ${8388608 + i * 65536} 65536`, `read -P ${0x70 + i} ${8388608 + i * 65536} 65536`]));
    for (const out of await Promise.all(clients)) clean(out);
  });
});

test('read-only exports refuse writes; unknown export names are refused; export failures are EIO', async () => {
  const exp = new MemoryExport(1024 * 1024);
  await withServer(exp, async (sock) => {
    const denied = await qemuIo(sock, 'disk', ['write -P 1 0 512']).catch((e) => e.stdout + e.stderr);
    assert.match(denied, /read-only|permission|not permitted/i);
    assert.equal(exp.bytes[0], 0);
    const unknown = await qemuIo(sock, 'nope', ['read 0 512']).then(() => 'connected', (e) => e.stderr);
    assert.notEqual(unknown, 'connected');
  }, { readOnly: true });
  await withServer(exp, async (sock) => {
    exp.failReads = true;
    const out = await qemuIo(sock, 'disk', ['read 0 512']).catch((e) => e.stdout + e.stderr);
    assert.match(out, /Input\/output error/);
  });
});

/** Negotiates with fixed newstyle + NBD_OPT_EXPORT_NAME; resolves with the socket in transmission. */
async function rawClient(sock: string): Promise<Socket> {
  const s = connect(sock);
  const got: Buffer[] = [];
  let have = 0;
  s.on('data', (c: Buffer) => {
    got.push(c);
    have += c.length;
  });
  s.on('error', () => {});
  const until = async (n: number) => {
    while (have < n) await sleep(5);
  };
  await until(18);
  s.write(Buffer.from([0, 0, 0, 3]));
  const opt = Buffer.alloc(16 + 4);
  opt.writeBigUInt64BE(0x49484156454f5054n, 0);
  opt.writeUInt32BE(1, 8);
  opt.writeUInt32BE(4, 12);
  opt.write('disk', 16);
  s.write(opt);
  await until(18 + 10);
  return s;
}

function request(type: number, handle: number, offset: number, length: number): Buffer {
  const r = Buffer.alloc(28);
  r.writeUInt32BE(0x25609513, 0);
  r.writeUInt16BE(type, 6);
  r.writeBigUInt64BE(BigInt(handle), 8);
  r.writeBigUInt64BE(BigInt(offset), 16);
  r.writeUInt32BE(length, 24);
  return r;
}

test('a client vanishing mid-write or with reads in flight leaves the server serving', async () => {
  const exp = new MemoryExport(4 * 1024 * 1024);
  await withServer(exp, async (sock, server) => {
    // Half a write's payload, then gone: nothing of it may land.
    const a = await rawClient(sock);
    a.write(request(1, 1, 0, 65536));
    a.write(Buffer.alloc(30000, 0xee));
    await sleep(50);
    a.destroy();
    // Reads in flight when the client goes: their replies have nowhere to go, and that is fine.
    exp.delayMs = 100;
    const b = await rawClient(sock);
    for (let i = 0; i < 6; i++) b.write(request(0, 10 + i, i * 4096, 4096));
    await sleep(20);
    b.destroy();
    await sleep(200);
    exp.delayMs = 0;
    assert.equal(exp.bytes.indexOf(0xee), -1);
    clean(await qemuIo(sock, 'disk', ['write -P 0x42 0 4096', 'read -P 0x42 0 4096']));
    assert.equal(server.stats.connections, 3);
  });
});

test('a volume over a snapshot: lazy reads, a flushed write in its journal, settled into its own block and synced', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-nbdvol-'));
  const store = new SqliteMetadataStore(':memory:');
  const blocks = new FsBlockStore({ root: join(dir, 'blocks') });
  try {
    // A 16 MiB "image" of random blocks as the snapshot; the volume is 1 GiB over it.
    const image = join(dir, 'image.raw');
    const content = randomBytes(16 * 1024 * 1024);
    await import('node:fs/promises').then((fs) => fs.writeFile(image, content));
    await importRawImage(store, blocks, image, 'snap-0123456789abcdef0');
    const vol = await makeVolume(store, 'vol-0123456789abcdef0', 1, 'snap-0123456789abcdef0');
    const data = new VolumeData({ store, blocks });
    const synced: string[] = [];
    const realSync = blocks.sync.bind(blocks);
    blocks.sync = async (domain, hashes) => {
      synced.push(...hashes);
      return realSync(domain, hashes);
    };
    await withServer(volumeExport(data, vol), async (sock) => {
      const hex = content.subarray(BLOCK_SIZE * 3 + 10, BLOCK_SIZE * 3 + 11).toString('hex');
      clean(await qemuIo(sock, 'disk', [`read -P 0x${hex} ${BLOCK_SIZE * 3 + 10} 1`]));
      // One 512 KiB block fetched for one byte read; nothing else of the 1 GiB volume.
      assert.equal(data.stats.bytesRead, BLOCK_SIZE);
      clean(await qemuIo(sock, 'disk', ['write -P 0x99 1073737728 4096', 'flush', 'read -P 0x99 1073737728 4096']));
      // One page of the block written: the flush put it in the volume's journal, durable.
      assert.deepEqual(await store.volumes.journalIndex(vol.volumeId), [{ index: 2047, page: 127 }]);
      assert.ok((await new VolumeData({ store, blocks }).read(vol, 1073737728, 4096)).every((b) => b === 0x99));
      // Settling (as before a snapshot) stores the block whole and syncs it.
      await data.settle(vol);
      const own = await store.volumes.ownBlocks(vol.volumeId);
      assert.deepEqual(own.map((b) => b.index), [2047]);
      assert.ok(synced.includes(own[0].hash), 'flush did not sync the written block');
      assert.equal(await store.snapshots.block('snap-0123456789abcdef0', 2047), undefined);
    });
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a volume in use: 4 KiB writes wait in its buffer, each block is stored once per FLUSH, a FUA write at once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-nbdbuf-'));
  const store = new SqliteMetadataStore(':memory:');
  const blocks = new FsBlockStore({ root: join(dir, 'blocks') });
  try {
    const vol = await makeVolume(store, 'vol-0123456789abcdef1', 1);
    const data = new VolumeData({ store, blocks });
    /** What a process that died now would find: a fresh VolumeData over the same stores. */
    const afterCrash = (offset: number, length: number) => new VolumeData({ store, blocks }).read(vol, offset, length);
    await withServer(volumeExport(data, vol), async (sock, server) => {
      const nbd = await NbdClient.connect(sock);
      const expected = Buffer.alloc(2 * BLOCK_SIZE);
      for (let i = 0; i < 256; i++) {
        const piece = randomBytes(4096);
        piece.copy(expected, i * 4096);
        await nbd.write(i * 4096, piece);
      }
      assert.ok((await nbd.read(0, 2 * BLOCK_SIZE)).equals(expected), 'reads see the buffered writes');
      assert.ok((await afterCrash(0, 4096)).equals(Buffer.alloc(4096)), 'nothing is durable before the flush');
      await nbd.flush();
      assert.ok((await afterCrash(0, 2 * BLOCK_SIZE)).equals(expected), 'the flush made every write durable');
      const stats = server.allStats();
      assert.equal(stats.bytesWritten, 256 * 4096);
      assert.equal(stats.bytesStored, 2 * BLOCK_SIZE, 'two blocks written 128 times each, stored once each');
      // FUA: durable when answered, no flush needed.
      await nbd.write(BLOCK_SIZE * 9, Buffer.from('forced unit access'), { fua: true });
      assert.equal((await afterCrash(BLOCK_SIZE * 9, 18)).toString(), 'forced unit access');
      // A client that hangs up: the server flushes what it left.
      await nbd.write(BLOCK_SIZE * 11, Buffer.from('goodbye'));
      await nbd.close();
      await server.close(); // waits for the session to end
      assert.equal((await afterCrash(BLOCK_SIZE * 11, 7)).toString(), 'goodbye');
    });
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
