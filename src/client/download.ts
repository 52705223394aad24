// Downloads a snapshot to a sparse raw file: the file is sized first (ftruncate), then only the
// blocks the snapshot has are fetched (GetSnapshotBlock, checked against their SHA-256) and
// written at their offsets; absent blocks and blocks of zeros stay holes.
//
// The size is the source file's when the snapshot was made by this client (its
// amiforge:source-size tag, read with DescribeSnapshots when an EC2 client is given), else the
// volume size. Data goes to a temporary file beside the target, renamed into place at the end.
// Memory: `concurrency` 512 KiB buffers, one ListSnapshotBlocks page, 32 bytes a block for the
// manifest cached for later incremental uploads.
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { GetSnapshotBlockCommand, type EBSClient } from '@aws-sdk/client-ebs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { BLOCK_SIZE, BlockDigests, GIB, isZeroBlock, sha256 } from './blocks.ts';
import { SnapshotClientError, TransferAbortedError } from './errors.ts';
import { BlockCursor, type ListedBlock } from './listing.ts';
import { defaultCacheDir, writeManifest } from './manifest.ts';
import type { ProgressListener, TransferProgress } from './progress.ts';
import { withRetry, type RetryOptions } from './retry.ts';
import { SOURCE_SIZE_TAG } from './upload.ts';
import { describeSnapshot } from './wait.ts';

export interface DownloadOptions {
  snapshotId: string;
  file: string;
  ebs: EBSClient;
  /** To read the snapshot's amiforge:source-size tag; without it the file has the volume's size. */
  ec2?: EC2Client;
  /** GetSnapshotBlock calls in flight, and 512 KiB buffers (default 16). */
  concurrency?: number;
  onProgress?: ProgressListener;
  onNotice?: (message: string) => void;
  /** Replace `file` if it exists (default false: refuse). */
  overwrite?: boolean;
  signal?: AbortSignal;
  cacheDir?: string | false;
  retry?: RetryOptions;
}

export interface DownloadResult {
  /** Size of the file written, bytes. */
  size: number;
  volumeSizeGiB: number;
  /** Blocks the snapshot has (fetched), and of them those holding data (written). */
  blocks: number;
  blocksWritten: number;
}

async function targetSize(o: DownloadOptions, volumeBytes: number): Promise<number> {
  if (!o.ec2) return volumeBytes;
  try {
    const s = await describeSnapshot(o.ec2, o.snapshotId, o.retry);
    const tag = s?.Tags?.find((t) => t.Key === SOURCE_SIZE_TAG)?.Value;
    const size = Number(tag);
    if (tag && Number.isSafeInteger(size) && size >= 0 && size <= volumeBytes) return size;
  } catch (err) {
    o.onNotice?.(`cannot read the snapshot's tags (${(err as Error).message}); the file gets the volume's size`);
  }
  return volumeBytes;
}

/** True when bytes [from, to) of the file are all zeros. */
async function zeroRange(fh: FileHandle, from: number, to: number): Promise<boolean> {
  const buf = Buffer.allocUnsafe(BLOCK_SIZE);
  for (let pos = from; pos < to;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(BLOCK_SIZE, to - pos), pos);
    if (!bytesRead) return true;
    if (!isZeroBlock(buf.subarray(0, bytesRead))) return false;
    pos += bytesRead;
  }
  return true;
}

