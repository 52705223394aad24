// PgDatabase when the server goes away: a transaction whose connection drops between two
// statements fails as unavailable (the process lives on), and the pool reconnects by itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.ts';
import { StoreUnavailableError } from '../../ports/metadata-store.ts';
import { PgDatabase } from './pg-database.ts';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

test('a connection dropped mid-transaction: StoreUnavailableError, no unhandled error event; the next query reconnects', async () => {
  const db = new PgDatabase(await pg.createDatabase());
  try {
    await assert.rejects(db.tx(async (q) => {
      await q.query('SELECT 1');
      await pg.stopServer();
      // The dropped connection's 'error' event comes while no statement runs on it.
      await new Promise((r) => setTimeout(r, 300));
      await q.query('SELECT 2');
    }), StoreUnavailableError);
    await assert.rejects(db.query('SELECT 1'), StoreUnavailableError);
    await pg.startServer();
    assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
  } finally {
    await db.close();
  }
});
