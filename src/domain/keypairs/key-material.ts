// SSH key material as EC2 hands it out and takes it in: new RSA keys as PKCS#1 PEM and ED25519
// keys in OpenSSH's private-key format (what `ssh -i` reads), public keys in OpenSSH form, and
// fingerprints computed as EC2 documents them.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';

export type KeyType = 'rsa' | 'ed25519';

/** SSH wire encoding: a uint32 length, then the bytes. */
const sshString = (b: Buffer | string): Buffer => {
  const data = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
};

/** An SSH mpint: big-endian, with a leading zero when the top bit is set. */
const mpint = (b: Buffer): Buffer => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const trimmed = b.subarray(i);
  return sshString(trimmed[0] & 0x80 ? Buffer.concat([Buffer.alloc(1), trimmed]) : trimmed);
};

const uint32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

const b64url = (s: string | undefined) => Buffer.from(s ?? '', 'base64url');

/** The OpenSSH public key blob (what follows `ssh-rsa ` in authorized_keys, decoded). */
export function publicBlob(key: KeyObject): { type: string; blob: Buffer } {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') return { type: 'ssh-rsa', blob: Buffer.concat([sshString('ssh-rsa'), mpint(b64url(jwk.e)), mpint(b64url(jwk.n))]) };
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return { type: 'ssh-ed25519', blob: Buffer.concat([sshString('ssh-ed25519'), sshString(b64url(jwk.x))]) };
  throw new Error(`unsupported key type ${jwk.kty}`);
}

export const openSshPublicKey = (key: KeyObject): string => {
  const { type, blob } = publicBlob(key);
  return `${type} ${blob.toString('base64')}`;
};

const colonHex = (b: Buffer) => b.toString('hex').match(/../g)!.join(':');

/**
 * EC2's fingerprints: ED25519 keys, the base64 SHA-256 of the public key (OpenSSH's default);
 * RSA keys EC2 created, the SHA-1 of the private key in PKCS#8 DER; imported RSA keys, the MD5
 * of the public key blob as RFC 4716 section 4 defines it (`ssh-keygen -l -E md5`).
 */
export function fingerprint(type: KeyType, pub: KeyObject, createdPrivate?: KeyObject): string {
  if (type === 'ed25519') return createHash('sha256').update(publicBlob(pub).blob).digest('base64');
  if (createdPrivate) return colonHex(createHash('sha1').update(createdPrivate.export({ type: 'pkcs8', format: 'der' })).digest());
  return colonHex(createHash('md5').update(publicBlob(pub).blob).digest());
}

const armor = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der.toString('base64').match(/.{1,70}/g)!.join('\n')}\n-----END ${label}-----\n`;

/** An ED25519 private key in OpenSSH's format (unencrypted), as `ssh-keygen -t ed25519` writes it. */
function openSshPrivateKey(priv: KeyObject, pub: KeyObject, comment: string): string {
  const jwk = priv.export({ format: 'jwk' });
  const seed = b64url(jwk.d);
  const x = b64url(jwk.x);
  const { blob } = publicBlob(pub);
  const check = randomBytes(4);
  let section = Buffer.concat([check, check, sshString('ssh-ed25519'), sshString(x), sshString(Buffer.concat([seed, x])), sshString(comment)]);
  const pad = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), uint32(1), sshString(blob), sshString(section),
  ]);
  return armor('OPENSSH PRIVATE KEY', body);
}

export interface NewKey { type: KeyType; privateKey: string; publicKey: string; fingerprint: string }

/** A new key pair: the private key for the caller (once), the rest for the record. */
export function generateKey(type: KeyType, comment: string): NewKey {
  if (type === 'ed25519') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return { type, privateKey: openSshPrivateKey(privateKey, publicKey, comment), publicKey: openSshPublicKey(publicKey), fingerprint: fingerprint(type, publicKey) };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    type, privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), publicKey: openSshPublicKey(publicKey),
    fingerprint: fingerprint(type, publicKey, privateKey),
  };
}

export class KeyFormatError extends Error {}

function readString(buf: Buffer, at: number): [Buffer, number] {
  if (at + 4 > buf.length) throw new KeyFormatError('truncated key blob');
  const len = buf.readUInt32BE(at);
  if (at + 4 + len > buf.length) throw new KeyFormatError('truncated key blob');
  return [buf.subarray(at + 4, at + 4 + len), at + 4 + len];
}

/** The key in an OpenSSH public key blob. */
function fromBlob(blob: Buffer): { type: KeyType; key: KeyObject } {
  const [name, at] = readString(blob, 0);
  if (name.toString() === 'ssh-ed25519') {
    const [x] = readString(blob, at);
    if (x.length !== 32) throw new KeyFormatError('an ed25519 key is 32 bytes');
    return { type: 'ed25519', key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: x.toString('base64url') }, format: 'jwk' }) };
  }
  if (name.toString() === 'ssh-rsa') {
    const [e, at2] = readString(blob, at);
    const [n] = readString(blob, at2);
    const strip = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
    return { type: 'rsa', key: createPublicKey({ key: { kty: 'RSA', e: strip(e).toString('base64url'), n: strip(n).toString('base64url') }, format: 'jwk' }) };
  }
  throw new KeyFormatError(`key type ${name.toString() || '(none)'} is not supported (ssh-rsa, ssh-ed25519)`);
}

/**
 * An imported public key, in any of the forms EC2 takes: OpenSSH (`ssh-rsa AAAA... comment`),
 * RFC 4716 (`---- BEGIN SSH2 PUBLIC KEY ----`), or base64 DER (SubjectPublicKeyInfo).
 */
export function parsePublicKey(material: Buffer): { type: KeyType; publicKey: string; fingerprint: string } {
  const text = material.toString('utf8').trim();
  let parsed: { type: KeyType; key: KeyObject };
  try {
    const openssh = /^(ssh-rsa|ssh-ed25519)\s+([A-Za-z0-9+/=]+)(\s.*)?$/s.exec(text);
    if (openssh) parsed = fromBlob(Buffer.from(openssh[2], 'base64'));
    else if (text.startsWith('---- BEGIN SSH2 PUBLIC KEY ----')) {
      const body = text.split(/\r?\n/).filter((l) => !l.startsWith('----') && !/^[A-Za-z-]+:/.test(l) && !l.endsWith('\\')).join('');
      parsed = fromBlob(Buffer.from(body, 'base64'));
    } else if (/^[A-Za-z0-9+/=\s]+$/.test(text)) {
      const key = createPublicKey({ key: Buffer.from(text.replace(/\s/g, ''), 'base64'), format: 'der', type: 'spki' });
      if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ed25519') throw new KeyFormatError(`key type ${key.asymmetricKeyType} is not supported`);
      parsed = { type: key.asymmetricKeyType, key };
    } else {
      throw new KeyFormatError('expected "ssh-rsa AAAA..." or "ssh-ed25519 AAAA..."');
    }
  } catch (err) {
    if (err instanceof KeyFormatError) throw err;
    throw new KeyFormatError((err as Error).message);
  }
  if (parsed.type === 'rsa') {
    const bits = parsed.key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 1024 || bits > 16384) throw new KeyFormatError(`an RSA key of ${bits} bits is outside 1024 to 16384`);
  }
  return { type: parsed.type, publicKey: openSshPublicKey(parsed.key), fingerprint: fingerprint(parsed.type, parsed.key) };
}
