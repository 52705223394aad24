import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { DatabaseUrlError, parseDatabaseTarget, redactDatabaseUrl, redactSecret } from './database.ts';

test('no flag and no environment variable: SQLite in the data directory', () => {
  assert.deepEqual(parseDatabaseTarget(undefined, {}), { kind: 'sqlite' });
  assert.deepEqual(parseDatabaseTarget(undefined, { AMIFORGE_DATABASE_URL: ' ' }), { kind: 'sqlite' });
});

test('postgres:// and postgresql:// URLs, from the flag or else the environment', () => {
  const t = parseDatabaseTarget('postgres://amiforge:s3cret@db.example:5433/amiforge', { AMIFORGE_DATABASE_URL: 'postgres://x:y@other/db' });
  assert.equal(t.kind === 'postgres' && t.url, 'postgres://amiforge:s3cret@db.example:5433/amiforge');
  assert.equal(t.kind === 'postgres' && t.display, 'postgres://amiforge:***@db.example:5433/amiforge');
  // Logged or serialised whole, the target shows no password.
  assert.equal(JSON.stringify(t), '{"kind":"postgres","display":"postgres://amiforge:***@db.example:5433/amiforge"}');
  assert.ok(!inspect(t).includes('s3cret'));
  const e = parseDatabaseTarget(undefined, { AMIFORGE_DATABASE_URL: 'postgresql://u@localhost/meta' });
  assert.equal(e.kind === 'postgres' && e.url, 'postgresql://u@localhost/meta');
});

test('unusable values are refused without echoing the password', () => {
  for (const bad of ['mysql://u:s3cret@h/db', 'postgres://u:s3cret@h', 'postgres://u:s3cret@h/', 'u:s3cret@h/db', 'not a url']) {
    assert.throws(() => parseDatabaseTarget(bad, {}), (err: Error) => err instanceof DatabaseUrlError && !err.message.includes('s3cret'), bad);
  }
  assert.throws(() => parseDatabaseTarget(undefined, { AMIFORGE_DATABASE_URL: 'sqlite://x' }), /AMIFORGE_DATABASE_URL must be/);
});

test('redaction: the URL, the password as written and as decoded', () => {
  assert.equal(redactDatabaseUrl('postgres://u:p%40ss@h/db'), 'postgres://u:***@h/db');
  assert.equal(redactDatabaseUrl('postgres://u@h/db'), 'postgres://u@h/db');
  const t = parseDatabaseTarget('postgres://u:p%40ss@h/db', {});
  assert.equal(redactSecret('cannot connect to postgres://u:p%40ss@h/db: password p@ss rejected', t), 'cannot connect to postgres://u:***@h/db: password *** rejected');
});
