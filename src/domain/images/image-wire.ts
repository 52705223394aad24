// The stored image record and EC2's wire shapes, both ways: the only place that knows both. The
// API's answers are made here (imageToWire), and what callers send (RegisterImage's mappings, the
// catalogue's PascalCase entries) becomes a record here.
import type { BlockDeviceMapping, EbsBlockDevice, Image } from '../../protocol/ec2/types.generated.ts';
import type { ImageBlockDevice, ImageEbsDevice, StoredImage } from '../../ports/metadata-store.ts';

/** Drops undefined members, so a wire object has only the members the record has. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function ebsToWire(e: ImageEbsDevice): EbsBlockDevice {
  return defined({
    DeleteOnTermination: e.deleteOnTermination, Iops: e.iops, SnapshotId: e.snapshotId, VolumeSize: e.volumeSize, VolumeType: e.volumeType,
    KmsKeyId: e.kmsKeyId, Throughput: e.throughput, OutpostArn: e.outpostArn, AvailabilityZone: e.availabilityZone, Encrypted: e.encrypted,
    VolumeInitializationRate: e.volumeInitializationRate, AvailabilityZoneId: e.availabilityZoneId, EbsCardIndex: e.ebsCardIndex,
  });
}

export function ebsFromWire(e: EbsBlockDevice): ImageEbsDevice {
  return defined({
    snapshotId: e.SnapshotId, volumeSize: e.VolumeSize, volumeType: e.VolumeType, deleteOnTermination: e.DeleteOnTermination, encrypted: e.Encrypted,
    kmsKeyId: e.KmsKeyId, iops: e.Iops, throughput: e.Throughput, outpostArn: e.OutpostArn, availabilityZone: e.AvailabilityZone,
    availabilityZoneId: e.AvailabilityZoneId, volumeInitializationRate: e.VolumeInitializationRate, ebsCardIndex: e.EbsCardIndex,
  });
}

export function blockDeviceToWire(m: ImageBlockDevice): BlockDeviceMapping {
  return defined({ DeviceName: m.deviceName, VirtualName: m.virtualName, NoDevice: m.noDevice, Ebs: m.ebs && ebsToWire(m.ebs) });
}

export function blockDeviceFromWire(m: BlockDeviceMapping): ImageBlockDevice {
  return defined({ deviceName: m.DeviceName, virtualName: m.VirtualName, noDevice: m.NoDevice, ebs: m.Ebs && ebsFromWire(m.Ebs) });
}

export const blockDevicesToWire = (ms: ImageBlockDevice[] | undefined): BlockDeviceMapping[] | undefined => ms?.map(blockDeviceToWire);
export const blockDevicesFromWire = (ms: BlockDeviceMapping[] | undefined): ImageBlockDevice[] | undefined => ms?.map(blockDeviceFromWire);

/** The image's own members of EC2's Image (the reader's Tags, Public and ImageAllowed are the caller's to add). */
export function imageToWire(i: StoredImage): Image {
  return defined({
    ImageId: i.imageId, ImageLocation: i.imageLocation, State: i.state, OwnerId: i.ownerId, CreationDate: i.creationDate,
    ProductCodes: i.productCodes?.map((p) => defined({ ProductCodeId: p.productCodeId, ProductCodeType: p.productCodeType })),
    Architecture: i.architecture, ImageType: i.imageType, KernelId: i.kernelId, RamdiskId: i.ramdiskId, Platform: i.platform,
    PlatformDetails: i.platformDetails, UsageOperation: i.usageOperation, BlockDeviceMappings: blockDevicesToWire(i.blockDeviceMappings),
    Description: i.description, EnaSupport: i.enaSupport, Hypervisor: i.hypervisor, ImageOwnerAlias: i.ownerAlias, Name: i.name,
    RootDeviceName: i.rootDeviceName, RootDeviceType: i.rootDeviceType, SriovNetSupport: i.sriovNetSupport,
    StateReason: i.stateReason && defined({ Code: i.stateReason.code, Message: i.stateReason.message }),
    VirtualizationType: i.virtualizationType, BootMode: i.bootMode, TpmSupport: i.tpmSupport, DeprecationTime: i.deprecationTime,
    ImdsSupport: i.imdsSupport, SourceInstanceId: i.sourceInstanceId, DeregistrationProtection: i.deregistrationProtection,
    LastLaunchedTime: i.lastLaunchedTime, SourceImageId: i.sourceImageId, SourceImageRegion: i.sourceImageRegion,
    FreeTierEligible: i.freeTierEligible,
  });
}

/** A record from EC2's Image members (the catalogue's entries are written in EC2's terms). */
export function imageFromWire(w: Image & { ImageId: string; OwnerId: string; Name: string; State: StoredImage['state']; CreationDate: string }): StoredImage {
  return defined({
    imageId: w.ImageId, ownerId: w.OwnerId, ownerAlias: w.ImageOwnerAlias, name: w.Name, state: w.State, creationDate: w.CreationDate,
    stateReason: w.StateReason && defined({ code: w.StateReason.Code, message: w.StateReason.Message }),
    description: w.Description, imageLocation: w.ImageLocation, imageType: w.ImageType, architecture: w.Architecture, platform: w.Platform,
    platformDetails: w.PlatformDetails, usageOperation: w.UsageOperation, kernelId: w.KernelId, ramdiskId: w.RamdiskId,
    rootDeviceName: w.RootDeviceName, rootDeviceType: w.RootDeviceType, virtualizationType: w.VirtualizationType, hypervisor: w.Hypervisor,
    bootMode: w.BootMode, tpmSupport: w.TpmSupport, imdsSupport: w.ImdsSupport, enaSupport: w.EnaSupport, sriovNetSupport: w.SriovNetSupport,
    blockDeviceMappings: blockDevicesFromWire(w.BlockDeviceMappings),
    productCodes: w.ProductCodes?.map((p) => defined({ productCodeId: p.ProductCodeId, productCodeType: p.ProductCodeType })),
    deprecationTime: w.DeprecationTime, deregistrationProtection: w.DeregistrationProtection, lastLaunchedTime: w.LastLaunchedTime,
    sourceInstanceId: w.SourceInstanceId, sourceImageId: w.SourceImageId, sourceImageRegion: w.SourceImageRegion, freeTierEligible: w.FreeTierEligible,
  });
}
