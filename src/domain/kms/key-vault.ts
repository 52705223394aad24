// The root key and what it protects: each KMS key's material (32 random bytes) is stored only
// wrapped, AES-256-GCM under the root key with the key id and version bound in as associated
// data, so a wrapped blob cannot be moved to another key. Material is unwrapped for one
// operation at a time and wiped when the operation is done.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { Errors } from '../errors.ts';

export const ROOT_KEY_BYTES = 32;
const FORMAT = 0x01;
const NONCE = 12;
const TAG = 16;

const aad = (keyId: string, version: number) => Buffer.from(`amiforge-kms-key-material\0${keyId}\0${version}`, 'utf8');

export class KeyVault {
  private readonly root: Buffer;

  constructor(rootKey: Uint8Array) {
    if (rootKey.length !== ROOT_KEY_BYTES) throw new Error(`the KMS root key must be ${ROOT_KEY_BYTES} bytes, not ${rootKey.length}`);
    this.root = Buffer.from(rootKey);
  }

  /** Names the root key without revealing it, to tell whether a data directory's keys were wrapped under it. */
  fingerprint(): string {
    return createHmac('sha256', this.root).update('amiforge kms root key fingerprint v1').digest('hex').slice(0, 32);
  }

  /** New key material for a key, returned wrapped; the plaintext never leaves this call. */
  newMaterial(keyId: string, version: number): Buffer {
    const material = randomBytes(32);
    try {
      const nonce = randomBytes(NONCE);
      const cipher = createCipheriv('aes-256-gcm', this.root, nonce).setAAD(aad(keyId, version));
      const sealed = Buffer.concat([cipher.update(material), cipher.final()]);
      return Buffer.concat([Buffer.of(FORMAT), nonce, sealed, cipher.getAuthTag()]);
    } finally {
      material.fill(0);
    }
  }

  /** Unwraps a key's material, hands it to `use`, and wipes it afterwards. */
  withMaterial<T>(keyId: string, version: number, wrapped: Uint8Array, use: (material: Buffer) => T): T {
    const w = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
    if (w.length !== 1 + NONCE + 32 + TAG || w[0] !== FORMAT) throw Errors.kmsInternal();
    let material: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.root, w.subarray(1, 1 + NONCE)).setAAD(aad(keyId, version));
      decipher.setAuthTag(w.subarray(w.length - TAG));
      material = Buffer.concat([decipher.update(w.subarray(1 + NONCE, w.length - TAG)), decipher.final()]);
    } catch {
      // The root key does not open what it wrapped: the store was altered or the key changed.
      throw Errors.kmsInternal();
    }
    try {
      return use(material);
    } finally {
      material.fill(0);
    }
  }
}
