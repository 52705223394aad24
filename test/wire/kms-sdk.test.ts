// KMS through the AWS SDK for JavaScript v3 (and a round trip each through the aws CLI and
// boto3), against a server in strict mode with two accounts: key lifecycle, aliases, key
// policies and grants from both accounts' sides, the cryptographic operations and their errors,
// and the AWS managed alias/aws/ebs key.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CancelKeyDeletionCommand, CreateAliasCommand, CreateGrantCommand, CreateKeyCommand, DecryptCommand, DeleteAliasCommand,
  DescribeKeyCommand, DisableKeyCommand, EnableKeyCommand, EncryptCommand, GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand, GenerateRandomCommand, GetKeyPolicyCommand, KMSClient, ListAliasesCommand,
  ListGrantsCommand, ListKeyPoliciesCommand, ListKeysCommand, ListResourceTagsCommand, ListRetirableGrantsCommand,
  PutKeyPolicyCommand, ReEncryptCommand, RetireGrantCommand, RevokeGrantCommand, ScheduleKeyDeletionCommand, SignCommand,
  TagResourceCommand, UntagResourceCommand, UpdateAliasCommand, UpdateKeyDescriptionCommand, type KeyMetadata,
} from '@aws-sdk/client-kms';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, credentialsOf } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';

let server: RunningServer;
let alice: KMSClient;
let bob: KMSClient;
const BOB_ROOT = `arn:aws:iam::${BOB.id}:root`;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  [alice, bob] = [ALICE, BOB].map((a) => new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(a), maxAttempts: 1 }));
});
after(async () => {
  await server?.stop();
});

type Key = KeyMetadata & { KeyId: string; Arn: string };
const newKey = async (client = alice, extra = {}): Promise<Key> => (await client.send(new CreateKeyCommand(extra))).KeyMetadata as Key;
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('utf8');
const encrypt = (client: KMSClient, KeyId: string, plaintext = 'secret', EncryptionContext?: Record<string, string>) =>
  client.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from(plaintext), EncryptionContext }));
