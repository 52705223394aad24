// Uploads a disk image as an EBS snapshot through the EBS direct APIs (StartSnapshot,
// PutSnapshotBlock, CompleteSnapshot), then waits for EC2 to report it completed.
//
// Memory is bounded: `concurrency` buffers of 512 KiB are allocated once and cycle between
// reading, hashing and sending; the file is never held whole. Besides them, 32 bytes per block
// written (for the aggregate checksum and the manifest) and one ListSnapshotBlocks page.
//
// Which blocks are sent: each block's SHA-256 is compared with what the snapshot holds at that
// index already: the block written before an interruption (journal), else the parent's block
// (manifest cache or GetSnapshotBlock), else nothing, which reads as zeros. Equal: skipped.
// So zero blocks of a fresh upload are never sent, and an incremental upload sends only the
// blocks that differ from its parent (zeros included where the parent had data).
import { randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import {
  CompleteSnapshotCommand, PutSnapshotBlockCommand, StartSnapshotCommand, type EBSClient,
} from '@aws-sdk/client-ebs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { BuildMiddleware } from '@smithy/types';
import {
  BLOCK_SIZE, BlockDigests, GIB, gibFor, isZeroBlock, linearChecksum, sha256, ZERO_BLOCK, ZERO_DIGEST,
} from './blocks.ts';
import { SnapshotClientError, TransferAbortedError } from './errors.ts';
import { JournalWriter, journalPathFor, readJournal, type Journal, type JournalHeader } from './journal.ts';
import { defaultCacheDir, writeManifest } from './manifest.ts';
import { loadParent, type Parent, type ParentBlock } from './parent.ts';
import type { ProgressListener, TransferProgress } from './progress.ts';
import { withRetry, type RetryOptions } from './retry.ts';
import { openSource, type Source } from './source.ts';
import { describeSnapshot, waitForCompleted } from './wait.ts';

/** Tag recording the source file's exact size, so a download gives back the same bytes. */
export const SOURCE_SIZE_TAG = 'amiforge:source-size';

export type Tags = Record<string, string> | { Key: string; Value: string }[];

export interface UploadOptions {
  /** Raw, qcow2, vmdk, vhdx or vdi image (non-raw ones are converted with qemu-img first). */
  file: string;
  ebs: EBSClient;
  /** Used to wait for the completed state (DescribeSnapshots) and to check a journal's snapshot. */
  ec2: EC2Client;
  /** Default: the file size rounded up to whole GiB (at least the parent's size). */
  volumeSizeGiB?: number;
  /** Upload incrementally: only blocks that differ from this completed snapshot are sent. */
  parentSnapshotId?: string;
  description?: string;
  tags?: Tags;
  /** PutSnapshotBlock calls in flight, and 512 KiB buffers (default 16). */
  concurrency?: number;
  onProgress?: ProgressListener;
  /** Human-readable remarks: resuming, converting, where digests come from. */
  onNotice?: (message: string) => void;
  /** Continue the snapshot named in the file's journal, if any (default true). */
  resume?: boolean;
  /** Stops sending; blocks in flight finish and are journaled; rejects with TransferAbortedError. */
  signal?: AbortSignal;
  /** Manifest cache (see manifest.ts); false: neither read nor write manifests. */
  cacheDir?: string | false;
  /** StartSnapshot Timeout: minutes without a block written before the service cancels (default 1440). */
  timeoutMinutes?: number;
  /** How long to wait for the completed state (default 2 h). */
  waitTimeoutMs?: number;
  /** For the raw copy of a non-raw image (default: $TMPDIR). */
  tempDir?: string;
  retry?: RetryOptions;
}

const tagList = (tags: Tags | undefined): { Key: string; Value: string }[] =>
  (Array.isArray(tags) ? tags : Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value })));

/**
 * Over plain http the SDK signs the body (over https, PutSnapshotBlock is sent with
 * UNSIGNED-PAYLOAD), hashing each 512 KiB block a second time. The block's SHA-256 is known
 * already: handing it over as x-amz-content-sha256 lets the signer use it instead.
 */
