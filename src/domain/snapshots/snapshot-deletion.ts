// The one rule for removing a snapshot, shared by DeleteSnapshot and `amiforge storage clean-up`:
// never while an image names it; volumes made from it keep their data.
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { Errors } from '../errors.ts';

/** Deletes the snapshot unless an image uses it (InvalidSnapshot.InUse). Blocks are left to GC. */
export async function deleteUnusedSnapshot(store: MetadataStore, region: string, snapshotId: string): Promise<void> {
  const images = await store.snapshots.imagesUsing(region, snapshotId);
  if (images.length) throw Errors.snapshotInUse(snapshotId, images[0]);
  // Volumes made from it read through its map: they adopt its blocks first. Blocks are not
  // freed here: garbage collection frees those nothing references any more.
  await store.volumes.adoptSnapshotBlocks(snapshotId);
  await store.snapshots.delete(region, snapshotId);
}