/** A key policy: Alice's root may do everything, plus `extra` statements. */
const policyWith = (...extra: object[]) => JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'owner', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ALICE.id}:root` }, Action: 'kms:*', Resource: '*' }, ...extra],
});

describe('keys', () => {
  test('CreateKey, DescribeKey by id, ARN, alias name and alias ARN, ListKeys with paging', async () => {
    const key = await newKey(alice, { Description: 'wire test', Tags: [{ TagKey: 'team', TagValue: 'blue' }] });
    assert.match(key.KeyId, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(key.Arn, `arn:aws:kms:us-east-1:${ALICE.id}:key/${key.KeyId}`);
    assert.deepEqual(
      { a: key.AWSAccountId, e: key.Enabled, s: key.KeyState, u: key.KeyUsage, spec: key.KeySpec, m: key.KeyManager, o: key.Origin, alg: key.EncryptionAlgorithms, d: key.Description },
      { a: ALICE.id, e: true, s: 'Enabled', u: 'ENCRYPT_DECRYPT', spec: 'SYMMETRIC_DEFAULT', m: 'CUSTOMER', o: 'AWS_KMS', alg: ['SYMMETRIC_DEFAULT'], d: 'wire test' });
    assert.ok(key.CreationDate instanceof Date && Math.abs(key.CreationDate.getTime() - Date.now()) < 60_000);
    await alice.send(new UpdateKeyDescriptionCommand({ KeyId: key.KeyId, Description: 'described' }));
    await alice.send(new CreateAliasCommand({ AliasName: 'alias/wire-describe', TargetKeyId: key.KeyId }));
    for (const id of [key.KeyId, key.Arn, 'alias/wire-describe', `arn:aws:kms:us-east-1:${ALICE.id}:alias/wire-describe`]) {
      const described = (await alice.send(new DescribeKeyCommand({ KeyId: id }))).KeyMetadata;
      assert.deepEqual([described?.KeyId, described?.Description], [key.KeyId, 'described'], id);
    }
    await newKey();
    const all = (await alice.send(new ListKeysCommand({}))).Keys!;
    assert.ok(all.some((k) => k.KeyId === key.KeyId && k.KeyArn === key.Arn));
    const first = await alice.send(new ListKeysCommand({ Limit: 1 }));
    assert.equal(first.Keys?.length, 1);
    assert.equal(first.Truncated, true);
    const rest = await alice.send(new ListKeysCommand({ Marker: first.NextMarker }));
    assert.deepEqual([...first.Keys!, ...rest.Keys!].map((k) => k.KeyId), all.map((k) => k.KeyId));
    assert.ok(!(await bob.send(new ListKeysCommand({}))).Keys!.some((k) => k.KeyId === key.KeyId), 'keys are per account');
    await expectAwsError(alice.send(new ListKeysCommand({ Marker: 'garbage' })), { name: 'InvalidMarkerException', status: 400 });
    await expectAwsError(alice.send(new DescribeKeyCommand({ KeyId: '00000000-0000-4000-8000-000000000000' })), {
      name: 'NotFoundException', status: 400, message: `Key 'arn:aws:kms:us-east-1:${ALICE.id}:key/00000000-0000-4000-8000-000000000000' does not exist` });
    await expectAwsError(alice.send(new CreateKeyCommand({ KeySpec: 'RSA_2048' })), { name: 'UnsupportedOperationException', status: 400 });
  });

  test('DisableKey and EnableKey: a disabled key refuses cryptographic use', async () => {
    const key = await newKey();
    await alice.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const described = (await alice.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    assert.deepEqual([described.Enabled, described.KeyState], [false, 'Disabled']);
    await expectAwsError(encrypt(alice, key.KeyId), { name: 'DisabledException', status: 400, message: `${key.Arn} is disabled.` });
    await expectAwsError(alice.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' })), { name: 'DisabledException' });
    await alice.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    assert.ok((await encrypt(alice, key.KeyId)).CiphertextBlob);
  });

  test('ScheduleKeyDeletion (7-30 days) and CancelKeyDeletion: a key pending deletion refuses use', async () => {
    const key = await newKey();
    const ciphertext = (await encrypt(alice, key.KeyId)).CiphertextBlob!;
    for (const days of [6, 31]) {
      await expectAwsError(alice.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: days })), { name: 'ValidationException', status: 400, message: /pendingWindowInDays/ });
    }
    const before = Date.now();
    const scheduled = await alice.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId, PendingWindowInDays: 7 }));
    assert.deepEqual([scheduled.KeyId, scheduled.KeyState, scheduled.PendingWindowInDays], [key.Arn, 'PendingDeletion', 7]);
    assert.ok(Math.abs(scheduled.DeletionDate!.getTime() - (before + 7 * 86_400_000)) < 60_000);
    const described = (await alice.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata!;
    assert.deepEqual([described.KeyState, described.Enabled, described.DeletionDate?.getTime()], ['PendingDeletion', false, scheduled.DeletionDate?.getTime()]);
    const pending = { name: 'KMSInvalidStateException', status: 400, message: `${key.Arn} is pending deletion.` };
    await expectAwsError(encrypt(alice, key.KeyId), pending);
    await expectAwsError(alice.send(new DecryptCommand({ CiphertextBlob: ciphertext })), pending);
    await expectAwsError(alice.send(new EnableKeyCommand({ KeyId: key.KeyId })), pending);
    await expectAwsError(alice.send(new ScheduleKeyDeletionCommand({ KeyId: key.KeyId })), pending);
    assert.equal((await alice.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId }))).KeyId, key.Arn);
    assert.equal((await alice.send(new DescribeKeyCommand({ KeyId: key.KeyId }))).KeyMetadata?.KeyState, 'Disabled');
    await expectAwsError(alice.send(new CancelKeyDeletionCommand({ KeyId: key.KeyId })), { name: 'KMSInvalidStateException' });
    await alice.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    assert.equal(text((await alice.send(new DecryptCommand({ CiphertextBlob: ciphertext }))).Plaintext), 'secret');
  });

  test('TagResource, ListResourceTags, UntagResource', async () => {
    const key = await newKey(alice, { Tags: [{ TagKey: 'a', TagValue: '1' }] });
    await alice.send(new TagResourceCommand({ KeyId: key.Arn, Tags: [{ TagKey: 'b', TagValue: '2' }, { TagKey: 'a', TagValue: '3' }] }));
    assert.deepEqual((await alice.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags, [{ TagKey: 'a', TagValue: '3' }, { TagKey: 'b', TagValue: '2' }]);
    const page = await alice.send(new ListResourceTagsCommand({ KeyId: key.KeyId, Limit: 1 }));
    assert.deepEqual([page.Tags?.length, page.Truncated], [1, true]);
    await alice.send(new UntagResourceCommand({ KeyId: key.KeyId, TagKeys: ['a'] }));
    assert.deepEqual((await alice.send(new ListResourceTagsCommand({ KeyId: key.KeyId }))).Tags, [{ TagKey: 'b', TagValue: '2' }]);
    await expectAwsError(alice.send(new TagResourceCommand({ KeyId: key.KeyId, Tags: [{ TagKey: 'aws:x', TagValue: '' }] })), { name: 'TagException' });
    await expectAwsError(bob.send(new TagResourceCommand({ KeyId: key.Arn, Tags: [{ TagKey: 'c', TagValue: '' }] })), { name: 'AccessDeniedException' });
  });
});

describe('aliases', () => {
  test('CreateAlias, UpdateAlias, ListAliases, DeleteAlias and their errors; aliases are per account', async () => {
    const [k1, k2] = [await newKey(), await newKey()];
    await alice.send(new CreateAliasCommand({ AliasName: 'alias/wire-app', TargetKeyId: k1.Arn }));
    const aliasArn = `arn:aws:kms:us-east-1:${ALICE.id}:alias/wire-app`;
    await expectAwsError(alice.send(new CreateAliasCommand({ AliasName: 'alias/wire-app', TargetKeyId: k2.KeyId })), {
      name: 'AlreadyExistsException', status: 400, message: `An alias with the name ${aliasArn} already exists` });
    await expectAwsError(alice.send(new CreateAliasCommand({ AliasName: 'wire-app', TargetKeyId: k2.KeyId })), { name: 'ValidationException', message: /prefix "alias\/"/ });
    await expectAwsError(alice.send(new CreateAliasCommand({ AliasName: 'alias/aws/mine', TargetKeyId: k2.KeyId })), { name: 'InvalidAliasNameException' });
    await expectAwsError(alice.send(new CreateAliasCommand({ AliasName: 'alias/bad name', TargetKeyId: k2.KeyId })), { name: 'ValidationException' });
    const listed = (await alice.send(new ListAliasesCommand({}))).Aliases!;
    const entry = listed.find((a) => a.AliasName === 'alias/wire-app');
    assert.deepEqual([entry?.AliasArn, entry?.TargetKeyId], [aliasArn, k1.KeyId]);
    assert.ok(entry?.CreationDate instanceof Date);
    assert.ok(listed.some((a) => a.AliasName === 'alias/aws/ebs'), 'AWS managed aliases are listed');
    assert.deepEqual((await alice.send(new ListAliasesCommand({ KeyId: k1.KeyId }))).Aliases?.map((a) => a.AliasName), ['alias/wire-app']);
    await alice.send(new UpdateAliasCommand({ AliasName: 'alias/wire-app', TargetKeyId: k2.KeyId }));
    assert.equal((await alice.send(new DescribeKeyCommand({ KeyId: 'alias/wire-app' }))).KeyMetadata?.KeyId, k2.KeyId);
    // Bob has his own alias names: Alice's alias is not his, not by name.
    await expectAwsError(bob.send(new DescribeKeyCommand({ KeyId: 'alias/wire-app' })), {
      name: 'NotFoundException', message: `Alias arn:aws:kms:us-east-1:${BOB.id}:alias/wire-app is not found.` });
    const bobKey = await newKey(bob);
    await bob.send(new CreateAliasCommand({ AliasName: 'alias/wire-app', TargetKeyId: bobKey.KeyId }));
    assert.equal((await bob.send(new DescribeKeyCommand({ KeyId: 'alias/wire-app' }))).KeyMetadata?.KeyId, bobKey.KeyId);
    await expectAwsError(bob.send(new CreateAliasCommand({ AliasName: 'alias/bob-on-alice', TargetKeyId: k1.Arn })), { name: 'AccessDeniedException' });
    await alice.send(new DeleteAliasCommand({ AliasName: 'alias/wire-app' }));
    await expectAwsError(alice.send(new DescribeKeyCommand({ KeyId: 'alias/wire-app' })), { name: 'NotFoundException' });
    await expectAwsError(alice.send(new DeleteAliasCommand({ AliasName: 'alias/wire-app' })), { name: 'NotFoundException' });
    await expectAwsError(alice.send(new DeleteAliasCommand({ AliasName: 'alias/aws/ebs' })), { name: 'InvalidAliasNameException' });
  });
});

describe('key policies', () => {
  test('GetKeyPolicy, ListKeyPolicies, PutKeyPolicy, and the lockout safety check', async () => {
    const key = await newKey();
    const policy = JSON.parse((await alice.send(new GetKeyPolicyCommand({ KeyId: key.KeyId }))).Policy!);
    assert.deepEqual(policy.Statement, [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ALICE.id}:root` }, Action: 'kms:*', Resource: '*' }]);
    assert.deepEqual((await alice.send(new ListKeyPoliciesCommand({ KeyId: key.KeyId }))).PolicyNames, ['default']);
    await expectAwsError(alice.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: '{not json' })), { name: 'MalformedPolicyDocumentException', status: 400 });
    await expectAwsError(alice.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: policyWith({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::nobody:root' }, Action: 'kms:*', Resource: '*' }) })), {
      name: 'MalformedPolicyDocumentException', message: 'Policy contains a statement with one or more invalid principals.' });
    const bobOnly = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: BOB_ROOT }, Action: 'kms:Encrypt', Resource: '*' }] });
    await expectAwsError(alice.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: bobOnly })), {
      name: 'MalformedPolicyDocumentException', message: 'The new key policy will not allow you to update the key policy in the future.' });
    await alice.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, Policy: bobOnly, BypassPolicyLockoutSafetyCheck: true }));
    // Alice's own key policy no longer lets Alice do anything, as in AWS.
    await expectAwsError(alice.send(new GetKeyPolicyCommand({ KeyId: key.KeyId })), {
      name: 'AccessDeniedException', status: 400,
      message: `User: arn:aws:iam::${ALICE.id}:root is not authorized to perform: kms:GetKeyPolicy on resource: ${key.Arn} because no resource-based policy allows the kms:GetKeyPolicy action` });
    await expectAwsError(encrypt(alice, key.KeyId), { name: 'AccessDeniedException' });
    assert.ok((await encrypt(bob, key.Arn)).CiphertextBlob);
  });

  test('another account: denied without the key policy, allowed by it for the listed actions only', async () => {
    const key = await newKey();
    await alice.send(new CreateAliasCommand({ AliasName: 'alias/wire-shared', TargetKeyId: key.KeyId }));
    const aliceCiphertext = (await encrypt(alice, key.KeyId, 'for bob', { purpose: 'share' })).CiphertextBlob!;
    await expectAwsError(encrypt(bob, key.Arn), {
      name: 'AccessDeniedException', status: 400,
      message: `User: ${BOB_ROOT} is not authorized to perform: kms:Encrypt on resource: ${key.Arn} because no resource-based policy allows the kms:Encrypt action` });
    await expectAwsError(bob.send(new DecryptCommand({ CiphertextBlob: aliceCiphertext, EncryptionContext: { purpose: 'share' } })), { name: 'AccessDeniedException' });
    await expectAwsError(bob.send(new DescribeKeyCommand({ KeyId: key.Arn })), { name: 'AccessDeniedException' });
    // A bare key id is looked up in the caller's own account.
    await expectAwsError(encrypt(bob, key.KeyId), { name: 'NotFoundException' });
    await alice.send(new PutKeyPolicyCommand({
      KeyId: key.KeyId,
      Policy: policyWith({ Sid: 'bob', Effect: 'Allow', Principal: { AWS: BOB_ROOT }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:DescribeKey', 'kms:DisableKey'], Resource: '*' }),
    }));
    const bobCiphertext = await encrypt(bob, key.Arn, 'from bob');
    assert.equal(bobCiphertext.KeyId, key.Arn);
    assert.equal(text((await bob.send(new DecryptCommand({ CiphertextBlob: aliceCiphertext, EncryptionContext: { purpose: 'share' } }))).Plaintext), 'for bob');
    assert.equal(text((await alice.send(new DecryptCommand({ CiphertextBlob: bobCiphertext.CiphertextBlob }))).Plaintext), 'from bob');
    assert.ok((await encrypt(bob, `arn:aws:kms:us-east-1:${ALICE.id}:alias/wire-shared`)).CiphertextBlob, 'an alias ARN reaches another account\'s key');
    assert.equal((await bob.send(new DescribeKeyCommand({ KeyId: key.Arn }))).KeyMetadata?.AWSAccountId, ALICE.id);
    await expectAwsError(bob.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: 'AES_256' })), { name: 'AccessDeniedException' });
    // Key management is never cross-account, whatever the key policy says.
    await expectAwsError(bob.send(new DisableKeyCommand({ KeyId: key.Arn })), { name: 'AccessDeniedException' });
    await expectAwsError(bob.send(new GetKeyPolicyCommand({ KeyId: key.Arn })), { name: 'AccessDeniedException' });
    // An explicit deny wins over the allow.
    await alice.send(new PutKeyPolicyCommand({
      KeyId: key.KeyId,
      Policy: policyWith(
        { Effect: 'Allow', Principal: { AWS: BOB_ROOT }, Action: 'kms:*', Resource: '*' },
        { Effect: 'Deny', Principal: { AWS: BOB.id }, Action: 'kms:Decrypt', Resource: '*' }),
    }));
    await expectAwsError(bob.send(new DecryptCommand({ CiphertextBlob: bobCiphertext.CiphertextBlob })), { name: 'AccessDeniedException', message: /explicit deny/ });
  });
});

