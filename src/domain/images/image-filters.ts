// DescribeImages filters, as AWS documents them for the operation. Each name maps to the
// image's values under it; the generic engine in ../filters.ts does the matching.
import type { FilterMap } from '../filters.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';

/** An image as filters see it: with its Allowed AMIs verdict for the caller (absent: allowed). */
export type FilterableImage = ImageRecord & { imageAllowed?: boolean };

const ebs = (r: ImageRecord) => (r.image.BlockDeviceMappings ?? []).map((m) => m.Ebs).filter((e) => !!e);
const isPublic = (r: ImageRecord) => r.launchPermissions.some((p) => p.Group === 'all');

export const imageFilters: FilterMap<FilterableImage> = {
  'architecture': (r) => r.image.Architecture,
  'block-device-mapping.delete-on-termination': (r) => ebs(r).map((e) => e.DeleteOnTermination),
  'block-device-mapping.device-name': (r) => (r.image.BlockDeviceMappings ?? []).map((m) => m.DeviceName),
  'block-device-mapping.snapshot-id': (r) => ebs(r).map((e) => e.SnapshotId),
  'block-device-mapping.volume-size': (r) => ebs(r).map((e) => e.VolumeSize),
  'block-device-mapping.volume-type': (r) => ebs(r).map((e) => e.VolumeType),
  'block-device-mapping.encrypted': (r) => ebs(r).map((e) => e.Encrypted),
  'creation-date': (r) => r.image.CreationDate,
  'deprecation-time': (r) => r.image.DeprecationTime,
  'description': (r) => r.image.Description,
  'ena-support': (r) => r.image.EnaSupport,
  'free-tier-eligible': (r) => r.image.FreeTierEligible,
  'hypervisor': (r) => r.image.Hypervisor,
  'image-allowed': (r) => r.imageAllowed ?? true,
  'image-id': (r) => r.image.ImageId,
  'image-type': (r) => r.image.ImageType,
  'imds-support': (r) => r.image.ImdsSupport,
  'is-public': (r) => isPublic(r),
  'kernel-id': (r) => r.image.KernelId,
  'manifest-location': (r) => r.image.ImageLocation,
  'name': (r) => r.image.Name,
  'owner-alias': (r) => r.image.ImageOwnerAlias,
  'owner-id': (r) => r.image.OwnerId,
  'platform': (r) => r.image.Platform?.toLowerCase(),
  'platform-details': (r) => r.image.PlatformDetails,
  'product-code': (r) => (r.image.ProductCodes ?? []).map((p) => p.ProductCodeId),
  'product-code.type': (r) => (r.image.ProductCodes ?? []).map((p) => p.ProductCodeType),
  'ramdisk-id': (r) => r.image.RamdiskId,
  'root-device-name': (r) => r.image.RootDeviceName,
  'root-device-type': (r) => r.image.RootDeviceType,
  'source-image-id': (r) => r.image.SourceImageId,
  'source-image-region': (r) => r.image.SourceImageRegion,
  'source-instance-id': (r) => r.image.SourceInstanceId,
  'sriov-net-support': (r) => r.image.SriovNetSupport,
  'state': (r) => r.image.State,
  'state-reason-code': (r) => r.image.StateReason?.Code,
  'state-reason-message': (r) => r.image.StateReason?.Message,
  'usage-operation': (r) => r.image.UsageOperation,
  'virtualization-type': (r) => r.image.VirtualizationType,
  'boot-mode': (r) => r.image.BootMode,
  'tpm-support': (r) => r.image.TpmSupport,
  'last-launched-time': (r) => r.image.LastLaunchedTime,
};
