// EC2's volume operations: create (empty or from a snapshot, copy-on-write), describe, attach
// and detach, delete, grow; and snapshots of volumes, alone or an instance's all at one instant.
import type {
  CreateVolumeRequest, DescribeVolumesModificationsRequest, DescribeVolumesRequest, ModifyVolumeRequest, Volume,
  VolumeModification,
} from '../../protocol/ec2/types.generated.ts';
import type { BlockStore } from '../../ports/block-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { VolumeAttachmentRecord, VolumeRecord } from '../../ports/volume-repository.ts';
import type { EbsEncryption } from '../encryption/ebs-encryption.ts';
import { ec2KeyError } from '../encryption/lineage-keys.ts';
import { loadBlock, storeBlock, type Sealing } from '../encryption/sealed-blocks.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { checkFilterNames, matchesFilters, normalizeFilters } from '../filters.ts';
import { decodeToken, encodeToken, pageSize } from '../pagination.ts';
import { findRegion, zonesOf } from '../regions.ts';
import { isResourceId } from '../resource-ids.ts';
import type { SnapshotService } from '../snapshots/snapshot-service.ts';
import { tagsFor } from '../tags/tag-specifications.ts';
import { volumeFilters } from './volume-filters.ts';
import { checkVolumeSpec, GP3_BASELINE, reportedIops, reportedThroughput, type VolumeSettings } from './volume-types.ts';

export interface VolumeServiceDeps {
  store: MetadataStore; clock: Clock; ids: IdGenerator; snapshots: SnapshotService; blocks: BlockStore; encryption: EbsEncryption;
}

export function requireVolumeId(id: string): string {
  if (!isResourceId('vol', id)) throw Errors.volumeMalformed(id);
  return id;
}

/** What a launch or a create needs to make one volume. */
export interface NewVolume {
  size?: number;
  volumeType?: string;
  iops?: number;
  throughput?: number;
  multiAttachEnabled?: boolean;
  availabilityZone: string;
  snapshotId?: string;
  /** When launching from an image, its launch permission covers its snapshots. */
  viaImage?: boolean;
  ephemeral?: boolean;
  clientToken?: string;
  /** Created attached (a launch volume): in-use from the start, never seen available. */
  attachment?: VolumeAttachmentRecord;
  encrypted?: boolean;
  kmsKeyId?: string;
  /**
   * Check now that the caller may use an encrypted snapshot's key (CreateVolume). Launches leave
   * it to the boot, where a refused key terminates the instance as EC2 does.
   */
  checkKey?: boolean;
}

export class VolumeService {
  private readonly deps: VolumeServiceDeps;
  constructor(deps: VolumeServiceDeps) {
    this.deps = deps;
  }

  async findOwned(caller: Caller, id: string): Promise<VolumeRecord> {
    requireVolumeId(id);
    const v = await this.deps.store.volumes.get(caller.region, id);
    // Instance-store volumes are volumes inside amiforge only; EC2's volume APIs never see them.
    if (!v || v.ownerId !== caller.account || v.state === 'deleted' || v.ephemeral) throw Errors.volumeNotFound(id);
    return v;
  }

