// Walking a snapshot's blocks through ListSnapshotBlocks, one page at a time (so memory holds
// one page, not the whole map), and asking for one block's checksum.
import { GetSnapshotBlockCommand, ListSnapshotBlocksCommand, type EBSClient } from '@aws-sdk/client-ebs';
import { withRetry, type RetryOptions } from './retry.ts';

export interface ListedBlock {
  index: number;
  token: string;
}

const PAGE = 10_000;

/** A forward-only cursor over a snapshot's blocks in ascending index order. */
export class BlockCursor {
  private readonly ebs: EBSClient;
  private readonly snapshotId: string;
  private readonly retry: RetryOptions;
  private page: ListedBlock[] = [];
  private pos = 0;
  private nextToken: string | undefined;
  private started = false;
  volumeSizeGiB = 0;
  /** Blocks listed so far (pages fetched), consumed or not. */
  listed = 0;

  constructor(ebs: EBSClient, snapshotId: string, retry: RetryOptions = {}) {
    this.ebs = ebs;
    this.snapshotId = snapshotId;
    this.retry = retry;
  }

  private async fetch(): Promise<void> {
    const out = await withRetry(() => this.ebs.send(new ListSnapshotBlocksCommand({
      SnapshotId: this.snapshotId, MaxResults: PAGE, NextToken: this.nextToken,
    })), this.retry);
    this.started = true;
    this.volumeSizeGiB = Number(out.VolumeSize ?? 0);
    this.page = (out.Blocks ?? []).map((b) => ({ index: b.BlockIndex!, token: b.BlockToken! }));
    this.pos = 0;
    this.listed += this.page.length;
    this.nextToken = out.NextToken || undefined;
  }

  /** Reads the first page (volume size included); later calls do nothing. */
  async open(): Promise<this> {
    if (!this.started) await this.fetch();
    return this;
  }

  /** The next block without consuming it; undefined at the end. */
  async peek(): Promise<ListedBlock | undefined> {
    await this.open();
    while (this.pos >= this.page.length) {
      if (!this.nextToken) return undefined;
      await this.fetch();
    }
    return this.page[this.pos];
  }

  async next(): Promise<ListedBlock | undefined> {
    const b = await this.peek();
    if (b) this.pos++;
    return b;
  }

  /** The block at `index` if present; skips blocks before it. Calls must ascend. */
  async at(index: number): Promise<ListedBlock | undefined> {
    for (let b = await this.peek(); b && b.index <= index; b = await this.peek()) {
      this.pos++;
      if (b.index === index) return b;
    }
    return undefined;
  }
}

/**
 * A block's SHA-256 as the service states it (GetSnapshotBlock's x-amz-Checksum). The block's
 * bytes come along and are read and dropped, which keeps the connection reusable.
 */
export async function blockChecksum(ebs: EBSClient, snapshotId: string, block: ListedBlock, retry: RetryOptions = {}): Promise<Buffer> {
  return withRetry(async () => {
    const out = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: block.index, BlockToken: block.token }));
    const body = out.BlockData as unknown as AsyncIterable<Uint8Array> | undefined;
    if (body) for await (const _ of body); // drain
    const digest = Buffer.from(out.Checksum ?? '', 'base64');
    if (out.ChecksumAlgorithm !== 'SHA256' || digest.length !== 32) {
      throw new Error(`GetSnapshotBlock gave no SHA256 checksum for block ${block.index} of ${snapshotId}`);
    }
    return digest;
  }, retry);
}
