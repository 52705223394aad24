// --database on the commands that open the stores: bad values and unusable databases end in a
// sentence on stderr and a non-zero status, never a stack trace, and never the password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { SqliteMetadataStore } from '../adapters/sqlite/sqlite-store.ts';

const MAIN = join(import.meta.dirname, 'main.ts');
const PASSWORD = 'hunter2-n0t-for-logs';

async function fails(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-dbopt-'));
  try {
    const run = promisify(execFile)(process.execPath, [MAIN, ...args.map((a) => a.replace('DIR', dir))], { env: { ...process.env, ...env } });
    const err = await run.then(() => assert.fail(`${args.join(' ')} succeeded`), (e: { code: number; stdout: string; stderr: string }) => e);
    assert.notEqual(err.code, 0);
    const out = err.stdout + err.stderr;
    assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
    assert.ok(!out.includes(PASSWORD), `password printed: ${out}`);
    return err.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const unreachable = `postgres://amiforge:${PASSWORD}@127.0.0.1:1/amiforge`;

test('serve: a URL that is not PostgreSQL is refused before anything starts', async () => {
  assert.match(await fails(['serve', '--port', '0', '--data-dir', 'DIR', '--database', `mysql://u:${PASSWORD}@h/db`]), /--database must be a postgres:\/\//);
  assert.match(await fails(['serve', '--port', '0', '--data-dir', 'DIR'], { AMIFORGE_DATABASE_URL: `postgres://u:${PASSWORD}@h` }), /AMIFORGE_DATABASE_URL names no database/);
});

test('serve, fsck and storage: a database that cannot be opened is reported without the password', async () => {
  assert.match(await fails(['serve', '--port', '0', '--data-dir', 'DIR', '--log-level', 'silent', '--database', unreachable]), /^amiforge serve: /);
  assert.match(await fails(['fsck', '--data-dir', 'DIR', '--database', unreachable]), /cannot open the metadata database/);
  assert.match(await fails(['storage', 'report', '--data-dir', 'DIR'], { AMIFORGE_DATABASE_URL: unreachable }), /cannot open the metadata database/);
  assert.match(await fails(['storage', 'clean-up', '--data-dir', 'DIR', '--database', `ftp://u:${PASSWORD}@h/db`]), /--database must be a postgres:\/\//);
});

test('fsck on a SQLite file newer than this release says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-dbopt-'));
  try {
    await new SqliteMetadataStore(join(dir, 'metadata.sqlite')).close();
    const db = new DatabaseSync(join(dir, 'metadata.sqlite'));
    db.exec('PRAGMA user_version = 9999');
    db.close();
    assert.match(await fails(['fsck', '--data-dir', dir]), /schema is version 9999, newer than this amiforge knows/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
