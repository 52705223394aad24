// The volume part of the metadata store port. A volume is a mutable map over its source
// snapshot: it holds only the blocks written to it; every other read falls through to the
// snapshot, so creating a volume costs the same whatever its size.
import type { Tag } from '../protocol/ec2/types.generated.ts';
import type { BlockEntry, WrappedDataKey } from './snapshot-repository.ts';

/** One 4 KiB page of a volume block in the small-write journal. */
export interface JournalPage { index: number; page: number; data: Buffer }

export type VolumeState = 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted' | 'error';

export interface VolumeAttachmentRecord {
  instanceId: string;
  device: string;
  state: 'attaching' | 'attached' | 'detaching' | 'detached';
  attachTime: string;
  deleteOnTermination: boolean;
}

export interface VolumeModificationRecord {
  state: 'modifying' | 'optimizing' | 'completed' | 'failed';
  originalSize: number;
  targetSize: number;
  originalVolumeType: string;
  targetVolumeType: string;
  originalIops?: number;
  targetIops?: number;
  originalThroughput?: number;
  targetThroughput?: number;
  originalMultiAttachEnabled?: boolean;
  targetMultiAttachEnabled?: boolean;
  startTime: string;
  endTime?: string;
}

export interface VolumeRecord {
  region: string;
  volumeId: string;
  ownerId: string;
  /** GiB. */
  size: number;
  volumeType: string;
  iops?: number;
  throughput?: number;
  /** io1/io2 only: EC2 then lets it attach to several instances (amiforge still attaches it to one). */
  multiAttachEnabled?: boolean;
  availabilityZone: string;
  state: VolumeState;
  snapshotId?: string;
  createTime: string;
  encrypted: boolean;
  /** The ARN of the KMS key that wraps dataKey. */
  kmsKeyId?: string;
  /** Encrypted volumes: the lineage's data key (its snapshots carry the same). */
  dataKey?: WrappedDataKey;
  attachments: VolumeAttachmentRecord[];
  clientToken?: string;
  modification?: VolumeModificationRecord;
  /** Instance-store volumes live and die with their instance and cannot be snapshotted. */
  ephemeral?: boolean;
}

export interface VolumeQuery {
  region: string;
  ownerId: string;
  volumeIds?: string[];
  afterVolumeId?: string;
}

export interface VolumeRepository {
  insert(record: VolumeRecord, tags?: { account: string; tags: Tag[] }): Promise<void>;
  get(region: string, volumeId: string): Promise<VolumeRecord | undefined>;
  findByClientToken(region: string, ownerId: string, clientToken: string): Promise<VolumeRecord | undefined>;
  update(record: VolumeRecord): Promise<void>;
  /** Removes the volume, its own blocks and tags. */
  delete(region: string, volumeId: string): Promise<boolean>;
  scan(query: VolumeQuery): AsyncIterable<VolumeRecord>;
  /** The owner's volumes with a live attachment to one of these instances (their mappings). */
  attachedTo(region: string, ownerId: string, instanceIds: string[]): Promise<VolumeRecord[]>;
  /** The volume's own block at `index` (written since creation), if any. */
  block(volumeId: string, index: number): Promise<string | undefined>;
  /** The volume's own entry at `index`, with its checksum. */
  entry(volumeId: string, index: number): Promise<BlockEntry | undefined>;
  putBlock(volumeId: string, index: number, hash: string, checksum?: string): Promise<void>;
  /**
   * The volume's small-write journal: 4 KiB pages written since their block was last stored,
   * kept here rather than as a new 512 KiB block (see VolumeData). A block's current bytes are
   * its mapped block with its journal pages laid over it.
   *
   * journalPages: the block's pages (page = offset / 4096 within the block), newest only.
   */
  journalPages(volumeId: string, index: number): Promise<JournalPage[]>;
  /** Every (block, page) the volume's journal holds, without the bytes. */
  journalIndex(volumeId: string): Promise<{ index: number; page: number }[]>;
  /**
   * In one transaction: the blocks now stored whole are mapped and their journal pages dropped,
   * and the pages of other blocks written to the journal (replacing older versions of a page).
   */
  commitWrites(volumeId: string, writes: { blocks: BlockEntry[]; pages: JournalPage[] }): Promise<void>;
  /** Every block written to the volume, in index order. */
  ownBlocks(volumeId: string): Promise<BlockEntry[]>;
  /**
   * Snapshots volumes at one instant: for each, a new snapshot whose map is the volume's source
   * snapshot's map overlaid with the volume's own blocks, all in one transaction.
   */
  snapshotVolumes(items: { volumeId: string; snapshotId: string; parentSnapshotId?: string }[]): Promise<void>;
  /**
   * Before a snapshot is deleted: every volume made from it takes the snapshot's blocks it has
   * not overwritten as its own, so the volume keeps its data (as an EBS volume outlives its
   * source snapshot). Returns the number of entries adopted.
   */
  adoptSnapshotBlocks(snapshotId: string): Promise<number>;
  /** Every block hash a volume in the region references (for garbage collection). */
  referencedHashes(region: string): Promise<Set<string>>;
}
