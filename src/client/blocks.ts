// Block arithmetic shared by upload and download: the EBS direct APIs move a volume in 512 KiB
// blocks, each named by its index and checked by the SHA-256 of its bytes.
import { createHash } from 'node:crypto';

export const BLOCK_SIZE = 512 * 1024;
export const GIB = 1024 * 1024 * 1024;
export const BLOCKS_PER_GIB = GIB / BLOCK_SIZE;

/** A block of zeros: compared against with memcmp (Buffer.equals), never written. */
export const ZERO_BLOCK: Buffer = Buffer.alloc(BLOCK_SIZE);

export const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

/** SHA-256 of a zero block: what an absent block of a snapshot reads as. */
export const ZERO_DIGEST: Buffer = sha256(ZERO_BLOCK);

/** True when every byte of `data` (at most a block long) is zero. */
export const isZeroBlock = (data: Uint8Array): boolean =>
  data.length <= BLOCK_SIZE && ZERO_BLOCK.compare(data, 0, data.length, 0, data.length) === 0;

/** Whole GiB needed for `bytes` (at least 1, as EBS volumes are). */
export const gibFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / GIB));

/**
 * Block digests by index, for sets too large for a Map of strings: digests live in chunks of
 * 4096 blocks (128 KiB each) allocated only where some block is present, so memory follows the
 * blocks present (32 bytes and a flag per block of a touched chunk), not the volume size.
 */
export class BlockDigests {
  private static readonly CHUNK = 4096;
  private readonly chunks = new Map<number, { digests: Buffer; present: Uint8Array }>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  set(index: number, digest: Uint8Array): void {
    const c = Math.floor(index / BlockDigests.CHUNK);
    let chunk = this.chunks.get(c);
    if (!chunk) {
      chunk = { digests: Buffer.alloc(BlockDigests.CHUNK * 32), present: new Uint8Array(BlockDigests.CHUNK) };
      this.chunks.set(c, chunk);
    }
    const slot = index % BlockDigests.CHUNK;
    if (!chunk.present[slot]) this.count++;
    chunk.present[slot] = 1;
    chunk.digests.set(digest.subarray(0, 32), slot * 32);
  }

  /** The digest at `index` (a view: copy it to keep it past a later set), or undefined. */
  get(index: number): Buffer | undefined {
    const chunk = this.chunks.get(Math.floor(index / BlockDigests.CHUNK));
    const slot = index % BlockDigests.CHUNK;
    return chunk?.present[slot] ? chunk.digests.subarray(slot * 32, slot * 32 + 32) : undefined;
  }

  has(index: number): boolean {
    return this.get(index) !== undefined;
  }

  /** Present blocks in ascending index order. */
  *entries(): Generator<[number, Buffer]> {
    for (const c of [...this.chunks.keys()].sort((a, b) => a - b)) {
      const chunk = this.chunks.get(c)!;
      for (let slot = 0; slot < BlockDigests.CHUNK; slot++) {
        if (chunk.present[slot]) yield [c * BlockDigests.CHUNK + slot, chunk.digests.subarray(slot * 32, slot * 32 + 32)];
      }
    }
  }
}

/** The LINEAR aggregate checksum: SHA-256 over the blocks' raw digests in index order (base64). */
export function linearChecksum(digests: BlockDigests): string {
  const h = createHash('sha256');
  for (const [, d] of digests.entries()) h.update(d);
  return h.digest('base64');
}