  /** Builds and stores a volume; O(1) in its size, since it only references its snapshot. */
  async make(caller: Caller, spec: NewVolume, tags: { Key?: string; Value?: string }[] = []): Promise<VolumeRecord> {
    const region = findRegion(caller.region)!;
    if (!zonesOf(region).some((z) => z.name === spec.availabilityZone)) {
      throw Errors.invalidParameterValue(`Invalid availability zone: [${spec.availabilityZone}]`);
    }
    let size = spec.size;
    let snap: SnapshotRecord | undefined;
    if (spec.snapshotId) {
      snap = spec.viaImage
        ? await this.deps.snapshots.findForLaunch(caller, spec.snapshotId)
        : await this.deps.snapshots.findUsable(caller, spec.snapshotId);
      if (snap.state !== 'completed') throw Errors.snapshotIncorrectState(snap.snapshotId, snap.state);
      size ??= snap.volumeSize;
      if (size < snap.volumeSize) {
        throw Errors.invalidParameterValue(`Volume of size ${size} is smaller than snapshot '${snap.snapshotId}', expect size >= ${snap.volumeSize}`);
      }
    }
    if (size === undefined) throw Errors.missingParameter('size or snapshotId');
    const type = checkVolumeSpec({
      volumeType: spec.volumeType, size, iops: spec.iops, throughput: spec.throughput, multiAttachEnabled: spec.multiAttachEnabled,
    });
    const volumeId = this.deps.ids.next('vol');
    const keyArn = spec.ephemeral ? undefined : await this.deps.encryption.target(caller, {
      encrypted: spec.encrypted, kmsKeyId: spec.kmsKeyId, sourceKeyArn: snap?.encrypted ? snap.kmsKeyId : undefined,
    });
    // Under the snapshot's own key, the volume continues its lineage (same data key, its blocks
    // read through). Otherwise it starts a lineage whose data key is made now, and the snapshot's
    // blocks are sealed again under it (eagerly, before the volume is available).
    const sameLineage = !!keyArn && snap?.encrypted === true && keyArn === snap.kmsKeyId;
    let source: Sealing | undefined;
    let target: Sealing | undefined;
    let encryption: { kmsKeyId: string; dataKey: NonNullable<VolumeRecord['dataKey']> } | undefined;
    try {
      if (snap?.dataKey && (spec.checkKey || (keyArn && !sameLineage))) {
        source = { key: await this.deps.encryption.keys.open(caller, snap.dataKey), lineage: snap.dataKey.lineage };
      }
      if (sameLineage) encryption = { kmsKeyId: snap!.kmsKeyId!, dataKey: snap!.dataKey! };
      else if (keyArn) {
        const made = await this.deps.encryption.keys.create(caller, keyArn, volumeId);
        encryption = made.encryption;
        target = { key: made.plaintext, lineage: volumeId };
      }
    } catch (err) {
      source?.key.fill(0);
      throw ec2KeyError(err, spec.kmsKeyId ?? snap?.kmsKeyId);
    }
    const record: VolumeRecord = {
      region: caller.region,
      volumeId,
      ownerId: caller.account,
      size,
      ...type,
      availabilityZone: spec.availabilityZone,
      state: spec.attachment ? 'in-use' : 'available',
      snapshotId: spec.snapshotId,
      createTime: this.deps.clock.now().toISOString(),
      encrypted: !!encryption,
      kmsKeyId: encryption?.kmsKeyId,
      dataKey: encryption?.dataKey,
      attachments: spec.attachment ? [spec.attachment] : [],
      clientToken: spec.clientToken,
      ephemeral: spec.ephemeral,
    };
    await this.deps.store.volumes.insert(record, { account: caller.account, tags });
    try {
      if (snap && encryption && !sameLineage) await this.reseal(record, snap, source, target!);
    } catch (err) {
      await this.deps.store.volumes.delete(record.region, record.volumeId);
      throw err;
    } finally {
      source?.key.fill(0);
      target?.key.fill(0);
    }
    return record;
  }

  /** Seals every block of `snap` into the volume's own blocks under the volume's data key. */
  private async reseal(vol: VolumeRecord, snap: SnapshotRecord, from: Sealing | undefined, to: Sealing): Promise<void> {
    const { store, blocks } = this.deps;
    for (let at = 0; ;) {
      const entries = await store.snapshots.blocks(snap.snapshotId, at, 256);
      if (!entries.length) return;
      for (const e of entries) {
        const plain = await loadBlock(blocks, snap.region, e.index, e.hash, from);
        const stored = await storeBlock(blocks, vol.region, e.index, plain, to, e.checksum ?? e.hash);
        await store.volumes.putBlock(vol.volumeId, e.index, stored.hash, stored.checksum);
      }
      at = entries[entries.length - 1].index + 1;
    }
  }

