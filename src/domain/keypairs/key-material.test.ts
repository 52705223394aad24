// Key material: what CreateKeyPair hands out reads back to the same public key, and imports in
// each accepted form give one answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { generateKey, KeyFormatError, parsePublicKey } from './key-material.ts';

test('a new RSA key: PKCS#1 PEM whose public half is the record', () => {
  const k = generateKey('rsa', 'name');
  assert.match(k.privateKey, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  const pub = createPublicKey(createPrivateKey(k.privateKey)).export({ type: 'spki', format: 'der' }).toString('base64');
  assert.equal(parsePublicKey(Buffer.from(pub)).publicKey, k.publicKey, 'base64 DER imports as the same key');
  assert.match(k.fingerprint, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
});

test('a new ED25519 key: OpenSSH format, fingerprint the SHA-256 of the public blob', () => {
  const k = generateKey('ed25519', 'name');
  assert.match(k.privateKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
  const body = Buffer.from(k.privateKey.split('\n').slice(1, -2).join(''), 'base64');
  assert.equal(body.subarray(0, 15).toString(), 'openssh-key-v1\0');
  const imported = parsePublicKey(Buffer.from(`${k.publicKey} comment\n`));
  assert.deepEqual(imported, { type: 'ed25519', publicKey: k.publicKey, fingerprint: k.fingerprint });
});

test('RFC 4716 public keys import; other text is KeyFormatError', () => {
  const k = generateKey('ed25519', 'x');
  const blob = k.publicKey.split(' ')[1];
  const rfc = `---- BEGIN SSH2 PUBLIC KEY ----\nComment: "x"\n${blob.match(/.{1,64}/g)!.join('\n')}\n---- END SSH2 PUBLIC KEY ----\n`;
  assert.equal(parsePublicKey(Buffer.from(rfc)).publicKey, k.publicKey);
  assert.throws(() => parsePublicKey(Buffer.from('hello')), KeyFormatError);
  assert.throws(() => parsePublicKey(Buffer.from('ssh-ed25519 AAAA')), KeyFormatError);
  assert.throws(() => parsePublicKey(Buffer.from('ssh-dss AAAAB3NzaC1kc3M=')), KeyFormatError);
});
