// The shape of an EC2 operation handler: typed input in, typed output out, nothing else.
import type { EbsEncryption } from '../../domain/encryption/ebs-encryption.ts';
import type { RequestContext } from '../../domain/context.ts';
import type { AllowedImages } from '../../domain/images/allowed-images.ts';
import type { ImageAncestry } from '../../domain/images/image-ancestry.ts';
import type { ImageCopies } from '../../domain/images/copy-image.ts';
import type { ImageService } from '../../domain/images/image-service.ts';
import type { TagService } from '../../domain/tags/tag-service.ts';
import type { SnapshotService } from '../../domain/snapshots/snapshot-service.ts';
import type { VolumeService } from '../../domain/volumes/volume-service.ts';
import type { VolumeSnapshots } from '../../domain/volumes/volume-snapshots.ts';
import type { ImageCreator } from '../../domain/instances/create-image.ts';
import type { InstanceLauncher } from '../../domain/instances/instance-launcher.ts';
import type { InstanceLifecycle } from '../../domain/instances/instance-lifecycle.ts';
import type { InstanceService } from '../../domain/instances/instance-service.ts';
import type { VolumeAttachments } from '../../domain/instances/volume-attachments.ts';
import type { SecurityGroupService } from '../../domain/network/security-groups.ts';
import type { VpcService } from '../../domain/network/vpc-service.ts';
import type { KeyPairService } from '../../domain/keypairs/key-pair-service.ts';
import type { RecycleBin } from '../../domain/recycle-bin/recycle-bin.ts';
import type { Ec2Operations } from '../../protocol/ec2/types.generated.ts';
import type { GovernanceServices } from './image-governance.ts';

/** The domain services handlers call; wired once in src/server/app.ts. */
export interface Ec2Services {
  images: ImageService;
  imageCopies: ImageCopies;
  tags: TagService;
  snapshots: SnapshotService;
  volumes: VolumeService;
  volumeSnapshots: VolumeSnapshots;
  instances: InstanceService;
  launcher: InstanceLauncher;
  lifecycle: InstanceLifecycle;
  attachments: VolumeAttachments;
  imageCreator: ImageCreator;
  keyPairs: KeyPairService;
  securityGroups: SecurityGroupService;
  vpcs: VpcService;
  encryption: EbsEncryption;
  governance: GovernanceServices;
  allowedImages: AllowedImages;
  imageAncestry: ImageAncestry;
  recycleBin: RecycleBin;
}

export type Ec2OperationName = keyof Ec2Operations;

export type Ec2Handler<Op extends Ec2OperationName> = (
  input: Ec2Operations[Op]['input'],
  ctx: RequestContext,
  services: Ec2Services,
) => Promise<Ec2Operations[Op]['output']>;

export type Ec2HandlerTable = { [Op in Ec2OperationName]?: Ec2Handler<Op> };