  async create(caller: Caller, req: CreateVolumeRequest): Promise<Volume> {
    const zone = req.AvailabilityZone ?? zonesOf(findRegion(caller.region)!).find((z) => z.id === req.AvailabilityZoneId)?.name;
    if (!zone) {
      if (req.AvailabilityZoneId) throw Errors.invalidParameterValue(`Invalid availability zone ID: [${req.AvailabilityZoneId}]`);
      throw Errors.missingParameter('AvailabilityZone');
    }
    const tags = tagsFor(req.TagSpecifications, ['volume'], 'volume');
    if (req.ClientToken) {
      const prior = await this.deps.store.volumes.findByClientToken(caller.region, caller.account, req.ClientToken);
      if (prior) return this.toWire(caller, prior);
    }
    const v = await this.make(caller, {
      size: req.Size, volumeType: req.VolumeType, iops: req.Iops, throughput: req.Throughput, multiAttachEnabled: req.MultiAttachEnabled,
      availabilityZone: zone, snapshotId: req.SnapshotId, clientToken: req.ClientToken,
      encrypted: req.Encrypted, kmsKeyId: req.KmsKeyId, checkKey: true,
    }, tags);
    return this.toWire(caller, v);
  }

  async describe(caller: Caller, req: DescribeVolumesRequest): Promise<{ Volumes: Volume[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, volumeFilters);
    const limit = pageSize(req.MaxResults, { min: 5, max: 500, default: Number.MAX_SAFE_INTEGER });
    for (const id of req.VolumeIds ?? []) await this.findOwned(caller, id);
    const page: { v: VolumeRecord; tags: { Key?: string; Value?: string }[] }[] = [];
    let more = false;
    const scan = this.deps.store.volumes.scan({
      region: caller.region, ownerId: caller.account, volumeIds: req.VolumeIds?.length ? req.VolumeIds : undefined,
      afterVolumeId: decodeToken(req.NextToken),
    });
    for await (const v of scan) {
      if (v.ephemeral || v.state === 'deleted') continue;
      const tags = (await this.deps.store.tags.forResources(caller.account, caller.region, [v.volumeId])).get(v.volumeId) ?? [];
      if (!matchesFilters(v, tags, filters, volumeFilters)) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push({ v, tags });
    }
    return {
      Volumes: page.map(({ v, tags }) => toWireVolume(v, tags)),
      NextToken: more ? encodeToken(page[page.length - 1].v.volumeId) : undefined,
    };
  }

  async delete(caller: Caller, volumeId: string): Promise<void> {
    const v = await this.findOwned(caller, volumeId);
    const attached = v.attachments.find((a) => a.state !== 'detached');
    if (attached) throw Errors.volumeInUse(`Volume ${v.volumeId} is currently attached to ${attached.instanceId}`);
    // The volume's own blocks are freed by garbage collection once nothing references them.
    await this.deps.store.volumes.delete(caller.region, v.volumeId);
  }

  async modify(caller: Caller, req: ModifyVolumeRequest): Promise<VolumeModification> {
    const v = await this.findOwned(caller, req.VolumeId);
    if (req.Size === undefined && req.VolumeType === undefined && req.Iops === undefined && req.Throughput === undefined) {
      throw Errors.missingParameter('Size, VolumeType, Iops or Throughput');
    }
    if (req.Size !== undefined && req.Size < v.size) {
      throw Errors.invalidParameterValue(`New size cannot be smaller than existing size (${v.size} GiB).`);
    }
    const size = req.Size ?? v.size;
    const type = checkVolumeSpec({ size, ...modifiedSettings(v, req) });
    const now = this.deps.clock.now().toISOString();
    v.modification = {
      state: 'completed', originalSize: v.size, targetSize: size, originalVolumeType: v.volumeType, targetVolumeType: type.volumeType,
      originalIops: reportedIops(v.volumeType, v.size, v.iops), targetIops: reportedIops(type.volumeType, size, type.iops),
      originalThroughput: reportedThroughput(v.volumeType, v.throughput), targetThroughput: reportedThroughput(type.volumeType, type.throughput),
      originalMultiAttachEnabled: !!v.multiAttachEnabled, targetMultiAttachEnabled: !!type.multiAttachEnabled,
      startTime: now, endTime: now,
    };
    delete v.iops;
    delete v.throughput;
    delete v.multiAttachEnabled;
    Object.assign(v, { size }, type);
    await this.deps.store.volumes.update(v);
    return toWireModification(v);
  }

