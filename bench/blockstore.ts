// FsBlockStore throughput against what this machine can do at best in one process.
//
// The reference ("machine limit") hashes every block with SHA-256 and appends it to one file with
// plain sequential writes: the least work any store must do. The store then puts the same amount
// of distinct random 512 KiB blocks (the caller's SHA-256 to get the address, then put's own
// verification, a temp file and a rename each), syncs them as one batch, and reads them all back
// (read + verify). A last section compares fsync per block with one batched sync.
//
// Nothing here fsyncs except where a row says so, so the unsynced rows measure the page cache as
// much as the disk: with more RAM than data, writes land in memory and the kernel flushes later.
// Between phases the whole system is flushed (`sync`) so one phase's writeback does not bill the next.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FsBlockStore } from '../src/adapters/fs/fs-block-store.ts';
import { BLOCK_SIZE } from '../src/ports/block-store.ts';
import { renderTable, type Row } from './support/table.ts';

export const description = 'FsBlockStore: put/sync/get throughput of 512 KiB blocks vs sha256 + sequential write';

const USAGE = `usage: npm run bench -- blockstore [--gib 4] [--concurrency 1,8] [--fsync-blocks 512] [--dir DIR] [--drop-caches]
  --gib N            data per phase, GiB (default 4; needs about N GiB free at a time)
  --concurrency L    comma-separated put/get concurrencies (default 1,8)
  --fsync-blocks N   blocks for the per-block vs batched fsync comparison (default 512)
  --dir DIR          where to create the scratch directory (default: the OS temp dir)
  --drop-caches      also measure cold reads: drop the page cache before a get pass (Linux, root)`;

interface Options {
  gib: number;
  concurrency: number[];
  fsyncBlocks: number;
  dir: string;
  dropCaches: boolean;
}

