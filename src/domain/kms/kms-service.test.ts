// What the wire tests cannot time or reach: keys deleted once their deletion date passes (a
// controlled clock), the domain API other services use (EC2 calling on the caller's behalf), and
// the root key check. In process, on the SQLite metadata store in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import type { Caller } from '../context.ts';
import { KeyVault } from './key-vault.ts';
import { KmsService } from './kms-service.ts';

const ALICE: Caller = { account: '111111111111', region: 'us-east-1' };
const BOB: Caller = { account: '222222222222', region: 'us-east-1' };
const DAY = 86_400_000;

async function withKms(fn: (w: { kms: KmsService; store: SqliteMetadataStore; clock: { now(): Date; advance(ms: number): void } }) => Promise<void>) {
  const store = new SqliteMetadataStore(':memory:');
  let now = Date.parse('2025-01-01T00:00:00Z');
  const clock = { now: () => new Date(now), advance: (ms: number) => { now += ms; } };
  const kms = new KmsService({ keys: store.keys, clock, vault: new KeyVault(randomBytes(32)) });
  try {
    await fn({ kms, store, clock });
  } finally {
    await store.close();
  }
}

test('a key scheduled for deletion is deleted, with its aliases and grants, once its date has passed', () => withKms(async ({ kms, store, clock }) => {
  const { KeyMetadata: key } = await kms.keys.create(ALICE, {});
  await kms.aliases.create(ALICE, { AliasName: 'alias/doomed', TargetKeyId: key!.KeyId });
  await kms.grants.create(ALICE, { KeyId: key!.KeyId, GranteePrincipal: `arn:aws:iam::${BOB.account}:root`, Operations: ['Decrypt'] });
  const scheduled = await kms.keys.scheduleDeletion(ALICE, { KeyId: key!.KeyId, PendingWindowInDays: 7 });
  assert.equal(scheduled.DeletionDate?.getTime(), clock.now().getTime() + 7 * DAY);
  clock.advance(7 * DAY - 1);
  assert.equal((await kms.keys.describe(ALICE, { KeyId: 'alias/doomed' })).KeyMetadata?.KeyState, 'PendingDeletion');
  clock.advance(1);
  await assert.rejects(kms.keys.describe(ALICE, { KeyId: key!.KeyId }), { code: 'NotFoundException' });
  await assert.rejects(kms.keys.describe(ALICE, { KeyId: 'alias/doomed' }), { code: 'NotFoundException' });
  assert.equal(await store.keys.get('us-east-1', key!.KeyId), undefined);
  assert.equal(await store.keys.material(key!.KeyId, 1), undefined);
  assert.equal(await store.keys.getAlias(ALICE.account, 'us-east-1', 'alias/doomed'), undefined);
}));

test('listings drop keys and aliases whose deletion date has passed', () => withKms(async ({ kms, clock }) => {
  const kept = (await kms.keys.create(ALICE, {})).KeyMetadata!;
  const gone = (await kms.keys.create(ALICE, {})).KeyMetadata!;
  await kms.aliases.create(ALICE, { AliasName: 'alias/gone', TargetKeyId: gone.KeyId });
  await kms.keys.scheduleDeletion(ALICE, { KeyId: gone.KeyId, PendingWindowInDays: 30 });
  clock.advance(31 * DAY);
  assert.deepEqual((await kms.keys.list(ALICE, {})).Keys?.map((k) => k.KeyId), [kept.KeyId]);
  assert.deepEqual((await kms.aliases.list(ALICE, {})).Aliases?.map((a) => a.AliasName), ['alias/aws/ebs', 'alias/aws/ssm']);
}));

test('domain API: data keys through EC2 with the default alias/aws/ebs key, which direct KMS calls cannot use', () => withKms(async ({ kms }) => {
  const resolved = await kms.resolveKey(ALICE);
  assert.match(resolved.arn, /^arn:aws:kms:us-east-1:111111111111:key\//);
  assert.equal((await kms.keys.describe(ALICE, { KeyId: 'alias/aws/ebs' })).KeyMetadata?.KeyManager, 'AWS');
  const context = { 'aws:ebs:id': 'vol-0123456789abcdef0' };
  const dataKey = await kms.generateDataKeyFor(ALICE, 'alias/aws/ebs', context);
  assert.equal(dataKey.plaintext.length, 32);
  assert.equal(dataKey.keyArn, resolved.arn);
  const back = await kms.decryptDataKeyFor(ALICE, dataKey.wrapped, context);
  assert.deepEqual(back.plaintext, dataKey.plaintext);
  await assert.rejects(kms.decryptDataKeyFor(ALICE, dataKey.wrapped, { 'aws:ebs:id': 'vol-0fffffffffffffff0' }), { code: 'InvalidCiphertextException' });
  // The AWS managed key's policy allows use only through EC2 and only by its account.
  await assert.rejects(kms.crypto.encrypt(ALICE, { KeyId: 'alias/aws/ebs', Plaintext: Buffer.from('x') }), { code: 'AccessDeniedException' });
  await assert.rejects(kms.crypto.decrypt(ALICE, { CiphertextBlob: dataKey.wrapped, EncryptionContext: context }), { code: 'AccessDeniedException' });
  await assert.rejects(kms.decryptDataKeyFor(BOB, dataKey.wrapped, context), { code: 'AccessDeniedException' });
  assert.notEqual((await kms.resolveKey(BOB)).arn, resolved.arn, 'each account has its own AWS managed key');
}));

test('domain API: the right to use the key is checked at use, not when the data key was made', () => withKms(async ({ kms }) => {
  const key = (await kms.keys.create(ALICE, {})).KeyMetadata!;
  const dataKey = await kms.generateDataKeyFor(ALICE, key.Arn!, { volume: 'v' });
  await kms.keys.disable(ALICE, { KeyId: key.KeyId });
  await assert.rejects(kms.resolveKey(ALICE, key.Arn!), { code: 'DisabledException' });
  await assert.rejects(kms.decryptDataKeyFor(ALICE, dataKey.wrapped, { volume: 'v' }), { code: 'DisabledException' });
  await kms.keys.enable(ALICE, { KeyId: key.KeyId });
  await assert.rejects(kms.decryptDataKeyFor(BOB, dataKey.wrapped, { volume: 'v' }), { code: 'AccessDeniedException' });
  await kms.grants.create(ALICE, { KeyId: key.KeyId, GranteePrincipal: BOB.account, Operations: ['Decrypt'] });
  assert.deepEqual((await kms.decryptDataKeyFor(BOB, dataKey.wrapped, { volume: 'v' })).plaintext, dataKey.plaintext);
}));

test('the root key must be the one the store\'s key material was wrapped under', async () => {
  const store = new SqliteMetadataStore(':memory:');
  const clock = { now: () => new Date() };
  try {
    const root = randomBytes(32);
    await new KmsService({ keys: store.keys, clock, vault: new KeyVault(root) }).verifyRootKey();
    await new KmsService({ keys: store.keys, clock, vault: new KeyVault(root) }).verifyRootKey();
    await assert.rejects(new KmsService({ keys: store.keys, clock, vault: new KeyVault(randomBytes(32)) }).verifyRootKey(), /not the one/);
  } finally {
    await store.close();
  }
});