function knownPayloadHash<I extends object, O extends object>(hex: string): BuildMiddleware<I, O> {
  return (next) => async (args) => {
    const request = args.request as { protocol?: string; headers?: Record<string, string> };
    if (request?.headers && request.protocol === 'http:') request.headers['x-amz-content-sha256'] = hex;
    return next(args);
  };
}

export async function uploadSnapshot(o: UploadOptions): Promise<string> {
  const source = await openSource(o.file, { tempDir: o.tempDir, signal: o.signal, onNotice: o.onNotice });
  try {
    return await new Upload(o, source).run();
  } finally {
    await source.cleanup();
  }
}

class Upload {
  private readonly o: UploadOptions;
  private readonly source: Source;
  private readonly concurrency: number;
  private readonly retry: RetryOptions;
  private readonly progress: TransferProgress;
  /** Blocks written to this snapshot (by this run or before an interruption), with digests. */
  private written = new BlockDigests();
  /** Every block the snapshot will have, with digests: the manifest written at the end. */
  private readonly present = new BlockDigests();
  private journal!: JournalWriter;
  private snapshotId = '';
  private volumeSizeGiB = 0;

  constructor(o: UploadOptions, source: Source) {
    this.o = o;
    this.source = source;
    this.concurrency = Math.max(1, Math.floor(o.concurrency ?? 16));
    this.retry = { ...o.retry, signal: o.signal };
    this.progress = {
      phase: 'upload', snapshotId: '', blocksTotal: Math.ceil(source.size / BLOCK_SIZE),
      blocksDone: 0, blocksTransferred: 0, blocksSkipped: 0, bytesTransferred: 0,
    };
  }

  async run(): Promise<string> {
    const { o } = this;
    const region = await o.ebs.config.region();
    const cacheDir = o.cacheDir === false ? undefined : o.cacheDir ?? defaultCacheDir();
    const parent = o.parentSnapshotId ? await loadParent(o.ebs, o.parentSnapshotId, { region, cacheDir, retry: this.retry }) : undefined;
    if (parent) {
      o.onNotice?.(parent.via === 'manifest'
        ? `comparing with ${parent.snapshotId} through its cached block manifest`
        : `no cached block manifest for ${parent.snapshotId}: asking the service for its block checksums (GetSnapshotBlock)`);
    }
    this.volumeSizeGiB = this.chooseVolumeSize(parent);
    await this.startOrResume(region, parent);

    const fh = await open(this.source.path, 'r');
    try {
      await this.sendBlocks(fh, parent);
    } finally {
      await fh.close();
      this.journal.close();
    }

    this.emit({ phase: 'complete' });
    await this.complete();
    await waitForCompleted(o.ec2, this.snapshotId, { timeoutMs: o.waitTimeoutMs, signal: o.signal, retry: this.retry });
    if (cacheDir) {
      await writeManifest(cacheDir, region, this.snapshotId, this.volumeSizeGiB, this.present)
        .catch((err) => o.onNotice?.(`could not cache the block manifest in ${cacheDir}: ${(err as Error).message}`));
    }
    await this.journal.remove();
    return this.snapshotId;
  }

  private chooseVolumeSize(parent: Parent | undefined): number {
    const { o, source } = this;
    const needed = Math.max(gibFor(source.size), parent?.volumeSizeGiB ?? 0);
    if (o.volumeSizeGiB === undefined) return needed;
    if (!Number.isInteger(o.volumeSizeGiB) || o.volumeSizeGiB < 1) {
      throw new SnapshotClientError(`the volume size must be a whole number of GiB, at least 1 (got ${o.volumeSizeGiB})`);
    }
    if (o.volumeSizeGiB * GIB < source.size) {
      throw new SnapshotClientError(`${o.file} holds ${source.size} bytes, more than a ${o.volumeSizeGiB} GiB volume; give a size of at least ${gibFor(source.size)} GiB`);
    }
    if (parent && o.volumeSizeGiB < parent.volumeSizeGiB) {
      throw new SnapshotClientError(`the parent snapshot ${parent.snapshotId} is ${parent.volumeSizeGiB} GiB; give a size of at least that`);
    }
    return o.volumeSizeGiB;
  }

