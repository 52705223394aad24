// The one rule for removing a snapshot, shared by DeleteSnapshot and `amiforge storage clean-up`:
// never while an image names it; volumes made from it keep their data.
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { Errors } from '../errors.ts';

/**
 * Deletes the snapshot unless an image uses it (InvalidSnapshot.InUse). The check and the
 * deletion are one store transaction, and RegisterImage stores an image only if its snapshots
 * still exist, so neither this process nor another on the same store (the server and
 * `amiforge storage clean-up`) can leave an image naming a deleted snapshot. Volumes made from it
 * adopt its blocks first, keeping their data; blocks are freed by garbage collection, later.
 * `binnedImagesToo`: an image in the Recycle Bin that names it stops it too (clean-up's rule; a
 * user's DeleteSnapshot may delete it, as AWS allows).
 */
export async function deleteUnusedSnapshot(store: MetadataStore, region: string, snapshotId: string, options: { binnedImagesToo?: boolean } = {}): Promise<void> {
  const { inUseBy } = await store.snapshots.deleteUnlessInUse(region, snapshotId, options);
  if (inUseBy) throw Errors.snapshotInUse(snapshotId, inUseBy);
}
