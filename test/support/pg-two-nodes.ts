// Two PgMetadataStores on one fresh database, each with its own connection pool: two amiforge
// nodes, for tests racing writers on different nodes. Registers the test file's before/after;
// `ready` gets the two stores once they are open.
import { after, before } from 'node:test';
import { PgMetadataStore } from '../../src/adapters/postgres/pg-store.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

export function twoNodesOnOneDatabase(ready: (nodes: [PgMetadataStore, PgMetadataStore]) => void): void {
  let pg: TestPostgres | undefined;
  let nodes: [PgMetadataStore, PgMetadataStore] | undefined;
  before(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    nodes = [await PgMetadataStore.open(url), await PgMetadataStore.open(url)];
    ready(nodes);
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.close()));
    await pg?.stop();
  });
}