  async describeModifications(caller: Caller, req: DescribeVolumesModificationsRequest): Promise<{ VolumesModifications: VolumeModification[] }> {
    const out: VolumeModification[] = [];
    for await (const v of this.deps.store.volumes.scan({ region: caller.region, ownerId: caller.account, volumeIds: req.VolumeIds?.length ? req.VolumeIds : undefined })) {
      if (v.modification) out.push(toWireModification(v));
    }
    for (const id of req.VolumeIds ?? []) if (!out.some((m) => m.VolumeId === id)) await this.findOwned(caller, id);
    return { VolumesModifications: out };
  }

  /** Volumes attached to an instance (its block device mapping), ephemeral ones included. */
  async attachedTo(caller: Caller, instanceId: string): Promise<VolumeRecord[]> {
    return this.deps.store.volumes.attachedTo(caller.region, caller.account, [instanceId]);
  }

  private async toWire(caller: Caller, v: VolumeRecord): Promise<Volume> {
    const tags = (await this.deps.store.tags.forResources(caller.account, caller.region, [v.volumeId])).get(v.volumeId) ?? [];
    return toWireVolume(v, tags);
  }
}

export function toWireVolume(v: VolumeRecord, tags: { Key?: string; Value?: string }[]): Volume {
  return {
    VolumeId: v.volumeId,
    Size: v.size,
    SnapshotId: v.snapshotId ?? '',
    AvailabilityZone: v.availabilityZone,
    AvailabilityZoneId: zonesOf(findRegion(v.region)!).find((z) => z.name === v.availabilityZone)?.id,
    State: v.state,
    CreateTime: new Date(v.createTime),
    Attachments: v.attachments.filter((a) => a.state !== 'detached').map((a) => ({
      VolumeId: v.volumeId, InstanceId: a.instanceId, Device: a.device, State: a.state,
      AttachTime: new Date(a.attachTime), DeleteOnTermination: a.deleteOnTermination,
    })),
    Encrypted: v.encrypted,
    KmsKeyId: v.kmsKeyId,
    VolumeType: v.volumeType as Volume['VolumeType'],
    Iops: reportedIops(v.volumeType, v.size, v.iops),
    Throughput: reportedThroughput(v.volumeType, v.throughput),
    MultiAttachEnabled: !!v.multiAttachEnabled,
    Tags: tags.length ? tags : undefined,
  };
}

/**
 * What ModifyVolume asks for, with EC2's defaults for what it leaves out: the type's current IOPS
 * and throughput when the type stays, 3,000 IOPS (and 125 MiB/s for gp3) when it changes to a
 * provisioned type, and Multi-Attach as it was.
 */
function modifiedSettings(v: VolumeRecord, req: ModifyVolumeRequest): VolumeSettings {
  const volumeType = req.VolumeType ?? v.volumeType;
  const sameType = volumeType === v.volumeType;
  const provisioned = ['gp3', 'io1', 'io2'].includes(volumeType);
  return {
    volumeType,
    iops: req.Iops ?? (sameType ? v.iops : provisioned ? GP3_BASELINE.iops : undefined),
    throughput: req.Throughput ?? (sameType ? v.throughput : undefined),
    multiAttachEnabled: req.MultiAttachEnabled ?? v.multiAttachEnabled,
  };
}

function toWireModification(v: VolumeRecord): VolumeModification {
  const m = v.modification!;
  return {
    VolumeId: v.volumeId, ModificationState: m.state, TargetSize: m.targetSize, OriginalSize: m.originalSize,
    TargetVolumeType: m.targetVolumeType as VolumeModification['TargetVolumeType'],
    OriginalVolumeType: m.originalVolumeType as VolumeModification['OriginalVolumeType'],
    TargetIops: m.targetIops, OriginalIops: m.originalIops,
    TargetThroughput: m.targetThroughput, OriginalThroughput: m.originalThroughput,
    TargetMultiAttachEnabled: m.targetMultiAttachEnabled, OriginalMultiAttachEnabled: m.originalMultiAttachEnabled, Progress: m.state === 'completed' ? 100 : 0,
    StartTime: new Date(m.startTime), EndTime: m.endTime ? new Date(m.endTime) : undefined,
  };
}
