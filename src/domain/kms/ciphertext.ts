// KMS ciphertext blobs. Self-describing, as AWS's are: the blob names the key and the version of
// its material, so Decrypt finds the key without a KeyId. AES-256-GCM; the header and the
// encryption context are the associated data, so a changed header or a different context fails
// authentication (InvalidCiphertextException) instead of decrypting.
//
//   0      1 byte    format (1)
//   1     16 bytes   key id (the UUID's bytes)
//   17     4 bytes   key material version, big-endian
//   21    12 bytes   nonce
//   33     n bytes   ciphertext
//   33+n  16 bytes   GCM tag
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Errors } from '../errors.ts';

const FORMAT = 0x01;
const HEADER = 21;
const NONCE = 12;
const TAG = 16;

export interface CiphertextHeader { keyId: string; version: number }

const uuidBytes = (keyId: string) => Buffer.from(keyId.replaceAll('-', ''), 'hex');
const uuidText = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** The encryption context as unambiguous bytes: pairs sorted by key, each part length-prefixed. */
export function encodeContext(context: Record<string, string> | undefined): Buffer {
  const parts: Buffer[] = [];
  for (const key of Object.keys(context ?? {}).sort()) {
    for (const text of [key, context![key]]) {
      const b = Buffer.from(text, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

export function seal(material: Buffer, header: CiphertextHeader, plaintext: Uint8Array, context: Record<string, string> | undefined): Buffer {
  const head = Buffer.alloc(HEADER);
  head[0] = FORMAT;
  uuidBytes(header.keyId).copy(head, 1);
  head.writeUInt32BE(header.version, 17);
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', material, nonce).setAAD(Buffer.concat([head, encodeContext(context)]));
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([head, nonce, sealed, cipher.getAuthTag()]);
}

/** The key a blob names; InvalidCiphertextException when it is not one of amiforge's blobs. */
export function readHeader(blob: Uint8Array): CiphertextHeader {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < HEADER + NONCE + TAG || b[0] !== FORMAT) throw Errors.kmsInvalidCiphertext();
  return { keyId: uuidText(b.subarray(1, 17)), version: b.readUInt32BE(17) };
}

export function open(material: Buffer, blob: Uint8Array, context: Record<string, string> | undefined): Buffer {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  readHeader(b);
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, b.subarray(HEADER, HEADER + NONCE))
      .setAAD(Buffer.concat([b.subarray(0, HEADER), encodeContext(context)]));
    decipher.setAuthTag(b.subarray(b.length - TAG));
    return Buffer.concat([decipher.update(b.subarray(HEADER + NONCE, b.length - TAG)), decipher.final()]);
  } catch {
    throw Errors.kmsInvalidCiphertext();
  }
}
