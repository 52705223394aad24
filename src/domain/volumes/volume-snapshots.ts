// Snapshots of volumes (CreateSnapshot, CreateSnapshots, and CreateImage's). Taking one is a
// metadata operation done at one instant for every volume involved: the snapshot's map is the
// volume's source snapshot's map overlaid with the blocks written to the volume, so only those
// blocks are new. The volumes' write buffers are flushed first (a running guest's writes wait
// there), so the snapshot holds every write completed before it was asked for. Completing it
// (making its new blocks durable) runs in the background.
import type {
  CreateSnapshotRequest, CreateSnapshotsRequest, Snapshot, SnapshotInfo, Tag,
} from '../../protocol/ec2/types.generated.ts';
import type { BlockStore } from '../../ports/block-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import type { Caller } from '../context.ts';
import { ec2KeyError, type LineageKeys } from '../encryption/lineage-keys.ts';
import { Errors } from '../errors.ts';
import { toWireSnapshot } from '../snapshots/snapshot-service.ts';
import { tagsFor } from '../tags/tag-specifications.ts';
import type { VolumeService } from './volume-service.ts';
import type { LeaseKeeper } from '../cluster/lease-keeper.ts';

export interface VolumeSnapshotDeps {
  store: MetadataStore;
  blocks: BlockStore;
  clock: Clock;
  ids: IdGenerator;
  volumes: VolumeService;
  /** Checks the caller's right to an encrypted volume's key before it is snapshotted. */
  keys?: LineageKeys;
  /**
   * Stores the writes a volume holds in memory and folds its small-write journal into whole
   * blocks (VolumeData.settle): a snapshot of a volume in use contains every write completed
   * before it was asked for.
   */
  flushVolume?: (volume: VolumeRecord) => Promise<void>;
  onError: (snapshotId: string, err: unknown) => void;
  /**
   * This node's work leases (several nodes on one store): completing a snapshot runs under
   * volume-snapshot:REGION:ID, so a node that died between taking and completing it is replaced.
   */
  leases?: LeaseKeeper;
}

/** The lease under which one node takes and completes a volume snapshot. */
/** The lease of a snapshot's completion: held by the node completing it. */
export const snapshotLease = (region: string, snapshotId: string) => `volume-snapshot:${region}:${snapshotId}`;

export type CompletionListener = (region: string, snapshotIds: string[]) => Promise<void>;

export class VolumeSnapshots {
  private readonly deps: VolumeSnapshotDeps;
  private readonly listeners: CompletionListener[] = [];
  private readonly running = new Set<Promise<void>>();
  /** Snapshots this node is completing now. */
  private readonly completing = new Set<string>();
  constructor(deps: VolumeSnapshotDeps) {
    this.deps = deps;
  }

  /** Called when snapshots complete (CreateImage makes its image available then). */
  onCompleted(listener: CompletionListener): void {
    this.listeners.push(listener);
  }

  /**
   * Snapshots the volumes at one instant; returns the pending snapshots, completed later. A
   * `snapshotId` given in advance (CreateImage names its snapshots in the pending image) is used.
   */
  async take(caller: Caller, vols: { volume: VolumeRecord; description?: string; tags: Tag[]; snapshotId?: string }[]): Promise<SnapshotRecord[]> {
    for (const { volume } of vols) {
      if (!volume.encrypted || !volume.dataKey) continue;
      if (!this.deps.keys) throw Errors.keyNotAccessible(`Volume ${volume.volumeId} is encrypted and no KMS is available.`);
      try {
        (await this.deps.keys.open(caller, volume.dataKey)).fill(0);
      } catch (err) {
        throw ec2KeyError(err, volume.kmsKeyId);
      }
    }
    for (const { volume } of vols) await this.deps.flushVolume?.(volume);
    const now = this.deps.clock.now().toISOString();
    const records: SnapshotRecord[] = vols.map(({ volume, description, snapshotId }) => {
      if (volume.ephemeral) throw Errors.invalidParameterValue(`Volume ${volume.volumeId} is an instance store volume; it cannot be snapshotted.`);
      return {
        region: caller.region, snapshotId: snapshotId ?? this.deps.ids.next('snap'), ownerId: caller.account, volumeSize: volume.size,
        state: 'pending', progress: 0, startTime: now, description, parentSnapshotId: volume.snapshotId,
        volumeId: volume.volumeId, encrypted: volume.encrypted, kmsKeyId: volume.kmsKeyId, dataKey: volume.dataKey, timeoutMinutes: 0,
        lastActivity: now, createVolumePermissions: [],
      };
    });
    // Held from before the records exist until they complete: no other node's resumeAll takes a
    // snapshot whose map is still being written.
    const leases = records.map((r) => snapshotLease(r.region, r.snapshotId));
    for (const lease of leases) await this.deps.leases?.acquire(lease);
    try {
      for (const [i, r] of records.entries()) await this.deps.store.snapshots.insert(r, { account: caller.account, tags: vols[i].tags });
      await this.deps.store.volumes.snapshotVolumes(records.map((r, i) => ({
        volumeId: vols[i].volume.volumeId, snapshotId: r.snapshotId, parentSnapshotId: vols[i].volume.snapshotId,
      })));
    } catch (err) {
      for (const lease of leases) await this.deps.leases?.release(lease).catch(() => {});
      throw err;
    }
    this.finish(records);
    return records;
  }

