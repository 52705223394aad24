// Opens the adapters of a data directory: the one place that knows its layout.
import { join } from 'node:path';
import { FsBlockStore } from '../adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../adapters/sqlite/sqlite-store.ts';
import type { BlockStore } from '../ports/block-store.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

export interface Stores { store: MetadataStore; blocks: BlockStore }

export function openStores(dataDir: string): Stores {
  return {
    store: new SqliteMetadataStore(join(dataDir, 'metadata.sqlite')),
    blocks: new FsBlockStore({ root: join(dataDir, 'blocks') }),
  };
}
