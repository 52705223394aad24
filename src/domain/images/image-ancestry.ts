// GetImageAncestry: the chain from an image back to its root through SourceImageId and
// SourceImageRegion (set by CreateImage and CopyImage), across regions, as the EC2 User Guide
// ("Use AMI ancestry to trace the origin of an AMI") describes it. The chain ends at an image
// with no recorded source, at a public image of a verified provider (owner alias `amazon` or
// `aws-marketplace`), at the 50th image, or where the source cannot be read by the caller: it was
// deregistered, is not (or no longer) shared with the caller, or is in a region amiforge does not
// serve. The last entry still names its source: AWS keeps that record when the source goes away.
import type { GetImageAncestryRequest, ImageAncestryEntry } from '../../protocol/ec2/types.generated.ts';
import type { ImageRecord, MetadataStore } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { findRegion } from '../regions.ts';
import type { AllowedImages } from './allowed-images.ts';
import type { ImageService } from './image-service.ts';
import { canSee } from './visibility.ts';

/** AWS's cap on an ancestry list. */
export const MAX_ANCESTRY = 50;
const VERIFIED_PROVIDERS = new Set(['amazon', 'aws-marketplace']);

export interface ImageAncestryDeps {
  store: MetadataStore;
  images: ImageService;
  allowedImages?: AllowedImages;
}

function entryOf(r: ImageRecord): ImageAncestryEntry {
  return {
    CreationDate: new Date(r.image.creationDate),
    ImageId: r.image.imageId,
    ImageOwnerAlias: r.image.ownerAlias,
    SourceImageId: r.image.sourceImageId,
    SourceImageRegion: r.image.sourceImageRegion,
  };
}

/**
 * Walks from `start` (in `region`) to the root. `read` answers an image the caller may read, or
 * undefined; the walk stops there. Kept apart from the store so the rules are tested on records.
 */
export async function walkAncestry(
  start: ImageRecord,
  read: (region: string, imageId: string) => Promise<ImageRecord | undefined>,
): Promise<ImageAncestryEntry[]> {
  const entries: ImageAncestryEntry[] = [];
  const seen = new Set<string>();
  let current: ImageRecord | undefined = start;
  while (current) {
    entries.push(entryOf(current));
    seen.add(`${current.region}/${current.image.imageId}`);
    const { sourceImageId: parentId, ownerAlias: alias } = current.image;
    if (!parentId || entries.length === MAX_ANCESTRY) break;
    if (alias !== undefined && VERIFIED_PROVIDERS.has(alias)) break;
    const parentRegion = current.image.sourceImageRegion ?? current.region;
    // A record pointing back into its own chain would loop forever; ids never repeat in AWS.
    if (!findRegion(parentRegion) || seen.has(`${parentRegion}/${parentId}`)) break;
    current = await read(parentRegion, parentId);
  }
  return entries;
}

export class ImageAncestry {
  private readonly deps: ImageAncestryDeps;
  constructor(deps: ImageAncestryDeps) {
    this.deps = deps;
  }

  /** The input image must be one the caller can see (and, with Allowed AMIs enabled, is allowed). */
  async ancestry(caller: Caller, req: GetImageAncestryRequest): Promise<ImageAncestryEntry[]> {
    const start = await this.deps.images.findVisible(caller, req.ImageId);
    await this.deps.allowedImages?.checkUse(caller, start);
    return walkAncestry(start, async (region, imageId) => {
      const r = await this.deps.store.images.get(region, imageId);
      return r && canSee(caller, r) ? r : undefined;
    });
  }
}
