// The shared metadata store: PostgreSQL, for several stateless amiforge nodes on one database.
// Each repository keeps its rules with unique constraints, row locks or SERIALIZABLE
// transactions, so concurrent writers on different nodes get the guarantees SQLite's single
// writer gave. Opening migrates the schema (once across nodes starting together).
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { ImageBuilderRepository } from '../../ports/imagebuilder-repository.ts';
import type { InstanceRepository, KeyPairRepository } from '../../ports/instance-repository.ts';
import type { KeyRepository } from '../../ports/key-repository.ts';
import type { NetworkRepository } from '../../ports/network-repository.ts';
import type { VolumeRepository } from '../../ports/volume-repository.ts';
import { migrate } from './migrations.ts';
import { PgAccountSettings } from './pg-account-settings.ts';
import { PgDatabase, type PgDatabaseOptions } from './pg-database.ts';
import { PgImageBuilder } from './pg-imagebuilder.ts';
import { PgImages } from './pg-images.ts';
import { PgInstances, PgKeyPairs } from './pg-instances.ts';
import { PgKeys } from './pg-keys.ts';
import { PG_MIGRATIONS } from './pg-migrations.ts';
import { PgNetwork } from './pg-network.ts';
import { PgNodes } from './pg-nodes.ts';
import { PgConsoleSessions } from './pg-console-sessions.ts';
import type { ConsoleSessionStore } from '../../ports/console-sessions.ts';
import { PgCopyScheduleState, PgWorkLeases } from './pg-work-leases.ts';
import type { NodeRegistry } from '../../ports/node-registry.ts';
import { PgRecycleBin } from './pg-recycle-bin.ts';
import { PgSsmParameters } from './pg-ssm-parameters.ts';
import { PgSnapshots } from './pg-snapshots.ts';
import { PgTags } from './pg-tags.ts';
import { PgVolumes } from './pg-volumes.ts';
import { RESET_A } from './schema-a.ts';
import { RESET_B } from './schema-b.ts';

export class PgMetadataStore implements MetadataStore {
  readonly images: PgImages;
  readonly tags: PgTags;
  readonly snapshots: PgSnapshots;
  readonly volumes: VolumeRepository;
  readonly keys: KeyRepository;
  readonly instances: InstanceRepository;
  readonly keyPairs: KeyPairRepository;
  readonly accountSettings: PgAccountSettings;
  readonly recycleBin: PgRecycleBin;
  readonly ssmParameters: PgSsmParameters;
  readonly network: NetworkRepository;
  readonly imageBuilder: ImageBuilderRepository;
  readonly nodes: NodeRegistry;
  readonly consoleSessions: ConsoleSessionStore;
  readonly leases: PgWorkLeases;
  readonly copyScheduleState: PgCopyScheduleState;
  /** The pool; exposed for the cluster's own tables (leases, node registry) and tests. */
  readonly db: PgDatabase;

  private constructor(db: PgDatabase) {
    this.db = db;
    this.images = new PgImages(db);
    this.tags = new PgTags(db);
    this.snapshots = new PgSnapshots(db);
    this.volumes = new PgVolumes(db);
    this.keys = new PgKeys(db);
    this.instances = new PgInstances(db);
    this.keyPairs = new PgKeyPairs(db);
    this.accountSettings = new PgAccountSettings(db);
    this.recycleBin = new PgRecycleBin(db, { images: this.images, snapshots: this.snapshots });
    this.ssmParameters = new PgSsmParameters(db);
    this.network = new PgNetwork(db);
    this.imageBuilder = new PgImageBuilder(db);
    this.nodes = new PgNodes(db);
    this.consoleSessions = new PgConsoleSessions(db);
    this.leases = new PgWorkLeases(db);
    this.copyScheduleState = new PgCopyScheduleState(db);
  }

  /** Connects to `url` (postgres://...), brings the schema to this release's version and builds the repositories. */
  static async open(url: string, options: PgDatabaseOptions = {}): Promise<PgMetadataStore> {
    const db = new PgDatabase(url, options);
    try {
      await migrate(db, PG_MIGRATIONS);
    } catch (err) {
      await db.close();
      throw err;
    }
    return new PgMetadataStore(db);
  }

  async reset(): Promise<void> {
    // One statement: TRUNCATE takes every table's lock at once, so no node sees half a reset.
    await this.db.query(`TRUNCATE ${[...RESET_A, ...RESET_B, 'ssm_parameters'].join(', ')}`);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
