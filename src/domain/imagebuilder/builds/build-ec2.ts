// What a build asks of EC2, as the account that owns it. The workflow never reaches the store
// around EC2's rules: each call here is the domain service an EC2 API call would reach
// (RunInstances, CreateKeyPair, CreateSecurityGroup, StopInstances, CreateImage, CopyImage, ...),
// so a build is held to what the account itself may do. Waits poll the same services.
import type { LaunchPermission } from '../../../protocol/ec2/types.generated.ts';
import type { Caller } from '../../context.ts';

export interface LaunchSpec {
  imageId: string;
  instanceType: string;
  subnetId?: string;
  securityGroupIds: string[];
  keyName: string;
  /** Base64, as RunInstances takes it. */
  userData?: string;
  blockDeviceMappings?: { DeviceName?: string; NoDevice?: string; VirtualName?: string;
    Ebs?: { DeleteOnTermination?: boolean; Encrypted?: boolean; Iops?: number; KmsKeyId?: string; SnapshotId?: string; VolumeSize?: number; VolumeType?: string; Throughput?: number } }[];
  tags: Record<string, string>;
}

export interface CopySpec {
  sourceRegion: string;
  sourceImageId: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Record<string, string>;
}

export interface BuildEc2 {
  createKeyPair(caller: Caller, name: string): Promise<{ privateKey: string }>;
  deleteKeyPair(caller: Caller, name: string): Promise<void>;
  /** A group in the subnet's VPC (the default VPC without one) allowing TCP 22 from anywhere. */
  createSshGroup(caller: Caller, name: string, subnetId: string | undefined): Promise<string>;
  deleteSecurityGroup(caller: Caller, groupId: string): Promise<void>;
  runInstance(caller: Caller, spec: LaunchSpec): Promise<string>;
  /** Resolves once the instance is running, with its public address; rejects if it ends instead. */
  waitRunning(caller: Caller, instanceId: string, signal?: AbortSignal): Promise<{ publicIp?: string }>;
  stopInstance(caller: Caller, instanceId: string, signal?: AbortSignal): Promise<void>;
  /** Terminates (no error for one already gone) and waits until it is terminated. */
  terminateInstance(caller: Caller, instanceId: string): Promise<void>;
  createImage(caller: Caller, instanceId: string, name: string, description: string | undefined, tags: Record<string, string>): Promise<string>;
  /** CopyImage, called in `caller.region` (the destination). */
  copyImage(caller: Caller, spec: CopySpec): Promise<string>;
  /** Resolves once the image is available; rejects when it failed or went away. */
  waitImageAvailable(caller: Caller, imageId: string, signal?: AbortSignal): Promise<void>;
  addLaunchPermissions(caller: Caller, imageId: string, add: LaunchPermission[]): Promise<void>;
  /** Lets `account` read the image's snapshots (createVolumePermission), so it may copy the image. */
  shareSnapshots(caller: Caller, imageId: string, account: string, share: boolean): Promise<void>;
  /** DeregisterImage with its snapshots; no error for one already gone. */
  deregisterImage(caller: Caller, imageId: string): Promise<void>;
  imageExists(caller: Caller, imageId: string): Promise<boolean>;
}
