// Turns a RegisterImage request into the stored image, applying AWS's validation and defaults.
import type { BlockDeviceMapping, RegisterImageRequest } from '../../protocol/ec2/types.generated.ts';
import { Errors } from '../errors.ts';
import { isResourceId } from '../resource-ids.ts';
import { refuseForHvm } from './kernel-images.ts';
import { blockDevicesFromWire } from './image-wire.ts';
import type { StoredImage } from '../../ports/metadata-store.ts';

const NAME = /^[a-zA-Z0-9()[\] ./\-'@_]{3,128}$/;

export function validateImageName(name: string): void {
  if (!NAME.test(name)) {
    throw Errors.amiNameMalformed(
      "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/', '[', ']', ' ', ''', '@' and '_'");
  }
}

export function validateDescription(description: string | undefined): void {
  if (description !== undefined && description.length > 255) {
    throw Errors.invalidParameterValue('Description must be at most 255 characters long.');
  }
}

const VIRTUAL_NAME = /^ephemeral([0-9]|1[0-9]|2[0-3])$/;

/** Checks each mapping and fills AWS's defaults for EBS volumes. */
export function normalizeMappings(mappings: BlockDeviceMapping[]): BlockDeviceMapping[] {
  const seen = new Set<string>();
  return mappings.map((m) => {
    if (!m.DeviceName) throw Errors.missingParameter('BlockDeviceMapping.N.DeviceName');
    if (seen.has(m.DeviceName)) {
      throw Errors.invalidBlockDeviceMapping(`The device '${m.DeviceName}' is used in more than one block-device mapping`);
    }
    seen.add(m.DeviceName);
    const kinds = [m.Ebs, m.VirtualName, m.NoDevice].filter((k) => k !== undefined).length;
    if (kinds !== 1) {
      throw Errors.invalidBlockDeviceMapping(
        `The block-device mapping for ${m.DeviceName} must specify exactly one of Ebs, VirtualName or NoDevice`);
    }
    if (m.VirtualName !== undefined) {
      if (!VIRTUAL_NAME.test(m.VirtualName)) {
        throw Errors.invalidBlockDeviceMapping(`Invalid virtual name ${m.VirtualName}: expecting ephemeral0 to ephemeral23`);
      }
      return { DeviceName: m.DeviceName, VirtualName: m.VirtualName };
    }
    if (m.NoDevice !== undefined) return { DeviceName: m.DeviceName, NoDevice: '' };
    const ebs = m.Ebs!;
    if (ebs.SnapshotId !== undefined && !isResourceId('snap', ebs.SnapshotId)) {
      throw Errors.invalidParameterValue(`Invalid id: "${ebs.SnapshotId}" (expecting "snap-...")`);
    }
    if (ebs.SnapshotId === undefined && ebs.VolumeSize === undefined) {
      throw Errors.invalidBlockDeviceMapping(`The block-device mapping for ${m.DeviceName} needs a snapshot id or a volume size`);
    }
    if (ebs.VolumeSize !== undefined && (ebs.VolumeSize < 1 || ebs.VolumeSize > 65536)) {
      throw Errors.invalidParameterValue(`Volume size ${ebs.VolumeSize} GiB is out of range (1 to 65536)`);
    }
    const volumeType = ebs.VolumeType ?? 'gp2';
    if (ebs.Iops !== undefined && !['io1', 'io2', 'gp3'].includes(volumeType)) {
      throw Errors.invalidParameterCombination(`The parameter iops is not supported for ${volumeType} volumes.`);
    }
    return {
      DeviceName: m.DeviceName,
      Ebs: {
        ...ebs,
        DeleteOnTermination: ebs.DeleteOnTermination ?? true,
        VolumeType: volumeType,
        Encrypted: ebs.Encrypted ?? false,
      },
    };
  });
}

export interface NewImage {
  imageId: string;
  ownerId: string;
  creationDate: Date;
}

/** The stored image for a valid RegisterImage request. */
export function buildRegisteredImage(req: RegisterImageRequest, ids: NewImage): StoredImage {
  validateImageName(req.Name);
  validateDescription(req.Description);
  if (req.VirtualizationType !== undefined && !['hvm', 'paravirtual'].includes(req.VirtualizationType)) {
    throw Errors.invalidParameterValue(`Value (${req.VirtualizationType}) for parameter virtualizationType is invalid. Valid values: hvm, paravirtual`);
  }
  // AWS's documented default for RegisterImage is paravirtual; kernels belong to those only.
  const virtualizationType = req.VirtualizationType ?? 'paravirtual';
  refuseForHvm(virtualizationType, { kernelId: req.KernelId, ramdiskId: req.RamdiskId }, 'an image');
  const mappings = normalizeMappings(req.BlockDeviceMappings ?? []);
  const instanceStore = req.ImageLocation !== undefined;
  if (!instanceStore) {
    if (!req.RootDeviceName) {
      throw Errors.missingParameter('RootDeviceName (or ImageLocation for an instance store-backed AMI)');
    }
    const root = mappings.find((m) => m.DeviceName === req.RootDeviceName);
    if (!root?.Ebs?.SnapshotId) {
      throw Errors.invalidBlockDeviceMapping(
        `The root device ${req.RootDeviceName} must be mapped to an EBS snapshot in the block-device mapping`);
    }
  }
  const image: StoredImage = {
    imageId: ids.imageId,
    imageLocation: req.ImageLocation ?? `${ids.ownerId}/${req.Name}`,
    state: 'available',
    ownerId: ids.ownerId,
    creationDate: ids.creationDate.toISOString(),
    // AWS's documented defaults for RegisterImage: i386 and paravirtual when not given.
    architecture: req.Architecture ?? 'i386',
    imageType: 'machine',
    kernelId: req.KernelId,
    ramdiskId: req.RamdiskId,
    platformDetails: 'Linux/UNIX',
    usageOperation: 'RunInstances',
    enaSupport: req.EnaSupport,
    sriovNetSupport: req.SriovNetSupport,
    hypervisor: 'xen',
    name: req.Name,
    description: req.Description,
    rootDeviceName: req.RootDeviceName ?? (instanceStore ? '/dev/sda1' : undefined),
    rootDeviceType: instanceStore ? 'instance-store' : 'ebs',
    blockDeviceMappings: blockDevicesFromWire(mappings),
    virtualizationType: virtualizationType as StoredImage['virtualizationType'],
    bootMode: req.BootMode,
    tpmSupport: req.TpmSupport,
    imdsSupport: req.ImdsSupport,
    deregistrationProtection: 'disabled',
    freeTierEligible: false,
  };
  return image;
}
