// Opens the adapters of a data directory: the one place that knows its layout.
import { join } from 'node:path';
import { FsBlockStore } from '../adapters/fs/fs-block-store.ts';
import { createS3BlockStore, S3BlockStore } from '../adapters/s3/s3-block-store.ts';
import { SqliteMetadataStore } from '../adapters/sqlite/sqlite-store.ts';
import type { BlocksConfig } from '../config/blocks.ts';
import type { BlockStore } from '../ports/block-store.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

export interface Stores { store: MetadataStore; blocks: BlockStore }

/** `blocks` defaults to the data directory's own `blocks` folder. */
export function openStores(dataDir: string, blocks?: BlocksConfig): Stores {
  return {
    store: new SqliteMetadataStore(join(dataDir, 'metadata.sqlite')),
    blocks: openBlockStore(blocks ?? { kind: 'fs', root: join(dataDir, 'blocks') }),
  };
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
