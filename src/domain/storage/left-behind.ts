// Snapshots left behind by deregistered images: the metadata store records, as an image is
// deregistered, the snapshots its mapping named; one no image names any more is left behind.
// Not every such snapshot may be cleaned up: some are still being written or read.
import { BLOCK_SIZE } from '../../ports/block-store.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';

export interface LeftBehind {
  region: string;
  snapshotId: string;
  ownerId: string;
  state: SnapshotRecord['state'];
  volumeSizeGiB: number;
  /** The deregistered images that named it. */
  imageIds: string[];
  /** Why clean-up keeps it; absent when clean-up would delete it. */
  keptBecause?: string;
}

/** `${region}/${snapshotId}` of every snapshot a copy in progress is reading from. */
export async function copySourcesInFlight(store: MetadataStore): Promise<Set<string>> {
  const sources = new Set<string>();
  for (const s of await store.snapshots.inState('pending')) {
    if (s.copySource) sources.add(`${s.copySource.region}/${s.copySource.snapshotId}`);
  }
  return sources;
}

/**
 * The region's left-behind snapshots (optionally one owner's), each with the reason clean-up
 * keeps it, if any: still pending (CreateImage is taking it), a copy is reading it, or a volume
 * was made from it (the volume reads through its block map; AWS would let it go, but a volume
 * restored from an image's snapshot is that image still in use).
 */
export async function findLeftBehind(store: MetadataStore, region: string, options: { ownerId?: string; copySources: Set<string> }): Promise<LeftBehind[]> {
  const out: LeftBehind[] = [];
  for (const row of await store.snapshots.leftBehind(region, options.ownerId)) {
    const s = await store.snapshots.get(region, row.snapshotId);
    if (!s) continue;
    const item: LeftBehind = {
      region, snapshotId: s.snapshotId, ownerId: s.ownerId, state: s.state, volumeSizeGiB: s.volumeSize, imageIds: row.imageIds,
    };
    const reason = keptBecause(s, row.volumeIds, options.copySources.has(`${region}/${s.snapshotId}`));
    if (reason) item.keptBecause = reason;
    out.push(item);
  }
  return out;
}

function keptBecause(s: SnapshotRecord, volumeIds: string[], beingCopied: boolean): string | undefined {
  if (s.state === 'pending') return 'still being taken (pending)';
  if (beingCopied) return 'a copy of it is in progress';
  if (volumeIds.length) return `volume ${volumeIds.join(', ')} was made from it`;
  return undefined;
}

/**
 * What deleting `snapshotIds` (all of one owner in one region) takes off that owner's bill:
 * the blocks only they reference among the owner's snapshots, each counted once however many of
 * them share it. Summing each snapshot's own bytes would miss blocks they share with each other.
 */
export async function reclaimableBytes(store: MetadataStore, region: string, ownerId: string, snapshotIds: string[]): Promise<number> {
  if (!snapshotIds.length) return 0;
  const before = (await store.snapshots.storedBlocksByOwner(region)).get(ownerId) ?? 0;
  const after = await store.snapshots.storedBlocksExcluding(region, ownerId, snapshotIds);
  return (before - after) * BLOCK_SIZE;
}
