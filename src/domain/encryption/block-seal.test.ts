import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BlockTamperedError, openBlock, SEAL_OVERHEAD, sealBlock } from './block-seal.ts';

test('a sealed block opens only under its key, lineage and index; any flipped bit is detected', () => {
  const key = randomBytes(32);
  const plain = randomBytes(512 * 1024);
  const sealed = sealBlock(key, 'vol-0123456789abcdef0', 7, plain);
  assert.equal(sealed.length, plain.length + SEAL_OVERHEAD);
  assert.equal(sealed.indexOf(plain.subarray(0, 64)), -1, 'no plaintext in the sealed bytes');
  assert.deepEqual(openBlock(key, 'vol-0123456789abcdef0', 7, sealed), plain);
  assert.notDeepEqual(sealBlock(key, 'vol-0123456789abcdef0', 7, plain), sealed, 'a fresh nonce per seal');
  assert.throws(() => openBlock(key, 'vol-0123456789abcdef0', 8, sealed), BlockTamperedError, 'moved to another index');
  assert.throws(() => openBlock(key, 'vol-0123456789abcdef1', 7, sealed), BlockTamperedError, 'moved to another lineage');
  assert.throws(() => openBlock(randomBytes(32), 'vol-0123456789abcdef0', 7, sealed), BlockTamperedError, 'another key');
  for (const at of [0, 12, 1000, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at] ^= 1;
    assert.throws(() => openBlock(key, 'vol-0123456789abcdef0', 7, bad), BlockTamperedError, `bit flipped at ${at}`);
  }
  assert.throws(() => openBlock(key, 'vol-0123456789abcdef0', 7, sealed.subarray(0, 20)), BlockTamperedError, 'truncated');
});
