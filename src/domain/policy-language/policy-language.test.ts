import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConditionContext } from './condition-context.ts';
import { conditionHolds, ConditionSyntaxError, parseCondition } from './conditions.ts';
import { iamWildcard } from './wildcard.ts';

describe('IAM wildcards', () => {
  test('* is any run, ? one character (a code point), no escape character', () => {
    assert.ok(iamWildcard('arn:aws:ec2:*::image/ami-*', 'arn:aws:ec2:us-east-1::image/ami-0abc'));
    assert.ok(iamWildcard('a?c', 'a😀c'));
    assert.ok(!iamWildcard('a?c', 'ac'));
    assert.ok(iamWildcard('a\\?', 'a\\x'));
    assert.ok(!iamWildcard('a\\?', 'a?'));
    assert.ok(iamWildcard('**', ''));
    assert.ok(!iamWildcard('', 'x'));
  });
  test('ignoreCase, exact comparison and policy variables that match literally', () => {
    assert.ok(iamWildcard('EC2:Describe*', 'ec2:describeimages', { ignoreCase: true }));
    assert.ok(!iamWildcard('a*', 'abc', { wildcards: false }));
    assert.ok(iamWildcard('a*', 'a*', { wildcards: false }));
    const vars = new ConditionContext().set('aws:username', 'b*');
    assert.ok(iamWildcard('home/${aws:username}/*', 'home/b*/x', { variables: vars }));
    assert.ok(!iamWildcard('home/${aws:username}/*', 'home/bob/x', { variables: vars }));
    assert.ok(iamWildcard("${aws:PrincipalTag/team, 'none'}", 'none', { variables: vars }));
    assert.ok(!iamWildcard('${aws:userid}', '', { variables: vars }), 'a variable without a value matches nothing');
    assert.ok(iamWildcard('${aws:username}', '${aws:username}'), 'without variables, literal text');
  });
  test('a pathological pattern against a long text completes', () => {
    const pattern = `${'a*'.repeat(500)}b`;
    assert.ok(!iamWildcard(pattern, 'a'.repeat(50_000)));
    assert.ok(iamWildcard(pattern, `${'a'.repeat(50_000)}b`));
    assert.ok(!iamWildcard(`*${'?'.repeat(300)}b`, 'a'.repeat(20_000)));
  });
});

describe('condition operators', () => {
  const holds = (operator: string, block: object, keys: Record<string, string | string[]> = {}) =>
    parseCondition(operator, block).every((c) => conditionHolds(c, ConditionContext.from(keys)));
  test('Numeric and Date comparisons; unparsable values never match', () => {
    assert.ok(holds('NumericLessThanEquals', { n: '10' }, { n: '10' }));
    assert.ok(!holds('NumericGreaterThan', { n: '10' }, { n: 'ten' }));
    assert.ok(!holds('NumericEquals', { n: '0' }, { n: '' }));
    assert.ok(holds('DateGreaterThan', { d: '2026-01-01T00:00:00Z' }, { d: '1798761600' }));
    assert.ok(!holds('DateEquals', { d: 'tomorrow' }, { d: 'tomorrow' }));
  });
  test('unknown operators and bad blocks are refused', () => {
    for (const op of ['StringSortOf', 'NullIfExists', 'ForAllValues:Null', 'toString', 'ForSomeValues:StringEquals']) {
      assert.throws(() => parseCondition(op, { k: 'v' }), ConditionSyntaxError, op);
    }
    assert.throws(() => parseCondition('StringEquals', ['k']), /must be an object/);
    assert.throws(() => parseCondition('StringEquals', { k: {} }), /not a string/);
  });
});
