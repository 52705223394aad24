// The Recycle Bin part of the metadata store port: retention rules per account and region, and
// the images and snapshots deleted under one. A resource in the bin is no longer in the image or
// snapshot tables (every existing lookup treats it as gone); its document and its owner's tags
// wait here, and a snapshot's block map stays in place so its data outlives the deletion.
import type { Tag } from '../protocol/ec2/types.generated.ts';
import type { ImageRecord } from './metadata-store.ts';
import type { SnapshotRecord } from './snapshot-repository.ts';

export type RetainedResourceType = 'EBS_SNAPSHOT' | 'EC2_IMAGE';

/** A tag a rule matches (ResourceTags) or excludes (ExcludeResourceTags); no value matches any value. */
export interface RuleResourceTag { key: string; value?: string }

export type RuleLockState = 'locked' | 'pending_unlock' | 'unlocked';

export interface RetentionRuleRecord {
  account: string;
  region: string;
  /** 11 letters and digits, as AWS's rule ids. */
  ruleId: string;
  resourceType: RetainedResourceType;
  retentionDays: number;
  description: string;
  /** Tag-level rules: the resource needs one of these. Empty: a Region-level rule. */
  resourceTags: RuleResourceTag[];
  /** Region-level rules: resources with one of these are not retained. */
  excludeResourceTags: RuleResourceTag[];
  /** Tags on the rule itself (TagResource). */
  tags: { Key: string; Value: string }[];
  /** Absent until the rule is first locked. */
  lock?: { unlockDelayDays: number; state: RuleLockState; lockEndTime?: string };
  createdAt: string;
}

interface BinEntryBase {
  account: string;
  region: string;
  resourceId: string;
  enterTime: string;
  exitTime: string;
  /** The owner's tags on the resource when it was deleted; restored with it. */
  tags: Tag[];
}
export interface BinnedImage extends BinEntryBase { resourceType: 'EC2_IMAGE'; image: ImageRecord }
export interface BinnedSnapshot extends BinEntryBase { resourceType: 'EBS_SNAPSHOT'; snapshot: SnapshotRecord }
export type BinEntry = BinnedImage | BinnedSnapshot;

export interface BinQuery {
  account: string;
  region: string;
  resourceType: RetainedResourceType;
  resourceIds?: string[];
  /** Only ids greater than this, in id order. */
  afterId?: string;
  limit: number;
}

export interface RecycleBinRepository {
  insertRule(rule: RetentionRuleRecord): Promise<void>;
  getRule(account: string, region: string, ruleId: string): Promise<RetentionRuleRecord | undefined>;
  /** The account's rules in the region, in rule id order. */
  listRules(account: string, region: string, resourceType?: RetainedResourceType): Promise<RetentionRuleRecord[]>;
  updateRule(rule: RetentionRuleRecord): Promise<void>;
  deleteRule(account: string, region: string, ruleId: string): Promise<boolean>;

  /**
   * Moves a live image into the bin in one transaction: its row, launch permissions, snapshot
   * references and every account's tags leave the image tables; the entry keeps the document.
   */
  binImage(entry: BinnedImage): Promise<void>;
  /**
   * As binImage for a snapshot; its block map is kept. Unless an image in its region names it:
   * the check and the move are one transaction (as snapshots.deleteUnlessInUse), so an image
   * registered concurrently either stops the move (inUseBy) or fails on the missing snapshot.
   * binned is false, with nothing written, when the snapshot is already gone.
   */
  binSnapshot(entry: BinnedSnapshot): Promise<{ binned: boolean; inUseBy?: string }>;
  /**
   * Changes the owner's tags kept with an entry (AWS lets the owner tag resources in the bin), in
   * one transaction; false when the account has no such entry in the region.
   */
  retag(account: string, region: string, resourceId: string, change: (tags: Tag[]) => Tag[]): Promise<boolean>;
  getBinned(account: string, region: string, resourceType: RetainedResourceType, resourceId: string): Promise<BinEntry | undefined>;
  listBinned(query: BinQuery): Promise<BinEntry[]>;
  /**
   * Puts the resource back in one transaction (its row, permissions, references and the owner's
   * tags) and removes the entry. An image whose name was taken meanwhile: Errors.amiNameDuplicate.
   */
  restore(entry: BinEntry): Promise<void>;
  /** Entries whose exit time is at or before `now`, across accounts and regions. */
  expired(now: string): Promise<BinEntry[]>;
  /** Deletes an entry for good (a snapshot's block map with it). */
  purge(entry: BinEntry): Promise<void>;
  /** Block hashes the block maps of binned snapshots in the region reference (garbage collection). */
  referencedHashes(region: string): Promise<Set<string>>;
}
