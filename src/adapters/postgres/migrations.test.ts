// The migration runner on a real PostgreSQL: versions applied once (also when two nodes start
// together), an existing database upgraded in place, a newer one refused with a clear message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.ts';
import { PgDatabase } from './pg-database.ts';
import { migrate, SchemaTooNewError, type Migration } from './migrations.ts';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

const V1: Migration = { version: 1, description: 'a table', sql: 'CREATE TABLE things (id text PRIMARY KEY)' };
const V2: Migration = { version: 2, description: 'a column', sql: "ALTER TABLE things ADD COLUMN colour text NOT NULL DEFAULT 'grey'" };

test('applies each version once, in order, and upgrades an older database in place', async () => {
  const db = new PgDatabase(await pg.createDatabase());
  try {
    assert.deepEqual(await migrate(db, [V1]), [1]);
    await db.query("INSERT INTO things (id) VALUES ('a')");
    assert.deepEqual(await migrate(db, [V1]), []);
    assert.deepEqual(await migrate(db, [V2, V1]), [2]);
    assert.deepEqual(await db.query('SELECT id, colour FROM things'), [{ id: 'a', colour: 'grey' }]);
  } finally {
    await db.close();
  }
});

test('nodes migrating the same database at once apply each version once', async () => {
  const url = await pg.createDatabase();
  const nodes = [new PgDatabase(url), new PgDatabase(url), new PgDatabase(url)];
  try {
    const applied = await Promise.all(nodes.map((db) => migrate(db, [V1, V2])));
    assert.deepEqual(applied.flat().sort(), [1, 2]);
  } finally {
    await Promise.all(nodes.map((db) => db.close()));
  }
});

test('a database newer than this release is refused and left untouched', async () => {
  const db = new PgDatabase(await pg.createDatabase());
  try {
    await migrate(db, [V1, V2]);
    await assert.rejects(migrate(db, [V1]), (err: Error) => err instanceof SchemaTooNewError && /version 2, newer than this amiforge knows \(1\)/.test(err.message));
    assert.equal((await db.query('SELECT count(*)::int AS n FROM schema_migrations'))[0]!.n, 2);
  } finally {
    await db.close();
  }
});

test('a stopped database is reported unavailable, and the pool reconnects once it is back', async () => {
  const db = new PgDatabase(await pg.createDatabase(), { connectTimeoutMs: 1000 });
  try {
    await migrate(db, [V1]);
    await pg.stopServer();
    await assert.rejects(db.query('SELECT 1'), { name: 'StoreUnavailableError' });
    await assert.rejects(db.tx((q) => q.query('SELECT 1')), { name: 'StoreUnavailableError' });
    await pg.startServer();
    assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
  } finally {
    await db.close();
  }
});