  /** Why the journal cannot be continued, or undefined if it can. */
  private async staleReason(j: Journal, region: string): Promise<string | undefined> {
    const h = j.header;
    const src = this.source.original;
    if (h.source.size !== src.size || h.source.mtimeMs !== src.mtimeMs) return 'the file changed since';
    if (h.region !== undefined && h.region !== region) return `it was for region ${h.region}`;
    if ((h.parentSnapshotId ?? undefined) !== this.o.parentSnapshotId) return 'it was for another parent snapshot';
    if (h.volumeSizeGiB !== this.volumeSizeGiB) return 'it was for another volume size';
    const s = await describeSnapshot(this.o.ec2, h.snapshotId, this.retry);
    if (!s) return `its snapshot ${h.snapshotId} no longer exists`;
    if (s.State !== 'pending') return `its snapshot ${h.snapshotId} is ${s.State}${s.StateMessage ? ` (${s.StateMessage})` : ''}`;
    return undefined;
  }

  private async startOrResume(region: string, parent: Parent | undefined): Promise<void> {
    const { o } = this;
    const path = journalPathFor(o.file);
    const prior = o.resume === false ? undefined : await readJournal(path);
    if (prior) {
      const reason = await this.staleReason(prior, region);
      if (!reason) {
        this.snapshotId = prior.header.snapshotId;
        this.written = prior.written;
        this.journal = JournalWriter.append(path);
        o.onNotice?.(`resuming snapshot ${this.snapshotId} (${prior.written.size} blocks written before)`);
        this.progress.snapshotId = this.snapshotId;
        return;
      }
      o.onNotice?.(`not resuming from ${path}: ${reason}; starting a new snapshot`);
    }
    const tags = tagList(o.tags).filter((t) => t.Key !== SOURCE_SIZE_TAG);
    tags.push({ Key: SOURCE_SIZE_TAG, Value: String(this.source.size) });
    const clientToken = randomUUID();
    const out = await withRetry(() => o.ebs.send(new StartSnapshotCommand({
      VolumeSize: this.volumeSizeGiB,
      ParentSnapshotId: parent?.snapshotId,
      Description: o.description,
      Tags: tags,
      ClientToken: clientToken,
      Timeout: o.timeoutMinutes ?? 1440,
    })), this.retry);
    this.snapshotId = out.SnapshotId!;
    this.progress.snapshotId = this.snapshotId;
    const header: JournalHeader = {
      format: 'amiforge-upload-journal', version: 1, snapshotId: this.snapshotId, volumeSizeGiB: this.volumeSizeGiB,
      parentSnapshotId: parent?.snapshotId, region, source: this.source.original, startedAt: new Date().toISOString(),
    };
    this.journal = JournalWriter.create(path, header);
  }

  private emit(change: Partial<TransferProgress> = {}): void {
    Object.assign(this.progress, change);
    this.o.onProgress?.(this.progress);
  }

  /** Every block index to look at, ascending, with the parent's block there if any. */
  private async *blocks(parent: Parent | undefined): AsyncGenerator<{ index: number; parent?: ParentBlock }> {
    const fileBlocks = Math.ceil(this.source.size / BLOCK_SIZE);
    for (let index = 0; index < fileBlocks; index++) yield { index, parent: await parent?.at(index) };
    if (!parent) return;
    // Parent blocks past the end of the file: the file reads as zeros there.
    for await (const p of parent.from(fileBlocks)) {
      this.progress.blocksTotal++;
      yield { index: p.index, parent: p };
    }
  }

