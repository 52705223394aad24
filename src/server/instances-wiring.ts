// Wiring of the instance side: the hypervisor driver chosen by config, and the services for
// instances, attachments, CreateImage and key pairs. Kept apart from app.ts so that file stays
// a short list of what is built; app.ts calls this once.
import { catalogFiles, type CatalogImage } from '../catalog/catalog.ts';
import type { ServerConfig } from '../config/config.ts';
import { SimHypervisor } from '../adapters/sim/sim-hypervisor.ts';
import { defaultRuntimeDir, QemuHypervisor } from '../adapters/qemu/qemu-hypervisor.ts';
import type { AllowedImages } from '../domain/images/allowed-images.ts';
import type { ImageService } from '../domain/images/image-service.ts';
import { PendingImages } from '../domain/images/pending-images.ts';
import { ImageCreator } from '../domain/instances/create-image.ts';
import { InstanceLauncher, type LauncherDeps } from '../domain/instances/instance-launcher.ts';
import { InstanceLifecycle } from '../domain/instances/instance-lifecycle.ts';
import { InstanceService } from '../domain/instances/instance-service.ts';
import { InstanceVolumes } from '../domain/instances/instance-volumes.ts';
import { VolumeAttachments } from '../domain/instances/volume-attachments.ts';
import { KeyPairService } from '../domain/keypairs/key-pair-service.ts';
import { InstanceNetwork } from '../domain/network/instance-network.ts';
import { SecurityGroupService } from '../domain/network/security-groups.ts';
import { VpcService } from '../domain/network/vpc-service.ts';
import { ipv4ToInt } from '../domain/network/cidr.ts';
import type { SnapshotService } from '../domain/snapshots/snapshot-service.ts';
import type { VolumeData } from '../domain/volumes/volume-data.ts';
import type { VolumeService } from '../domain/volumes/volume-service.ts';
import type { VolumeSnapshots } from '../domain/volumes/volume-snapshots.ts';
import type { Clock } from '../ports/clock.ts';
import type { Hypervisor } from '../ports/hypervisor.ts';
import type { IdGenerator } from '../ports/ids.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { Logger } from './logger.ts';
import type { InstanceOwnership } from '../domain/instances/instance-ownership.ts';

export interface InstanceWiringDeps {
  config: ServerConfig;
  store: MetadataStore;
  clock: Clock;
  ids: IdGenerator;
  images: ImageService;
  allowedImages?: AllowedImages;
  snapshots: SnapshotService;
  volumes: VolumeService;
  volumeData: VolumeData;
  volumeSnapshots: VolumeSnapshots;
  /** Settles CreateImage's images; one hearing only volumeSnapshots is made when not given. */
  pendingImages?: PendingImages;
  log: Logger;
  /** The driver (createHypervisor); the simulator when not given. */
  hypervisor?: Hypervisor;
  /** Several nodes on one store: true on the node that sweeps terminated instances (src/domain/cluster/singleton.ts). */
  leadingSweep?: () => Promise<boolean>;
  /** Which node runs each guest, when API nodes share the store (app.ts); a lone node otherwise. */
  ownership?: InstanceOwnership;
  /** RunInstances' `resolve:ssm:` image ids. */
  imageParameters?: LauncherDeps['imageParameters'];
}

export interface HypervisorWiring {
  /** The catalogue: its kernel and ramdisk images' files are what paravirtual guests boot. */
  catalog?: CatalogImage[];
}

/** How long a graceful guest shutdown may take before the guest is forced off. */
const STOP_TIMEOUT_MS = 60_000;

/**
 * The driver `--hypervisor` names. `qemu` refuses to start (saying which script to run) without
 * QEMU or the base image, and ends QEMU processes a crashed amiforge on this data directory left.
 */
export async function createHypervisor(config: ServerConfig, log: Logger, o: HypervisorWiring = {}): Promise<Hypervisor> {
  if (config.hypervisor.driver === 'sim') return new SimHypervisor({ bootMs: config.hypervisor.bootMs });
  const kernels = o.catalog ? catalogFiles(o.catalog, config.buildDir) : new Map<string, string>();
  return QemuHypervisor.create({
    imageDir: config.baseImageDir, runtimeDir: nodeRuntimeDir(config), kernelFiles: (imageId) => kernels.get(imageId),
    forwardPortOffset: config.hypervisor.forwardPortOffset,
    // Config refuses a host address range beyond loopback without --allow-public-forwarding.
    forwardBeyondLoopback: config.network.first >>> 24 !== 127 || config.network.last >>> 24 !== 127,
    onError: (what, err) => log.error({ err }, `${what} failed`),
  });
}

