// The metadata store port: what the domain needs from a database, in domain terms. Adapters
// (sqlite now, postgres later) implement it and pass the contract suite in
// test/contracts/metadata-store.contract.ts. No SQL crosses this boundary.
import type { AccountSettingsRepository } from './account-settings.ts';
import type { EbsBlockDevice, Image, LaunchPermission, ProductCode, Tag } from '../protocol/ec2/types.generated.ts';
import type { SnapshotRepository } from './snapshot-repository.ts';
import type { VolumeRepository } from './volume-repository.ts';
import type { KeyRepository } from './key-repository.ts';
import type { InstanceRepository, KeyPairRepository } from './instance-repository.ts';
import type { RecycleBinRepository } from './recycle-bin-repository.ts';
import type { NetworkRepository } from './network-repository.ts';
import type { ImageBuilderRepository } from './imagebuilder-repository.ts';
import type { WorkLeaseRepository } from './work-leases.ts';
import type { SsmParameterRepository } from './ssm-parameter-repository.ts';
import type { CopyScheduleStateStore } from './copy-schedule-state.ts';
import type { NodeRegistry } from './node-registry.ts';
import type { ConsoleSessionStore } from './console-sessions.ts';
import type { ImageTablePage, ImageTableQuery } from './image-table.ts';

/**
 * The database cannot be reached or went away mid-request (restart, network): nothing was
 * decided, and the request may be retried. The API answers a retryable 503, never a stack trace.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export type ImageState = NonNullable<Image['State']>;

/** An EBS volume an image's mapping creates at launch. */
export interface ImageEbsDevice {
  snapshotId?: string;
  /** GiB. */
  volumeSize?: number;
  volumeType?: NonNullable<EbsBlockDevice['VolumeType']>;
  deleteOnTermination?: boolean;
  encrypted?: boolean;
  kmsKeyId?: string;
  iops?: number;
  throughput?: number;
  outpostArn?: string;
  availabilityZone?: string;
  availabilityZoneId?: string;
  volumeInitializationRate?: number;
  ebsCardIndex?: number;
}

/** One entry of an image's block device mapping: an EBS volume, an instance store, or a suppressed device. */
export interface ImageBlockDevice {
  deviceName?: string;
  virtualName?: string;
  noDevice?: string;
  ebs?: ImageEbsDevice;
}

/**
 * An image as stored: the facts about the image itself, in the project's own terms. The EC2 wire
 * `Image` is made from it at the edge (src/domain/images/image-wire.ts) together with what
 * depends on the reader (Tags, Public, ImageAllowed).
 */
export interface StoredImage {
  imageId: string;
  ownerId: string;
  /** `amazon` and the like, for catalogue images (EC2's ImageOwnerAlias). */
  ownerAlias?: string;
  name: string;
  state: ImageState;
  stateReason?: { code?: string; message?: string };
  creationDate: string;
  description?: string;
  imageLocation?: string;
  imageType?: NonNullable<Image['ImageType']>;
  architecture?: NonNullable<Image['Architecture']>;
  platform?: NonNullable<Image['Platform']>;
  platformDetails?: string;
  usageOperation?: string;
  kernelId?: string;
  ramdiskId?: string;
  rootDeviceName?: string;
  rootDeviceType?: NonNullable<Image['RootDeviceType']>;
  virtualizationType?: NonNullable<Image['VirtualizationType']>;
  hypervisor?: NonNullable<Image['Hypervisor']>;
  bootMode?: NonNullable<Image['BootMode']>;
  tpmSupport?: NonNullable<Image['TpmSupport']>;
  imdsSupport?: NonNullable<Image['ImdsSupport']>;
  enaSupport?: boolean;
  sriovNetSupport?: string;
  blockDeviceMappings?: ImageBlockDevice[];
  productCodes?: { productCodeId?: string; productCodeType?: NonNullable<ProductCode['ProductCodeType']> }[];
  /** ISO 8601; DescribeImages hides deprecated images from other accounts unless asked. */
  deprecationTime?: string;
  /** EC2's values: `disabled`, `enabled`, `enabled-with-cooldown`, or `disabled-until <time>`. */
  deregistrationProtection?: string;
  lastLaunchedTime?: string;
  sourceInstanceId?: string;
  sourceImageId?: string;
  sourceImageRegion?: string;
  freeTierEligible?: boolean;
}

export interface ImageRecord {
  region: string;
  image: StoredImage;
  launchPermissions: LaunchPermission[];
  /** The ClientToken of the request that made it, with a digest of that request's arguments. */
  clientToken?: { token: string; requestDigest: string };
  /**
   * Optional, set by adapters that can give it cheaply (not enumerable, so it never shows in a
   * record's copies or comparisons): a string that differs whenever anything stored about the
   * image differs. Readers may keep what they derive from a record under it.
   */
  readonly revision?: string;
}

/** What a reader may see: its own images, public ones, and those shared with it. */
export interface ImageVisibility {
  account: string;
  organizationArn?: string;
  organizationalUnitArns?: string[];
}

