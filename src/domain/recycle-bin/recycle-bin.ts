// The Recycle Bin's EC2 side: deleted images and snapshots that a retention rule keeps go here
// instead of away, are listed and restored by their owner, and are deleted for good when their
// retention period ends. Another account never sees or restores them.
import type { Clock } from '../../ports/clock.ts';
import type { ImageRecord, MetadataStore } from '../../ports/metadata-store.ts';
import type { BinEntry, RetainedResourceType } from '../../ports/recycle-bin-repository.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type {
  ImageRecycleBinInfo, ListImagesInRecycleBinRequest, Tag, ListSnapshotsInRecycleBinRequest, RestoreSnapshotFromRecycleBinResult,
  SnapshotRecycleBinInfo,
} from '../../protocol/ec2/types.generated.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { decodeToken, encodeToken, pageSize } from '../pagination.ts';
import { requireImageId } from '../resource-ids.ts';
import { requireSnapshotId } from '../snapshots/snapshot-service.ts';
import { DAY_MS } from './rule-lock.ts';
import { retainingRule } from './rule-matching.ts';

export interface RecycleBinDeps { store: MetadataStore; clock: Clock }

export class RecycleBin {
  private readonly deps: RecycleBinDeps;
  constructor(deps: RecycleBinDeps) {
    this.deps = deps;
  }

  /**
   * Moves an image being deregistered into the bin when one of its owner's rules keeps it;
   * false when none does (the caller deletes it). Only EBS-backed images are retained, as in AWS.
   */
  async retainImage(caller: Caller, record: ImageRecord): Promise<boolean> {
    if (record.image.rootDeviceType !== 'ebs') return false;
    const keep = await this.keep(caller, 'EC2_IMAGE', record.image.imageId);
    if (!keep) return false;
    await this.deps.store.recycleBin.binImage({ resourceType: 'EC2_IMAGE', image: record, ...keep });
    return true;
  }

  /**
   * As retainImage for a snapshot being deleted. Only completed snapshots are kept: an upload
   * or copy that never finished has nothing worth restoring. An image naming it stops the move
   * (InvalidSnapshot.InUse), checked in the move's own transaction so that a RegisterImage
   * racing the deletion can never leave an image on a binned snapshot.
   */
  async retainSnapshot(caller: Caller, snapshot: SnapshotRecord): Promise<boolean> {
    if (snapshot.state !== 'completed') return false;
    const keep = await this.keep(caller, 'EBS_SNAPSHOT', snapshot.snapshotId);
    if (!keep) return false;
    const { binned, inUseBy } = await this.deps.store.recycleBin.binSnapshot({ resourceType: 'EBS_SNAPSHOT', snapshot, ...keep });
    if (inUseBy) throw Errors.snapshotInUse(snapshot.snapshotId, inUseBy);
    return binned;
  }

  /** The entry's common part when a rule of the caller's account and region keeps the resource. */
  private async keep(caller: Caller, type: RetainedResourceType, resourceId: string) {
    const rules = await this.deps.store.recycleBin.listRules(caller.account, caller.region, type);
    if (!rules.length) return undefined;
    const tags = (await this.deps.store.tags.forResources(caller.account, caller.region, [resourceId])).get(resourceId) ?? [];
    const rule = retainingRule(rules, type, tags);
    if (!rule) return undefined;
    const now = this.deps.clock.now();
    return {
      account: caller.account, region: caller.region, resourceId, tags,
      enterTime: now.toISOString(), exitTime: new Date(now.getTime() + rule.retentionDays * DAY_MS).toISOString(),
    };
  }

  /** Whether the caller's bin holds this image or snapshot (TagService's kind of resource). */
  async holds(caller: Caller, kind: string, id: string): Promise<boolean> {
    const type = kind === 'image' ? 'EC2_IMAGE' : kind === 'snapshot' ? 'EBS_SNAPSHOT' : undefined;
    return !!type && !!(await this.live(caller, type, id));
  }

  /** CreateTags and DeleteTags on a resource in the bin change the tags restored with it. */
  async retag(caller: Caller, id: string, change: (tags: Tag[]) => Tag[]): Promise<void> {
    await this.deps.store.recycleBin.retag(caller.account, caller.region, id, change);
  }

  /** The caller's entry, unless its retention has ended (the sweep may not have run yet). */
  private async live(caller: Caller, type: RetainedResourceType, id: string): Promise<BinEntry | undefined> {
    const e = await this.deps.store.recycleBin.getBinned(caller.account, caller.region, type, id);
    return e && e.exitTime > this.deps.clock.now().toISOString() ? e : undefined;
  }

