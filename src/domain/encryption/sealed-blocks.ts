// Storing and loading one block of a lineage, sealed when the lineage is encrypted. Unencrypted
// blocks are stored as they are (address = checksum = SHA-256 of the data); sealed ones under the
// SHA-256 of the sealed bytes, with the plaintext's SHA-256 kept as the entry's checksum.
import { createHash } from 'node:crypto';
import type { BlockStore } from '../../ports/block-store.ts';
import { openBlock, sealBlock } from './block-seal.ts';

/** An unlocked lineage: its data key (in memory only while in use) and its id. */
export interface Sealing { key: Buffer; lineage: string }

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export async function storeBlock(blocks: BlockStore, region: string, index: number, plaintext: Buffer, sealing: Sealing | undefined,
  checksum = sealing ? sha256(plaintext) : undefined): Promise<{ hash: string; checksum?: string }> {
  if (!sealing) {
    const hash = checksum ?? sha256(plaintext);
    await blocks.put(region, hash, plaintext);
    return { hash };
  }
  const sealed = sealBlock(sealing.key, sealing.lineage, index, plaintext);
  const hash = sha256(sealed);
  await blocks.put(region, hash, sealed);
  return { hash, checksum };
}

/** The block's plaintext; BlockTamperedError when a sealed block fails authentication. */
export async function loadBlock(blocks: BlockStore, region: string, index: number, hash: string, sealing: Sealing | undefined): Promise<Buffer> {
  const stored = await blocks.get(region, hash);
  return sealing ? openBlock(sealing.key, sealing.lineage, index, stored) : stored;
}
