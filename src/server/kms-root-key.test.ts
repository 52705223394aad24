import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseServeOptions } from '../config/config.ts';
import { createLogger } from './logger.ts';
import { loadKmsRootKey } from './kms-root-key.ts';

const log = createLogger('silent');

test('where the root key comes from: the flag, then AMIFORGE_KMS_ROOT_KEY, then DATA_DIR/kms-root.key', () => {
  const key = randomBytes(32).toString('base64');
  assert.deepEqual(parseServeOptions({ dataDir: '/d', kmsRootKeyFile: '/k' }, { AMIFORGE_KMS_ROOT_KEY: key }).kmsRootKey, { file: '/k' });
  assert.deepEqual(parseServeOptions({ dataDir: '/d' }, { AMIFORGE_KMS_ROOT_KEY: key }).kmsRootKey, { base64: key });
  assert.deepEqual(parseServeOptions({ dataDir: '/d' }, {}).kmsRootKey, { dataDirFile: '/d/kms-root.key' });
  for (const bad of ['short', randomBytes(16).toString('base64'), randomBytes(33).toString('base64')]) {
    assert.throws(() => parseServeOptions({ dataDir: '/d' }, { AMIFORGE_KMS_ROOT_KEY: bad }), ConfigError);
  }
});

test('a root key file holds 32 bytes, raw or base64; DATA_DIR/kms-root.key is generated once, mode 0600', () => {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-root-key-'));
  try {
    const raw = randomBytes(32);
    writeFileSync(join(dir, 'raw'), raw, { mode: 0o600 });
    writeFileSync(join(dir, 'b64'), `${raw.toString('base64')}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'bad'), 'not a key', { mode: 0o600 });
    assert.deepEqual(loadKmsRootKey({ file: join(dir, 'raw') }, log), raw);
    assert.deepEqual(loadKmsRootKey({ file: join(dir, 'b64') }, log), raw);
    assert.throws(() => loadKmsRootKey({ file: join(dir, 'bad') }, log), /32 bytes/);
    assert.throws(() => loadKmsRootKey({ file: join(dir, 'missing') }, log), /cannot read/);
    const generatedFile = join(dir, 'data', 'kms-root.key');
    const generated = loadKmsRootKey({ dataDirFile: generatedFile }, log);
    assert.equal(generated.length, 32);
    assert.equal(statSync(generatedFile).mode & 0o777, 0o600);
    assert.equal(readFileSync(generatedFile, 'utf8').trim(), generated.toString('base64'));
    assert.deepEqual(loadKmsRootKey({ dataDirFile: generatedFile }, log), generated, 'read back, not generated again');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
