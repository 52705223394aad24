// The PostgreSQL adapter runs the shared MetadataStore contract, each case on a fresh database
// of a throwaway cluster.
import { after, before } from 'node:test';
import { metadataStoreContract } from '../../../test/contracts/metadata-store.contract.ts';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.ts';
import { PgMetadataStore } from './pg-store.ts';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

metadataStoreContract('postgres', async () => {
  const url = await pg.createDatabase();
  const store = await PgMetadataStore.open(url);
  return { store, cleanup: async () => { await store.close(); await pg.dropDatabase(url); } };
});
