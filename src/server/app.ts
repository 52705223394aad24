// Wiring: the one place that picks adapters and builds the domain services from config.
import type { Ec2Services } from '../api/ec2/handler.ts';
import { loadCatalog, readCatalog, type CatalogImage } from '../catalog/catalog.ts';
import type { ServerConfig } from '../config/config.ts';
import { ImageCopies } from '../domain/images/copy-image.ts';
import { ImageService } from '../domain/images/image-service.ts';
import { PendingImages } from '../domain/images/pending-images.ts';
import { AllowedImages } from '../domain/images/allowed-images.ts';
import { ImageAncestry } from '../domain/images/image-ancestry.ts';
import { TagService } from '../domain/tags/tag-service.ts';
import { EbsDirectService } from '../domain/snapshots/ebs-direct-service.ts';
import { BackgroundSnapshotCopier } from '../domain/snapshots/snapshot-copier.ts';
import { SnapshotService } from '../domain/snapshots/snapshot-service.ts';
import { VolumeData } from '../domain/volumes/volume-data.ts';
import { VolumeService } from '../domain/volumes/volume-service.ts';
import { VolumeSnapshots } from '../domain/volumes/volume-snapshots.ts';
import type { BlockStore } from '../ports/block-store.ts';
import type { Hypervisor } from '../ports/hypervisor.ts';
import type { Logger } from './logger.ts';
import { createPipelines } from './imagebuilder-pipelines-wiring.ts';
import { checkBlockStore, closeBlockStore, openStores } from './stores.ts';
import { StorageMaintenance } from '../domain/storage/storage-maintenance.ts';
import { loadAccounts } from '../identity/accounts.ts';
import { devAuthenticator, strictAuthenticator, type Authenticator } from '../identity/authenticator.ts';
import { RequestAuthorizer } from '../identity/request-authorizer.ts';
import { AdvanceableClock, systemClock } from '../ports/clock.ts';
import { ImageBlockPublicAccess } from '../domain/images/block-public-access.ts';
import { ImageControls } from '../domain/images/image-controls.ts';
import { SnapshotBlockPublicAccess } from '../domain/snapshots/snapshot-block-public-access.ts';
import { randomIds } from '../ports/ids.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import { Errors } from '../domain/errors.ts';
import { KeyVault } from '../domain/kms/key-vault.ts';
import { KmsService } from '../domain/kms/kms-service.ts';
import { EbsEncryption } from '../domain/encryption/ebs-encryption.ts';
import { LineageKeys } from '../domain/encryption/lineage-keys.ts';
import { loadKmsRootKey } from './kms-root-key.ts';
import { createSsm } from './ssm-wiring.ts';
import type { SsmService } from '../domain/ssm/ssm-service.ts';
import { createHypervisor, createInstanceServices } from './instances-wiring.ts';
import { RecycleBin } from '../domain/recycle-bin/recycle-bin.ts';
import { RetentionRuleService } from '../domain/recycle-bin/retention-rules.ts';
import type { CopyScheduler } from '../domain/copy-schedules/copy-scheduler.ts';
import { createCopyScheduler, readCopySchedules } from './copy-schedules-wiring.ts';
import { HygieneScanner } from '../domain/imagebuilder/hygiene/hygiene-scanner.ts';
import { debugfsFilesystems } from '../adapters/offline-fs/debugfs-filesystems.ts';
import type { ImageBuilderServices } from '../domain/imagebuilder/services.ts';
import { createImageBuilderResources } from './imagebuilder-wiring.ts';
import { validateComponentDocument } from '../domain/imagebuilder/components/document.ts';
import { amazonComponents } from '../domain/imagebuilder/components/amazon-components.ts';
import { LifecycleService } from '../domain/imagebuilder/lifecycle/lifecycle-service.ts';
import { Ec2Lifecycle } from '../domain/imagebuilder/lifecycle/lifecycle-ec2.ts';
import { createBuildService } from './imagebuilder-builds-wiring.ts';
import { LeaseKeeper } from '../domain/cluster/lease-keeper.ts';
import { everyOnOneNode, singletonGate } from '../domain/cluster/singleton.ts';
import { testCopyPace } from './test-hooks.ts';
import { ClusterNode } from './cluster-node.ts';
import { loadOperatorToken, type OperatorToken } from '../identity/operator-token.ts';
import { ServerMetrics } from './metrics.ts';
import { readGauges } from './metrics-readings.ts';