  private async sendBlocks(fh: FileHandle, parent: Parent | undefined): Promise<void> {
    const free: Buffer[] = [];
    let allocated = 0;
    const inflight = new Set<Promise<void>>();
    let failure: { err: unknown } | undefined;
    for await (const block of this.blocks(parent)) {
      if (failure || this.o.signal?.aborted) break;
      while (!free.length && allocated >= this.concurrency) await Promise.race(inflight);
      if (failure || this.o.signal?.aborted) break;
      const buf = free.pop() ?? (allocated++, Buffer.allocUnsafe(BLOCK_SIZE));
      const task: Promise<void> = this.sendBlock(fh, buf, block.index, block.parent)
        .catch((err) => { failure ??= { err }; })
        .finally(() => {
          free.push(buf);
          inflight.delete(task);
        });
      inflight.add(task);
    }
    await Promise.all(inflight);
    if (failure) throw failure.err;
    if (this.o.signal?.aborted) {
      throw new TransferAbortedError(`upload of ${this.o.file} stopped after ${this.progress.blocksTransferred} blocks sent; `
        + `run the same upload again to resume snapshot ${this.snapshotId}`, this.snapshotId);
    }
  }

  private async readBlock(fh: FileHandle, buf: Buffer, index: number): Promise<Buffer> {
    const pos = index * BLOCK_SIZE;
    const len = Math.min(BLOCK_SIZE, this.source.size - pos);
    if (len <= 0) return ZERO_BLOCK;
    for (let off = 0; off < len;) {
      const { bytesRead } = await fh.read(buf, off, len - off, pos + off);
      if (bytesRead === 0) throw new SnapshotClientError(`${this.o.file} became shorter while being read; leave it alone during an upload`);
      off += bytesRead;
    }
    if (len < BLOCK_SIZE) buf.fill(0, len);
    return buf;
  }

  private async sendBlock(fh: FileHandle, buf: Buffer, index: number, parentBlock: ParentBlock | undefined): Promise<void> {
    const data = await this.readBlock(fh, buf, index);
    const zero = data === ZERO_BLOCK || isZeroBlock(data);
    const digest = zero ? ZERO_DIGEST : sha256(data);
    // What the snapshot holds at this index now; absent reads as zeros.
    const held = this.written.get(index) ?? await parentBlock?.digest();
    const same = held ? held.equals(digest) : zero;
    if (!same) {
      await this.put(index, zero ? ZERO_BLOCK : data, digest);
      this.written.set(index, digest);
      this.journal.record(index, digest);
    }
    if (held || !same) this.present.set(index, digest);
    const p = this.progress;
    p.blocksDone++;
    if (same) p.blocksSkipped++;
    else {
      p.blocksTransferred++;
      p.bytesTransferred += BLOCK_SIZE;
    }
    this.emit();
  }

  private put(index: number, data: Buffer, digest: Buffer): Promise<unknown> {
    const p = this.progress;
    const percent = p.blocksTotal ? Math.min(100, Math.floor((p.blocksDone * 100) / p.blocksTotal)) : 0;
    const checksum = digest.toString('base64');
    const hex = digest.toString('hex');
    return withRetry(() => {
      const command = new PutSnapshotBlockCommand({
        SnapshotId: this.snapshotId, BlockIndex: index, BlockData: data, DataLength: BLOCK_SIZE,
        Checksum: checksum, ChecksumAlgorithm: 'SHA256', Progress: percent,
      });
      command.middlewareStack.add(knownPayloadHash(hex), { step: 'build', name: 'amiforgeKnownPayloadHash' });
      return this.o.ebs.send(command);
    }, { ...this.o.retry });
  }

  private async complete(): Promise<void> {
    const count = this.written.size;
    const request = {
      SnapshotId: this.snapshotId,
      ChangedBlocksCount: count,
      ...(count ? { Checksum: linearChecksum(this.written), ChecksumAlgorithm: 'SHA256' as const, ChecksumAggregationMethod: 'LINEAR' as const } : {}),
    };
    await withRetry(async (attempt) => {
      try {
        await this.o.ebs.send(new CompleteSnapshotCommand(request));
      } catch (err) {
        // A retry after a lost answer finds the snapshot completed already: that is success.
        if (attempt > 1 && (await describeSnapshot(this.o.ec2, this.snapshotId))?.State === 'completed') return;
        throw err;
      }
    }, this.retry);
  }
}
