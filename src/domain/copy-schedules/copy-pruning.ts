// "Keep N": after a run, a schedule's copies in a destination region beyond the newest N are
// deregistered with their snapshots. Only images carrying the schedule's own tag are candidates,
// so images the account made otherwise (or another schedule made) are never touched.
import type { DescribeImagesRequest, DeregisterImageRequest, DeleteSnapshotReturnCode, Image } from '../../protocol/ec2/types.generated.ts';
import type { Caller } from '../context.ts';

/** The tag every copy a schedule makes carries: its value is the schedule's name. */
export const SCHEDULE_TAG = 'amiforge:copy-schedule';
/** The source image a copy was made from: how a run knows the newest source is already copied. */
export const SOURCE_TAG = 'amiforge:source-image-id';

export interface ImageCatalog {
  describe(caller: Caller, req: DescribeImagesRequest): Promise<{ Images: Image[] }>;
  deregister(caller: Caller, req: DeregisterImageRequest): Promise<DeleteSnapshotReturnCode[] | undefined>;
}

export interface PruneResult {
  deregistered: string[];
  /** Copies beyond N kept because instances (not terminated) were launched from them. */
  keptInUse: string[];
  /** Copies beyond N kept because deregistration protection is on, or deregistering failed. */
  keptOther: { imageId: string; reason: string }[];
}

/** The schedule's own copies in the caller's region, newest first. */
export async function scheduleCopies(images: ImageCatalog, caller: Caller, schedule: string): Promise<Image[]> {
  const { Images } = await images.describe(caller, {
    Owners: ['self'], IncludeDisabled: true, IncludeDeprecated: true,
    Filters: [{ Name: `tag:${SCHEDULE_TAG}`, Values: [schedule] }],
  });
  return Images.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? '') || (b.ImageId ?? '').localeCompare(a.ImageId ?? ''));
}

export async function pruneCopies(o: {
  images: ImageCatalog;
  /** How many instances, of any account, not terminated, run from this image in this region. */
  instancesUsing: (region: string, imageId: string) => Promise<number>;
  caller: Caller;
  schedule: string;
  keep: number;
}): Promise<PruneResult> {
  const result: PruneResult = { deregistered: [], keptInUse: [], keptOther: [] };
  const copies = await scheduleCopies(o.images, o.caller, o.schedule);
  // Failed copies hold nothing usable: they go and do not count. Pending ones are never removed
  // (a copy under way) but count, so a finished run leaves at most N.
  const live = copies.filter((c) => c.State !== 'failed');
  const doomed = [...copies.filter((c) => c.State === 'failed'), ...live.slice(o.keep).filter((c) => c.State !== 'pending')];
  for (const image of doomed) {
    const imageId = image.ImageId!;
    if (await o.instancesUsing(o.caller.region, imageId)) {
      result.keptInUse.push(imageId);
      continue;
    }
    if (image.DeregistrationProtection?.startsWith('enabled')) {
      result.keptOther.push({ imageId, reason: 'deregistration protection is enabled' });
      continue;
    }
    try {
      await o.images.deregister(o.caller, { ImageId: imageId, DeleteAssociatedSnapshots: true });
      result.deregistered.push(imageId);
    } catch (err) {
      result.keptOther.push({ imageId, reason: (err as Error).message });
    }
  }
  return result;
}
