// The snapshots behind an image a request uses, as EC2's authorization table counts them among
// the request's resources: CopyImage copies the source image's backing snapshots (read in
// SourceRegion), RunInstances makes its volumes from the image's snapshots unless the request's
// own mappings replace or suppress a device. Only an image the caller can see is read, so the
// snapshot ids of an image the caller may not use never reach a policy decision or a message:
// that request answers the operation's own NotFound.
import type { Caller } from '../domain/context.ts';
import { canSee } from '../domain/images/visibility.ts';
import { blockDevicesToWire } from '../domain/images/image-wire.ts';
import type { ImageRepository } from '../ports/metadata-store.ts';
import { ec2Arn, mappedSnapshotIds, type MappingLike, type ResourceTarget } from './ec2-resources.ts';

export async function imageSnapshotResources(
  images: ImageRepository, caller: Caller, action: string, input: Record<string, unknown>,
): Promise<ResourceTarget[]> {
  const use = imageUsed(action, input, caller.region);
  if (!use) return [];
  const record = await images.get(use.region, use.imageId);
  if (!record || !canSee({ ...caller, region: use.region }, record)) return [];
  const kept = (record.image.blockDeviceMappings ?? []).filter((m) => !use.replacedDevices.has(m.deviceName ?? ''));
  return mappedSnapshotIds(blockDevicesToWire(kept) ?? []).map((id) => ({ arn: ec2Arn('snapshot', use.region, caller.account, id), id, type: 'snapshot' as const, region: use.region }));
}

function imageUsed(action: string, input: Record<string, unknown>, region: string) {
  const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  if (action === 'CopyImage') {
    const imageId = text(input.SourceImageId);
    return imageId ? { imageId, region: text(input.SourceRegion) ?? region, replacedDevices: new Set<string>() } : undefined;
  }
  if (action === 'RunInstances') {
    const imageId = text(input.ImageId);
    if (!imageId) return undefined;
    // A request mapping that names another snapshot, an instance store or NoDevice means the
    // image's snapshot for that device is not used (the request's own snapshot is counted
    // from the request).
    const requested = (Array.isArray(input.BlockDeviceMappings) ? input.BlockDeviceMappings : []) as MappingLike[];
    const replacedDevices = new Set(requested
      .filter((m) => m?.DeviceName && (m.NoDevice !== undefined || m.VirtualName || m.Ebs?.SnapshotId))
      .map((m) => m.DeviceName!));
    return { imageId, region, replacedDevices };
  }
  return undefined;
}
