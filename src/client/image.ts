// Imports a disk image as an AMI: uploads it as a snapshot, then registers an EBS-backed HVM
// image whose root device (/dev/xvda) is that snapshot, with ENA support on.
import type { ArchitectureValues, BootModeValues } from '@aws-sdk/client-ec2';
import { withRetry } from './retry.ts';
import { uploadSnapshot, type UploadOptions } from './upload.ts';

export interface ImportImageOptions extends UploadOptions {
  /** The AMI name (3 to 128 characters). */
  name: string;
  /** Image description; also the snapshot's, unless snapshotDescription is given. */
  description?: string;
  snapshotDescription?: string;
  /** Default x86_64. */
  architecture?: ArchitectureValues;
  bootMode?: BootModeValues;
  /** Default /dev/xvda. */
  rootDeviceName?: string;
  /** Called with the snapshot id once the upload is done, before registering. */
  onSnapshot?: (snapshotId: string) => void;
}

export interface ImportedImage {
  imageId: string;
  snapshotId: string;
}

/** Uploads `file` and registers it; resolves to the new image's id. */
export async function importImage(o: ImportImageOptions): Promise<string> {
  return (await importImageDetailed(o)).imageId;
}

export async function importImageDetailed(o: ImportImageOptions): Promise<ImportedImage> {
  const snapshotId = await uploadSnapshot({ ...o, description: o.snapshotDescription ?? o.description });
  o.onSnapshot?.(snapshotId);
  const root = o.rootDeviceName ?? '/dev/xvda';
  const { RegisterImageCommand } = await import('@aws-sdk/client-ec2');
  const out = await withRetry(() => o.ec2.send(new RegisterImageCommand({
    Name: o.name,
    Description: o.description,
    Architecture: o.architecture ?? 'x86_64',
    VirtualizationType: 'hvm',
    EnaSupport: true,
    BootMode: o.bootMode,
    RootDeviceName: root,
    BlockDeviceMappings: [{ DeviceName: root, Ebs: { SnapshotId: snapshotId, DeleteOnTermination: true, VolumeType: 'gp3' } }],
  })), { ...o.retry, signal: o.signal });
  return { imageId: out.ImageId!, snapshotId };
}
