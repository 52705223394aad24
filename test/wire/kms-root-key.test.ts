// The KMS root key across restarts: keys made under a root key given as a file work after a
// restart with the same key given in the environment; a different root key is refused at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { devCredentials } from '../support/clients.ts';
import { startServer } from '../support/server.ts';

test('keys survive a restart with the same root key; another root key is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-kms-restart-'));
  const dataDir = join(dir, 'data');
  const rootKey = randomBytes(32).toString('base64');
  const keyFile = join(dir, 'root.key');
  writeFileSync(keyFile, rootKey, { mode: 0o600 });
  const client = (endpoint: string) => new KMSClient({ endpoint, region: 'us-east-1', credentials: devCredentials(), maxAttempts: 1 });
  try {
    const first = await startServer({ dataDir, extraArgs: ['--kms-root-key-file', keyFile] });
    let blob: Uint8Array;
    try {
      const kms = client(first.endpoint);
      const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
      blob = (await kms.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('kept') }))).CiphertextBlob!;
    } finally {
      await first.stop();
    }
    const second = await startServer({ dataDir, env: { AMIFORGE_KMS_ROOT_KEY: rootKey } });
    try {
      const back = await client(second.endpoint).send(new DecryptCommand({ CiphertextBlob: blob }));
      assert.equal(Buffer.from(back.Plaintext!).toString(), 'kept');
    } finally {
      await second.stop();
    }
    await assert.rejects(startServer({ dataDir, env: { AMIFORGE_KMS_ROOT_KEY: randomBytes(32).toString('base64') } }), /not the one this data directory's KMS keys are wrapped under/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
