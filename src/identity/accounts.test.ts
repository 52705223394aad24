import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAccounts } from './accounts.ts';

const dir = mkdtempSync(join(tmpdir(), 'amiforge-accounts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ALLOW_DESCRIBE = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] };
const KEY = (id: string) => ({ accessKeyId: id, secretAccessKey: `${id}-secret` });

function write(name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}
const accountsWith = (users: unknown, name = 'accounts.json') =>
  write(name, { accounts: [{ id: '111111111111', accessKeys: [KEY('AKIAROOT')], users }] });

describe('users in the accounts file', () => {
  test('a user key resolves to its account and user; the account key to the root', () => {
    write('ci-policy.json', ALLOW_DESCRIBE);
    const accounts = loadAccounts(accountsWith([
      { name: 'ci', accessKeys: [KEY('AKIACI')], policies: [ALLOW_DESCRIBE, { file: 'ci-policy.json' }] },
    ]));
    const root = accounts.byAccessKey('AKIAROOT');
    assert.equal(root?.account.id, '111111111111');
    assert.equal(root?.user, undefined);
    const ci = accounts.byAccessKey('AKIACI');
    assert.equal(ci?.account.id, '111111111111');
    assert.equal(ci?.secret, 'AKIACI-secret');
    assert.equal(ci?.user?.arn, 'arn:aws:iam::111111111111:user/ci');
    assert.deepEqual(ci?.user?.policies.map((p) => p.source), ['inline policy 1', 'policy file ci-policy.json']);
  });

  const refused: [string, unknown, RegExp][] = [
    ['an unknown Effect', [{ name: 'ci', policies: [{ Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] }] }],
      /user ci of account 111111111111: inline policy 1: statement 1: Effect must be "Allow" or "Deny"/],
    ['a missing Action', [{ name: 'ci', policies: [{ Statement: [{ Effect: 'Allow', Resource: '*' }] }] }], /inline policy 1: statement 1 is missing Action/],
    ['a bad ARN', [{ name: 'ci', policies: [{ Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: 'image/ami-1' }] }] }], /"image\/ami-1" is not "\*" or an ARN/],
    ['a bad user name', [{ name: 'c i', policies: [] }], /user whose name "c i"/],
    ['two users of one name', [{ name: 'ci' }, { name: 'CI' }], /two users named CI/],
    ['a key used twice', [{ name: 'ci', accessKeys: [KEY('AKIAROOT')] }], /access key AKIAROOT is listed twice/],
    ['a missing policy file', [{ name: 'ci', policies: [{ file: 'nowhere.json' }] }], /cannot read policy file nowhere.json as JSON/],
    ['policies that are not a list', [{ name: 'ci', policies: ALLOW_DESCRIBE }], /policies must be a list/],
  ];
  for (const [what, users, message] of refused) {
    test(`refuses ${what}, naming the file`, () => {
      const file = accountsWith(users, `bad-${what.replace(/\W+/g, '-')}.json`);
      assert.throws(() => loadAccounts(file), (err: Error) => err.message.startsWith(file) && message.test(err.message));
    });
  }

  test('refuses a policy file that is not JSON', () => {
    write('broken.json', '{"Statement": [');
    assert.throws(() => loadAccounts(accountsWith([{ name: 'ci', policies: [{ file: 'broken.json' }] }], 'broken-ref.json')), /cannot read policy file broken.json as JSON/);
  });
});

describe('operators in the accounts file', () => {
  test('"operator": true on an account\'s key or on a user makes those keys operators; nothing else does', () => {
    const accounts = loadAccounts(write('operators.json', {
      accounts: [{
        id: '111111111111',
        accessKeys: [KEY('AKIAROOT'), { ...KEY('AKIAOPS'), operator: true }],
        users: [{ name: 'prometheus', operator: true, accessKeys: [KEY('AKIAPROM')] }, { name: 'ci', accessKeys: [KEY('AKIACI')] }],
      }],
    }));
    assert.deepEqual(['AKIAROOT', 'AKIAOPS', 'AKIAPROM', 'AKIACI'].map((k) => accounts.byAccessKey(k)?.operator), [false, true, true, false]);
    assert.equal(accounts.operatorKeys, 2);
    assert.equal(accounts.byAccessKey('AKIAPROM')?.user?.name, 'prometheus');
  });

  test('refuses an "operator" that is not a boolean, naming the key', () => {
    const file = write('bad-operator.json', { accounts: [{ id: '111111111111', accessKeys: [{ ...KEY('AKIAOPS'), operator: 'yes' }] }] });
    assert.throws(() => loadAccounts(file), /access key AKIAOPS of account 111111111111: "operator" must be true or false, not "yes"/);
    const users = accountsWith([{ name: 'ops', operator: 1 }], 'bad-user-operator.json');
    assert.throws(() => loadAccounts(users), /user ops of account 111111111111: "operator" must be true or false, not 1/);
  });
});
