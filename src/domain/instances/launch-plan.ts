// The volumes an instance gets: the image's block device mapping, with RunInstances'
// BlockDeviceMappings laid over it device by device (a new size, type or DeleteOnTermination,
// a device suppressed with NoDevice, an added EBS or instance-store volume).
import type { BlockDeviceMapping } from '../../protocol/ec2/types.generated.ts';
import type { StoredImage } from '../../ports/metadata-store.ts';
import { Errors } from '../errors.ts';
import { isResourceId } from '../resource-ids.ts';
import { instanceStoreSize, type InstanceTypeInfo } from './instance-types.ts';

export interface EbsPlan {
  kind: 'ebs';
  device: string;
  snapshotId?: string;
  size?: number;
  volumeType: string;
  iops?: number;
  throughput?: number;
  deleteOnTermination: boolean;
  /** The snapshot comes from the image, whose launch permission covers it. */
  viaImage: boolean;
  /** RunInstances' Encrypted and KmsKeyId for this device (an encrypted snapshot stays encrypted). */
  encrypted?: boolean;
  kmsKeyId?: string;
}

export interface StorePlan { kind: 'store'; device: string; virtualName: string; sizeGiB: number }

export type DevicePlan = EbsPlan | StorePlan;

/** An instance-store-backed image's root volume: 10 GiB, as EC2 gives such roots. */
export const INSTANCE_STORE_ROOT_GIB = 10;
const VIRTUAL_NAME = /^ephemeral([0-9]|1[0-9]|2[0-3])$/;
const DEVICE = /^(\/dev\/)?[a-z][a-z0-9]*$/;

function fromImage(image: StoredImage, type: InstanceTypeInfo): Map<string, DevicePlan> {
  const plans = new Map<string, DevicePlan>();
  for (const m of image.blockDeviceMappings ?? []) {
    if (!m.deviceName || m.noDevice !== undefined) continue;
    if (m.virtualName) {
      plans.set(m.deviceName, { kind: 'store', device: m.deviceName, virtualName: m.virtualName, sizeGiB: instanceStoreSize(type, m.virtualName) });
    } else if (m.ebs) {
      plans.set(m.deviceName, {
        kind: 'ebs', device: m.deviceName, snapshotId: m.ebs.snapshotId, size: m.ebs.volumeSize, volumeType: m.ebs.volumeType ?? 'gp2',
        iops: m.ebs.iops, throughput: m.ebs.throughput, deleteOnTermination: m.ebs.deleteOnTermination ?? true, viaImage: true,
      });
    }
  }
  if (image.rootDeviceType === 'instance-store' && image.rootDeviceName && !plans.has(image.rootDeviceName)) {
    plans.set(image.rootDeviceName, { kind: 'store', device: image.rootDeviceName, virtualName: 'root', sizeGiB: INSTANCE_STORE_ROOT_GIB });
  }
  return plans;
}

function override(current: DevicePlan | undefined, m: BlockDeviceMapping, type: InstanceTypeInfo): DevicePlan | undefined {
  const device = m.DeviceName!;
  const kinds = [m.Ebs, m.VirtualName, m.NoDevice].filter((k) => k !== undefined).length;
  if (kinds !== 1) {
    throw Errors.invalidBlockDeviceMapping(`The block-device mapping for ${device} must specify exactly one of Ebs, VirtualName or NoDevice`);
  }
  if (m.NoDevice !== undefined) return undefined;
  if (m.VirtualName !== undefined) {
    if (!VIRTUAL_NAME.test(m.VirtualName)) throw Errors.invalidBlockDeviceMapping(`Invalid virtual name ${m.VirtualName}: expecting ephemeral0 to ephemeral23`);
    return { kind: 'store', device, virtualName: m.VirtualName, sizeGiB: instanceStoreSize(type, m.VirtualName) };
  }
  const ebs = m.Ebs!;
  if (ebs.SnapshotId !== undefined && !isResourceId('snap', ebs.SnapshotId)) throw Errors.snapshotMalformed(ebs.SnapshotId);
  const base = current?.kind === 'ebs' ? current : undefined;
  const snapshotId = ebs.SnapshotId ?? base?.snapshotId;
  if (!snapshotId && ebs.VolumeSize === undefined && !base) {
    throw Errors.invalidBlockDeviceMapping(`The block-device mapping for ${device} needs a snapshot id or a volume size`);
  }
  return {
    kind: 'ebs', device, snapshotId,
    size: ebs.VolumeSize ?? (snapshotId === base?.snapshotId ? base?.size : undefined),
    volumeType: ebs.VolumeType ?? base?.volumeType ?? 'gp2',
    iops: ebs.Iops ?? (ebs.VolumeType ? undefined : base?.iops),
    throughput: ebs.Throughput ?? (ebs.VolumeType ? undefined : base?.throughput),
    deleteOnTermination: ebs.DeleteOnTermination ?? base?.deleteOnTermination ?? true,
    viaImage: !!base?.viaImage && snapshotId === base.snapshotId,
    ...(ebs.Encrypted !== undefined ? { encrypted: ebs.Encrypted } : {}),
    ...(ebs.KmsKeyId !== undefined ? { kmsKeyId: ebs.KmsKeyId } : {}),
  };
}

/** The devices to create, root first; throws EC2's errors for a mapping that cannot be. */
export function launchPlan(image: StoredImage, requested: BlockDeviceMapping[] | undefined, type: InstanceTypeInfo): DevicePlan[] {
  const plans = fromImage(image, type);
  const seen = new Set<string>();
  for (const m of requested ?? []) {
    if (!m.DeviceName) throw Errors.missingParameter('BlockDeviceMapping.N.DeviceName');
    if (!DEVICE.test(m.DeviceName)) throw Errors.invalidBlockDeviceMapping(`Invalid device name ${m.DeviceName}`);
    if (seen.has(m.DeviceName)) throw Errors.invalidBlockDeviceMapping(`The device '${m.DeviceName}' is used in more than one block-device mapping`);
    seen.add(m.DeviceName);
    const root = m.DeviceName === image.rootDeviceName;
    const next = override(plans.get(m.DeviceName), m, type);
    if (root && next?.kind !== plans.get(m.DeviceName)?.kind) {
      throw Errors.invalidBlockDeviceMapping(`The root device ${m.DeviceName} cannot be removed or changed to another kind of volume`);
    }
    if (root && next?.kind === 'ebs' && next.snapshotId !== (plans.get(m.DeviceName) as EbsPlan).snapshotId) {
      throw Errors.invalidBlockDeviceMapping(`The root device ${m.DeviceName} must keep the image's snapshot`);
    }
    if (next) plans.set(m.DeviceName, next);
    else plans.delete(m.DeviceName);
  }
  if (!image.rootDeviceName || !plans.has(image.rootDeviceName)) {
    throw Errors.invalidBlockDeviceMapping(`The image ${image.imageId} has no root device mapping`);
  }
  const root = plans.get(image.rootDeviceName)!;
  return [root, ...[...plans.values()].filter((p) => p !== root).sort((a, b) => a.device.localeCompare(b.device))];
}
