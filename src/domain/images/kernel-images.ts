// Kernel (aki-) and ramdisk (ari-) images: what a paravirtual image boots, as EC2 registered them.
// RegisterImage, RunInstances and ModifyInstanceAttribute name them by id; each names an image of
// the right type that exists in the caller's region and that the caller may see. CopyImage maps
// them to the destination region's image of the same manifest and owner (a catalogue entry has
// one per region), since kernel ids differ per region as AMI ids do.
import type { ImageRecord, MetadataStore } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { isAnyImageId } from '../resource-ids.ts';
import { canSee, visibilityOf } from './visibility.ts';

export interface BootImages {
  kernelId?: string;
  ramdiskId?: string;
}

const ROLES = {
  kernel: { prefix: 'aki', parameter: 'kernelId' },
  ramdisk: { prefix: 'ari', parameter: 'ramdiskId' },
} as const;

/**
 * The kernel or ramdisk image `id` names: Malformed when it is no image id at all, NotFound when
 * no image of that id is in the region or the caller may not see it (never revealing another
 * account's), InvalidParameterValue when it is an image of another type (a machine image, say).
 */
export async function findBootImage(store: MetadataStore, caller: Caller, role: 'kernel' | 'ramdisk', id: string): Promise<ImageRecord> {
  if (!isAnyImageId(id)) throw Errors.amiMalformedAs(id, ROLES[role].prefix);
  const record = await store.images.get(caller.region, id);
  if (!record || !canSee(caller, record)) throw Errors.amiNotFound(id);
  if (record.image.imageType !== role) {
    throw Errors.invalidParameterValue(`The image id '[${id}]' is not a ${role} image (${ROLES[role].parameter} must name an image of type ${role}, ${ROLES[role].prefix}-...)`);
  }
  if (record.image.state !== 'available') throw Errors.amiNotAvailable(id, record.image.state);
  return record;
}

/** Checks the kernel and ramdisk a request names (either may be absent). */
export async function checkBootImages(store: MetadataStore, caller: Caller, images: BootImages): Promise<void> {
  if (images.kernelId !== undefined) await findBootImage(store, caller, 'kernel', images.kernelId);
  if (images.ramdiskId !== undefined) await findBootImage(store, caller, 'ramdisk', images.ramdiskId);
}

/** EC2's rule: kernels and ramdisks belong to paravirtual images; an HVM image boots its own. */
export function refuseForHvm(virtualizationType: string | undefined, images: BootImages, what: string): void {
  if (virtualizationType !== 'hvm') return;
  const named = [images.kernelId !== undefined && 'kernelId', images.ramdiskId !== undefined && 'ramdiskId'].filter(Boolean);
  if (named.length) {
    throw Errors.invalidParameterCombination(`The parameter ${named.join(' and ')} cannot be used with ${what} of virtualization type hvm: an HVM image boots the kernel on its own root volume.`);
  }
}

/**
 * The image in `destination` that stands for the kernel or ramdisk `id` of `source`: the same
 * owner, type and manifest location, visible to the caller. Undefined when there is none.
 */
export async function counterpartIn(store: MetadataStore, caller: Caller, o: { source: string; destination: string; id: string }): Promise<string | undefined> {
  if (o.source === o.destination) return o.id;
  const original = await store.images.get(o.source, o.id);
  if (!original) return undefined;
  const { ownerId, imageType, imageLocation } = original.image;
  for await (const r of store.images.scan({ region: o.destination, visibleTo: visibilityOf(caller), ownerIds: [ownerId] })) {
    if (r.image.imageType === imageType && r.image.imageLocation === imageLocation && r.image.state === 'available' && canSee(caller, r)) {
      return r.image.imageId;
    }
  }
  return undefined;
}
