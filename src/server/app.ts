// Wiring: the one place that picks adapters and builds the domain services from config.
import { join } from 'node:path';
import { SqliteMetadataStore } from '../adapters/sqlite/sqlite-store.ts';
import type { Ec2Services } from '../api/ec2/handler.ts';
import { loadCatalog, readCatalog, type CatalogImage } from '../catalog/catalog.ts';
import type { ServerConfig } from '../config/config.ts';
import { ImageService } from '../domain/images/image-service.ts';
import { TagService } from '../domain/tags/tag-service.ts';
import { loadAccounts } from '../identity/accounts.ts';
import { devAuthenticator, strictAuthenticator, type Authenticator } from '../identity/authenticator.ts';
import { systemClock } from '../ports/clock.ts';
import { randomIds } from '../ports/ids.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

export interface App {
  readonly config: ServerConfig;
  readonly store: MetadataStore;
  readonly ec2: Ec2Services;
  readonly authenticator: Authenticator;
  /** Empties the store and loads the catalogue again (test suites, behind --enable-reset). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function createApp(config: ServerConfig): Promise<App> {
  const accounts = config.accountsFile ? loadAccounts(config.accountsFile) : undefined;
  const catalog: CatalogImage[] = readCatalog(config.catalogFile);
  const store = new SqliteMetadataStore(join(config.dataDir, 'metadata.sqlite'));
  const images = new ImageService({ store, clock: systemClock, ids: randomIds });
  const tags = new TagService(store, {
    image: async (caller, id) => void (await images.findVisible(caller, id)),
  });
  await loadCatalog(store, catalog);
  return {
    config,
    store,
    ec2: { images, tags },
    authenticator: accounts ? strictAuthenticator(accounts, systemClock) : devAuthenticator(),
    async reset() {
      await store.reset();
      await loadCatalog(store, catalog);
    },
    close: () => store.close(),
  };
}
