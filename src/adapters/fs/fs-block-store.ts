// The filesystem block store: one file per block at <root>/<domain>/<hh>/<hash>, where hh is the
// hash's first two hex digits (256 fan-out directories per domain, created once, so no directory
// grows huge and the hot path never calls mkdir).
//
// Writes: a unique temp file in the block's own directory, then rename over the final name, so a
// reader sees the whole block or none. No fsync in put: `sync` fsyncs the listed files and then
// their directories, which makes both the bytes and the renames durable; callers sync once per
// snapshot rather than per block (see the figures in bench/blockstore.ts).
//
// After a power loss, a block renamed but never synced may come back empty or short (ext4 and XFS
// commit the rename before delayed-allocation data). put therefore trusts an existing block only
// if its size matches, and otherwise rewrites it; get verifies every read against the hash.
// A put of a block already stored costs one stat (plus a utimes if its mtime is over a minute
// old, so garbage collection's grace period, which goes by mtime, covers the reuse).
//
// Crashes leave temp files (`.tmp-*`); `list` skips them and `cleanTemp` removes old ones.
//
// adoptFile hard-links a prebuilt block file (a temp link, then the same rename), so loading a
// built disk into seven regions costs seven links per block, not seven copies; across
// filesystems (EXDEV) or where links are refused it copies. The file's bytes are hashed before
// the first link and the result remembered by inode, size and mtime, so the other regions'
// links of the same file are not hashed again.
import { createHash, randomBytes } from 'node:crypto';
import { access, link, mkdir, open, readFile, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  BlockCorruptError, BlockHashMismatchError, BlockMissingError, type BlockStore, type StoredBlockInfo,
  BLOCK_HASH_RE, checkBlockDomain, checkBlockHash,
} from '../../ports/block-store.ts';

/** Temp files start with this; never a valid block name (blocks are 64 hex digits). */
export const TEMP_PREFIX = '.tmp-';

const FANOUT_RE = /^[0-9a-f]{2}$/;
const FANOUT = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Stats / fsyncs in flight at once (libuv's pool has 4 threads by default; a few more keeps it fed). */
const IO_CONCURRENCY = 16;
/** A re-put block's mtime is refreshed only if older than this (GC grace periods are far longer). */
const MTIME_REFRESH_MS = 60_000;

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const isCode = (err: unknown, code: string): boolean => (err as NodeJS.ErrnoException)?.code === code;

async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return undefined;
    throw err;
  }
}

async function readdirOrEmpty(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return [];
    throw err;
  }
}