export interface App {
  readonly config: ServerConfig;
  readonly store: MetadataStore;
  readonly blocks: BlockStore;
  readonly ec2: Ec2Services;
  readonly ebs: EbsDirectService;
  readonly kms: KmsService;
  readonly rbin: RetentionRuleService;
  readonly ssm: SsmService;
  /** Image Builder: each area's service (src/domain/imagebuilder/services.ts). */
  readonly imageBuilder: ImageBuilderServices;
  readonly volumeData: VolumeData;
  readonly copier: BackgroundSnapshotCopier;
  readonly maintenance: StorageMaintenance;
  readonly authenticator: Authenticator;
  /** The operators' bearer token (--operator-token-file), when given: operator-gate.ts. */
  readonly operatorToken?: OperatorToken;
  /** What GET /metrics reports (this app's own registry). */
  readonly metrics: ServerMetrics;
  /** The domain services' clock; tests move it forward through /_amiforge/clock (with --enable-reset). */
  readonly clock: AdvanceableClock;
  /** Scheduled image copies (--copy-schedules), when configured. */
  readonly copySchedules?: CopyScheduler;
  /** Identity policies of IAM-style users, checked on each of their requests. */
  readonly authorizer: RequestAuthorizer;
  /** What runs this node's instances. */
  readonly hypervisor: Hypervisor;
  /** This node's work leases (background work shared with the other nodes on the store). */
  readonly leases: LeaseKeeper;
  /** This process as a node among those sharing the store: heartbeat, instance ownership, /_amiforge/nodes. */
  readonly cluster: ClusterNode;
  /** Empties the store and loads the catalogue again (test suites, behind --enable-reset). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Unreferenced blocks younger than this are spared by online GC (uploads in flight). */
export const GC_GRACE_MS = 15 * 60_000;
/** How often resources whose Recycle Bin retention has ended are deleted for good. */
const RECYCLE_BIN_SWEEP_MS = 60_000;

export async function createApp(config: ServerConfig, log: Logger): Promise<App> {
  const accounts = config.accountsFile ? loadAccounts(config.accountsFile) : undefined;
  const operatorToken = config.operatorTokenFile ? loadOperatorToken(config.operatorTokenFile) : undefined;
  if (accounts && !operatorToken && !accounts.operatorKeys) {
    log.warn('no operator: /_amiforge/* (but health and version) and /metrics refuse every request; give --operator-token-file or mark an access key "operator": true (docs/operators.md)');
  }
  const metrics = new ServerMetrics();
  const catalog: CatalogImage[] = readCatalog(config.catalogFile);
  const copySpecs = config.copySchedulesFile ? readCopySchedules(config.copySchedulesFile, accounts) : [];
  const { store, blocks } = await openStores(config.dataDir, { database: config.database, blocks: config.blocks });
  await checkBlockStore(blocks);
  const clock = new AdvanceableClock();
  const deps = { store, clock, ids: randomIds };
  // Background work is shared with every node on this store through leases (docs/cluster.md).
  const leases = new LeaseKeeper({ leases: store.leases, holder: config.nodeId, ttlMs: config.leaseMs, clock: systemClock, log });
  const kms = new KmsService({ keys: store.keys, clock: systemClock, vault: new KeyVault(loadKmsRootKey(config.kmsRootKey, log)),
    onServiceOperation: (operation) => metrics.kmsOperation(operation, 'ebs') });
  await kms.verifyRootKey();
  const lineageKeys = new LineageKeys(kms);
  const encryption = new EbsEncryption({ store, keys: lineageKeys });
  const copier = new BackgroundSnapshotCopier({
    store, blocks, clock: systemClock, keys: lineageKeys,
    onError: (snapshotId, err) => log.error({ snapshotId, err }, 'snapshot copy failed'),
    leases, pace: testCopyPace(),
  });
  const recycleBin = new RecycleBin({ store, clock });
  const rbin = new RetentionRuleService({ rules: store.recycleBin, clock, ids: randomIds });
  const snapshotPublicAccess = new SnapshotBlockPublicAccess(store.accountSettings);
  const imagePublicAccess = new ImageBlockPublicAccess(store.accountSettings);
  const snapshots = new SnapshotService({ ...deps, copier, encryption, publicAccess: snapshotPublicAccess, recycleBin });
  const allowedImages = new AllowedImages({ store, clock: systemClock });
  const images = new ImageService({ ...deps, snapshots, encryption, allowedImages, publicAccess: imagePublicAccess, recycleBin });
  const ssm = createSsm({ store, kms, images, catalog: () => catalog, clock: systemClock });
  const imageAncestry = new ImageAncestry({ store, images, allowedImages });
  const governance = { images: new ImageControls({ ...deps, images }), imagePublicAccess, snapshotPublicAccess };
  const ebs = new EbsDirectService({ ...deps, blocks, encryption, publicAccess: snapshotPublicAccess });
  const volumes = new VolumeService({ ...deps, snapshots, blocks, encryption });
  const volumeData = new VolumeData({ store, blocks, keys: lineageKeys, writeBufferBlocks: config.volumeWriteBuffer });
  const tags = new TagService(store, {
    image: async (caller, id) => void (await images.findVisible(caller, id)),
    snapshot: async (caller, id) => void (await snapshots.findUsable(caller, id)),
    volume: async (caller, id) => void (await volumes.findOwned(caller, id)),
    instance: async (caller, id) => void (await compute.services.instances.find(caller, id)),
    'key-pair': async (caller, id) => {
      if (!(await store.keyPairs.byId(caller.region, caller.account, id))) throw Errors.keyPairIdNotFound(id);
    },
    'security-group': async (caller, id) => void (await compute.services.securityGroups.find(caller, { GroupId: id })),
    'security-group-rule': async (caller, id) => void (await compute.services.securityGroups.findRule(caller, id)),
    vpc: async (caller, id) => void (await compute.services.vpcs.describeVpcs(caller, { VpcIds: [id] })),
    subnet: async (caller, id) => void (await compute.services.vpcs.describeSubnets(caller, { SubnetIds: [id] })),
  }, recycleBin);
  const volumeSnapshots = new VolumeSnapshots({
    ...deps, blocks, volumes, keys: lineageKeys, flushVolume: (v) => volumeData.settle(v),
    onError: (snapshotId, err) => log.error({ snapshotId, err }, 'snapshot failed'),
    leases,
  });
  // Built before the copies and snapshots resume, so it hears every one that completes.
  const pendingImages = new PendingImages({ store, sources: [volumeSnapshots, copier], leases });
  const imageCopies = new ImageCopies({ ...deps, snapshots, pendingImages, allowedImages });
  // /_amiforge/nodes lists each node's unexpired work leases. Checked before the hypervisor ends
  // guests a crash left and before instances are recovered: a duplicate node must touch neither.
  const cluster = new ClusterNode({
    config, store, clock: systemClock, log, hypervisorName: config.hypervisor.driver,
    heldLeases: async (nodeId) => {
      const now = Date.now();
      return (await store.leases.held(nodeId)).filter((l) => l.expiresAt.getTime() > now)
        .map((l) => ({ name: l.name, expiresAt: l.expiresAt.toISOString() }));
    },
  });
  await cluster.refuseDuplicate();
  cluster.keepNodeId();
  const hypervisor = await createHypervisor(config, log, { catalog });
  const compute = createInstanceServices({
    config, store, clock: systemClock, ids: randomIds, images, allowedImages, snapshots, volumes, volumeData, volumeSnapshots, pendingImages, log, hypervisor,
    leadingSweep: singletonGate(leases, 'terminated-instances-sweep', log),
    ownership: cluster.ownership,
    imageParameters: ssm.parameters,
  });
  cluster.useNetwork(compute.network);
  const catalogOptions = {
    baseImageDir: config.baseImageDir,
    buildDir: config.buildDir,
    onSkipped: (img: CatalogImage, reason: string) => log.info({ image: img.name }, `catalogue image left out: ${reason}`),
  };
  await loadCatalog(store, blocks, catalog, catalogOptions);
  await copier.resumeAll();
  await volumeSnapshots.resumeAll();
  await compute.recover();
  const maintenance = new StorageMaintenance({ store, blocks });
  const leftovers = await maintenance.cleanCrashLeftovers(new Date());
  if (leftovers) log.info({ removed: leftovers }, 'removed partial block writes left by a crash');
  // Copies and snapshot completions of nodes that died (their leases expired) are claimed here;
  // each item's lease keeps two nodes from running it at once.
  const claimTimer = setInterval(() => {
    void Promise.all([copier.resumeAll(), volumeSnapshots.resumeAll()])
      .catch((err) => log.error({ err }, 'claiming background work left by other nodes failed'));
  }, Math.max(500, Math.floor(config.leaseMs / 2)));
  claimTimer.unref();
  const stopSingletons = [
    // Hourly garbage collection; the grace period spares blocks of uploads in flight.
    everyOnOneNode({
      keeper: leases, lease: 'garbage-collection', everyMs: 3600_000, log,
      task: async () => {
        const r = await maintenance.collectGarbage({ graceMs: GC_GRACE_MS });
        log.info({ gc: r.filter((x) => x.deleted), node: config.nodeId }, 'garbage collection');
      },
    }),
    everyOnOneNode({
      keeper: leases, lease: 'recycle-bin-sweep', everyMs: RECYCLE_BIN_SWEEP_MS, log,
      task: async () => {
        const n = await recycleBin.purgeExpired();
        if (n) log.info({ purged: n, node: config.nodeId }, 'recycle bin: retention ended');
      },
    }),
    // Images whose snapshots settled on a node that died before it settled the image.
    everyOnOneNode({
      keeper: leases, lease: 'pending-images', everyMs: config.leaseMs, log,
      task: () => pendingImages.recover(),
    }),
  ];
  const copySchedules = copySpecs.length ? createCopyScheduler({
    specs: copySpecs, dataDir: config.dataDir, store, accounts, log, leases,
    services: { images, tags, copier: imageCopies },
  }) : undefined;
  await copySchedules?.start();
  // Image Builder lifecycle policies act on AMIs through EC2's own services, daily on the service clock.
  const lifecycle = new LifecycleService({
    repo: store.imageBuilder, ec2: new Ec2Lifecycle({ store, images, controls: governance.images, clock }), clock, log,
    leading: singletonGate(leases, 'image-lifecycle-scheduler', log), leases,
  });
  await lifecycle.start();
  const hygiene = new HygieneScanner({ store, blocks, images, keys: lineageKeys, filesystems: debugfsFilesystems() });
  // Image Builder's builds on EC2's services, with the hygiene gate before sharing; builds a
  // previous process left in progress are failed and cleaned up.
  const builds = createBuildService({
    config, store, clock, log, hygiene, leases, ec2: { images, imageCopies, snapshots, ...compute.services },
    publishParameter: (owner, name, imageId, dataType) => ssm.parameters.publishImage(owner, name, imageId, dataType),
  });
  const interrupted = await builds.recover();
  if (interrupted) log.info({ builds: interrupted }, 'image builds interrupted by a restart were failed');
  // Builds of nodes that died mid-way are failed by one node once their leases expire.
  stopSingletons.push(everyOnOneNode({
    keeper: leases, lease: 'image-build-recovery', everyMs: config.leaseMs, log,
    task: async () => {
      const n = await builds.recover();
      if (n) log.info({ builds: n }, 'image builds of a node that stopped were failed');
    },
  }));
  // Image pipelines and their schedules, on the service's clock; builds start through the build service.
  const pipelines = createPipelines({ store: store.imageBuilder, clock, log, builds, amazonComponents, leading: singletonGate(leases, 'image-pipeline-scheduler', log) });
  pipelines.scheduler.start();
  // Image Builder: the resources (components, recipes, configurations, tags, client tokens).
  const imageBuilder: ImageBuilderServices = {
    ...createImageBuilderResources({
      store: store.imageBuilder, clock, ec2: { images, allowedImages, ...compute.services },
      validateDocument: validateComponentDocument,
      amazonComponents,
      leases,
    }),
    hygiene,
    lifecycle,
    builds,
    pipelines: pipelines.service,
  };
  metrics.readGaugesFrom(() => readGauges({ store, maintenance, copySchedules }));
  return {
    config,
    store,
    blocks,
    ec2: { images, imageCopies, tags, snapshots, volumes, volumeSnapshots, encryption, allowedImages, imageAncestry, governance, recycleBin, ...compute.services },
    volumeData,
    ebs,
    kms,
    rbin,
    ssm,
    imageBuilder,
    copier,
    maintenance,
    authenticator: accounts ? strictAuthenticator(accounts, systemClock) : devAuthenticator(),
    operatorToken,
    metrics,
    clock,
    copySchedules,
    authorizer: new RequestAuthorizer(store.tags, store.images, (caller, ref) => ssm.parameters.resolveImageId(caller, ref).catch(() => undefined)),
    leases,
    hypervisor: compute.hypervisor,
    cluster,
    async reset() {
      await builds.close();
      await lifecycle.runner.idle();
      await compute.reset();
      await copier.idle();
      await volumeSnapshots.idle();
      await store.reset();
      clock.rewind();
      await loadCatalog(store, blocks, catalog, catalogOptions);
    },
    async close() {
      clearInterval(claimTimer);
      for (const stop of stopSingletons) stop();
      await copySchedules?.close();
      await pipelines.scheduler.close();
      await builds.close();
      await lifecycle.close();
      await compute.close();
      await cluster.close();
      // Writes the guests (the simulator's) left in volumes' write buffers.
      await volumeData.flushAll().catch((err) => log.error({ err }, 'flushing volumes at shutdown failed'));
      await copier.idle();
      await volumeSnapshots.idle();
      // Frees this node's leases: the others take its schedules over at once, not after expiry.
      await leases.close();
      await store.close();
      closeBlockStore(blocks);
    },
  };
}
