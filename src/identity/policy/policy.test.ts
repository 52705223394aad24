import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConditionContext } from './conditions.ts';
import { parseIdentityPolicy, PolicyDocumentError } from './document.ts';
import { evaluatePolicies } from './evaluate.ts';

const IMAGE = 'arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0';
const policy = (...Statement: unknown[]) => parseIdentityPolicy({ Version: '2012-10-17', Statement }, 'test');
const ctx = (keys: Record<string, string | string[]> = {}) => {
  const c = new ConditionContext();
  for (const [k, v] of Object.entries(keys)) c.set(k, v);
  return c;
};
const decide = (p: ReturnType<typeof policy> | ReturnType<typeof policy>[], action: string, resource = '*', keys: Record<string, string | string[]> = {}) =>
  evaluatePolicies(Array.isArray(p) ? p : [p], { action, resource, context: ctx(keys) }).effect;

describe('identity policy documents are validated', () => {
  const bad: [string, unknown, RegExp][] = [
    ['an unknown Effect', { Effect: 'Permit', Action: '*', Resource: '*' }, /Effect must be "Allow" or "Deny"/],
    ['no Action', { Effect: 'Allow', Resource: '*' }, /missing Action/],
    ['no Resource', { Effect: 'Allow', Action: '*' }, /missing Resource/],
    ['Action and NotAction', { Effect: 'Allow', Action: '*', NotAction: 'ec2:*', Resource: '*' }, /both Action and NotAction/],
    ['an action without a service', { Effect: 'Allow', Action: 'CreateImage', Resource: '*' }, /"service:Action"/],
    ['a bad ARN', { Effect: 'Allow', Action: 'ec2:*', Resource: 'ami-123' }, /not "\*" or an ARN/],
    ['a Principal', { Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }, /must not name a Principal/],
    ['an unknown condition operator', { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringSortOf: { 'aws:RequestedRegion': 'x' } } }, /unknown condition operator/],
    ['a Bool that is not a boolean', { Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'yes' } } }, /"true" or "false"/],
    ['an unknown element', { Effect: 'Allow', Action: '*', Resource: '*', Actions: 'ec2:*' }, /unknown element "Actions"/],
  ];
  for (const [what, statement, message] of bad) {
    test(`refuses ${what}`, () => {
      assert.throws(() => policy(statement), (err: Error) => err instanceof PolicyDocumentError && message.test(err.message) && err.message.startsWith('test: statement 1'));
    });
  }
  test('refuses a bad Version and a missing Statement', () => {
    assert.throws(() => parseIdentityPolicy({ Version: '2020-01-01', Statement: [] }, 'p'), /Version must be/);
    assert.throws(() => parseIdentityPolicy({ Version: '2012-10-17' }, 'p'), /no Statement/);
    assert.throws(() => parseIdentityPolicy([], 'p'), /not a JSON object/);
  });
  test('accepts a single statement object, single strings and lists', () => {
    const p = parseIdentityPolicy({ Statement: { Effect: 'Allow', Action: ['ec2:Describe*', 'ebs:*'], Resource: 'arn:aws:ec2:*::image/*' } }, 'p');
    assert.equal(p.statements.length, 1);
  });
});

describe('evaluation: explicit deny, then allow, else implicit deny', () => {
  test('no statement applies: implicit deny', () => {
    assert.equal(decide(policy({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }), 'ec2:CreateImage'), 'implicit-deny');
  });
  test('wildcard actions match, case-insensitively', () => {
    const p = policy({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' });
    assert.equal(decide(p, 'ec2:DescribeImages'), 'allow');
    assert.equal(decide(policy({ Effect: 'Allow', Action: 'EC2:describeimages', Resource: '*' }), 'ec2:DescribeImages'), 'allow');
    assert.equal(decide(policy({ Effect: 'Allow', Action: 'ec2:Describe?mages', Resource: '*' }), 'ec2:DescribeImages'), 'allow');
    assert.equal(decide(policy({ Effect: 'Allow', Action: '*', Resource: '*' }), 'kms:Encrypt'), 'allow');
    assert.equal(decide(p, 'ebs:DescribeImages'), 'implicit-deny');
  });
  test('an explicit Deny wins over any Allow, in any policy and any order', () => {
    const allow = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' });
    const deny = policy({ Effect: 'Deny', Action: 'ec2:ModifyImageAttribute', Resource: '*' });
    assert.equal(decide([deny, allow], 'ec2:ModifyImageAttribute', IMAGE), 'explicit-deny');
    assert.equal(decide([allow, deny], 'ec2:ModifyImageAttribute', IMAGE), 'explicit-deny');
    assert.equal(decide([allow, deny], 'ec2:CreateImage', IMAGE), 'allow');
  });
  test('NotAction allows everything but the listed actions', () => {
    const p = policy({ Effect: 'Allow', NotAction: ['ec2:Modify*', 'ec2:Deregister*'], Resource: '*' });
    assert.equal(decide(p, 'ec2:CreateImage'), 'allow');
    assert.equal(decide(p, 'ec2:ModifyImageAttribute'), 'implicit-deny');
  });
  test('Resource and NotResource match ARNs with wildcards, case-sensitively', () => {
    const p = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: 'arn:aws:ec2:us-east-1::image/ami-0123*' });
    assert.equal(decide(p, 'ec2:DeregisterImage', IMAGE), 'allow');
    assert.equal(decide(p, 'ec2:DeregisterImage', IMAGE.replace('us-east-1', 'eu-west-1')), 'implicit-deny');
    assert.equal(decide(p, 'ec2:DeregisterImage', IMAGE.toUpperCase()), 'implicit-deny');
    assert.equal(decide(p, 'ec2:DescribeImages', '*'), 'implicit-deny');
    const not = policy({ Effect: 'Allow', Action: 'ec2:*', NotResource: 'arn:aws:ec2:*::snapshot/*' });
    assert.equal(decide(not, 'ec2:DeleteSnapshot', 'arn:aws:ec2:us-east-1::snapshot/snap-1'), 'implicit-deny');
    assert.equal(decide(not, 'ec2:DeregisterImage', IMAGE), 'allow');
  });
});

