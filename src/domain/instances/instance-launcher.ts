// RunInstances: checks everything first (image, type, zone, key, user data, mappings, capacity),
// then makes each instance's volumes (copy-on-write over the image's snapshots, so O(1) in their
// size), records the instances `pending`, and hands them to the lifecycle to boot.
import { createHash } from 'node:crypto';
import type { Instance, Reservation, RunInstancesRequest, Tag } from '../../protocol/ec2/types.generated.ts';
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { ImageRecord, MetadataStore } from '../../ports/metadata-store.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import type { AllowedImages } from '../images/allowed-images.ts';
import type { ImageService } from '../images/image-service.ts';
import { checkBootImages, refuseForHvm, type BootImages } from '../images/kernel-images.ts';
import { findRegion, zonesOf } from '../regions.ts';
import type { SnapshotService } from '../snapshots/snapshot-service.ts';
import { tagsFor } from '../tags/tag-specifications.ts';
import type { VolumeService } from '../volumes/volume-service.ts';
import { checkVolumeSpec } from '../volumes/volume-types.ts';
import type { InstanceLifecycle } from './instance-lifecycle.ts';
import { architectureFits, DEFAULT_INSTANCE_TYPE, findInstanceType, type InstanceTypeInfo } from './instance-types.ts';
import { toWireInstance } from './instance-wire.ts';
import { launchPlan, type DevicePlan, type EbsPlan } from './launch-plan.ts';
import { intToIpv4 } from '../network/cidr.ts';
import { subnetAddressRange, type InstanceNetwork } from '../network/instance-network.ts';

export interface LauncherDeps {
  store: MetadataStore;
  clock: Clock;
  ids: IdGenerator;
  images: ImageService;
  snapshots: SnapshotService;
  volumes: VolumeService;
  lifecycle: InstanceLifecycle;
  /** Instances an account may have (not terminated) per region. */
  instanceLimit: number;
  /** Allowed AMIs: with the setting enabled, an image that is not allowed cannot be launched. */
  allowedImages?: AllowedImages;
  /** Subnets and security groups: where each instance is placed in the default VPC. */
  network: InstanceNetwork;
  /** Systems Manager parameters: an ImageId of `resolve:ssm:NAME[:version|:label]` names the image a parameter holds. */
  imageParameters?: { resolveImageId(caller: Caller, reference: string): Promise<string> };
}

/** EC2's cap on user data: 16 KiB before base64 encoding. */
const USER_DATA_MAX = 16 * 1024;

/** Parameters amiforge does not model; refused by name rather than ignored. */
const UNSUPPORTED: (keyof RunInstancesRequest)[] = [
  'LaunchTemplate', 'InstanceMarketOptions', 'PrivateIpAddress', 'Ipv6AddressCount', 'Ipv6Addresses',
  'ElasticGpuSpecification', 'ElasticInferenceAccelerators', 'LicenseSpecifications', 'SecondaryInterfaces',
];

function decodeUserData(userData: string | undefined): string | undefined {
  if (userData === undefined) return undefined;
  const compact = userData.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw Errors.invalidParameterValue('Invalid BASE64 encoding of user data.');
  }
  const raw = Buffer.from(compact, 'base64');
  if (raw.length > USER_DATA_MAX) throw Errors.invalidParameterValue(`User data is limited to ${USER_DATA_MAX} bytes`);
  return raw.toString('base64');
}

