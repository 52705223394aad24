// Block manifests: for each snapshot this client uploaded or downloaded, the SHA-256 of every
// block present, kept in a local cache. An incremental upload (--parent) compares the local file
// against its parent's manifest instead of asking the service for each parent block's checksum
// (GetSnapshotBlock sends the whole block to tell its checksum).
//
// A manifest is trusted only when its block indexes are exactly those ListSnapshotBlocks gives
// for the parent (cheap: 10,000 indexes a call). Completed snapshots never change, so a manifest
// written for one stays right.
//
// Location: $AMIFORGE_CACHE_DIR, else $XDG_CACHE_HOME/amiforge, else ~/.cache/amiforge; then
// manifests/<region>/<snapshot-id>.blocks. Format: one JSON header line, then 36-byte records in
// ascending index order (uint32 big-endian block index, 32-byte SHA-256).
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BLOCK_SIZE, BlockDigests } from './blocks.ts';

const RECORD = 36;
const BATCH = 4096;

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AMIFORGE_CACHE_DIR) return env.AMIFORGE_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'amiforge');
  return join(homedir(), '.cache', 'amiforge');
}

interface ManifestHeader {
  format: 'amiforge-block-manifest';
  version: 1;
  snapshotId: string;
  volumeSizeGiB: number;
  blockSize: number;
  blocks: number;
}

export interface Manifest {
  volumeSizeGiB: number;
  digests: BlockDigests;
}

const pathFor = (cacheDir: string, region: string, snapshotId: string) =>
  join(cacheDir, 'manifests', region.replace(/[^a-z0-9-]/gi, '_'), `${snapshotId.replace(/[^a-z0-9-]/gi, '_')}.blocks`);

/** The cached manifest of a snapshot, or undefined (none, or unreadable). */
export async function readManifest(cacheDir: string, region: string, snapshotId: string): Promise<Manifest | undefined> {
  let fh;
  try {
    fh = await open(pathFor(cacheDir, region, snapshotId), 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const nl = head.subarray(0, bytesRead).indexOf(0x0a);
    if (nl < 0) return undefined;
    const header = JSON.parse(head.subarray(0, nl).toString('utf8')) as ManifestHeader;
    if (header.format !== 'amiforge-block-manifest' || header.version !== 1 || header.snapshotId !== snapshotId
      || header.blockSize !== BLOCK_SIZE) return undefined;
    const digests = new BlockDigests();
    const buf = Buffer.alloc(RECORD * BATCH);
    let pos = nl + 1;
    let last = -1;
    for (let left = header.blocks; left > 0;) {
      const want = Math.min(left, BATCH) * RECORD;
      const { bytesRead: n } = await fh.read(buf, 0, want, pos);
      if (n !== want) return undefined; // truncated
      for (let off = 0; off < n; off += RECORD) {
        const index = buf.readUInt32BE(off);
        if (index <= last) return undefined; // not in order: not ours
        last = index;
        digests.set(index, buf.subarray(off + 4, off + RECORD));
      }
      pos += n;
      left -= n / RECORD;
    }
    return { volumeSizeGiB: header.volumeSizeGiB, digests };
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Writes a snapshot's manifest (atomically: a temp file renamed into place). */
export async function writeManifest(cacheDir: string, region: string, snapshotId: string, volumeSizeGiB: number, digests: BlockDigests): Promise<void> {
  const path = pathFor(cacheDir, region, snapshotId);
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o644);
  try {
    const header: ManifestHeader = {
      format: 'amiforge-block-manifest', version: 1, snapshotId, volumeSizeGiB, blockSize: BLOCK_SIZE, blocks: digests.size,
    };
    await fh.write(`${JSON.stringify(header)}\n`);
    const buf = Buffer.alloc(RECORD * BATCH);
    let off = 0;
    for (const [index, digest] of digests.entries()) {
      buf.writeUInt32BE(index, off);
      buf.set(digest, off + 4);
      off += RECORD;
      if (off === buf.length) {
        await fh.write(buf, 0, off);
        off = 0;
      }
    }
    if (off) await fh.write(buf, 0, off);
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}
