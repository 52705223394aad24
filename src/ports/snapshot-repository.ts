// The snapshot part of the metadata store port. A snapshot is an immutable (once completed) map
// from block index to block hash, stored in full: a child starts as a copy of its parent's map,
// so reading any block, listing blocks and diffing two snapshots are single indexed lookups.
import type { CreateVolumePermission, Tag } from '../protocol/ec2/types.generated.ts';

/** An encrypted lineage's data key, wrapped by its KMS key (never stored in plaintext). */
export interface WrappedDataKey {
  /** The KMS ciphertext blob, base64. */
  wrapped: string;
  /** The resource the lineage started with: the KMS encryption context and the blocks' AAD. */
  lineage: string;
}

export type SnapshotState = 'pending' | 'completed' | 'error';

export interface SnapshotRecord {
  region: string;
  snapshotId: string;
  ownerId: string;
  ownerAlias?: string;
  /** GiB, as EC2 reports it. */
  volumeSize: number;
  state: SnapshotState;
  stateMessage?: string;
  /** 0 to 100. */
  progress: number;
  startTime: string;
  completionTime?: string;
  description?: string;
  parentSnapshotId?: string;
  /** The volume it was taken from; AWS reports vol-ffffffff for snapshots made otherwise. */
  volumeId: string;
  encrypted: boolean;
  /** The ARN of the KMS key that wraps dataKey. */
  kmsKeyId?: string;
  /** Encrypted snapshots: the lineage's data key. */
  dataKey?: WrappedDataKey;
  clientToken?: string;
  /** EBS direct uploads are cancelled when idle this long (StartSnapshot's Timeout). */
  timeoutMinutes: number;
  lastActivity: string;
  createVolumePermissions: CreateVolumePermission[];
  /** Set while a copy is being made from another snapshot (possibly in another region). */
  copySource?: { region: string; snapshotId: string };
  /** The snapshot a finished copy was made from. */
  copiedFrom?: { region: string; snapshotId: string };
  /** Blocks in the map once completed (inherited ones included): FullSnapshotSizeInBytes. */
  blockCount?: number;
}

export interface SnapshotVisibility { account: string }

export interface SnapshotQuery {
  region: string;
  visibleTo: SnapshotVisibility;
  snapshotIds?: string[];
  ownerIds?: string[];
  ownerAliases?: string[];
  /**
   * RestorableByUserIds, as AWS documents it (any one of these matches): `self`, the caller's own
   * snapshots and those shared with it explicitly; `accounts`, the caller's own snapshots shared
   * with one of those accounts; `includePublic`, public snapshots. The caller is visibleTo.
   */
  restorableBy?: { self: boolean; accounts: string[]; includePublic: boolean };
  afterSnapshotId?: string;
}

/**
 * One entry of a block map. `hash` addresses the stored bytes; `checksum` is the SHA-256 (hex) of
 * the plaintext when they differ (encrypted blocks), absent when the stored bytes are the plaintext.
 */
export interface BlockEntry { index: number; hash: string; checksum?: string }
export interface ChangedBlockEntry { index: number; firstHash?: string; secondHash?: string }

export interface SnapshotUsage {
  snapshotId: string;
  ownerId: string;
  blocks: number;
  /** Blocks no other snapshot references. */
  ownBlocks: number;
  /** Set for a snapshot in the Recycle Bin (still billed): when its retention ends. */
  inRecycleBinUntil?: string;
  /** Images in the Recycle Bin that name it (a restore needs it), with when their retention ends. */
  binnedImages?: { imageId: string; until: string }[];
}

/** A snapshot a deregistered image named and no image in its region names now. */
export interface LeftBehindSnapshot {
  snapshotId: string;
  ownerId: string;
  /** The deregistered images that named it. */
  imageIds: string[];
  /** Volumes made from it that still exist (they read through its block map). */
  volumeIds: string[];
}

export interface SnapshotRepository {
  insert(record: SnapshotRecord, tags?: { account: string; tags: Tag[] }): Promise<void>;
  get(region: string, snapshotId: string): Promise<SnapshotRecord | undefined>;
  findByClientToken(region: string, ownerId: string, clientToken: string): Promise<SnapshotRecord | undefined>;
  /**
   * Replaces the record. With `ifState`, only while the stored snapshot is still in that state
   * (false otherwise, nothing written): state changes that several nodes may race to make, such
   * as pending to completed or to error, are made once and never undone by a stale record.
   */
  update(record: SnapshotRecord, options?: { ifState?: SnapshotState }): Promise<boolean>;
  /** Removes the snapshot, its block map, permissions and tags. */
  delete(region: string, snapshotId: string): Promise<boolean>;
  /**
   * In one transaction: unless an image in the region names the snapshot (its id is returned as
   * `inUseBy`), volumes made from it adopt its blocks and it is removed as by `delete`.
   */
  deleteUnlessInUse(region: string, snapshotId: string, options?: { binnedImagesToo?: boolean }): Promise<{ deleted: boolean; inUseBy?: string }>;
  scan(query: SnapshotQuery): AsyncIterable<SnapshotRecord>;
  /** Snapshots in a state, across regions (start-up recovery of uploads and copies). */
  inState(state: SnapshotState): Promise<SnapshotRecord[]>;

  /** Makes `childId`'s map a copy of `parentId`'s (StartSnapshot with a parent). */
  inheritBlocks(childId: string, parentId: string): Promise<void>;
  /** Sets one entry, marking it written by this snapshot (not inherited). */
  putBlock(snapshotId: string, index: number, hash: string, checksum?: string): Promise<void>;
  /** Sets many entries at once, all marked written (copies). */
  putBlocks(snapshotId: string, entries: BlockEntry[]): Promise<void>;
  block(snapshotId: string, index: number): Promise<string | undefined>;
  /** The entry at `index` with its checksum (GetSnapshotBlock). */
  entry(snapshotId: string, index: number): Promise<BlockEntry | undefined>;
  countBlocks(snapshotId: string): Promise<number>;
  /** Entries from `fromIndex` on, in index order. */
  blocks(snapshotId: string, fromIndex: number, limit: number): Promise<BlockEntry[]>;
  /** The entries this snapshot wrote itself, in index order (CompleteSnapshot's checks). */
  writtenBlocks(snapshotId: string): Promise<BlockEntry[]>;
  /** Indexes whose hashes differ between the two maps (`first` absent: every entry of second). */
  changedBlocks(firstId: string | undefined, secondId: string, fromIndex: number, limit: number): Promise<ChangedBlockEntry[]>;

  /** Images in the region whose block device mappings name the snapshot. */
  imagesUsing(region: string, snapshotId: string): Promise<string[]>;
  /** Every block hash some snapshot in the region references. */
  referencedHashes(region: string): Promise<Set<string>>;
  /** Block counts per billed snapshot of a region (optionally one owner's): live and in the Recycle Bin. */
  usage(region: string, ownerId?: string): Promise<SnapshotUsage[]>;
  /** Distinct blocks referenced by each owner's billed snapshots (live and in the Recycle Bin) in the region. */
  storedBlocksByOwner(region: string): Promise<Map<string, number>>;
  /** Distinct blocks referenced by one owner's snapshots in the region, leaving out `excluding`. */
  storedBlocksExcluding(region: string, ownerId: string, excluding: string[]): Promise<number>;
  /**
   * Snapshots of the region (optionally one owner's) left behind by deregistered images, in id
   * order: no image names them, neither a live one nor one in the Recycle Bin (it may be restored).
   */
  leftBehind(region: string, ownerId?: string): Promise<LeftBehindSnapshot[]>;
}