export async function downloadSnapshot(o: DownloadOptions): Promise<DownloadResult> {
  const retry = { ...o.retry, signal: o.signal };
  const existing = await lstat(o.file).catch(() => undefined);
  if (existing && !existing.isFile()) throw new SnapshotClientError(`${o.file} exists and is not a regular file; give a file path`);
  if (existing && !o.overwrite) throw new SnapshotClientError(`${o.file} exists; remove it or pass --force to overwrite it`);

  const cursor = await new BlockCursor(o.ebs, o.snapshotId, retry).open();
  const volumeSizeGiB = cursor.volumeSizeGiB;
  // Sized to the volume while blocks arrive; cut to the recorded source size at the end (asked
  // of EC2 then, so that its large SDK client is not in memory during the transfer).
  const volumeBytes = volumeSizeGiB * GIB;
  let size = volumeBytes;
  /** End of the last block written (holding data). */
  let dataEnd = 0;
  const region = await o.ebs.config.region();
  const cacheDir = o.cacheDir === false ? undefined : o.cacheDir ?? defaultCacheDir();

  const tmp = `${o.file}.amiforge-download-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx+', 0o644);
  const digests = new BlockDigests();
  const progress: TransferProgress = {
    phase: 'download', snapshotId: o.snapshotId, blocksTotal: 0, blocksDone: 0, blocksTransferred: 0, blocksSkipped: 0, bytesTransferred: 0,
  };
  let blocksWritten = 0;
  try {
    await fh.truncate(volumeBytes);

    const fetchBlock = async (b: ListedBlock, buf: Buffer): Promise<void> => {
      const digest = await withRetry(async () => {
        const out = await o.ebs.send(new GetSnapshotBlockCommand({ SnapshotId: o.snapshotId, BlockIndex: b.index, BlockToken: b.token }));
        let n = 0;
        for await (const chunk of out.BlockData as unknown as AsyncIterable<Uint8Array>) {
          if (n + chunk.length > BLOCK_SIZE) throw new SnapshotClientError(`block ${b.index} of ${o.snapshotId} is larger than ${BLOCK_SIZE} bytes`);
          buf.set(chunk, n);
          n += chunk.length;
        }
        if (n !== BLOCK_SIZE || out.DataLength !== BLOCK_SIZE) {
          throw new SnapshotClientError(`block ${b.index} of ${o.snapshotId} has ${n} bytes, not ${BLOCK_SIZE}`);
        }
        const d = sha256(buf);
        if (out.ChecksumAlgorithm !== 'SHA256' || d.toString('base64') !== out.Checksum) {
          throw new SnapshotClientError(`block ${b.index} of ${o.snapshotId} does not match its SHA-256 checksum; the download is abandoned`);
        }
        return d;
      }, retry);
      digests.set(b.index, digest);
      progress.blocksTransferred++;
      progress.bytesTransferred += BLOCK_SIZE;
      if (!isZeroBlock(buf)) {
        const pos = b.index * BLOCK_SIZE;
        const len = Math.min(BLOCK_SIZE, volumeBytes - pos);
        for (let off = 0; off < len;) off += (await fh.write(buf, off, len - off, pos + off)).bytesWritten;
        dataEnd = Math.max(dataEnd, pos + len);
        blocksWritten++;
      } else {
        progress.blocksSkipped++;
      }
      progress.blocksDone++;
      o.onProgress?.(progress);
    };

    const concurrency = Math.max(1, Math.floor(o.concurrency ?? 16));
    const free: Buffer[] = [];
    let allocated = 0;
    const inflight = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    for (let b = await cursor.next(); b; b = await cursor.next()) {
      progress.blocksTotal = cursor.listed;
      while (!failure && !o.signal?.aborted && !free.length && allocated >= concurrency) await Promise.race(inflight);
      if (failure || o.signal?.aborted) break;
      const buf = free.pop() ?? (allocated++, Buffer.allocUnsafe(BLOCK_SIZE));
      const task: Promise<void> = fetchBlock(b, buf)
        .catch((err) => { failure ??= { err }; })
        .finally(() => {
          free.push(buf);
          inflight.delete(task);
        });
      inflight.add(task);
    }
    await Promise.all(inflight);
    if (failure) throw failure.err;
    if (o.signal?.aborted) throw new TransferAbortedError(`download of ${o.snapshotId} stopped`);
    size = await targetSize(o, volumeBytes);
    if (dataEnd > size && !(await zeroRange(fh, size, dataEnd))) {
      // Data past the recorded size: keep it rather than cut it off.
      o.onNotice?.(`${o.snapshotId} has data past its recorded source size ${size}; the file keeps it (${dataEnd} bytes)`);
      size = dataEnd;
    }
    if (size !== volumeBytes) await fh.truncate(size);
    await fh.close();
    await rename(tmp, o.file);
  } catch (err) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
  if (cacheDir) {
    await writeManifest(cacheDir, region, o.snapshotId, volumeSizeGiB, digests)
      .catch((err) => o.onNotice?.(`could not cache the block manifest in ${cacheDir}: ${(err as Error).message}`));
  }
  return { size, volumeSizeGiB, blocks: progress.blocksTransferred, blocksWritten };
}
