// DescribeImages answers the same images again and again, and making each one's wire shape (and
// then its XML) was most of a large answer's cost. This cache keeps each image's wire shape
// until anything it shows changes, and hands out the same object each time: frozen, so nothing
// can change it in place, and so the XML serializer may keep its text too (it caches frozen
// structures' XML by identity).
//
// Nothing needs to invalidate it: an entry is used only while the store's revision of the record
// (its serialized row, which every mutation rewrites: attributes, launch permissions, state,
// deprecation...) and what the reader adds (its own tags, ImageAllowed, the protection state at
// this time) are all the same as when it was made.
import type { Image, Tag } from '../../protocol/ec2/types.generated.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import { deepFreeze } from '../deep-freeze.ts';

interface Entry { region: string; revision: string; reader: string; wire: Image }

/** Images kept; a full cache forgets its oldest entry (a few KB each, object and XML). */
const MAX_ENTRIES = 5000;

export class WireImageCache {
  private readonly entries = new Map<string, Entry>();
  private readonly limit: number;

  constructor(limit = MAX_ENTRIES) {
    this.limit = limit;
  }

  /**
   * The wire shape `make` builds for the record, or the one it built before for the same
   * revision and reader-dependent members. Records without a revision are never cached.
   */
  wire(record: ImageRecord, tags: Tag[] | undefined, imageAllowed: boolean | undefined, protection: string | undefined, make: () => Image): Image {
    const revision = record.revision;
    if (revision === undefined) return make();
    const id = record.image.imageId;
    const reader = `${imageAllowed}\u0000${protection}\u0000${tags?.length ? JSON.stringify(tags) : ''}`;
    const hit = this.entries.get(id);
    if (hit && hit.revision === revision && hit.reader === reader && hit.region === record.region) return hit.wire;
    const wire = deepFreeze(make());
    if (hit) this.entries.delete(id);
    else if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, { region: record.region, revision, reader, wire });
    return wire;
  }
}
