// EBS volume types: their size, IOPS and throughput ranges and defaults, as AWS documents them
// (EC2 API reference, CreateVolume; EBS user guide, volume types), checked with EC2's codes and
// messages. CreateVolume, ModifyVolume and RunInstances' EBS mappings all go through here.
import { Errors } from '../errors.ts';

interface TypeLimits {
  size: [number, number];
  /** Provisioned IOPS range and the most IOPS per GiB; absent where IOPS cannot be set. */
  iops?: { range: [number, number]; perGiB: number; required: boolean };
}

const LIMITS: Record<string, TypeLimits> = {
  standard: { size: [1, 1024] },
  gp2: { size: [1, 16384] },
  gp3: { size: [1, 16384], iops: { range: [3000, 16000], perGiB: 500, required: false } },
  io1: { size: [4, 16384], iops: { range: [100, 64000], perGiB: 50, required: true } },
  io2: { size: [4, 65536], iops: { range: [100, 256000], perGiB: 1000, required: true } },
  st1: { size: [125, 16384] },
  sc1: { size: [125, 16384] },
};

/** gp3's baseline, free whatever the size (so the per-GiB ratio applies only above it). */
export const GP3_BASELINE = { iops: 3000, throughput: 125 };
const GP3_THROUGHPUT: [number, number] = [125, 1000];
const MAX_MIBPS_PER_IOPS = 0.25;
const MULTI_ATTACH_TYPES = ['io1', 'io2'];

export interface VolumeSettings { volumeType: string; iops?: number; throughput?: number; multiAttachEnabled?: boolean }

export interface VolumeSpec extends Partial<VolumeSettings> {
  size: number;
  /** Set for a RunInstances block device mapping: type mismatches are then EC2's InvalidBlockDeviceMapping. */
  device?: string;
}

export function isVolumeType(volumeType: string): boolean {
  return Object.hasOwn(LIMITS, volumeType);
}

/** The volume's type and performance settings, defaulted as EC2 does; throws EC2's error for any that cannot be. */
export function checkVolumeSpec(spec: VolumeSpec): VolumeSettings {
  const volumeType = spec.volumeType ?? 'gp2';
  const limits = LIMITS[volumeType];
  if (!limits) throw Errors.invalidParameterValue(`Value (${volumeType}) for parameter volumeType is invalid.`);
  checkSize(volumeType, spec.size, limits.size);
  if (spec.throughput !== undefined && volumeType !== 'gp3') throw notForType('throughput', volumeType, spec.device);
  if (spec.multiAttachEnabled && !MULTI_ATTACH_TYPES.includes(volumeType)) {
    throw Errors.invalidParameterCombination(`The parameter multiAttachEnabled is not supported for ${volumeType} volumes. Multi-Attach is supported only for io1 and io2 volumes.`);
  }
  const settings: VolumeSettings = { volumeType, ...(spec.multiAttachEnabled ? { multiAttachEnabled: true } : {}) };
  if (!limits.iops) {
    if (spec.iops !== undefined) throw notForType('iops', volumeType, spec.device);
    return settings;
  }
  if (spec.iops === undefined && limits.iops.required) {
    throw Errors.invalidParameterCombination(`The parameter iops must be specified for ${volumeType} volumes.`);
  }
  const iops = spec.iops ?? GP3_BASELINE.iops;
  checkRange('iops', iops, limits.iops.range);
  const overBaseline = volumeType !== 'gp3' || iops > GP3_BASELINE.iops;
  if (overBaseline && iops / spec.size > limits.iops.perGiB) {
    throw Errors.invalidParameterValue(`Iops to volume size ratio of ${(iops / spec.size).toFixed(6)} is too high; maximum is ${limits.iops.perGiB}`);
  }
  if (volumeType !== 'gp3') return { ...settings, iops };
  const throughput = spec.throughput ?? GP3_BASELINE.throughput;
  checkRange('throughput', throughput, GP3_THROUGHPUT);
  if (throughput / iops > MAX_MIBPS_PER_IOPS) {
    throw Errors.invalidParameterValue(
      `Throughput (MiBps) to iops ratio of ${(throughput / iops).toFixed(6)} is too high; maximum is ${MAX_MIBPS_PER_IOPS.toFixed(6)} MiBps per iops`,
    );
  }
  return { ...settings, iops, throughput };
}

/** The IOPS EC2 reports for a volume: the provisioned rate, or gp2's baseline of 3 per GiB (100 to 16,000). */
export function reportedIops(volumeType: string, size: number, iops: number | undefined): number | undefined {
  if (volumeType === 'gp2') return Math.min(16000, Math.max(100, 3 * size));
  return LIMITS[volumeType]?.iops ? iops : undefined;
}

/** The throughput EC2 reports: gp3's only. */
export function reportedThroughput(volumeType: string, throughput: number | undefined): number | undefined {
  return volumeType === 'gp3' ? throughput ?? GP3_BASELINE.throughput : undefined;
}

function checkSize(volumeType: string, size: number, [min, max]: [number, number]): void {
  if (size < min) throw Errors.invalidParameterValue(`Volume of ${size}GiB is too small; minimum is ${min}GiB for ${volumeType} volumes.`);
  if (size > max) throw Errors.invalidParameterValue(`Volume of ${size}GiB is too large; maximum is ${max}GiB for ${volumeType} volumes.`);
}

function checkRange(name: 'iops' | 'throughput', value: number, [min, max]: [number, number]): void {
  if (value < min) throw Errors.invalidParameterValue(`Volume ${name} of ${value} is too low; minimum is ${min}.`);
  if (value > max) throw Errors.invalidParameterValue(`Volume ${name} of ${value} is too high; maximum is ${max}.`);
}

function notForType(name: 'iops' | 'throughput', volumeType: string, device: string | undefined) {
  if (device) return Errors.invalidBlockDeviceMapping(`${name} cannot be specified with the volumeType of device '${device}'`);
  return Errors.invalidParameterCombination(`The parameter ${name} is not supported for ${volumeType} volumes.`);
}
