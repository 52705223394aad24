// What an incremental upload knows of its parent snapshot: which blocks it has and, for each,
// its SHA-256, from the local manifest cache when there is a valid one, else from the service
// one block at a time (GetSnapshotBlock), only for blocks the local file also covers.
import type { EBSClient } from '@aws-sdk/client-ebs';
import type { BlockDigests } from './blocks.ts';
import { BlockCursor, blockChecksum } from './listing.ts';
import { readManifest } from './manifest.ts';
import type { RetryOptions } from './retry.ts';

export interface ParentBlock {
  index: number;
  /** Known digest (from the manifest), or fetched on demand. */
  digest(): Promise<Buffer>;
}

export interface Parent {
  snapshotId: string;
  volumeSizeGiB: number;
  /** Where digests come from: the manifest cache, or GetSnapshotBlock per block. */
  via: 'manifest' | 'service';
  /** The parent's block at `index`, if it has one. Calls must ascend. */
  at(index: number): Promise<ParentBlock | undefined>;
  /** The parent's blocks from `from` on (ascending), continuing after the last at(). */
  from(from: number): AsyncGenerator<ParentBlock>;
}

/** Same block indexes in the listing as in the manifest: then the manifest is this snapshot's. */
async function manifestMatches(ebs: EBSClient, snapshotId: string, digests: BlockDigests, retry: RetryOptions): Promise<boolean> {
  const cursor = new BlockCursor(ebs, snapshotId, retry);
  for (const [index] of digests.entries()) {
    const b = await cursor.next();
    if (!b || b.index !== index) return false;
  }
  return (await cursor.next()) === undefined;
}

export async function loadParent(ebs: EBSClient, snapshotId: string, o: { region: string; cacheDir?: string; retry: RetryOptions }): Promise<Parent> {
  const cursor = await new BlockCursor(ebs, snapshotId, o.retry).open();
  const volumeSizeGiB = cursor.volumeSizeGiB;
  const manifest = o.cacheDir ? await readManifest(o.cacheDir, o.region, snapshotId) : undefined;
  if (manifest && manifest.volumeSizeGiB === volumeSizeGiB && await manifestMatches(ebs, snapshotId, manifest.digests, o.retry)) {
    const known = (index: number, d: Buffer): ParentBlock => {
      const copy = Buffer.from(d);
      return { index, digest: async () => copy };
    };
    return {
      snapshotId, volumeSizeGiB, via: 'manifest',
      at: async (index) => {
        const d = manifest.digests.get(index);
        return d && known(index, d);
      },
      async *from(start) {
        for (const [index, d] of manifest.digests.entries()) if (index >= start) yield known(index, d);
      },
    };
  }
  const fetched = (b: { index: number; token: string }): ParentBlock => ({ index: b.index, digest: () => blockChecksum(ebs, snapshotId, b, o.retry) });
  return {
    snapshotId, volumeSizeGiB, via: 'service',
    at: async (index) => {
      const b = await cursor.at(index);
      return b && fetched(b);
    },
    async *from(start) {
      for (let b = await cursor.next(); b; b = await cursor.next()) if (b.index >= start) yield fetched(b);
    },
  };
}
