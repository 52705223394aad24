// KMS at rest: the SQLite database (and its write-ahead log) holds key material only wrapped.
// Keys and data keys are made through KmsService on a database file; then every byte of the
// files is searched for the plaintext data keys, the keys' plaintext material and the root key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Caller } from '../../domain/context.ts';
import { KeyVault } from '../../domain/kms/key-vault.ts';
import { KmsService } from '../../domain/kms/kms-service.ts';
import { systemClock } from '../../ports/clock.ts';
import { SqliteMetadataStore } from './sqlite-store.ts';

const ALICE: Caller = { account: '111111111111', region: 'us-east-1' };

test('the database holds no plaintext key material: not the data keys, the KMS keys\' material or the root key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-kms-at-rest-'));
  const file = join(dir, 'metadata.sqlite');
  try {
    const root = randomBytes(32);
    const vault = new KeyVault(root);
    const store = new SqliteMetadataStore(file);
    const kms = new KmsService({ keys: store.keys, clock: systemClock, vault });
    const secrets: Buffer[] = [Buffer.from(root)];
    const wrappedMaterial: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const key = (await kms.keys.create(ALICE, { Description: `key ${i}` })).KeyMetadata!;
      const dataKey = await kms.crypto.generateDataKey(ALICE, { KeyId: key.Arn!, KeySpec: 'AES_256', EncryptionContext: { i: String(i) } });
      secrets.push(Buffer.from(dataKey.Plaintext));
      const viaEc2 = await kms.generateDataKeyFor(ALICE, 'alias/aws/ebs', { 'aws:ebs:id': `vol-${i}` });
      secrets.push(Buffer.from(viaEc2.plaintext));
      const wrapped = Buffer.from((await store.keys.material(key.KeyId, 1))!);
      wrappedMaterial.push(wrapped);
      vault.withMaterial(key.KeyId, 1, wrapped, (material) => { secrets.push(Buffer.from(material)); });
    }
    // A copy of the database as it is while the server runs (the WAL not yet checkpointed), then after close.
    const live = Buffer.concat([readFileSync(file), existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`) : Buffer.alloc(0)]);
    await store.close();
    const closed = Buffer.concat([readFileSync(file), existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`) : Buffer.alloc(0)]);
    for (const bytes of [live, closed]) {
      assert.ok(wrappedMaterial.every((w) => bytes.includes(w)), 'the search reads the files the wrapped material is in');
      for (const secret of secrets) {
        assert.equal(secret.length >= 32, true);
        assert.equal(bytes.includes(secret), false, `plaintext key bytes ${secret.toString('hex').slice(0, 16)}… found in the database`);
        assert.equal(bytes.includes(Buffer.from(secret.toString('base64'))), false, 'nor in base64');
        assert.equal(bytes.includes(Buffer.from(secret.toString('hex'))), false, 'nor in hex');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