  private async page(caller: Caller, type: RetainedResourceType, ids: string[] | undefined, token: string | undefined, size: number) {
    const now = this.deps.clock.now().toISOString();
    const rows = (await this.deps.store.recycleBin.listBinned({
      account: caller.account, region: caller.region, resourceType: type, resourceIds: ids, afterId: decodeToken(token), limit: size + 1,
    })).filter((e) => e.exitTime > now);
    const page = rows.slice(0, size);
    return { page, next: rows.length > size ? encodeToken(page[page.length - 1].resourceId) : undefined };
  }

  async listImages(caller: Caller, req: ListImagesInRecycleBinRequest): Promise<{ Images: ImageRecycleBinInfo[]; NextToken?: string }> {
    req.ImageIds?.forEach(requireImageId);
    if (req.ImageIds?.length && req.MaxResults !== undefined) {
      throw Errors.invalidParameterCombination('The parameters ImageIds and MaxResults cannot be used together.');
    }
    const size = pageSize(req.MaxResults, { min: 1, max: 1000, default: 1000 });
    const { page, next } = await this.page(caller, 'EC2_IMAGE', req.ImageIds, req.NextToken, size);
    return {
      Images: page.map((e) => {
        const img = e.resourceType === 'EC2_IMAGE' ? e.image.image : undefined;
        return {
          ImageId: e.resourceId, Name: img?.name, Description: img?.description,
          RecycleBinEnterTime: new Date(e.enterTime), RecycleBinExitTime: new Date(e.exitTime),
        };
      }),
      NextToken: next,
    };
  }

  async listSnapshots(caller: Caller, req: ListSnapshotsInRecycleBinRequest): Promise<{ Snapshots: SnapshotRecycleBinInfo[]; NextToken?: string }> {
    req.SnapshotIds?.forEach(requireSnapshotId);
    if (req.SnapshotIds?.length && req.MaxResults !== undefined) {
      throw Errors.invalidParameterCombination('The parameters SnapshotIds and MaxResults cannot be used together.');
    }
    const size = pageSize(req.MaxResults, { min: 5, max: 1000, default: 1000 });
    const { page, next } = await this.page(caller, 'EBS_SNAPSHOT', req.SnapshotIds, req.NextToken, size);
    return {
      Snapshots: page.map((e) => {
        const s = e.resourceType === 'EBS_SNAPSHOT' ? e.snapshot : undefined;
        return {
          SnapshotId: e.resourceId, Description: s?.description, VolumeId: s?.volumeId,
          RecycleBinEnterTime: new Date(e.enterTime), RecycleBinExitTime: new Date(e.exitTime),
        };
      }),
      NextToken: next,
    };
  }

  /**
   * Restores an image. Its snapshots must be live: one still in the bin is restored first (as
   * AWS asks), one deleted for good makes the image unrecoverable.
   */
  async restoreImage(caller: Caller, imageId: string): Promise<void> {
    requireImageId(imageId);
    const e = await this.live(caller, 'EC2_IMAGE', imageId);
    if (!e || e.resourceType !== 'EC2_IMAGE') throw Errors.imageNotInRecycleBin(imageId);
    for (const m of e.image.image.blockDeviceMappings ?? []) {
      const id = m.ebs?.snapshotId;
      if (!id || (await this.deps.store.snapshots.get(caller.region, id))) continue;
      if (await this.live(caller, 'EBS_SNAPSHOT', id)) {
        throw Errors.incorrectState(`The snapshot ${id} of image ${imageId} is in the Recycle Bin: restore it before the image.`);
      }
      throw Errors.incorrectState(`The image ${imageId} cannot be restored: its snapshot ${id} has been deleted.`);
    }
    await this.deps.store.recycleBin.restore(e);
  }

  async restoreSnapshot(caller: Caller, snapshotId: string): Promise<RestoreSnapshotFromRecycleBinResult> {
    requireSnapshotId(snapshotId);
    const e = await this.live(caller, 'EBS_SNAPSHOT', snapshotId);
    if (!e || e.resourceType !== 'EBS_SNAPSHOT') throw Errors.snapshotNotInRecycleBin(snapshotId);
    await this.deps.store.recycleBin.restore(e);
    const s = e.snapshot;
    return {
      SnapshotId: s.snapshotId, Description: s.description, Encrypted: s.encrypted, OwnerId: s.ownerId,
      Progress: `${s.progress}%`, StartTime: new Date(s.startTime), State: s.state, VolumeId: s.volumeId,
      VolumeSize: s.volumeSize, SseType: 'none',
    };
  }

  /**
   * Deletes for good what has outlived its retention period. Volumes made from a snapshot read
   * through its block map: they adopt its blocks first, as on an ordinary delete.
   */
  async purgeExpired(): Promise<number> {
    const expired = await this.deps.store.recycleBin.expired(this.deps.clock.now().toISOString());
    for (const e of expired) {
      if (e.resourceType === 'EBS_SNAPSHOT') await this.deps.store.volumes.adoptSnapshotBlocks(e.resourceId);
      await this.deps.store.recycleBin.purge(e);
    }
    return expired.length;
  }
}
