// The parts of EC2's Image (DescribeImages' JSON through the session layer) the image page shows.
import { ec2 } from '../../api.ts';

export interface Tag { Key?: string; Value?: string }

export interface BlockDeviceMapping {
  DeviceName?: string;
  VirtualName?: string;
  NoDevice?: string;
  Ebs?: { SnapshotId?: string; VolumeSize?: number; VolumeType?: string; Encrypted?: boolean; KmsKeyId?: string; DeleteOnTermination?: boolean; Iops?: number; Throughput?: number };
}

export interface Image {
  ImageId: string;
  Name?: string;
  Description?: string;
  OwnerId?: string;
  State?: string;
  StateReason?: { Code?: string; Message?: string };
  Architecture?: string;
  Platform?: string;
  PlatformDetails?: string;
  VirtualizationType?: string;
  BootMode?: string;
  CreationDate?: string;
  DeprecationTime?: string;
  DeregistrationProtection?: string;
  Public?: boolean;
  RootDeviceName?: string;
  RootDeviceType?: string;
  SourceImageId?: string;
  SourceImageRegion?: string;
  BlockDeviceMappings?: BlockDeviceMapping[];
  Tags?: Tag[];
}

/** One image by id in a region, disabled and deprecated ones included (as their owner sees them). */
export async function describeImage(imageId: string, region?: string): Promise<Image | undefined> {
  const out = await ec2<{ Images?: Image[] }>('DescribeImages', { ImageId: [imageId], IncludeDisabled: true, IncludeDeprecated: true }, region);
  return out.Images?.[0];
}

/** The snapshots the image's EBS mappings name. */
export const snapshotIdsOf = (image: Image): string[] =>
  (image.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId).filter((id): id is string => !!id);

/** "on" when protection is enabled (EC2 reports `enabled`, or `enabled-with-cooldown` until a time). */
export const isProtected = (image: Image): boolean => (image.DeregistrationProtection ?? 'disabled') !== 'disabled';

export const isDeprecated = (image: Image, now = new Date()): boolean =>
  !!image.DeprecationTime && new Date(image.DeprecationTime).getTime() <= now.getTime();