describe('grants', () => {
  test('a grant lets another account use the key within its constraints until it is revoked', async () => {
    const key = await newKey();
    await expectAwsError(encrypt(bob, key.Arn, 'x', { team: 'bob' }), { name: 'AccessDeniedException' });
    const grant = await alice.send(new CreateGrantCommand({
      KeyId: key.KeyId, GranteePrincipal: BOB_ROOT, Operations: ['Encrypt', 'Decrypt'], Name: 'bob-encrypts',
      Constraints: { EncryptionContextSubset: { team: 'bob' } },
    }));
    assert.match(grant.GrantId!, /^[0-9a-f]{64}$/);
    assert.ok(grant.GrantToken);
    const again = await alice.send(new CreateGrantCommand({
      KeyId: key.KeyId, GranteePrincipal: BOB_ROOT, Operations: ['Decrypt', 'Encrypt'], Name: 'bob-encrypts',
      Constraints: { EncryptionContextSubset: { team: 'bob' } },
    }));
    assert.equal(again.GrantId, grant.GrantId, 'a named grant asked for again is the same grant');
    const sealed = await bob.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('granted'), EncryptionContext: { team: 'bob', extra: '1' }, GrantTokens: [grant.GrantToken!] }));
    assert.equal(text((await bob.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { team: 'bob', extra: '1' } }))).Plaintext), 'granted');
    await expectAwsError(encrypt(bob, key.Arn, 'x', { team: 'alice' }), { name: 'AccessDeniedException' });
    await expectAwsError(encrypt(bob, key.Arn), { name: 'AccessDeniedException' });
    await expectAwsError(bob.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: 'AES_256', EncryptionContext: { team: 'bob' } })), { name: 'AccessDeniedException' });
    await expectAwsError(bob.send(new EncryptCommand({ KeyId: key.Arn, Plaintext: Buffer.from('x'), EncryptionContext: { team: 'bob' }, GrantTokens: ['not-a-token'] })),
      { name: 'InvalidGrantTokenException', status: 400 });
    const listed = (await alice.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants!;
    assert.equal(listed.length, 1);
    assert.deepEqual(
      { id: listed[0].GrantId, k: listed[0].KeyId, g: listed[0].GranteePrincipal, i: listed[0].IssuingAccount, ops: listed[0].Operations, c: listed[0].Constraints, n: listed[0].Name },
      { id: grant.GrantId, k: key.Arn, g: BOB_ROOT, i: `arn:aws:iam::${ALICE.id}:root`, ops: ['Encrypt', 'Decrypt'], c: { EncryptionContextSubset: { team: 'bob' } }, n: 'bob-encrypts' });
    await expectAwsError(bob.send(new ListGrantsCommand({ KeyId: key.Arn })), { name: 'AccessDeniedException' });
    await expectAwsError(bob.send(new RetireGrantCommand({ GrantToken: grant.GrantToken })), { name: 'AccessDeniedException' });
    await expectAwsError(alice.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: 'nope' })), { name: 'InvalidGrantIdException' });
    await expectAwsError(alice.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: 'f'.repeat(64) })), { name: 'NotFoundException' });
    await alice.send(new RevokeGrantCommand({ KeyId: key.KeyId, GrantId: grant.GrantId }));
    await expectAwsError(encrypt(bob, key.Arn, 'x', { team: 'bob' }), { name: 'AccessDeniedException' });
    assert.deepEqual((await alice.send(new ListGrantsCommand({ KeyId: key.KeyId }))).Grants, []);
  });

  test('RetireGrant by the grantee (with RetireGrant) or the retiring principal; grants to create grants', async () => {
    const key = await newKey();
    const g1 = await alice.send(new CreateGrantCommand({ KeyId: key.KeyId, GranteePrincipal: BOB.id, Operations: ['GenerateDataKey', 'Decrypt', 'RetireGrant', 'CreateGrant'] }));
    const dataKey = await bob.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: 'AES_256' }));
    assert.equal(dataKey.Plaintext?.length, 32);
    // Bob passes part of his grant on to Alice's account (a principal of his choosing), not more.
    await expectAwsError(bob.send(new CreateGrantCommand({ KeyId: key.Arn, GranteePrincipal: `arn:aws:iam::${ALICE.id}:role/app`, Operations: ['Encrypt'] })), { name: 'AccessDeniedException' });
    const g2 = await bob.send(new CreateGrantCommand({ KeyId: key.Arn, GranteePrincipal: `arn:aws:iam::${ALICE.id}:role/app`, Operations: ['Decrypt'], RetiringPrincipal: BOB_ROOT }));
    const retirable = (await bob.send(new ListRetirableGrantsCommand({ RetiringPrincipal: BOB_ROOT }))).Grants!;
    assert.deepEqual(retirable.map((g) => [g.GrantId, g.KeyId, g.IssuingAccount]), [[g2.GrantId, key.Arn, BOB_ROOT]]);
    await expectAwsError(alice.send(new ListRetirableGrantsCommand({ RetiringPrincipal: BOB_ROOT })), { name: 'AccessDeniedException' });
    await bob.send(new RetireGrantCommand({ KeyId: key.Arn, GrantId: g2.GrantId }));
    await bob.send(new RetireGrantCommand({ GrantToken: g1.GrantToken }));
    await expectAwsError(bob.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob })), { name: 'AccessDeniedException' });
    await expectAwsError(bob.send(new RetireGrantCommand({ GrantToken: g1.GrantToken })), { name: 'NotFoundException' });
    await expectAwsError(bob.send(new RetireGrantCommand({ GrantToken: 'bm90IGEgdG9rZW4=' })), { name: 'InvalidGrantTokenException' });
  });
});