/** A retry with the same ClientToken must repeat the request; this is what is compared. */
function digestOf(req: RunInstancesRequest): string {
  const { ClientToken: _token, DryRun: _dry, ...rest } = req;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

export class InstanceLauncher {
  private readonly deps: LauncherDeps;
  constructor(deps: LauncherDeps) {
    this.deps = deps;
  }

  async run(caller: Caller, req: RunInstancesRequest): Promise<Reservation> {
    if (req.ClientToken) {
      if (req.ClientToken.length > 64) throw Errors.invalidParameterValue('ClientToken must be at most 64 characters long.');
      const prior = await this.deps.store.instances.findByClientToken(caller.region, caller.account, req.ClientToken);
      if (prior.length) {
        if (prior[0].requestDigest !== digestOf(req)) throw Errors.idempotentParameterMismatch();
        return this.reservation(caller, prior.sort((a, b) => a.launchIndex - b.launchIndex));
      }
    }
    for (const p of UNSUPPORTED) {
      if (req[p] !== undefined) throw Errors.unsupportedOperation(`The parameter ${p} is not supported by amiforge's RunInstances.`);
    }
    if (!req.ImageId) throw Errors.missingParameter('ImageId');
    if (req.MinCount < 1) throw Errors.invalidParameterValue(`Value (${req.MinCount}) for parameter minCount is invalid. Expected a value greater than 0.`);
    if (req.MaxCount < req.MinCount) {
      throw Errors.invalidParameterValue(`Value (${req.MaxCount}) for parameter maxCount is invalid. Expected a value greater than or equal to minCount (${req.MinCount}).`);
    }
    const typeName = req.InstanceType ?? DEFAULT_INSTANCE_TYPE;
    const type = findInstanceType(typeName);
    if (!type) throw Errors.unsupportedConfiguration(`The instance type '${typeName}' is not supported by amiforge. Supported families: m1.small, t2, t3, t3a, t4g, m5, m5d, m6i, m7g, c5, c5d, c6i, r5.`);
    // The instance records the image the parameter held at launch, as EC2's does.
    const imageId = req.ImageId.startsWith('resolve:ssm:') && this.deps.imageParameters
      ? await this.deps.imageParameters.resolveImageId(caller, req.ImageId) : req.ImageId;
    const image = await this.launchableImage(caller, imageId, type);
    const boot = await this.bootImagesOf(caller, image, req);
    const placement = await this.deps.network.placement(caller, req, this.requestedZone(caller, req), this.zones(caller)[0].name);
    const zone = placement.zone;
    const addresses = subnetAddressRange(placement.subnet);
    const key = req.KeyName === undefined ? undefined : await this.deps.store.keyPairs.byName(caller.region, caller.account, req.KeyName);
    if (req.KeyName !== undefined && !key) throw Errors.keyPairNotFound(req.KeyName);
    const userData = decodeUserData(req.UserData);
    const instanceTags = tagsFor(req.TagSpecifications, ['instance', 'volume'], 'instance');
    const volumeTags = tagsFor(req.TagSpecifications, ['instance', 'volume'], 'volume');
    const plan = launchPlan(image.image, req.BlockDeviceMappings, type);
    await this.checkVolumes(caller, plan);

    const active = await this.deps.store.instances.countActive(caller.region, caller.account);
    const room = this.deps.instanceLimit - active;
    if (room < req.MinCount) throw Errors.instanceLimitExceeded(active + req.MinCount, this.deps.instanceLimit);
    const count = Math.min(req.MaxCount, room);

    const now = this.deps.clock.now();
    const reservationId = this.deps.ids.next('r');
    const records: InstanceRecord[] = [];
    const made: VolumeRecord[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const instanceId = this.deps.ids.next('i');
        const address = await this.deps.store.instances.allocateAddress(caller.region, instanceId, addresses.first, addresses.last);
        if (address === undefined) throw Errors.insufficientAddresses(placement.subnet.subnetId);
        const r: InstanceRecord = {
          region: caller.region, instanceId, ownerId: caller.account, reservationId, imageId: image.image.imageId,
          instanceType: type.name, availabilityZone: zone, privateIpAddress: intToIpv4(address), launchIndex: i,
          keyName: key?.keyName, publicKey: key ? `${key.publicKey} ${key.keyName}` : undefined, state: 'pending', stateTransitionReason: '',
          launchTime: now.toISOString(), architecture: image.image.architecture === 'arm64' ? 'arm64' : image.image.architecture === 'i386' ? 'i386' : 'x86_64',
          rootDeviceName: image.image.rootDeviceName!, rootDeviceType: image.image.rootDeviceType ?? 'ebs',
          virtualizationType: image.image.virtualizationType ?? 'hvm', bootMode: image.image.bootMode, enaSupport: image.image.enaSupport,
          imdsSupport: image.image.imdsSupport, platformDetails: image.image.platformDetails ?? 'Linux/UNIX',
          kernelId: boot.kernelId, ramdiskId: boot.ramdiskId, userData, clientToken: req.ClientToken,
          requestDigest: req.ClientToken ? digestOf(req) : undefined, disableApiTermination: !!req.DisableApiTermination,
          disableApiStop: !!req.DisableApiStop, shutdownBehavior: req.InstanceInitiatedShutdownBehavior ?? 'stop',
          instanceStore: plan.filter((p) => p.kind === 'store').map((p) => ({ device: p.device, virtualName: p.virtualName, sizeGiB: p.sizeGiB })),
          bootCount: 0, network: this.deps.network.interfaceOf(instanceId, placement),
          // The guest boots under this node's hypervisor: recorded from the start, so other nodes forward to it.
          ...(this.deps.lifecycle.nodeId ? { nodeId: this.deps.lifecycle.nodeId } : {}),
        };
        for (const p of plan) if (p.kind === 'ebs') made.push(await this.makeVolume(caller, r, p, now, volumeTags));
        records.push(r);
      }
      await this.deps.store.instances.insert(records, { account: caller.account, tags: instanceTags });
    } catch (err) {
      for (const v of made) await this.deps.store.volumes.delete(v.region, v.volumeId);
      for (const r of records) await this.deps.store.instances.releaseAddress(r.region, r.instanceId);
      throw err;
    }
    // Re-read: the image may have changed (its permissions, say) while the volumes were made.
    const launched = await this.deps.store.images.get(caller.region, image.image.imageId);
    if (launched) {
      launched.image.lastLaunchedTime = now.toISOString();
      await this.deps.store.images.update(launched);
    }
    await Promise.all(records.map((r) => this.deps.lifecycle.boot(r)));
    return this.reservation(caller, records);
  }

  /** An available image the caller may launch; NotFound for one it may not see (never revealing it). */
  private async launchableImage(caller: Caller, imageId: string, type: InstanceTypeInfo): Promise<ImageRecord> {
    const image = await this.deps.images.findVisible(caller, imageId);
    await this.deps.allowedImages?.checkUse(caller, image);
    if (image.image.imageType && image.image.imageType !== 'machine') throw Errors.notMachineImage(imageId, image.image.imageType);
    if (image.image.state !== 'available') throw Errors.amiNotAvailable(imageId, image.image.state);
    if (!architectureFits(image.image.architecture, type)) {
      throw Errors.invalidParameterValue(`The architecture '${type.architecture}' of the specified instance type does not match the architecture '${image.image.architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again. You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.`);
    }
    return image;
  }

  /**
   * The kernel and ramdisk a paravirtual instance boots: the image's, or RunInstances' KernelId
   * and RamdiskId (checked as RegisterImage checks them). HVM instances boot their own disk.
   */
  private async bootImagesOf(caller: Caller, image: ImageRecord, req: RunInstancesRequest): Promise<BootImages> {
    const requested = { kernelId: req.KernelId, ramdiskId: req.RamdiskId };
    if (image.image.virtualizationType !== 'paravirtual') {
      refuseForHvm('hvm', requested, `the image ${image.image.imageId}`);
      return {};
    }
    await checkBootImages(this.deps.store, caller, requested);
    return { kernelId: req.KernelId ?? image.image.kernelId, ramdiskId: req.RamdiskId ?? image.image.ramdiskId };
  }

  private zones(caller: Caller) {
    return zonesOf(findRegion(caller.region)!);
  }

  /** The zone Placement names, if any (the subnet decides otherwise). */
  private requestedZone(caller: Caller, req: RunInstancesRequest): string | undefined {
    const zones = this.zones(caller);
    const p = req.Placement;
    if (p?.AvailabilityZone) {
      if (!zones.some((z) => z.name === p.AvailabilityZone)) throw Errors.invalidParameterValue(`Invalid availability zone: [${p.AvailabilityZone}]`);
      return p.AvailabilityZone;
    }
    if (p?.AvailabilityZoneId) {
      const z = zones.find((x) => x.id === p.AvailabilityZoneId);
      if (!z) throw Errors.invalidParameterValue(`Invalid availability zone ID: [${p.AvailabilityZoneId}]`);
      return z.name;
    }
    return undefined;
  }

  /**
   * Every snapshot the mapping names exists, is usable and completed, and fits its volume; and
   * every volume's type settings pass EC2's checks before anything is made.
   */
  private async checkVolumes(caller: Caller, plan: DevicePlan[]): Promise<void> {
    for (const p of plan) {
      if (p.kind !== 'ebs') continue;
      let size = p.size;
      if (p.snapshotId) {
        const snap = p.viaImage
          ? await this.deps.snapshots.findForLaunch(caller, p.snapshotId)
          : await this.deps.snapshots.findUsable(caller, p.snapshotId);
        if (snap.state !== 'completed') throw Errors.snapshotIncorrectState(snap.snapshotId, snap.state);
        if (p.size !== undefined && p.size < snap.volumeSize) {
          throw Errors.invalidBlockDeviceMapping(`Volume of size ${p.size}GB is smaller than snapshot '${snap.snapshotId}', expect size >= ${snap.volumeSize}GB`);
        }
        size ??= snap.volumeSize;
      }
      if (size !== undefined) checkVolumeSpec({ volumeType: p.volumeType, size, iops: p.iops, throughput: p.throughput, device: p.device });
    }
  }

  private makeVolume(caller: Caller, r: InstanceRecord, p: EbsPlan, now: Date, tags: Tag[]): Promise<VolumeRecord> {
    return this.deps.volumes.make(caller, {
      size: p.size, volumeType: p.volumeType, iops: p.iops, throughput: p.throughput, availabilityZone: r.availabilityZone,
      snapshotId: p.snapshotId, viaImage: p.viaImage, encrypted: p.encrypted, kmsKeyId: p.kmsKeyId,
      attachment: { instanceId: r.instanceId, device: p.device, state: 'attached', attachTime: now.toISOString(), deleteOnTermination: p.deleteOnTermination },
    }, tags);
  }

  /** The reservation as RunInstances returns it (and returns it again for a ClientToken retry). */
  async reservation(caller: Caller, records: InstanceRecord[]): Promise<Reservation> {
    const ids = records.map((r) => r.instanceId);
    const volumes = await this.deps.store.volumes.attachedTo(caller.region, caller.account, ids);
    const tags = await this.deps.store.tags.forResources(caller.account, caller.region, ids);
    const instances: Instance[] = records.map((r) => toWireInstance(r, volumes, tags.get(r.instanceId) ?? []));
    return { ReservationId: records[0].reservationId, OwnerId: records[0].ownerId, Groups: [], Instances: instances };
  }
}
