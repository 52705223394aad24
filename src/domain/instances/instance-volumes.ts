// An instance's volumes through its life: the guest's disks (read and written through
// VolumeData), instance-store volumes made empty at every start and dropped at every stop, and
// what termination does (DeleteOnTermination volumes deleted, the others detached and kept).
import type { GuestDisk } from '../../ports/hypervisor.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import type { Caller } from '../context.ts';
import type { VolumeData } from '../volumes/volume-data.ts';
import type { VolumeService } from '../volumes/volume-service.ts';

export interface InstanceVolumesDeps { store: MetadataStore; volumes: VolumeService; volumeData: VolumeData }

export const ownerOf = (r: InstanceRecord): Caller => ({ account: r.ownerId, region: r.region });

export const attachmentOf = (v: VolumeRecord, instanceId: string) =>
  v.attachments.find((a) => a.instanceId === instanceId && a.state !== 'detached');

/** A volume as a guest disk: bytes read and written lazily through the volume's block map. */
export function guestDisk(data: VolumeData, device: string, v: VolumeRecord): GuestDisk {
  return {
    device,
    volumeId: v.volumeId,
    sizeBytes: v.size * 1024 ** 3,
    read: (offset, length) => data.read(v, offset, length),
    write: (offset, bytes) => data.write(v, offset, bytes),
    blocks: data.blockAccess(v),
  };
}

export class InstanceVolumes {
  private readonly deps: InstanceVolumesDeps;
  constructor(deps: InstanceVolumesDeps) {
    this.deps = deps;
  }

  /** Every volume attached to the instance, instance-store ones included. */
  attached(r: InstanceRecord): Promise<VolumeRecord[]> {
    return this.deps.store.volumes.attachedTo(r.region, r.ownerId, [r.instanceId]);
  }

  /** Instance-store volumes, empty: made for a start (never snapshotted, deleted at stop). */
  async makeInstanceStore(r: InstanceRecord, now: Date): Promise<VolumeRecord[]> {
    const out: VolumeRecord[] = [];
    for (const spec of r.instanceStore) {
      out.push(await this.deps.volumes.make(ownerOf(r), {
        size: spec.sizeGiB, availabilityZone: r.availabilityZone, ephemeral: true,
        attachment: { instanceId: r.instanceId, device: spec.device, state: 'attached', attachTime: now.toISOString(), deleteOnTermination: true },
      }));
    }
    return out;
  }

  /** Deletes the instance-store volumes (their data is gone, as on EC2 after a stop). */
  async dropInstanceStore(r: InstanceRecord): Promise<void> {
    for (const v of await this.attached(r)) if (v.ephemeral) await this.delete(v);
  }

  /**
   * Stores the writes the instance's EBS volumes hold in memory (their write buffers) and folds
   * their small-write journals into whole blocks, once the guest has stopped: the volumes' block
   * maps then hold every write the guest completed.
   */
  async settle(r: InstanceRecord): Promise<void> {
    for (const v of await this.attached(r)) if (!v.ephemeral) await this.deps.volumeData.settle(v);
  }

  private async delete(v: VolumeRecord): Promise<void> {
    this.deps.volumeData.forget(v.volumeId);
    await this.deps.store.volumes.delete(v.region, v.volumeId);
  }

  /** Termination: DeleteOnTermination volumes go; the others are detached and kept available. */
  async releaseOnTermination(r: InstanceRecord): Promise<{ deleted: string[]; detached: string[] }> {
    const result = { deleted: [] as string[], detached: [] as string[] };
    for (const v of await this.attached(r)) {
      const a = attachmentOf(v, r.instanceId)!;
      if (v.ephemeral || a.deleteOnTermination) {
        await this.delete(v);
        if (!v.ephemeral) result.deleted.push(v.volumeId);
      } else {
        await this.detach(v, r.instanceId);
        result.detached.push(v.volumeId);
      }
    }
    return result;
  }

  /** Removes the instance's attachment from the volume record (its writes stored first); the volume is available again. */
  async detach(v: VolumeRecord, instanceId: string): Promise<void> {
    await this.deps.volumeData.settle(v);
    v.attachments = v.attachments.filter((a) => a.instanceId !== instanceId);
    if (!v.attachments.length) v.state = 'available';
    await this.deps.store.volumes.update(v);
  }

  guestDisk(device: string, v: VolumeRecord): GuestDisk {
    return guestDisk(this.deps.volumeData, device, v);
  }
}