describe('cryptographic operations', () => {
  test('Encrypt and Decrypt, with and without KeyId; IncorrectKeyException, size, algorithm and DryRun errors', async () => {
    const [key, other] = [await newKey(), await newKey()];
    await alice.send(new CreateAliasCommand({ AliasName: 'alias/wire-crypto', TargetKeyId: key.KeyId }));
    const sealed = await encrypt(alice, 'alias/wire-crypto', 'hello, kms', { bucket: 'b', object: 'o' });
    assert.deepEqual([sealed.KeyId, sealed.EncryptionAlgorithm], [key.Arn, 'SYMMETRIC_DEFAULT']);
    assert.ok(!Buffer.from(sealed.CiphertextBlob!).includes(Buffer.from('hello, kms')));
    const opened = await alice.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { object: 'o', bucket: 'b' } }));
    assert.deepEqual([text(opened.Plaintext), opened.KeyId, opened.EncryptionAlgorithm], ['hello, kms', key.Arn, 'SYMMETRIC_DEFAULT']);
    for (const KeyId of [key.KeyId, key.Arn, 'alias/wire-crypto']) {
      assert.equal(text((await alice.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, KeyId, EncryptionContext: { bucket: 'b', object: 'o' } }))).Plaintext), 'hello, kms');
    }
    await expectAwsError(alice.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, KeyId: other.KeyId, EncryptionContext: { bucket: 'b', object: 'o' } })), {
      name: 'IncorrectKeyException', status: 400 });
    await expectAwsError(encrypt(alice, key.KeyId, 'x'.repeat(4097)), { name: 'ValidationException' });
    await expectAwsError(alice.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })), { name: 'InvalidKeyUsageException' });
    await expectAwsError(alice.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('x'), DryRun: true })), { name: 'DryRunOperationException', status: 412 });
    const random = await alice.send(new GenerateRandomCommand({ NumberOfBytes: 48 }));
    assert.equal(random.Plaintext?.length, 48);
  });

  test('a wrong encryption context or a tampered ciphertext is InvalidCiphertextException', async () => {
    const key = await newKey();
    const blob = Buffer.from((await encrypt(alice, key.KeyId, 'bound', { a: '1' })).CiphertextBlob!);
    const invalid = { name: 'InvalidCiphertextException', status: 400 };
    await expectAwsError(alice.send(new DecryptCommand({ CiphertextBlob: blob })), invalid);
    await expectAwsError(alice.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { a: '2' } })), invalid);
    await expectAwsError(alice.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { a: '1', b: '2' } })), invalid);
    for (const at of [0, 20, 25, 40, blob.length - 1]) {
      const tampered = Buffer.from(blob);
      tampered[at] ^= 0x01;
      await expectAwsError(alice.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: { a: '1' } })), invalid);
    }
    await expectAwsError(alice.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, 30), EncryptionContext: { a: '1' } })), invalid);
    await expectAwsError(alice.send(new DecryptCommand({ CiphertextBlob: Buffer.from('not a ciphertext at all, just some bytes here') })), invalid);
    assert.equal(text((await alice.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { a: '1' } }))).Plaintext), 'bound');
  });

  test('GenerateDataKey, GenerateDataKeyWithoutPlaintext and ReEncrypt', async () => {
    const [key, destination] = [await newKey(), await newKey()];
    const dataKey = await alice.send(new GenerateDataKeyCommand({ KeyId: key.Arn, KeySpec: 'AES_256', EncryptionContext: { v: '1' } }));
    assert.deepEqual([dataKey.Plaintext?.length, dataKey.KeyId], [32, key.Arn]);
    const back = await alice.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: { v: '1' } }));
    assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.from(dataKey.Plaintext!));
    assert.equal((await alice.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_128' }))).Plaintext?.length, 16);
    assert.equal((await alice.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 64 }))).Plaintext?.length, 64);
    await expectAwsError(alice.send(new GenerateDataKeyCommand({ KeyId: key.KeyId })), { name: 'ValidationException' });
    await expectAwsError(alice.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 })), { name: 'ValidationException' });
    await expectAwsError(alice.send(new GenerateDataKeyCommand({ KeyId: key.KeyId, NumberOfBytes: 2048 })), { name: 'ValidationException' });
    const withoutPlaintext = await alice.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.KeyId, KeySpec: 'AES_256' }));
    assert.equal((withoutPlaintext as { Plaintext?: unknown }).Plaintext, undefined);
    assert.equal((await alice.send(new DecryptCommand({ CiphertextBlob: withoutPlaintext.CiphertextBlob }))).Plaintext?.length, 32);
    const moved = await alice.send(new ReEncryptCommand({
      CiphertextBlob: dataKey.CiphertextBlob, SourceEncryptionContext: { v: '1' }, DestinationKeyId: destination.KeyId, DestinationEncryptionContext: { v: '2' },
    }));
    assert.deepEqual([moved.SourceKeyId, moved.KeyId], [key.Arn, destination.Arn]);
    const reopened = await alice.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { v: '2' } }));
    assert.deepEqual([Buffer.from(reopened.Plaintext!), reopened.KeyId], [Buffer.from(dataKey.Plaintext!), destination.Arn]);
    await expectAwsError(alice.send(new ReEncryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, DestinationKeyId: destination.KeyId })), { name: 'InvalidCiphertextException' });
  });
});