/** fsync a file or directory by path. */
async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first failure. */
async function forEachLimit<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  const worker = async (): Promise<void> => {
    for (let next = it.next(); !next.done; next = it.next()) await fn(next.value);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

export interface FsBlockStoreOptions {
  /** Directory holding one subdirectory per domain; created on first write. */
  root: string;
}

export class FsBlockStore implements BlockStore {
  readonly root: string;
  /** Domains whose fan-out directories exist (as far as this process knows). */
  private readonly ready = new Map<string, Promise<void>>();
  /** Puts in progress by domain/hash: concurrent puts of one block share a single write. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Unique per instance, so temp names never collide with another process's or a crashed one's. */
  private readonly tempTag = randomBytes(6).toString('hex');
  private tempSeq = 0;
  /** Files adoptFile has verified: "dev:ino:size:mtimeMs" -> their hash. */
  private readonly verifiedFiles = new Map<string, string>();
  /** Blocks adoptFile had to copy (the file on another filesystem), by hash: the other domains link to that copy. */
  private readonly adoptedCopies = new Map<string, string>();

  constructor(options: FsBlockStoreOptions) {
    this.root = resolve(options.root);
  }

  private domainDir(domain: string): string {
    checkBlockDomain(domain);
    const dir = join(this.root, domain);
    // Belt and braces: whatever the name rule becomes, never address anything but a child of root
    // (destroyDomain is an rm -rf).
    if (dirname(dir) !== this.root || basename(dir) !== domain) {
      throw new Error(`invalid block store domain ${JSON.stringify(domain)}`);
    }
    return dir;
  }

  private blockPath(domain: string, hash: string): string {
    checkBlockHash(hash);
    return join(this.domainDir(domain), hash.slice(0, 2), hash);
  }

  /** Creates the domain's 256 fan-out directories once, durably (their entries fsynced). */
  private ensureDomain(domain: string): Promise<void> {
    let p = this.ready.get(domain);
    if (!p) {
      const dir = this.domainDir(domain);
      p = (async () => {
        await mkdir(dir, { recursive: true });
        await Promise.all(FANOUT.map((hh) => mkdir(join(dir, hh), { recursive: true })));
        await fsyncPath(dir);
        await fsyncPath(this.root);
      })();
      p.catch(() => this.ready.delete(domain));
      this.ready.set(domain, p);
    }
    return p;
  }

  async put(domain: string, hash: string, data: Buffer): Promise<void> {
    const path = this.blockPath(domain, hash);
    if (sha256(data) !== hash) throw new BlockHashMismatchError(domain, hash);
    const key = `${domain}/${hash}`;
    const pending = this.inflight.get(key);
    if (pending) return pending; // same hash, so same bytes
    const p = this.store(domain, path, data).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async store(domain: string, path: string, data: Buffer): Promise<void> {
    await this.ensureDomain(domain);
    const existing = await statOrUndefined(path);
    if (existing && existing.size === data.length) {
      // Already stored: refresh its mtime (unless just written) so garbage collection's grace
      // period covers this reuse.
      try {
        const now = Date.now();
        if (now - existing.mtimeMs > MTIME_REFRESH_MS) await utimes(path, now / 1000, now / 1000);
        return;
      } catch (err) {
        if (!isCode(err, 'ENOENT')) throw err; // deleted meanwhile: write it again
      }
    }
    try {
      await this.writeAtomically(path, data);
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
      // The domain directory vanished under us (destroyDomain, or removed by hand): recreate once.
      this.ready.delete(domain);
      await this.ensureDomain(domain);
      await this.writeAtomically(path, data);
    }
  }

  async adoptFile(domain: string, hash: string, file: string): Promise<void> {
    const path = this.blockPath(domain, hash);
    const key = `${domain}/${hash}`;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.adopt(domain, hash, path, file).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async adopt(domain: string, hash: string, path: string, file: string): Promise<void> {
    const st = await stat(file);
    const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    let data: Buffer | undefined;
    if (this.verifiedFiles.get(id) !== hash) {
      data = await readFile(file);
      if (sha256(data) !== hash) throw new BlockHashMismatchError(domain, hash);
      this.verifiedFiles.set(id, hash);
    }
    await this.ensureDomain(domain);
    // A link is atomic by itself (the name appears with the whole file or not at all), so the
    // common case is one system call per block and domain.
    const linked = await link(file, path).then(() => 'linked' as const, (err: unknown) => {
      if (isCode(err, 'EEXIST')) return 'exists' as const;
      if (isCode(err, 'EXDEV') || isCode(err, 'EPERM') || isCode(err, 'EMLINK')) return 'elsewhere' as const;
      throw err;
    });
    if (linked === 'linked') return;
    if (linked === 'exists') {
      const existing = await statOrUndefined(path);
      if (existing && existing.size === st.size) {
        if (existing.ino === st.ino && existing.dev === st.dev) return; // this very file
        const now = Date.now();
        if (now - existing.mtimeMs > MTIME_REFRESH_MS) await utimes(path, now / 1000, now / 1000).catch(() => {});
        return;
      }
      // Emptied or cut short by a power loss (see put): replaced by the file, atomically.
      const tmp = join(dirname(path), `${TEMP_PREFIX}${this.tempTag}-${this.tempSeq++}`);
      if (await link(file, tmp).then(() => true, () => false)) {
        await rename(tmp, path).catch(async (e) => { await unlink(tmp).catch(() => {}); throw e; });
        return;
      }
    }
    // Another filesystem, or links refused: copy the bytes checked above once, then link the
    // other domains' blocks to that copy.
    const copy = this.adoptedCopies.get(hash);
    if (copy && copy !== path && (await statOrUndefined(copy))?.size === st.size) {
      const tmp = join(dirname(path), `${TEMP_PREFIX}${this.tempTag}-${this.tempSeq++}`);
      if (await link(copy, tmp).then(() => true, () => false)) {
        await rename(tmp, path).catch(async (e) => { await unlink(tmp).catch(() => {}); throw e; });
        return;
      }
    }
    data ??= await readFile(file);
    if (sha256(data) !== hash) throw new BlockHashMismatchError(domain, hash);
    await this.writeAtomically(path, data);
    this.adoptedCopies.set(hash, path);
  }

  /** Temp file in the block's directory, then rename: readers see all of the block or none of it. */
  private async writeAtomically(path: string, data: Buffer): Promise<void> {
    const tmp = join(dirname(path), `${TEMP_PREFIX}${this.tempTag}-${this.tempSeq++}`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      try {
        for (let off = 0; off < data.length;) {
          const { bytesWritten } = await fh.write(data, off, data.length - off, off);
          off += bytesWritten;
        }
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  async get(domain: string, hash: string): Promise<Buffer> {
    const path = this.blockPath(domain, hash);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      if (isCode(err, 'ENOENT')) throw new BlockMissingError(domain, hash);
      throw err;
    }
    if (sha256(data) !== hash) throw new BlockCorruptError(domain, hash);
    return data;
  }

  async has(domain: string, hash: string): Promise<boolean> {
    const path = this.blockPath(domain, hash);
    try {
      await access(path);
      return true;
    } catch (err) {
      if (isCode(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /**
   * fsyncs every listed block, then each distinct fan-out directory (making the renames durable).
   * A listed block that is absent rejects with BlockMissingError: syncing it is a caller bug.
   */
  async sync(domain: string, hashes: Iterable<string>): Promise<void> {
    const files = new Map<string, string>();
    const dirs = new Set<string>();
    const domainDir = this.domainDir(domain);
    for (const hash of hashes) {
      files.set(this.blockPath(domain, hash), hash);
      dirs.add(join(domainDir, hash.slice(0, 2)));
    }
    await forEachLimit(files, IO_CONCURRENCY, async ([path, hash]) => {
      try {
        await fsyncPath(path);
      } catch (err) {
        if (isCode(err, 'ENOENT')) throw new BlockMissingError(domain, hash);
        throw err;
      }
    });
    await forEachLimit(dirs, IO_CONCURRENCY, fsyncPath);
  }

  async delete(domain: string, hash: string): Promise<void> {
    try {
      await unlink(this.blockPath(domain, hash));
    } catch (err) {
      if (!isCode(err, 'ENOENT')) throw err;
    }
  }

  async *list(domain: string): AsyncIterable<StoredBlockInfo> {
    const dir = this.domainDir(domain);
    for (const hh of await readdirOrEmpty(dir)) {
      if (!FANOUT_RE.test(hh)) continue;
      const names = (await readdirOrEmpty(join(dir, hh))).filter((n) => BLOCK_HASH_RE.test(n) && n.startsWith(hh));
      for (let i = 0; i < names.length; i += IO_CONCURRENCY) {
        const batch = names.slice(i, i + IO_CONCURRENCY);
        const stats = await Promise.all(batch.map((n) => statOrUndefined(join(dir, hh, n))));
        for (let j = 0; j < batch.length; j++) {
          const st = stats[j];
          if (st?.isFile()) yield { hash: batch[j], size: st.size, modified: st.mtime };
        }
      }
    }
  }

  async destroyDomain(domain: string): Promise<void> {
    const dir = this.domainDir(domain);
    this.ready.delete(domain);
    await rm(dir, { recursive: true, force: true });
  }

  /**
   * Removes temp files (left by a crash mid-put) last modified before `olderThan`; returns how
   * many. At startup, before this store takes writes, pass `new Date()`; while puts may be in
   * flight (possibly from another process sharing the root), pass a margin such as an hour ago.
   */
  async cleanTemp(domain: string, olderThan: Date): Promise<number> {
    const dir = this.domainDir(domain);
    const cutoff = olderThan.getTime();
    let removed = 0;
    for (const hh of await readdirOrEmpty(dir)) {
      if (!FANOUT_RE.test(hh)) continue;
      const temps = (await readdirOrEmpty(join(dir, hh))).filter((n) => n.startsWith(TEMP_PREFIX));
      await forEachLimit(temps, IO_CONCURRENCY, async (name) => {
        const path = join(dir, hh, name);
        const st = await statOrUndefined(path);
        if (!st || st.mtimeMs >= cutoff) return;
        try {
          await unlink(path);
          removed++;
        } catch (err) {
          if (!isCode(err, 'ENOENT')) throw err;
        }
      });
    }
    return removed;
  }
}