  async createSnapshot(caller: Caller, req: CreateSnapshotRequest): Promise<Snapshot> {
    const volume = await this.deps.volumes.findOwned(caller, req.VolumeId);
    const tags = tagsFor(req.TagSpecifications, ['snapshot'], 'snapshot');
    const [record] = await this.take(caller, [{ volume, description: req.Description, tags }]);
    return toWireSnapshot(record, tags);
  }

  /** CreateSnapshots: every EBS volume of the instance (minus exclusions) at one instant. */
  async createSnapshots(caller: Caller, req: CreateSnapshotsRequest, instance: { instanceId: string; rootDeviceName?: string }): Promise<SnapshotInfo[]> {
    const spec = req.InstanceSpecification;
    const attached = (await this.deps.volumes.attachedTo(caller, instance.instanceId)).filter((v) => !v.ephemeral);
    const chosen = attached.filter((v) => {
      if (spec.ExcludeDataVolumeIds?.includes(v.volumeId)) return false;
      const isRoot = v.attachments.some((a) => a.instanceId === instance.instanceId && a.device === instance.rootDeviceName);
      return !(spec.ExcludeBootVolume && isRoot);
    });
    const extra = tagsFor(req.TagSpecifications, ['snapshot'], 'snapshot');
    const items: { volume: VolumeRecord; description?: string; tags: Tag[] }[] = [];
    for (const volume of chosen) {
      let tags = extra;
      if (req.CopyTagsFromSource === 'volume') {
        const own = (await this.deps.store.tags.forResources(caller.account, caller.region, [volume.volumeId])).get(volume.volumeId) ?? [];
        tags = [...own.filter((t) => !extra.some((e) => e.Key === t.Key)), ...extra];
      }
      items.push({ volume, description: req.Description, tags });
    }
    const records = await this.take(caller, items);
    return records.map((r, i) => {
      const s = toWireSnapshot(r, items[i].tags);
      return {
        SnapshotId: s.SnapshotId, VolumeId: s.VolumeId, State: s.State, StartTime: s.StartTime, Progress: s.Progress,
        OwnerId: s.OwnerId, Description: s.Description, VolumeSize: s.VolumeSize, Encrypted: s.Encrypted, Tags: s.Tags,
      };
    });
  }

  /** Completes snapshots in the background: their new blocks are made durable first. */
  finish(records: SnapshotRecord[]): void {
    if (!records.length) return;
    for (const r of records) this.completing.add(r.snapshotId);
    const job = (async () => {
      for (const r of records) {
        const lease = snapshotLease(r.region, r.snapshotId);
        // Completing is idempotent (sync, then a state change from pending): the lease keeps two
        // nodes from doing it twice, and lets a live node finish what a dead one took.
        if (this.deps.leases && !(await this.deps.leases.acquire(lease).catch(() => undefined))) continue;
        try {
          const written = await this.deps.store.snapshots.writtenBlocks(r.snapshotId);
          await this.deps.blocks.sync(r.region, written.map((b) => b.hash));
          const current = await this.deps.store.snapshots.get(r.region, r.snapshotId);
          if (!current || current.state !== 'pending') continue;
          current.state = 'completed';
          current.progress = 100;
          current.completionTime = this.deps.clock.now().toISOString();
          await this.deps.store.snapshots.update(current, { ifState: 'pending' });
        } catch (err) {
          this.deps.onError(r.snapshotId, err);
          const current = await this.deps.store.snapshots.get(r.region, r.snapshotId);
          if (current?.state === 'pending') {
            current.state = 'error';
            current.stateMessage = `The snapshot failed: ${(err as Error).message}`;
            await this.deps.store.snapshots.update(current, { ifState: 'pending' });
          }
        } finally {
          await this.deps.leases?.release(lease).catch(() => {});
        }
      }
      for (const l of this.listeners) await l(records[0].region, records.map((r) => r.snapshotId));
    })().catch((err) => this.deps.onError(records[0].snapshotId, err))
      .finally(() => { for (const r of records) this.completing.delete(r.snapshotId); });
    this.running.add(job);
    void job.finally(() => this.running.delete(job));
  }

  /**
   * Completes snapshots of volumes left pending: at start-up a previous process's, then
   * periodically those of nodes that died (a snapshot being taken is under its node's lease).
   */
  async resumeAll(): Promise<number> {
    const pending = (await this.deps.store.snapshots.inState('pending'))
      .filter((s) => !s.copySource && s.volumeId !== 'vol-ffffffff' && !this.completing.has(s.snapshotId));
    const byRegion = new Map<string, SnapshotRecord[]>();
    for (const s of pending) byRegion.set(s.region, [...(byRegion.get(s.region) ?? []), s]);
    for (const group of byRegion.values()) this.finish(group);
    return pending.length;
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }
}