/**
 * QEMU's sockets and pid files. Nodes given their own --node-id may share one data directory
 * (a cluster on one machine): each keeps its own, so one never ends another's guests as a
 * crash's leftovers. The default node keeps the directory it always had.
 */
function nodeRuntimeDir(config: ServerConfig): string {
  const dir = defaultRuntimeDir(config.dataDir);
  return !config.nodeId || config.nodeIdFile ? dir : `${dir}-${config.nodeId}`;
}

export function createInstanceServices(d: InstanceWiringDeps) {
  const hypervisor = d.hypervisor ?? new SimHypervisor({ bootMs: d.config.hypervisor.bootMs });
  const onError = (what: string, err: unknown) => d.log.error({ err }, `${what} failed`);
  // A partial config (in-process tests) gets the server's default range, 127.100.0.0/16.
  const hostAddresses = d.config.network ?? { first: ipv4ToInt('127.100.0.1'), last: ipv4ToInt('127.100.255.254') };
  const network = new InstanceNetwork({
    store: d.store, hypervisor, hostAddresses: { first: hostAddresses.first, last: hostAddresses.last }, onError,
    onRefused: (instanceId, refused) => d.log.warn({ instanceId, refused }, 'host ports not forwarded to the guest'),
    nodeId: d.ownership?.nodeId,
  });
  const instanceVolumes = new InstanceVolumes({ store: d.store, volumes: d.volumes, volumeData: d.volumeData });
  const lifecycle = new InstanceLifecycle({
    store: d.store, clock: d.clock, hypervisor, volumes: instanceVolumes, stopTimeoutMs: STOP_TIMEOUT_MS, onError,
    unlockVolume: (caller, v) => d.volumeData.unlock(caller, v), network, ownership: d.ownership,
    // A simulated guest with no boot time: answer once the change is done (docs/instances.md).
    settleBeforeAnswer: hypervisor.name === 'sim' && d.config.hypervisor.bootMs === 0,
  });
  const services = {
    instances: new InstanceService({ store: d.store, clock: d.clock, hypervisor, lifecycle, network, ownership: d.ownership }),
    launcher: new InstanceLauncher({
      store: d.store, clock: d.clock, ids: d.ids, images: d.images, snapshots: d.snapshots, volumes: d.volumes, lifecycle,
      instanceLimit: d.config.instanceLimit, allowedImages: d.allowedImages, network, imageParameters: d.imageParameters,
    }),
    lifecycle,
    attachments: new VolumeAttachments({ store: d.store, clock: d.clock, hypervisor, volumes: d.volumes, instanceVolumes, lifecycle }),
    // Built before the volume snapshots resume, so it hears their completions.
    imageCreator: new ImageCreator({
      store: d.store, clock: d.clock, ids: d.ids, images: d.images, lifecycle, instanceVolumes, volumeSnapshots: d.volumeSnapshots,
      pendingImages: d.pendingImages ?? new PendingImages({ store: d.store, sources: [d.volumeSnapshots] }), onError,
    }),
    keyPairs: new KeyPairService({ store: d.store, clock: d.clock, ids: d.ids }),
    securityGroups: new SecurityGroupService({ store: d.store, ids: d.ids, network }),
    vpcs: new VpcService({ store: d.store, instanceLimit: d.config.instanceLimit }),
  };
  let sweepTimer: NodeJS.Timeout | undefined;
  return {
    hypervisor,
    services,
    network,
    /** Start-up: settle CreateImage images and instances a previous process left mid-way. */
    async recover(): Promise<void> {
      await services.imageCreator.recover();
      const n = await lifecycle.recover();
      if (n) d.log.info({ instances: n, hypervisor: hypervisor.name }, 'instances recovered after restart');
      await lifecycle.sweepTerminated();
      // Terminated instances disappear an hour after termination; checked every minute.
      const sweep = async () => {
        if (!d.leadingSweep || (await d.leadingSweep())) await lifecycle.sweepTerminated();
      };
      sweepTimer = setInterval(() => void sweep().catch((err) => onError('sweep of terminated instances', err)), 60_000);
      sweepTimer.unref();
    },
    /** Test-suite reset: every guest is ended before the store is emptied. */
    async reset(): Promise<void> {
      await lifecycle.idle();
      for (const id of await hypervisor.guests()) await hypervisor.terminate(id);
      await lifecycle.idle();
    },
    async close(): Promise<void> {
      clearInterval(sweepTimer);
      lifecycle.close();
      await hypervisor.close();
      await lifecycle.idle();
    },
  };
}