/** Criteria an adapter must apply; they are what SQL can index. The domain filters the rest. */
export interface ImageQuery {
  region: string;
  visibleTo: ImageVisibility;
  imageIds?: string[];
  /** Owner account ids or owner aliases (e.g. `amazon`); an image matches either. */
  ownerIds?: string[];
  ownerAliases?: string[];
  /** Images with an explicit launch permission for one of these accounts, or public with `all`. */
  executableBy?: { accounts: string[]; includePublic: boolean; orgs: string[] };
  /** EC2 wildcard patterns (`*`, `?`) on the name; any may match. */
  namePatterns?: string[];
  /** Tags set by `visibleTo.account` that must be present; values are wildcard patterns. */
  tagFilters?: { key: string; values: string[] | null }[];
  /** Only ids greater than this, in id order: the basis of pagination. */
  afterImageId?: string;
  /** How many records the caller expects to read (a page and one more), so an adapter need not read more at first. */
  expectedCount?: number;
}

export interface TagRecord {
  resourceId: string;
  resourceType: string;
  key: string;
  value: string;
}

export interface TagQuery {
  account: string;
  region: string;
  resourceIds?: string[];
  resourceTypes?: string[];
  keys?: string[];
  afterCursor?: string;
}

export interface ImageRepository {
  /**
   * Inserts; throws Errors.amiNameDuplicate when the owner already has that name in the region.
   * `requireSnapshots` must exist in the region as the image is stored (checked in the same
   * transaction, Errors.snapshotNotFound otherwise): a snapshot deleted after the caller checked
   * it, by this process or another on the same store, can never be left named by an image.
   */
  insert(record: ImageRecord, tags?: { account: string; tags: Tag[] }, options?: { requireSnapshots?: string[] }): Promise<void>;
  get(region: string, imageId: string): Promise<ImageRecord | undefined>;
  /** The owner's image in the region made by a request with this ClientToken (with `clientToken` set). */
  findByClientToken(region: string, ownerId: string, token: string): Promise<ImageRecord | undefined>;
  /** Replaces the image document and its launch permissions atomically. */
  update(record: ImageRecord): Promise<void>;
  /**
   * Removes the image, its launch permissions and every account's tags on it, and records the
   * snapshots its mapping named as left by a deregistered image (SnapshotRepository.leftBehind).
   */
  delete(region: string, imageId: string): Promise<boolean>;
  /**
   * Visible images matching `query`, in image id order, read lazily. The records are for reading
   * only: an adapter may hand out the same frozen `image` again while it is unchanged.
   */
  scan(query: ImageQuery): AsyncIterable<ImageRecord>;
  /** One sorted page of the console's image table and the count of all that match (src/ports/image-table.ts). */
  table(query: ImageTableQuery): Promise<ImageTablePage>;
  /** Images in any region whose recorded source (CreateImage's or CopyImage's SourceImageId) is this image. */
  derivedFrom(sourceImageId: string): Promise<ImageRecord[]>;
  count(): Promise<number>;
  /** Images in a state, across regions (start-up: CreateImage's images left pending). */
  inState(state: ImageState): Promise<ImageRecord[]>;
}

export interface TagRepository {
  /** Tags `account` has set on each resource. */
  forResources(account: string, region: string, resourceIds: string[]): Promise<Map<string, Tag[]>>;
  /** Sets tags (overwriting values of existing keys). Throws Errors.tagLimitExceeded past 50. */
  put(account: string, region: string, resources: { id: string; type: string }[], tags: Tag[]): Promise<void>;
  /** Deletes keys; a tag given with a Value is deleted only when its value matches. */
  remove(account: string, region: string, resourceIds: string[], tags: Tag[] | undefined): Promise<void>;
  /** Tag rows in (resourceId, key) order. */
  scan(query: TagQuery): AsyncIterable<TagRecord>;
}

export interface MetadataStore {
  readonly images: ImageRepository;
  readonly tags: TagRepository;
  readonly snapshots: SnapshotRepository;
  readonly volumes: VolumeRepository;
  readonly keys: KeyRepository;
  readonly instances: InstanceRepository;
  readonly keyPairs: KeyPairRepository;
  readonly accountSettings: AccountSettingsRepository;
  readonly recycleBin: RecycleBinRepository;
  readonly network: NetworkRepository;
  readonly imageBuilder: ImageBuilderRepository;
  readonly ssmParameters: SsmParameterRepository;
  /** Leases on background work, shared by the nodes on this store (src/ports/work-leases.ts). */
  readonly leases: WorkLeaseRepository;
  /** Copy schedules' run state, shared by the nodes on this store. */
  readonly copyScheduleState: CopyScheduleStateStore;
  /** The API nodes sharing this store, by their heartbeats (reset leaves it alone: nodes are not resources). */
  readonly nodes: NodeRegistry;
  /** Web console sessions (reset leaves them alone, as it does nodes). */
  readonly consoleSessions: ConsoleSessionStore;
  /** Deletes every resource (test suites' reset); the catalogue is loaded again by the caller. */
  reset(): Promise<void>;
  close(): Promise<void>;
}
