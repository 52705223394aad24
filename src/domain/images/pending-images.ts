// Images registered `pending` while their snapshots are still being made: CreateImage's (the
// instance's volumes being snapshotted) and CopyImage's (the source's snapshots being copied).
// Such an image becomes `available` once every snapshot it names completed, and `failed` (with a
// StateReason) once one failed or turns out never to have been made (amiforge stopped first).
// With several nodes on one store, the node making an image holds its lease (image-making:
// REGION:ID) from before the image is stored until its snapshots are: an image whose snapshots
// do not exist yet is failed only once no live node is making it.
import type { ImageRecord, MetadataStore } from '../../ports/metadata-store.ts';
import type { LeaseKeeper } from '../cluster/lease-keeper.ts';

/** Something that says when snapshots settled, completed or failed (volume snapshots, copies). */
export interface SnapshotCompletions {
  onCompleted(listener: (region: string, snapshotIds: string[]) => Promise<void>): void;
}

export interface PendingImagesDeps {
  store: MetadataStore;
  /** Listened to from construction on: build this before any of them resumes work. */
  sources: SnapshotCompletions[];
  /** This node's work leases (several nodes on one store). */
  leases?: Pick<LeaseKeeper, 'acquire' | 'release'>;
}

const makingLease = (region: string, imageId: string) => `image-making:${region}:${imageId}`;

export class PendingImages {
  private readonly store: MetadataStore;
  private readonly leases?: PendingImagesDeps['leases'];
  constructor(deps: PendingImagesDeps) {
    this.store = deps.store;
    this.leases = deps.leases;
    for (const source of deps.sources) source.onCompleted((region, ids) => this.snapshotsSettled(region, ids));
  }

  private async snapshotsSettled(region: string, snapshotIds: string[]): Promise<void> {
    const images = new Set<string>();
    for (const id of snapshotIds) for (const imageId of await this.store.snapshots.imagesUsing(region, id)) images.add(imageId);
    for (const imageId of images) await this.settle(region, imageId);
  }

  /** A pending image becomes available once all its snapshots completed, failed if one did not. */
  async settle(region: string, imageId: string): Promise<void> {
    const record = await this.store.images.get(region, imageId);
    if (record?.image.state !== 'pending') return;
    for (const m of record.image.blockDeviceMappings ?? []) {
      if (!m.ebs?.snapshotId) continue;
      const snap = await this.store.snapshots.get(region, m.ebs.snapshotId);
      if (!snap) return this.neverMade(region, imageId, m.ebs.snapshotId, record);
      if (snap.state === 'error') return this.fail(region, imageId, `its snapshot ${snap.snapshotId} failed: ${snap.stateMessage ?? ''}`, record);
      if (snap.state !== 'completed') return;
    }
    record.image.state = 'available';
    await this.store.images.update(record);
  }

  /**
   * Held by the node making the image while it stores the image and then its snapshots; the
   * answer releases it.
   */
  async making(region: string, imageId: string): Promise<() => Promise<void>> {
    const lease = makingLease(region, imageId);
    if (this.leases) await this.leases.acquire(lease);
    return async () => { await this.leases?.release(lease); };
  }

  /** A snapshot the image names does not exist: failed, unless a live node is still making it. */
  private async neverMade(region: string, imageId: string, snapshotId: string, record: ImageRecord): Promise<void> {
    const lease = makingLease(region, imageId);
    if (this.leases && !(await this.leases.acquire(lease))) return;
    try {
      // Read again under the lease: the maker may have stored the snapshot meanwhile.
      if (await this.store.snapshots.get(region, snapshotId)) return;
      await this.fail(region, imageId, `its snapshot ${snapshotId} was never ${record.image.sourceInstanceId ? 'taken' : 'copied'} (amiforge stopped first)`, record);
    } finally {
      await this.leases?.release(lease);
    }
  }

  async fail(region: string, imageId: string, message: string, known?: ImageRecord): Promise<void> {
    const record = known ?? (await this.store.images.get(region, imageId));
    if (!record || record.image.state !== 'pending') return;
    const made = record.image.sourceInstanceId ? 'created' : 'copied';
    record.image.state = 'failed';
    record.image.stateReason = { code: 'Server.InternalError', message: `Server.InternalError: The image could not be ${made}: ${message}` };
    await this.store.images.update(record);
  }

  /**
   * Start-up: CreateImage's and CopyImage's images left pending by a previous process are
   * settled now, or left to wait for snapshots still being made (resumed copies report later).
   */
  async recover(): Promise<void> {
    for (const record of await this.store.images.inState('pending')) {
      if (record.image.sourceInstanceId || record.image.sourceImageId) await this.settle(record.region, record.image.imageId);
    }
  }
}