describe('conditions', () => {
  const withCondition = (Condition: unknown) => policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*', Condition });
  test('StringEquals and StringNotEquals on a present key', () => {
    const eq = withCondition({ StringEquals: { 'ec2:ResourceTag/env': ['dev', 'test'] } });
    assert.equal(decide(eq, 'ec2:A', '*', { 'ec2:ResourceTag/env': 'test' }), 'allow');
    assert.equal(decide(eq, 'ec2:A', '*', { 'ec2:ResourceTag/env': 'prod' }), 'implicit-deny');
    const ne = withCondition({ StringNotEquals: { 'ec2:ResourceTag/env': 'prod' } });
    assert.equal(decide(ne, 'ec2:A', '*', { 'ec2:ResourceTag/env': 'dev' }), 'allow');
    assert.equal(decide(ne, 'ec2:A', '*', { 'ec2:ResourceTag/env': 'prod' }), 'implicit-deny');
  });
  test('an absent key: positive operators fail, negated ones and IfExists hold', () => {
    assert.equal(decide(withCondition({ StringEquals: { 'ec2:ResourceTag/env': 'dev' } }), 'ec2:A'), 'implicit-deny');
    assert.equal(decide(withCondition({ StringNotEquals: { 'ec2:ResourceTag/env': 'prod' } }), 'ec2:A'), 'allow');
    assert.equal(decide(withCondition({ StringNotLike: { 'ec2:ResourceTag/env': 'prod*' } }), 'ec2:A'), 'allow');
    assert.equal(decide(withCondition({ StringEqualsIfExists: { 'ec2:ResourceTag/env': 'dev' } }), 'ec2:A'), 'allow');
    assert.equal(decide(withCondition({ StringEqualsIfExists: { 'ec2:ResourceTag/env': 'dev' } }), 'ec2:A', '*', { 'ec2:ResourceTag/env': 'prod' }), 'implicit-deny');
  });
  test('StringLike and StringNotLike use * and ?', () => {
    const like = withCondition({ StringLike: { 'aws:RequestedRegion': 'eu-*' } });
    assert.equal(decide(like, 'ec2:A', '*', { 'aws:RequestedRegion': 'eu-west-1' }), 'allow');
    assert.equal(decide(like, 'ec2:A', '*', { 'aws:RequestedRegion': 'us-east-1' }), 'implicit-deny');
    const notLike = withCondition({ StringNotLike: { 'aws:RequestedRegion': 'us-east-?' } });
    assert.equal(decide(notLike, 'ec2:A', '*', { 'aws:RequestedRegion': 'us-east-1' }), 'implicit-deny');
    assert.equal(decide(notLike, 'ec2:A', '*', { 'aws:RequestedRegion': 'us-west-2' }), 'allow');
  });
  test('condition key names are case-insensitive; every key and every operator must hold', () => {
    const p = withCondition({ StringEquals: { 'AWS:requestedregion': 'us-east-1', 'aws:PrincipalAccount': '111111111111' }, Bool: { 'ec2:IsLaunchTemplateResource': 'false' } });
    const keys = { 'aws:RequestedRegion': 'us-east-1', 'aws:PrincipalAccount': '111111111111', 'ec2:IsLaunchTemplateResource': 'false' };
    assert.equal(decide(p, 'ec2:A', '*', keys), 'allow');
    assert.equal(decide(p, 'ec2:A', '*', { ...keys, 'aws:PrincipalAccount': '222222222222' }), 'implicit-deny');
    assert.equal(decide(p, 'ec2:A', '*', { ...keys, 'ec2:IsLaunchTemplateResource': 'true' }), 'implicit-deny');
  });
  test('ForAllValues and ForAnyValue over aws:TagKeys', () => {
    const all = withCondition({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'team'] } });
    assert.equal(decide(all, 'ec2:A', '*', { 'aws:TagKeys': ['env'] }), 'allow');
    assert.equal(decide(all, 'ec2:A', '*', { 'aws:TagKeys': ['env', 'owner'] }), 'implicit-deny');
    assert.equal(decide(all, 'ec2:A'), 'allow', 'ForAllValues holds with no values at all');
    const any = withCondition({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'env' } });
    assert.equal(decide(any, 'ec2:A', '*', { 'aws:TagKeys': ['team', 'env'] }), 'allow');
    assert.equal(decide(any, 'ec2:A', '*', { 'aws:TagKeys': ['team'] }), 'implicit-deny');
    assert.equal(decide(any, 'ec2:A'), 'implicit-deny');
  });
  test('Null tests whether a key is present', () => {
    const absent = withCondition({ Null: { 'aws:RequestTag/owner': 'true' } });
    assert.equal(decide(absent, 'ec2:A'), 'allow');
    assert.equal(decide(absent, 'ec2:A', '*', { 'aws:RequestTag/owner': 'me' }), 'implicit-deny');
  });
  test('a Deny with a tag condition denies only matching resources', () => {
    const p = [
      policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }),
      policy({ Effect: 'Deny', Action: 'ec2:ModifyImageAttribute', Resource: '*', Condition: { StringEquals: { 'ec2:ResourceTag/env': 'prod' } } }),
    ];
    assert.equal(decide(p, 'ec2:ModifyImageAttribute', IMAGE, { 'ec2:ResourceTag/env': 'prod' }), 'explicit-deny');
    assert.equal(decide(p, 'ec2:ModifyImageAttribute', IMAGE, { 'ec2:ResourceTag/env': 'dev' }), 'allow');
    assert.equal(decide(p, 'ec2:ModifyImageAttribute', IMAGE), 'allow');
  });
});

