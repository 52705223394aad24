// The instance part of the metadata store port: instances with their EC2 state, private
// addresses, and SSH key pairs. An instance's volumes are not here: attachments live on the
// volume records (VolumeRepository.attachedTo), and the instance's block device mapping is
// derived from them, so the two can never disagree.
import type { Tag } from '../protocol/ec2/types.generated.ts';

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/** An instance-store volume of the instance: made empty at every start, gone at every stop. */
export interface InstanceStoreSpec {
  device: string;
  virtualName: string;
  sizeGiB: number;
}

export interface InstanceRecord {
  region: string;
  instanceId: string;
  ownerId: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  availabilityZone: string;
  privateIpAddress: string;
  launchIndex: number;
  keyName?: string;
  /** The key pair's public key at launch, served to the guest (deleting the key pair later does not change it). */
  publicKey?: string;
  state: InstanceStateName;
  /** EC2's StateTransitionReason text, e.g. "User initiated (2024-06-01 12:00:00 GMT)". */
  stateTransitionReason: string;
  stateReason?: { code: string; message: string };
  /** The last time the instance was started (EC2's LaunchTime moves with every start). */
  launchTime: string;
  /** When it entered terminated; it stays visible for a while after. */
  terminatedAt?: string;
  architecture: 'i386' | 'x86_64' | 'arm64';
  rootDeviceName: string;
  rootDeviceType: 'ebs' | 'instance-store';
  virtualizationType: 'hvm' | 'paravirtual';
  bootMode?: 'legacy-bios' | 'uefi' | 'uefi-preferred';
  enaSupport?: boolean;
  imdsSupport?: string;
  platformDetails: string;
  kernelId?: string;
  ramdiskId?: string;
  /** Base64, as the API carries it. */
  userData?: string;
  clientToken?: string;
  /** A digest of the RunInstances request, to tell a retry from a different request. */
  requestDigest?: string;
  disableApiTermination: boolean;
  disableApiStop: boolean;
  shutdownBehavior: 'stop' | 'terminate';
  instanceStore: InstanceStoreSpec[];
  /** Boots so far; user data runs on the first. */
  bootCount: number;
  /**
   * The instance status check (DescribeInstanceStatus): `impaired` once the hypervisor reported
   * the guest unreachable (its firmware found nothing to boot, its boot loader or kernel failed),
   * since when, and the console's reason. Cleared at every start and reboot.
   */
  reachability?: { status: 'impaired'; since: string; detail: string };
  /** Its place in the network (absent on records from before VPCs were modelled). */
  network?: InstanceNetworkRecord;
  /** Its own address on the amiforge host while it runs (PublicIpAddress); released when it stops. */
  publicIpAddress?: string;
  /**
   * The node whose hypervisor runs (or last ran) its guest: set at every launch and start.
   * Requests that need the guest go to that node (docs/cluster-instances.md). Absent on records
   * from before nodes were recorded: those belong to whichever node looks after them.
   */
  nodeId?: string;
}

/** The instance's one network interface: its subnet, security groups and addresses. */
export interface InstanceNetworkRecord {
  vpcId: string;
  subnetId: string;
  networkInterfaceId: string;
  macAddress: string;
  /** Names are kept with the ids: EC2 reports both, and a group's name never changes. */
  groups: { groupId: string; groupName: string }[];
  /** Whether it gets a host address (PublicIpAddress) while it runs. */
  publicAddress: boolean;
}

export interface InstanceQuery {
  region: string;
  ownerId: string;
  instanceIds?: string[];
  /** Only ids greater than this, in id order: the basis of pagination. */
  afterInstanceId?: string;
}

export interface KeyPairRecord {
  region: string;
  keyPairId: string;
  ownerId: string;
  keyName: string;
  keyType: 'rsa' | 'ed25519';
  /** The public key in OpenSSH form (`ssh-ed25519 AAAA...`). */
  publicKey: string;
  fingerprint: string;
  createTime: string;
}

export interface InstanceRepository {
  /** Inserts a reservation's instances, and the instance tags, in one transaction. */
  insert(records: InstanceRecord[], tags?: { account: string; tags: Tag[] }): Promise<void>;
  get(region: string, instanceId: string): Promise<InstanceRecord | undefined>;
  update(record: InstanceRecord): Promise<void>;
  /** Removes the instance and its tags (after it has been terminated long enough). */
  delete(region: string, instanceId: string): Promise<boolean>;
  /** The owner's instances in id order, read lazily. */
  scan(query: InstanceQuery): AsyncIterable<InstanceRecord>;
  /** The instances a RunInstances with this ClientToken made. */
  findByClientToken(region: string, ownerId: string, clientToken: string): Promise<InstanceRecord[]>;
  /** Instances of the owner in the region that are not terminated. */
  countActive(region: string, ownerId: string): Promise<number>;
  /** Instances in these states, across regions and accounts (start-up recovery). */
  inStates(states: InstanceStateName[]): Promise<InstanceRecord[]>;
  /** Instances recorded on the node in these states, by id (what a node runs, for /_amiforge/nodes). */
  onNode(nodeId: string, states: InstanceStateName[]): Promise<InstanceRecord[]>;
  /** Terminated before `cutoff` (ISO time), across regions: due to disappear. */
  terminatedBefore(cutoff: string): Promise<InstanceRecord[]>;
  /**
   * Reserves a free address in [first, last] (32-bit integers) for the instance, unique in the
   * region among addresses not released. Returns it, or undefined when the range is full.
   */
  allocateAddress(region: string, instanceId: string, first: number, last: number): Promise<number | undefined>;
  releaseAddress(region: string, instanceId: string): Promise<void>;
}

export interface KeyPairRepository {
  /** Inserts; false when the owner already has a key pair of that name in the region. */
  insert(record: KeyPairRecord, tags?: { account: string; tags: Tag[] }): Promise<boolean>;
  byName(region: string, ownerId: string, keyName: string): Promise<KeyPairRecord | undefined>;
  byId(region: string, ownerId: string, keyPairId: string): Promise<KeyPairRecord | undefined>;
  /** The owner's key pairs in the region, by name. */
  list(region: string, ownerId: string): Promise<KeyPairRecord[]>;
  /** Removes the key pair and its tags. */
  delete(region: string, keyPairId: string): Promise<boolean>;
}
