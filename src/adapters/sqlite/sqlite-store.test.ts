// The SQLite adapter runs the shared MetadataStore contract, in memory and on a file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metadataStoreContract } from '../../../test/contracts/metadata-store.contract.ts';
import { SqliteMetadataStore } from './sqlite-store.ts';

metadataStoreContract('sqlite in memory', async () => {
  const store = new SqliteMetadataStore(':memory:');
  return { store, cleanup: () => store.close() };
});

metadataStoreContract('sqlite on a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-sqlite-'));
  const store = new SqliteMetadataStore(join(dir, 'metadata.sqlite'));
  return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
});