describe('policy variables', () => {
  const ABAC = { Effect: 'Allow', Action: 'ec2:*', Resource: '*', Condition: { StringEquals: { 'ec2:ResourceTag/owner': '${aws:username}' } } };
  test('a condition value ${aws:username} takes the user name', () => {
    const p = policy(ABAC);
    assert.equal(decide(p, 'ec2:A', '*', { 'aws:username': 'ci', 'ec2:ResourceTag/owner': 'ci' }), 'allow');
    assert.equal(decide(p, 'ec2:A', '*', { 'aws:username': 'ci', 'ec2:ResourceTag/owner': 'ops' }), 'implicit-deny');
    assert.equal(decide(p, 'ec2:A', '*', { 'ec2:ResourceTag/owner': '${aws:username}' }), 'implicit-deny', 'no value: matches nothing');
  });
  test('a substituted value matches literally, never as a wildcard', () => {
    const p = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: 'arn:aws:ec2:*:111111111111:key-pair/${aws:username}-*' });
    assert.equal(decide(p, 'ec2:DeleteKeyPair', 'arn:aws:ec2:us-east-1:111111111111:key-pair/ci-deploy', { 'aws:username': 'ci' }), 'allow');
    assert.equal(decide(p, 'ec2:DeleteKeyPair', 'arn:aws:ec2:us-east-1:111111111111:key-pair/ops-deploy', { 'aws:username': 'ci' }), 'implicit-deny');
    assert.equal(decide(p, 'ec2:DeleteKeyPair', 'arn:aws:ec2:us-east-1:111111111111:key-pair/ops-deploy', { 'aws:username': '*' }), 'implicit-deny');
  });
  test('a default value, and no substitution in a policy without Version 2012-10-17', () => {
    const withDefault = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*', Condition: { StringEquals: { 'aws:RequestTag/team': "${aws:PrincipalTag/team, 'none'}" } } });
    assert.equal(decide(withDefault, 'ec2:A', '*', { 'aws:RequestTag/team': 'none' }), 'allow');
    const old = parseIdentityPolicy({ Version: '2008-10-17', Statement: [ABAC] }, 'old');
    assert.equal(decide(old, 'ec2:A', '*', { 'aws:username': 'ci', 'ec2:ResourceTag/owner': 'ci' }), 'implicit-deny');
    assert.equal(decide(old, 'ec2:A', '*', { 'ec2:ResourceTag/owner': '${aws:username}' }), 'allow');
  });
});
