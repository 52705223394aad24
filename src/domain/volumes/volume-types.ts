// EBS volume types: their size ranges and IOPS/throughput defaults, as AWS documents them.
import { Errors } from '../errors.ts';

const SIZE_RANGE: Record<string, [number, number]> = {
  standard: [1, 1024], gp2: [1, 16384], gp3: [1, 16384], io1: [4, 16384], io2: [4, 65536], st1: [125, 16384], sc1: [125, 16384],
};

export function checkVolumeSize(volumeType: string, size: number): void {
  const range = SIZE_RANGE[volumeType];
  if (!range) throw Errors.invalidParameterValue(`Value (${volumeType}) for parameter volumeType is invalid.`);
  if (size < range[0] || size > range[1]) {
    throw Errors.invalidParameterValue(`Volume of ${size}GiB is out of range for ${volumeType}: it must be between ${range[0]} and ${range[1]} GiB.`);
  }
}

/** The type with its performance settings checked and defaulted. */
export function volumeTypeDefaults(volumeType: string, iops?: number, throughput?: number): { volumeType: string; iops?: number; throughput?: number } {
  switch (volumeType) {
    case 'gp3':
      return { volumeType, iops: iops ?? 3000, throughput: throughput ?? 125 };
    case 'io1':
    case 'io2':
      if (iops === undefined) throw Errors.missingParameter('iops');
      return { volumeType, iops };
    case 'gp2':
    case 'standard':
    case 'st1':
    case 'sc1':
      if (iops !== undefined && volumeType !== 'gp2') {
        throw Errors.invalidParameterCombination(`The parameter iops is not supported for ${volumeType} volumes.`);
      }
      return { volumeType };
    default:
      throw Errors.invalidParameterValue(`Value (${volumeType}) for parameter volumeType is invalid.`);
  }
}