describe('the AWS managed key alias/aws/ebs', () => {
  test('DescribeKey creates it; only EBS may use it; it cannot be disabled, deleted or have its policy changed', async () => {
    const managed = (await bob.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }))).KeyMetadata!;
    assert.deepEqual([managed.KeyManager, managed.KeyState, managed.AWSAccountId], ['AWS', 'Enabled', BOB.id]);
    assert.equal((await bob.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }))).KeyMetadata?.KeyId, managed.KeyId, 'created once');
    const aliceManaged = (await alice.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }))).KeyMetadata!;
    assert.notEqual(aliceManaged.KeyId, managed.KeyId, 'one per account');
    const listed = (await bob.send(new ListAliasesCommand({}))).Aliases!.find((a) => a.AliasName === 'alias/aws/ebs');
    assert.equal(listed?.TargetKeyId, managed.KeyId);
    const policy = JSON.parse((await bob.send(new GetKeyPolicyCommand({ KeyId: managed.KeyId }))).Policy!);
    assert.equal(policy.Statement[0].Condition.StringEquals['kms:ViaService'], 'ec2.us-east-1.amazonaws.com');
    const denied = (action: string) => ({ name: 'AccessDeniedException', status: 400, message: new RegExp(`kms:${action} on resource: ${managed.Arn}`) });
    await expectAwsError(encrypt(bob, 'alias/aws/ebs'), denied('Encrypt'));
    await expectAwsError(bob.send(new DisableKeyCommand({ KeyId: managed.KeyId })), denied('DisableKey'));
    await expectAwsError(bob.send(new ScheduleKeyDeletionCommand({ KeyId: managed.KeyId })), denied('ScheduleKeyDeletion'));
    await expectAwsError(bob.send(new PutKeyPolicyCommand({ KeyId: managed.KeyId, Policy: policyWith() })), denied('PutKeyPolicy'));
    await expectAwsError(bob.send(new UpdateAliasCommand({ AliasName: 'alias/aws/ebs', TargetKeyId: managed.KeyId })), { name: 'InvalidAliasNameException' });
    await expectAwsError(alice.send(new DescribeKeyCommand({ KeyId: managed.Arn })), denied('DescribeKey'));
  });
});

