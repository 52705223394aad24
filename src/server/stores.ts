// Opens the adapters of a data directory and database: the one place that knows their layout.
// The metadata lives in SQLite in the data directory unless a PostgreSQL URL is given.
import { join } from 'node:path';
import { FsBlockStore } from '../adapters/fs/fs-block-store.ts';
import { PgMetadataStore } from '../adapters/postgres/pg-store.ts';
import { SqliteMetadataStore } from '../adapters/sqlite/sqlite-store.ts';
import { redactSecret, type DatabaseTarget } from '../config/database.ts';
import type { BlockStore } from '../ports/block-store.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

export interface Stores { store: MetadataStore; blocks: BlockStore }

const SQLITE: DatabaseTarget = { kind: 'sqlite' };

export async function openStores(dataDir: string, database: DatabaseTarget = SQLITE): Promise<Stores> {
  return {
    store: await openMetadataStore(dataDir, database),
    blocks: new FsBlockStore({ root: join(dataDir, 'blocks') }),
  };
}

async function openMetadataStore(dataDir: string, database: DatabaseTarget): Promise<MetadataStore> {
  if (database.kind === 'sqlite') return new SqliteMetadataStore(join(dataDir, 'metadata.sqlite'));
  try {
    return await PgMetadataStore.open(database.url);
  } catch (err) {
    // Whatever the driver said goes to the console and logs: never with the password in it.
    if (err instanceof Error) {
      err.message = redactSecret(err.message, database);
      if (err.stack) err.stack = redactSecret(err.stack, database);
    }
    throw err;
  }
}
