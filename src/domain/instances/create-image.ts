// CreateImage: an EBS-backed image of an instance. The image is registered `pending` at once,
// naming the snapshots it will have; then (unless NoReboot) the guest is shut down, every EBS
// volume is snapshotted at one instant, and the guest is started again. Each snapshot is
// incremental against its volume's source snapshot. The image becomes `available` when its
// snapshots complete, or `failed` if one fails or was never taken (amiforge stopped first).
import type { BlockDeviceMapping, CreateImageRequest, EbsBlockDevice, Tag } from '../../protocol/ec2/types.generated.ts';
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { mappedSnapshots, type ImageService } from '../images/image-service.ts';
import type { PendingImages } from '../images/pending-images.ts';
import { buildRegisteredImage } from '../images/register-image.ts';
import { tagsFor } from '../tags/tag-specifications.ts';
import type { VolumeSnapshots } from '../volumes/volume-snapshots.ts';
import type { InstanceLifecycle } from './instance-lifecycle.ts';
import { findOwnedInstance } from './instance-lookup.ts';
import { attachmentOf, type InstanceVolumes } from './instance-volumes.ts';

export interface ImageCreatorDeps {
  store: MetadataStore;
  clock: Clock;
  ids: IdGenerator;
  images: ImageService;
  lifecycle: InstanceLifecycle;
  instanceVolumes: InstanceVolumes;
  volumeSnapshots: VolumeSnapshots;
  /** Settles the image as its snapshots complete (it must hear volumeSnapshots). */
  pendingImages: PendingImages;
  onError: (what: string, err: unknown) => void;
}

interface Planned { volume: VolumeRecord; device: string; snapshotId: string }

export class ImageCreator {
  private readonly deps: ImageCreatorDeps;
  constructor(deps: ImageCreatorDeps) {
    this.deps = deps;
  }

  async create(caller: Caller, req: CreateImageRequest): Promise<string> {
    const r = await findOwnedInstance(this.deps.store, caller, req.InstanceId, this.deps.clock.now());
    if (r.rootDeviceType !== 'ebs') {
      throw Errors.unsupportedOperation(`The instance '${r.instanceId}' does not have an 'ebs' root device type; CreateImage makes images of EBS-backed instances only.`);
    }
    if (r.state !== 'running' && r.state !== 'stopped') {
      throw Errors.incorrectInstanceState(`The instance '${r.instanceId}' is not in the 'running' or 'stopped' state.`);
    }
    const imageTags = tagsFor(req.TagSpecifications, ['image', 'snapshot'], 'image');
    const snapshotTags = tagsFor(req.TagSpecifications, ['image', 'snapshot'], 'snapshot');
    const { mappings, planned } = await this.mappingsOf(r, req.BlockDeviceMappings);
    const imageId = this.deps.ids.next('ami');
    // RegisterImage's own validation and defaults (name, description, mappings), on the instance's facts.
    // A paravirtual instance's image boots the kernel and ramdisk the instance has now (as
    // ModifyInstanceAttribute may have changed them); an HVM image boots its own.
    const pv = r.virtualizationType === 'paravirtual';
    const image = buildRegisteredImage({
      Name: req.Name, Description: req.Description, Architecture: r.architecture, VirtualizationType: r.virtualizationType,
      RootDeviceName: r.rootDeviceName, BlockDeviceMappings: mappings, EnaSupport: r.enaSupport, BootMode: r.bootMode,
      ImdsSupport: r.imdsSupport === 'v2.0' ? 'v2.0' : undefined, KernelId: pv ? r.kernelId : undefined, RamdiskId: pv ? r.ramdiskId : undefined,
    }, { imageId, ownerId: caller.account, creationDate: this.deps.clock.now() });
    const taking = new Set(planned.map((p) => p.snapshotId));
    await this.deps.images.bindSnapshots(caller, image, taking);
    image.state = 'pending';
    image.sourceInstanceId = r.instanceId;
    // AMI ancestry: an image made from an instance records the image the instance was launched from.
    image.sourceImageId = r.imageId;
    image.sourceImageRegion = caller.region;
    image.platformDetails = r.platformDetails;
    // Until its snapshots are taken (the guest may take long to stop), no other node may take
    // the image for one whose node died.
    const made = await this.deps.pendingImages.making(caller.region, imageId);
    try {
      // Inserting first makes a duplicate name fail before the instance is touched.
      await this.deps.store.images.insert({ region: caller.region, image, launchPermissions: [] }, { account: caller.account, tags: imageTags },
        { requireSnapshots: mappedSnapshots(image, taking) });
    } catch (err) {
      await made();
      throw err;
    }
    this.deps.lifecycle.work.start(`create image ${imageId}`, () => this.snapshot(caller, r, imageId, planned, snapshotTags, !!req.NoReboot).finally(made));
    return imageId;
  }