function options(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      'gib': { type: 'string', default: '4' },
      'concurrency': { type: 'string', default: '1,8' },
      'fsync-blocks': { type: 'string', default: '512' },
      'dir': { type: 'string', default: tmpdir() },
      'drop-caches': { type: 'boolean', default: false },
      'help': { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const gib = Number(values.gib);
  const concurrency = values.concurrency.split(',').map(Number);
  const fsyncBlocks = Number(values['fsync-blocks']);
  if (!(gib > 0 && gib <= 64)) throw new Error(`--gib must be more than 0 and at most 64\n${USAGE}`);
  if (!concurrency.every((c) => Number.isInteger(c) && c >= 1 && c <= 256)) throw new Error(`--concurrency: integers 1 to 256\n${USAGE}`);
  if (!Number.isInteger(fsyncBlocks) || fsyncBlocks < 1) throw new Error(`--fsync-blocks must be a positive integer\n${USAGE}`);
  return { gib, concurrency, fsyncBlocks, dir: values.dir, dropCaches: values['drop-caches'] };
}

/** Distinct incompressible blocks without paying for 4 GiB of randomBytes: a random pool plus a counter. */
class BlockSource {
  private readonly pool = randomBytes(64 * 1024 * 1024);
  private readonly slots = this.pool.length / BLOCK_SIZE;
  private readonly salt = randomBytes(8);
  block(i: number): Buffer {
    const b = Buffer.allocUnsafe(BLOCK_SIZE);
    const s = i % this.slots;
    this.pool.copy(b, 0, s * BLOCK_SIZE, (s + 1) * BLOCK_SIZE);
    b.writeDoubleLE(i, 0);
    this.salt.copy(b, 8);
    return b;
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Flushes every dirty page on the machine, so the next phase starts without inherited writeback. */
function flushSystem(): void {
  try {
    execFileSync('sync');
  } catch {
    // not available: phases may overlap with writeback
  }
}

function dropCaches(): boolean {
  flushSystem();
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '1');
    return true;
  } catch {
    return false;
  }
}

/** Runs `fn(i)` for i in [0, count) with `concurrency` in flight. */
async function pool(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const mbps = (bytes: number, seconds: number) => (bytes / 1e6 / seconds).toFixed(0);
const secs = (s: number) => s.toFixed(2);

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

export async function run(args: string[]): Promise<void> {
  const o = options(args);
  if (!o) {
    console.log(USAGE);
    return;
  }
  const count = Math.round((o.gib * 1024 * 1024 * 1024) / BLOCK_SIZE);
  const bytes = count * BLOCK_SIZE;
  const base = await mkdtemp(join(o.dir, 'amiforge-bench-blocks-'));
  console.log(`FsBlockStore benchmark: ${count.toLocaleString('en-US')} blocks of 512 KiB (${(bytes / 2 ** 30).toFixed(2)} GiB) per phase in ${base}`);
  console.log(`machine: ${availableParallelism()} cores available (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, `
    + `load average ${loadavg()[0].toFixed(2)} at start (other work on the machine skews every row)`);
  const src = new BlockSource();
  const rows: Row[] = [];
  const row = (what: string, seconds: number, n = bytes) => rows.push([what, secs(seconds), mbps(n, seconds)]);

  try {
    // 0. The pieces on their own.
    rows.push({ section: 'reference (one process, one file)' });
    row('generate blocks only', await timed(() => {
      for (let i = 0; i < count; i++) src.block(i);
    }));
    row('generate + sha256', await timed(() => {
      for (let i = 0; i < count; i++) sha256(src.block(i));
    }));
    flushSystem();
    log('reference: sha256 + sequential write into one file');
    const file = join(base, 'sequential.bin');
    const fh = await open(file, 'w');
    let fsyncSeconds = 0;
    const writeSeconds = await timed(async () => {
      let pos = 0;
      for (let i = 0; i < count; i++) {
        const b = src.block(i);
        sha256(b);
        for (let off = 0; off < b.length;) {
          const { bytesWritten } = await fh.write(b, off, b.length - off, pos);
          off += bytesWritten;
          pos += bytesWritten;
        }
      }
    });
    fsyncSeconds = await timed(() => fh.sync());
    await fh.close();
    row('generate + sha256 + write (no fsync)  = machine limit', writeSeconds);
    row('  ... + one fsync at the end', writeSeconds + fsyncSeconds);
    await rm(file);
    flushSystem();

    const store = new FsBlockStore({ root: join(base, 'store') });
    for (const c of o.concurrency) {
      const domain = `bench-c${c}`;
      rows.push({ section: `FsBlockStore, concurrency ${c}` });
      log(`put x ${count} (concurrency ${c})`);
      const hashes: string[] = new Array(count);
      const putSeconds = await timed(() => pool(count, c, async (i) => {
        const b = src.block(i);
        hashes[i] = sha256(b); // the caller's hash: the address
        await store.put(domain, hashes[i], b);
      }));
      row('generate + sha256 + put (no fsync)', putSeconds);
      const syncSeconds = await timed(() => store.sync(domain, hashes));
      row('  ... + one batched sync of all blocks', putSeconds + syncSeconds);
      rows.push([`  (the sync alone: ${secs(syncSeconds)} s, ${(syncSeconds * 1e6 / count).toFixed(0)} µs per block)`, '', '']);
      flushSystem();

      log(`get x ${count} (concurrency ${c}), page cache warm`);
      row('get + verify, warm page cache', await timed(() => pool(count, c, async (i) => {
        await store.get(domain, hashes[i]);
      })));
      if (o.dropCaches) {
        if (dropCaches()) {
          log(`get x ${count} (concurrency ${c}), page cache dropped`);
          row('get + verify, cold (page cache dropped)', await timed(() => pool(count, c, async (i) => {
            await store.get(domain, hashes[i]);
          })));
        } else {
          rows.push(['get, cold: could not drop the page cache (needs Linux and root)', '-', '-']);
        }
      }
      log('put of blocks already stored (dedup hits)');
      row('put of blocks already stored (dedup hits)', await timed(() => pool(count, c, async (i) => {
        await store.put(domain, hashes[i], src.block(i));
      })));
      await store.destroyDomain(domain);
      flushSystem();
    }

    // Durability policy: fsync each block as it is put vs one sync at the end.
    const n = Math.min(o.fsyncBlocks, count);
    const nBytes = n * BLOCK_SIZE;
    rows.push({ section: `durability, ${n} blocks (${(nBytes / 2 ** 20).toFixed(0)} MiB), concurrency 1` });
    log(`fsync comparison over ${n} blocks`);
    const perBlock = await timed(async () => {
      for (let i = 0; i < n; i++) {
        const b = src.block(count + i);
        const h = sha256(b);
        await store.put('bench-fsync-each', h, b);
        await store.sync('bench-fsync-each', [h]);
      }
    });
    row(`put + sync([block]) per block (${(perBlock * 1000 / n).toFixed(2)} ms per block)`, perBlock, nBytes);
    flushSystem();
    const hs: string[] = [];
    const batchedPut = await timed(async () => {
      for (let i = 0; i < n; i++) {
        const b = src.block(2 * count + i);
        hs.push(sha256(b));
        await store.put('bench-fsync-batch', hs[i], b);
      }
    });
    const batchedSync = await timed(() => store.sync('bench-fsync-batch', hs));
    row(`put all, then one sync (${((batchedPut + batchedSync) * 1000 / n).toFixed(2)} ms per block)`, batchedPut + batchedSync, nBytes);
    rows.push([`  (the sync alone: ${secs(batchedSync)} s)`, '', '']);
    await store.destroyDomain('bench-fsync-each');
    await store.destroyDomain('bench-fsync-batch');

    console.log(`\n${renderTable(['phase', 'seconds', 'MB/s'], rows)}`);
    console.log(`load average ${loadavg()[0].toFixed(2)} at the end`);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}
