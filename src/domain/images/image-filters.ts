// DescribeImages filters, as AWS documents them for the operation. Each name maps to the
// image's values under it; the generic engine in ../filters.ts does the matching.
import type { FilterMap } from '../filters.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';

/** An image as filters see it: with its Allowed AMIs verdict for the caller (absent: allowed). */
export type FilterableImage = ImageRecord & { imageAllowed?: boolean };

const ebs = (r: ImageRecord) => (r.image.blockDeviceMappings ?? []).map((m) => m.ebs).filter((e) => !!e);
const isPublic = (r: ImageRecord) => r.launchPermissions.some((p) => p.Group === 'all');

export const imageFilters: FilterMap<FilterableImage> = {
  'architecture': (r) => r.image.architecture,
  'block-device-mapping.delete-on-termination': (r) => ebs(r).map((e) => e.deleteOnTermination),
  'block-device-mapping.device-name': (r) => (r.image.blockDeviceMappings ?? []).map((m) => m.deviceName),
  'block-device-mapping.snapshot-id': (r) => ebs(r).map((e) => e.snapshotId),
  'block-device-mapping.volume-size': (r) => ebs(r).map((e) => e.volumeSize),
  'block-device-mapping.volume-type': (r) => ebs(r).map((e) => e.volumeType),
  'block-device-mapping.encrypted': (r) => ebs(r).map((e) => e.encrypted),
  'creation-date': (r) => r.image.creationDate,
  'deprecation-time': (r) => r.image.deprecationTime,
  'description': (r) => r.image.description,
  'ena-support': (r) => r.image.enaSupport,
  'free-tier-eligible': (r) => r.image.freeTierEligible,
  'hypervisor': (r) => r.image.hypervisor,
  'image-allowed': (r) => r.imageAllowed ?? true,
  'image-id': (r) => r.image.imageId,
  'image-type': (r) => r.image.imageType,
  'imds-support': (r) => r.image.imdsSupport,
  'is-public': (r) => isPublic(r),
  'kernel-id': (r) => r.image.kernelId,
  'manifest-location': (r) => r.image.imageLocation,
  'name': (r) => r.image.name,
  'owner-alias': (r) => r.image.ownerAlias,
  'owner-id': (r) => r.image.ownerId,
  'platform': (r) => r.image.platform?.toLowerCase(),
  'platform-details': (r) => r.image.platformDetails,
  'product-code': (r) => (r.image.productCodes ?? []).map((p) => p.productCodeId),
  'product-code.type': (r) => (r.image.productCodes ?? []).map((p) => p.productCodeType),
  'ramdisk-id': (r) => r.image.ramdiskId,
  'root-device-name': (r) => r.image.rootDeviceName,
  'root-device-type': (r) => r.image.rootDeviceType,
  'source-image-id': (r) => r.image.sourceImageId,
  'source-image-region': (r) => r.image.sourceImageRegion,
  'source-instance-id': (r) => r.image.sourceInstanceId,
  'sriov-net-support': (r) => r.image.sriovNetSupport,
  'state': (r) => r.image.state,
  'state-reason-code': (r) => r.image.stateReason?.code,
  'state-reason-message': (r) => r.image.stateReason?.message,
  'usage-operation': (r) => r.image.usageOperation,
  'virtualization-type': (r) => r.image.virtualizationType,
  'boot-mode': (r) => r.image.bootMode,
  'tpm-support': (r) => r.image.tpmSupport,
  'last-launched-time': (r) => r.image.lastLaunchedTime,
};