describe('the protocol', () => {
  test('unknown and unimplemented operations, bodies that are not JSON', async () => {
    const tamper = (change: (req: { headers: Record<string, string>; body: string }) => void) => {
      const c = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
      c.middlewareStack.add((next) => async (args) => {
        change((args as { request: { headers: Record<string, string>; body: string } }).request);
        return next(args);
      }, { step: 'build' });
      return c;
    };
    await expectAwsError(tamper((r) => { r.headers['x-amz-target'] = 'TrentService.MakeCoffee'; }).send(new ListKeysCommand({})), { name: 'UnknownOperationException', status: 400 });
    await expectAwsError(tamper((r) => {
      r.body = '{"Limit": ';
      r.headers['content-length'] = String(r.body.length);
    }).send(new ListKeysCommand({})), { name: 'SerializationException', status: 400 });
    await expectAwsError(alice.send(new SignCommand({ KeyId: 'alias/x', Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' })), {
      name: 'UnsupportedOperationException', status: 400, message: /Sign/ });
  });
});

describe('other clients', () => {
  test('aws kms: encrypt and decrypt round trip through files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amiforge-kms-cli-'));
    try {
      const key = await newKey();
      await alice.send(new CreateAliasCommand({ AliasName: 'alias/wire-cli', TargetKeyId: key.KeyId }));
      const plaintext = Buffer.from([0, 1, 2, 250, 251, 252, ...Buffer.from(' binary and text')]);
      writeFileSync(join(dir, 'plain'), plaintext);
      const sealed = await awsCli(server.endpoint, credentialsOf(ALICE), [
        'kms', 'encrypt', '--key-id', 'alias/wire-cli', '--plaintext', `fileb://${join(dir, 'plain')}`, '--encryption-context', 'purpose=cli-test']);
      assert.equal(sealed.code, 0, sealed.stderr);
      assert.equal(sealed.json.KeyId, key.Arn);
      writeFileSync(join(dir, 'sealed'), Buffer.from(sealed.json.CiphertextBlob, 'base64'));
      const opened = await awsCli(server.endpoint, credentialsOf(ALICE), [
        'kms', 'decrypt', '--ciphertext-blob', `fileb://${join(dir, 'sealed')}`, '--encryption-context', 'purpose=cli-test']);
      assert.equal(opened.code, 0, opened.stderr);
      assert.deepEqual(Buffer.from(opened.json.Plaintext, 'base64'), plaintext);
      assert.ok(readFileSync(join(dir, 'sealed')).length > plaintext.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('boto3: create_key, generate_data_key, decrypt, and a ClientError', async () => {
    const r = await boto3(server.endpoint, credentialsOf(ALICE), `
kms = boto3.client("kms", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))
key = kms.create_key(Description="boto3")["KeyMetadata"]
dk = kms.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256", EncryptionContext={"via": "boto3"})
back = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"via": "boto3"})
try:
    kms.describe_key(KeyId="alias/missing")
    code = None
except kms.exceptions.NotFoundException as e:
    code = e.response["Error"]["Code"]
print(json.dumps({"same": back["Plaintext"] == dk["Plaintext"], "len": len(dk["Plaintext"]), "key": back["KeyId"] == key["Arn"], "code": code,
                  "created": key["CreationDate"].year > 2000}))
`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { same: true, len: 32, key: true, code: 'NotFoundException', created: true });
  });
});
