import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultKeyPolicy, ebsManagedKeyPolicy, evaluateKeyPolicy, parseKeyPolicy, type PolicyRequest } from './policy.ts';

const A = '111111111111';
const B = '222222222222';
const ARN = `arn:aws:kms:us-east-1:${A}:key/00000000-0000-4000-8000-000000000000`;
const req = (action: string, callerAccount: string, conditionKeys: PolicyRequest['conditionKeys'] = {}): PolicyRequest =>
  ({ action, callerAccount, keyArn: ARN, conditionKeys: { 'kms:CallerAccount': callerAccount, ...conditionKeys } });
const policy = (...Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const allow = (Principal: unknown, Action: unknown, extra: object = {}) => ({ Effect: 'Allow', Principal, Action, Resource: '*', ...extra });

test('the default policy gives the account everything and no one else anything', () => {
  const p = parseKeyPolicy(defaultKeyPolicy(A));
  assert.equal(evaluateKeyPolicy(p, req('kms:PutKeyPolicy', A)), 'allow');
  assert.equal(evaluateKeyPolicy(p, req('kms:Decrypt', B)), 'none');
});

test('principals match by account in every form; actions by wildcard, case-insensitively', () => {
  for (const principal of [B, `arn:aws:iam::${B}:root`, `arn:aws:iam::${B}:role/app`, `arn:aws:sts::${B}:assumed-role/app/s`, '*']) {
    const p = parseKeyPolicy(policy(allow({ AWS: [principal] }, 'kms:ReEncrypt*')));
    assert.equal(evaluateKeyPolicy(p, req('kms:ReEncryptFrom', B)), 'allow', principal);
    assert.equal(evaluateKeyPolicy(p, req('kms:Decrypt', B)), 'none', principal);
  }
  assert.equal(evaluateKeyPolicy(parseKeyPolicy(policy(allow('*', 'KMS:decrypt'))), req('kms:Decrypt', B)), 'allow');
  assert.equal(evaluateKeyPolicy(parseKeyPolicy(policy(allow({ Service: 'ec2.amazonaws.com' }, 'kms:*'))), req('kms:Decrypt', B)), 'none');
});

test('an explicit deny wins; NotAction and NotPrincipal invert', () => {
  const p = parseKeyPolicy(policy(allow({ AWS: A }, 'kms:*'), { Effect: 'Deny', Principal: '*', NotAction: ['kms:Describe*', 'kms:Get*'], Resource: '*' }));
  assert.equal(evaluateKeyPolicy(p, req('kms:Encrypt', A)), 'deny');
  assert.equal(evaluateKeyPolicy(p, req('kms:DescribeKey', A)), 'allow');
  const q = parseKeyPolicy(policy({ Effect: 'Allow', NotPrincipal: { AWS: B }, Action: 'kms:*', Resource: '*' }));
  assert.equal(evaluateKeyPolicy(q, req('kms:Encrypt', A)), 'allow');
  assert.equal(evaluateKeyPolicy(q, req('kms:Encrypt', B)), 'none');
});

test('conditions: equality, IfExists, negation, sets and absent keys as IAM evaluates them', () => {
  const via = parseKeyPolicy(ebsManagedKeyPolicy(A, 'us-east-1'));
  assert.equal(evaluateKeyPolicy(via, req('kms:GenerateDataKeyWithoutPlaintext', A, { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' })), 'allow');
  assert.equal(evaluateKeyPolicy(via, req('kms:GenerateDataKey', A)), 'none', 'not through EC2');
  assert.equal(evaluateKeyPolicy(via, req('kms:Decrypt', A, { 'kms:ViaService': 'ec2.us-west-2.amazonaws.com' })), 'none');
  assert.equal(evaluateKeyPolicy(via, req('kms:Decrypt', B, { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' })), 'none');
  assert.equal(evaluateKeyPolicy(via, req('kms:DescribeKey', A)), 'allow');
  assert.equal(evaluateKeyPolicy(via, req('kms:DisableKey', A)), 'none');
  const ctx = (cond: object) => parseKeyPolicy(policy(allow('*', 'kms:Decrypt', { Condition: cond })));
  assert.equal(evaluateKeyPolicy(ctx({ StringEquals: { 'kms:EncryptionContext:team': 'blue' } }), req('kms:Decrypt', B, { 'kms:EncryptionContext:team': 'blue' })), 'allow');
  assert.equal(evaluateKeyPolicy(ctx({ StringEquals: { 'kms:EncryptionContext:team': 'blue' } }), req('kms:Decrypt', B)), 'none');
  assert.equal(evaluateKeyPolicy(ctx({ StringEqualsIfExists: { 'kms:EncryptionContext:team': 'blue' } }), req('kms:Decrypt', B)), 'allow');
  assert.equal(evaluateKeyPolicy(ctx({ StringNotEquals: { 'kms:CallerAccount': A } }), req('kms:Decrypt', B)), 'allow');
  assert.equal(evaluateKeyPolicy(ctx({ StringLike: { 'kms:ViaService': 'ec2.*.amazonaws.com' } }), req('kms:Decrypt', B, { 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com' })), 'allow');
  assert.equal(evaluateKeyPolicy(ctx({ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['a', 'b'] } }), req('kms:Decrypt', B, { 'kms:EncryptionContextKeys': ['a'] })), 'allow');
  assert.equal(evaluateKeyPolicy(ctx({ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['a'] } }), req('kms:Decrypt', B, { 'kms:EncryptionContextKeys': ['a', 'c'] })), 'none');
  assert.equal(evaluateKeyPolicy(ctx({ 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['a'] } }), req('kms:Decrypt', B)), 'allow', 'an absent key is every one of no values');
  assert.equal(evaluateKeyPolicy(ctx({ Null: { 'kms:EncryptionContextKeys': 'false' } }), req('kms:Decrypt', B)), 'none');
  assert.equal(evaluateKeyPolicy(ctx({ Bool: { 'kms:GrantIsForAWSResource': true } }), req('kms:Decrypt', B, { 'kms:GrantIsForAWSResource': 'true' })), 'allow');
});

test('conditions as IAM documents them, the same answers identity policies give', () => {
  const ctx = (cond: object) => parseKeyPolicy(policy(allow('*', 'kms:Decrypt', { Condition: cond })));
  const KEYS = 'kms:EncryptionContextKeys';
  const decide = (cond: object, keys: PolicyRequest['conditionKeys'] = {}) => evaluateKeyPolicy(ctx(cond), req('kms:Decrypt', B, keys));
  // 1. the negation applies to each request value: `a` is listed, so not every value is unlisted
  assert.equal(decide({ 'ForAllValues:StringNotEquals': { [KEYS]: 'a' } }, { [KEYS]: ['a', 'b'] }), 'none');
  assert.equal(decide({ 'ForAllValues:StringNotEquals': { [KEYS]: 'a' } }, { [KEYS]: ['b', 'c'] }), 'allow');
  // 2. `b` is a value that is not `a`
  assert.equal(decide({ 'ForAnyValue:StringNotEquals': { [KEYS]: 'a' } }, { [KEYS]: ['a', 'b'] }), 'allow');
  assert.equal(decide({ 'ForAnyValue:StringNotEquals': { [KEYS]: 'a' } }, { [KEYS]: ['a'] }), 'none');
  // 3. ForAnyValue over no values finds none
  assert.equal(decide({ 'ForAnyValue:StringNotEquals': { [KEYS]: 'a' } }), 'none');
  // 4. no escape character in IAM's wildcards
  assert.equal(decide({ StringLike: { 'kms:EncryptionContext:path': 'a\\*' } }, { 'kms:EncryptionContext:path': 'a\\b' }), 'allow');
  assert.equal(decide({ StringLike: { 'kms:EncryptionContext:path': 'a\\*' } }, { 'kms:EncryptionContext:path': 'a*' }), 'none');
  // 5. a key with no values is absent for Null
  assert.equal(decide({ Null: { [KEYS]: 'true' } }, { [KEYS]: [] }), 'allow');
  assert.equal(decide({ Null: { [KEYS]: 'false' } }, { [KEYS]: [] }), 'none');
  // 6. Date operators, ISO 8601 and epoch seconds
  assert.equal(decide({ DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } }, { 'aws:CurrentTime': '2026-12-05T18:00:00Z' }), 'allow');
  assert.equal(decide({ DateGreaterThan: { 'aws:EpochTime': '1798761600' } }, { 'aws:EpochTime': '1798761600' }), 'none');
  assert.equal(decide({ DateNotEquals: { 'aws:EpochTime': '1798761600' } }, { 'aws:EpochTime': '1798761601' }), 'allow');
});

test('a pathological wildcard pattern is refused or matched quickly, never by backtracking', () => {
  const pattern = `${'a*'.repeat(200)}b`;
  const p = parseKeyPolicy(policy(allow('*', 'kms:Decrypt', { Condition: { StringLike: { 'kms:EncryptionContext:x': pattern } } })));
  assert.equal(evaluateKeyPolicy(p, req('kms:Decrypt', B, { 'kms:EncryptionContext:x': 'a'.repeat(20_000) })), 'none');
  assert.equal(evaluateKeyPolicy(p, req('kms:Decrypt', B, { 'kms:EncryptionContext:x': `${'a'.repeat(20_000)}b` })), 'allow');
});

test('malformed policies are refused with what is wrong', () => {
  const bad: [string, RegExp][] = [
    ['not json', /not valid JSON/],
    [JSON.stringify({ Statement: [] }), /no Statement/],
    [policy({ Effect: 'Maybe', Principal: '*', Action: 'kms:*', Resource: '*' }), /Effect/],
    [policy(allow({ AWS: 'bob' }, 'kms:*')), /invalid principals/],
    [policy(allow({ AWS: 'arn:aws:iam::12:root' }, 'kms:*')), /invalid principals/],
    [policy(allow({ Robots: '*' }, 'kms:*')), /invalid principals/],
    [policy({ Effect: 'Allow', Principal: '*', Resource: '*' }), /Action and NotAction/],
    [policy(allow('*', 'kms:*', { Condition: { StringSortOf: { a: 'b' } } })), /unknown condition operator/],
    [policy(allow('*', 'kms:*', { Condition: { constructor: { a: 'b' } } })), /unknown condition operator/],
    [policy(allow('*', 'kms:*', { Condition: { 'ForAnyValue:Null': { a: 'true' } } })), /unknown condition operator/],
    [policy(allow('*', 'kms:*', { Condition: { Bool: { a: 'yes' } } })), /"true" or "false"/],
    [policy(allow('*', 'kms:*', { Condition: { StringEquals: { a: [] } } })), /has no values/],
    [policy(allow('*', 'encrypt everything')), /invalid action/],
    [JSON.stringify({ Version: '2020-01-01', Statement: [allow('*', 'kms:*')] }), /Version/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseKeyPolicy(text), { code: 'MalformedPolicyDocumentException', message }, text);
});