  /**
   * The image's mapping: the instance's EBS devices (as snapshots to be taken, with their sizes,
   * types and DeleteOnTermination) and instance-store devices (as empty ephemeralN entries), with
   * CreateImage's BlockDeviceMappings laid over them.
   */
  private async mappingsOf(r: InstanceRecord, requested: BlockDeviceMapping[] | undefined): Promise<{ mappings: BlockDeviceMapping[]; planned: Planned[] }> {
    const byDevice = new Map<string, { m: BlockDeviceMapping; volume?: VolumeRecord }>();
    for (const v of await this.deps.instanceVolumes.attached(r)) {
      const a = attachmentOf(v, r.instanceId)!;
      if (v.ephemeral) continue;
      const ebs: EbsBlockDevice = {
        SnapshotId: this.deps.ids.next('snap'), VolumeSize: v.size, VolumeType: v.volumeType as EbsBlockDevice['VolumeType'],
        DeleteOnTermination: a.deleteOnTermination, Encrypted: v.encrypted,
        ...(v.volumeType === 'io1' || v.volumeType === 'io2' || v.volumeType === 'gp3' ? { Iops: v.iops } : {}),
        ...(v.volumeType === 'gp3' ? { Throughput: v.throughput } : {}),
      };
      byDevice.set(a.device, { m: { DeviceName: a.device, Ebs: ebs }, volume: v });
    }
    for (const s of r.instanceStore) if (s.virtualName !== 'root') byDevice.set(s.device, { m: { DeviceName: s.device, VirtualName: s.virtualName } });
    for (const m of requested ?? []) {
      if (!m.DeviceName) throw Errors.missingParameter('BlockDeviceMapping.N.DeviceName');
      const current = byDevice.get(m.DeviceName);
      if (m.NoDevice !== undefined) {
        if (m.DeviceName === r.rootDeviceName) throw Errors.invalidBlockDeviceMapping(`The root device ${m.DeviceName} cannot be left out of the image`);
        byDevice.delete(m.DeviceName);
      } else if (m.Ebs && current?.volume) {
        const ebs = current.m.Ebs!;
        if (m.Ebs.SnapshotId !== undefined && m.Ebs.SnapshotId !== ebs.SnapshotId) {
          throw Errors.invalidBlockDeviceMapping(`The device ${m.DeviceName} is a volume of the instance; its snapshot is taken by CreateImage`);
        }
        if (m.Ebs.VolumeSize !== undefined && m.Ebs.VolumeSize < current.volume.size) {
          throw Errors.invalidBlockDeviceMapping(`Volume of size ${m.Ebs.VolumeSize}GB is smaller than the volume at ${m.DeviceName}, expect size >= ${current.volume.size}GB`);
        }
        current.m = { DeviceName: m.DeviceName, Ebs: { ...ebs, ...m.Ebs, SnapshotId: ebs.SnapshotId } };
      } else {
        byDevice.set(m.DeviceName, { m: { ...m } });
      }
    }
    const planned: Planned[] = [];
    for (const { m, volume } of byDevice.values()) {
      if (volume) planned.push({ volume, device: m.DeviceName!, snapshotId: m.Ebs!.SnapshotId! });
    }
    return { mappings: [...byDevice.values()].map((x) => x.m), planned };
  }

  /** Takes the image's snapshots at one instant, with the guest down unless NoReboot. */
  private async snapshot(caller: Caller, r: InstanceRecord, imageId: string, planned: Planned[], tags: Tag[], noReboot: boolean): Promise<void> {
    const take = async () => {
      const items = [];
      for (const p of planned) {
        const volume = await this.deps.store.volumes.get(caller.region, p.volume.volumeId);
        if (!volume) throw new Error(`the volume ${p.volume.volumeId} at ${p.device} was deleted before its snapshot was taken`);
        items.push({ volume, snapshotId: p.snapshotId, tags, description: `Created by CreateImage(${r.instanceId}) for ${imageId}` });
      }
      await this.deps.volumeSnapshots.take(caller, items);
    };
    try {
      if (noReboot) await this.deps.lifecycle.queue.run(r.instanceId, take);
      else await this.deps.lifecycle.withGuestDown(r, take);
      if (!planned.length) await this.deps.pendingImages.settle(caller.region, imageId);
    } catch (err) {
      this.deps.onError(`create image ${imageId}`, err);
      await this.deps.pendingImages.fail(caller.region, imageId, (err as Error).message);
    }
  }

  /** Start-up: images left pending by a previous process are settled (or wait for their snapshots). */
  async recover(): Promise<void> {
    await this.deps.pendingImages.recover();
  }
}
