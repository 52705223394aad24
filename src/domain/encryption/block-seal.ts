// Sealing the blocks of an encrypted lineage (a volume, the snapshots taken from it, the volumes
// made from those): AES-256-GCM under the lineage's data key, a random 96-bit nonce per block,
// and the block's identity (lineage id and block index) as associated data, so a sealed block
// moved to another index or another lineage fails to open. Stored layout: nonce || ciphertext ||
// tag. The stored hash (the block's address) is the SHA-256 of these sealed bytes; the EBS
// checksum stays the SHA-256 of the plaintext, kept beside it in the block map.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const NONCE = 12;
const TAG = 16;
/** Bytes a sealed block adds to its plaintext. */
export const SEAL_OVERHEAD = NONCE + TAG;

/** A sealed block does not open under its lineage's key at its index: tampered or misplaced. */
export class BlockTamperedError extends Error {
  constructor(lineage: string, index: number) {
    super(`encrypted block ${index} of ${lineage} failed authentication (tampered with or moved)`);
  }
}

function identity(lineage: string, index: number): Buffer {
  const id = Buffer.from(lineage, 'utf8');
  const out = Buffer.alloc(id.length + 8);
  id.copy(out);
  out.writeBigUInt64BE(BigInt(index), id.length);
  return out;
}

export function sealBlock(key: Buffer, lineage: string, index: number, plaintext: Buffer): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(identity(lineage, index));
  const out = Buffer.allocUnsafe(NONCE + plaintext.length + TAG);
  nonce.copy(out, 0);
  let at = NONCE + cipher.update(plaintext).copy(out, NONCE);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

export function openBlock(key: Buffer, lineage: string, index: number, sealed: Buffer): Buffer {
  if (sealed.length < SEAL_OVERHEAD) throw new BlockTamperedError(lineage, index);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE));
  decipher.setAAD(identity(lineage, index));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  try {
    const a = decipher.update(sealed.subarray(NONCE, sealed.length - TAG));
    const b = decipher.final();
    return b.length ? Buffer.concat([a, b]) : a;
  } catch {
    throw new BlockTamperedError(lineage, index);
  }
}
