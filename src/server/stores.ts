// Opens the adapters of a data directory, database and block location: the one place that
// knows their layout. The metadata lives in SQLite in the data directory unless a PostgreSQL URL
// is given; blocks in the data directory's `blocks` folder unless an S3 location is given.
import { join } from 'node:path';
import { FsBlockStore } from '../adapters/fs/fs-block-store.ts';
import { createS3BlockStore, S3BlockStore } from '../adapters/s3/s3-block-store.ts';
import { PgMetadataStore } from '../adapters/postgres/pg-store.ts';
import { SqliteMetadataStore } from '../adapters/sqlite/sqlite-store.ts';
import type { BlocksConfig } from '../config/blocks.ts';
import { redactSecret, type DatabaseTarget } from '../config/database.ts';
import type { BlockStore } from '../ports/block-store.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

export interface Stores { store: MetadataStore; blocks: BlockStore }

export interface StoreChoice {
  /** Default: SQLite in the data directory. */
  database?: DatabaseTarget;
  /** Default: the data directory's own `blocks` folder. */
  blocks?: BlocksConfig;
}

export async function openStores(dataDir: string, choice: StoreChoice = {}): Promise<Stores> {
  const blocks = openBlockStore(choice.blocks ?? { kind: 'fs', root: join(dataDir, 'blocks') });
  try {
    return { store: await openMetadataStore(dataDir, choice.database ?? { kind: 'sqlite' }), blocks };
  } catch (err) {
    closeBlockStore(blocks);
    throw err;
  }
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

export function openBlockStore(config: BlocksConfig): BlockStore {
  if (config.kind === 'fs') return new FsBlockStore({ root: config.root });
  return createS3BlockStore({ bucket: config.bucket, prefix: config.prefix, endpoint: config.endpoint, region: config.region });
}

/**
 * Checks at start-up that the block store can be used (an S3 bucket exists and answers), so a
 * typo in --blocks or a down object store is one clear message rather than failed requests later.
 */
export async function checkBlockStore(blocks: BlockStore): Promise<void> {
  if (blocks instanceof S3BlockStore) await blocks.checkBucket();
}

/** Releases what the block store holds open (an S3 client's keep-alive sockets). */
export function closeBlockStore(blocks: BlockStore): void {
  if (blocks instanceof S3BlockStore) blocks.close();
}
