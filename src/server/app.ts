// Wiring: the one place that picks adapters and builds the domain services from config.
import { join } from 'node:path';
import { FsBlockStore } from '../adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../adapters/sqlite/sqlite-store.ts';
import type { Ec2Services } from '../api/ec2/handler.ts';
import { loadCatalog, readCatalog, type CatalogImage } from '../catalog/catalog.ts';
import type { ServerConfig } from '../config/config.ts';
import { ImageService } from '../domain/images/image-service.ts';
import { TagService } from '../domain/tags/tag-service.ts';
import { EbsDirectService } from '../domain/snapshots/ebs-direct-service.ts';
import { BackgroundSnapshotCopier } from '../domain/snapshots/snapshot-copier.ts';
import { SnapshotService } from '../domain/snapshots/snapshot-service.ts';
import type { BlockStore } from '../ports/block-store.ts';
import type { Logger } from './logger.ts';
import { loadAccounts } from '../identity/accounts.ts';
import { devAuthenticator, strictAuthenticator, type Authenticator } from '../identity/authenticator.ts';
import { systemClock } from '../ports/clock.ts';
import { randomIds } from '../ports/ids.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

export interface App {
  readonly config: ServerConfig;
  readonly store: MetadataStore;
  readonly blocks: BlockStore;
  readonly ec2: Ec2Services;
  readonly ebs: EbsDirectService;
  readonly copier: BackgroundSnapshotCopier;
  readonly authenticator: Authenticator;
  /** Empties the store and loads the catalogue again (test suites, behind --enable-reset). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function createApp(config: ServerConfig, log: Logger): Promise<App> {
  const accounts = config.accountsFile ? loadAccounts(config.accountsFile) : undefined;
  const catalog: CatalogImage[] = readCatalog(config.catalogFile);
  const store = new SqliteMetadataStore(join(config.dataDir, 'metadata.sqlite'));
  const blocks = new FsBlockStore({ root: join(config.dataDir, 'blocks') });
  const deps = { store, clock: systemClock, ids: randomIds };
  const copier = new BackgroundSnapshotCopier({
    store, blocks, clock: systemClock,
    onError: (snapshotId, err) => log.error({ snapshotId, err }, 'snapshot copy failed'),
  });
  const snapshots = new SnapshotService({ ...deps, copier });
  const images = new ImageService({ ...deps, snapshots });
  const tags = new TagService(store, {
    image: async (caller, id) => void (await images.findVisible(caller, id)),
    snapshot: async (caller, id) => void (await snapshots.findUsable(caller, id)),
  });
  const ebs = new EbsDirectService({ ...deps, blocks });
  await loadCatalog(store, blocks, catalog);
  await copier.resumeAll();
  return {
    config,
    store,
    blocks,
    ec2: { images, tags, snapshots },
    ebs,
    copier,
    authenticator: accounts ? strictAuthenticator(accounts, systemClock) : devAuthenticator(),
    async reset() {
      await copier.idle();
      await store.reset();
      await loadCatalog(store, blocks, catalog);
    },
    async close() {
      await copier.idle();
      await store.close();
    },
  };
}
