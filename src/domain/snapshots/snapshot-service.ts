// EC2's snapshot operations: describe what a caller may see, delete, share through
// createVolumePermission, and copy (within a region or across regions).
import type {
  CopySnapshotRequest, CreateVolumePermission, DeleteSnapshotRequest, DescribeSnapshotAttributeRequest,
  DescribeSnapshotAttributeResult, DescribeSnapshotsRequest, ModifySnapshotAttributeRequest, ResetSnapshotAttributeRequest, Snapshot, Tag,
} from '../../protocol/ec2/types.generated.ts';
import { BLOCK_SIZE } from '../../ports/block-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SnapshotQuery, SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { checkFilterNames, matchesFilters, normalizeFilters } from '../filters.ts';
import { decodeToken, encodeToken, pageSize } from '../pagination.ts';
import type { EbsEncryption } from '../encryption/ebs-encryption.ts';
import { findRegion } from '../regions.ts';
import { isAccountId, isResourceId } from '../resource-ids.ts';
import { tagsFor } from '../tags/tag-specifications.ts';
import { canUseSnapshot, uploadTimedOut } from './snapshot-access.ts';
import { planSnapshotCopy, type SnapshotCopyRequest } from './snapshot-copy-plan.ts';
import { deleteUnusedSnapshot } from './snapshot-deletion.ts';
import { snapshotFilters } from './snapshot-filters.ts';
import type { OwnerStates, SnapshotBlockPublicAccess } from './snapshot-block-public-access.ts';

/** Copies run in the background; the service only records and starts them. */
export interface SnapshotCopier { start(record: SnapshotRecord): void }

export interface SnapshotServiceDeps {
  store: MetadataStore; clock: Clock; ids: IdGenerator; copier: SnapshotCopier; encryption: EbsEncryption;
  /** Block public access for snapshots: refuses new public shares, hides blocked public ones. */
  publicAccess?: SnapshotBlockPublicAccess;
  /** Keeps a deleted snapshot when a retention rule says so (true: it went to the Recycle Bin). */
  recycleBin?: { retainSnapshot(caller: Caller, snapshot: SnapshotRecord): Promise<boolean> };
}

/** Owner aliases AWS maintains (OwnerAlias is never a user-set account alias). */
const OWNER_ALIASES = new Set(['amazon', 'aws-marketplace', 'aws-backup-vault']);

export function requireSnapshotId(id: string): string {
  if (!isResourceId('snap', id)) throw Errors.snapshotMalformed(id);
  return id;
}

export class SnapshotService {
  private readonly deps: SnapshotServiceDeps;
  constructor(deps: SnapshotServiceDeps) {
    this.deps = deps;
  }

  /** A snapshot the caller may use (own, shared, public), or AWS's NotFound. */
  async findUsable(caller: Caller, id: string, region = caller.region): Promise<SnapshotRecord> {
    requireSnapshotId(id);
    const s = await this.deps.store.snapshots.get(region, id);
    if (!s || !canUseSnapshot(caller, s) || await this.deps.publicAccess?.hidden(caller, s)) throw Errors.snapshotNotFound(id);
    await this.expireIfIdle(s);
    return s;
  }

  /** Fails a pending EBS direct upload idle past its Timeout (done lazily, when it is looked at). */
  private async expireIfIdle(s: SnapshotRecord): Promise<void> {
    if (!uploadTimedOut(s, this.deps.clock.now())) return;
    s.state = 'error';
    s.stateMessage = `The upload was idle for more than its timeout of ${s.timeoutMinutes} minutes.`;
    await this.deps.store.snapshots.update(s);
  }

  /**
   * A snapshot behind an image the caller may launch: the image's launch permission covers its
   * snapshots (AWS needs no createVolumePermission for that), so only existence is checked.
   */
  async findForLaunch(caller: Caller, id: string): Promise<SnapshotRecord> {
    const s = await this.deps.store.snapshots.get(caller.region, requireSnapshotId(id));
    if (!s) throw Errors.snapshotNotFound(id);
    return s;
  }

  async findOwned(caller: Caller, id: string): Promise<SnapshotRecord> {
    const s = await this.findUsable(caller, id);
    if (s.ownerId !== caller.account) throw Errors.snapshotAuthFailure(id);
    return s;
  }

  async describe(caller: Caller, req: DescribeSnapshotsRequest): Promise<{ Snapshots: Snapshot[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, snapshotFilters);
    // AWS: "You cannot specify this parameter and the snapshot IDs parameter in the same request",
    // and a MaxResults above 1,000 returns 1,000 (it is not an error, unlike one below 5).
    if (req.SnapshotIds?.length && req.MaxResults !== undefined) {
      throw Errors.invalidParameterCombination('The parameter snapshotSet cannot be used with the parameter maxResults');
    }
    const limit = pageSize(req.MaxResults === undefined ? undefined : Math.min(req.MaxResults, 1000), { min: 5, max: 1000, default: Number.MAX_SAFE_INTEGER });
    for (const id of req.SnapshotIds ?? []) await this.findUsable(caller, id);
    const query: SnapshotQuery = { region: caller.region, visibleTo: { account: caller.account }, afterSnapshotId: decodeToken(req.NextToken) };
    if (req.SnapshotIds?.length) query.snapshotIds = req.SnapshotIds;
    if (req.OwnerIds?.length) {
      // AWS: "a combination of AWS account IDs, self, and amazon". Anything else is malformed, as
      // DescribeImages' Owners (it used to be taken as an alias and silently match nothing).
      for (const o of req.OwnerIds) if (o !== 'self' && !isAccountId(o) && !OWNER_ALIASES.has(o)) throw Errors.invalidUserIdMalformed(o);
      query.ownerIds = req.OwnerIds.filter((o) => o === 'self' || isAccountId(o)).map((o) => (o === 'self' ? caller.account : o));
      query.ownerAliases = req.OwnerIds.filter((o) => o !== 'self' && !isAccountId(o));
    }
    if (req.RestorableByUserIds?.length) {
      // AWS: "self for snapshots for which you own or have explicit permissions", account IDs only
      // "if you own the snapshots", "all for public snapshots". `self` once left out the caller's
      // own snapshots, and an account id listed anyone's visible snapshots shared with it.
      const users = req.RestorableByUserIds;
      for (const u of users) if (u !== 'self' && u !== 'all' && !isAccountId(u)) throw Errors.invalidUserIdMalformed(u);
      query.restorableBy = {
        self: users.some((u) => u === 'self' || u === caller.account),
        accounts: users.filter((u) => isAccountId(u) && u !== caller.account),
        includePublic: users.includes('all'),
      };
    }
    const tagFilters = filters.filter((f) => f.name.startsWith('tag'));
    const page: { s: SnapshotRecord; tags: { Key?: string; Value?: string }[] }[] = [];
    let more = false;
    const ownersBlocking: OwnerStates = new Map();
    for await (const s of this.deps.store.snapshots.scan(query)) {
      if (await this.deps.publicAccess?.hidden(caller, s, ownersBlocking)) continue;
      // Listings expire idle uploads too, or a listing (and its status filter) would still say
      // pending for an upload that DescribeSnapshots by id reports as error.
      await this.expireIfIdle(s);
      if (!matchesFilters(s, [], filters.filter((f) => !f.name.startsWith('tag')), snapshotFilters)) continue;
      const tags = (await this.deps.store.tags.forResources(caller.account, caller.region, [s.snapshotId])).get(s.snapshotId) ?? [];
      if (tagFilters.length && !matchesFilters(s, tags, tagFilters, snapshotFilters)) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push({ s, tags });
    }
    // Completed snapshots record their block count; one completed without it (an older data
    // directory, or a path that does not count) is counted here, for this response only: writing
    // the record back could undo a concurrent change to its permissions.
    for (const { s } of page) {
      if (s.state === 'completed' && s.blockCount === undefined) s.blockCount = await this.deps.store.snapshots.countBlocks(s.snapshotId);
    }
    return {
      Snapshots: page.map(({ s, tags }) => toWireSnapshot(s, tags)),
      NextToken: more ? encodeToken(page[page.length - 1].s.snapshotId) : undefined,
    };
  }

  async delete(caller: Caller, req: DeleteSnapshotRequest): Promise<void> {
    const s = await this.findOwned(caller, req.SnapshotId);
    // Either way the in-use check is in the same store transaction as the removal.
    // Binned, its block map stays: volumes made from it keep reading through it until it expires.
    if (await this.deps.recycleBin?.retainSnapshot(caller, s)) return;
    await deleteUnusedSnapshot(this.deps.store, caller.region, s.snapshotId);
  }

  async describeAttribute(caller: Caller, req: DescribeSnapshotAttributeRequest): Promise<DescribeSnapshotAttributeResult> {
    const s = await this.findOwned(caller, req.SnapshotId);
    if (req.Attribute === 'createVolumePermission') return { SnapshotId: s.snapshotId, CreateVolumePermissions: s.createVolumePermissions };
    return { SnapshotId: s.snapshotId, ProductCodes: [] };
  }

  async modifyAttribute(caller: Caller, req: ModifySnapshotAttributeRequest): Promise<void> {
    const s = await this.findOwned(caller, req.SnapshotId);
    if (req.Attribute && req.Attribute !== 'createVolumePermission') {
      throw Errors.invalidParameterValue(`Value (${req.Attribute}) for parameter attribute is invalid. Only createVolumePermission can be modified.`);
    }
    let add: CreateVolumePermission[] = [];
    let remove: CreateVolumePermission[] = [];
    if (req.CreateVolumePermission) {
      add = req.CreateVolumePermission.Add ?? [];
      remove = req.CreateVolumePermission.Remove ?? [];
    } else {
      const listed: CreateVolumePermission[] = [
        ...(req.UserIds ?? []).map((UserId) => ({ UserId })),
        ...(req.GroupNames ?? []).map((Group) => ({ Group: Group as 'all' })),
      ];
      if (!listed.length) throw Errors.missingParameter('CreateVolumePermission');
      if (!req.OperationType) throw Errors.missingParameter('OperationType');
      if (req.OperationType === 'add') add = listed;
      else remove = listed;
    }
    for (const p of [...add, ...remove]) {
      if ((p.UserId === undefined) === (p.Group === undefined)) {
        throw Errors.invalidParameterCombination('A createVolumePermission names exactly one of UserId or Group.');
      }
      if (p.UserId !== undefined && !isAccountId(p.UserId)) throw Errors.snapshotAttributeItem(p.UserId, 'userId');
      if (p.Group !== undefined && p.Group !== 'all') throw Errors.snapshotAttributeItem(p.Group, 'group');
    }
    await this.deps.publicAccess?.checkShare(caller, s, add);
    if (add.some((p) => p.Group === 'all') && s.encrypted) {
      throw Errors.encryptedNotPublic('Encrypted snapshots cannot be made public.');
    }
    if (add.some((p) => p.UserId !== undefined && p.UserId !== s.ownerId) && await this.deps.encryption.keys.isAwsManaged(caller, s.kmsKeyId)) {
      throw Errors.defaultKeyNotShareable('Encrypted snapshots with EBS default key cannot be shared');
    }
    const key = (p: CreateVolumePermission) => (p.Group ? `g:${p.Group}` : `u:${p.UserId}`);
    const byKey = new Map(s.createVolumePermissions.map((p) => [key(p), p]));
    for (const p of remove) byKey.delete(key(p));
    for (const p of add) byKey.set(key(p), p.Group ? { Group: p.Group } : { UserId: p.UserId });
    s.createVolumePermissions = [...byKey.values()];
    await this.deps.store.snapshots.update(s);
  }

  async resetAttribute(caller: Caller, req: ResetSnapshotAttributeRequest): Promise<void> {
    const s = await this.findOwned(caller, req.SnapshotId);
    // AWS: "Currently, only the attribute for permission to create volumes can be reset."
    // (Resetting productCodes used to clear the create-volume permissions.)
    if (req.Attribute !== 'createVolumePermission') {
      throw Errors.invalidParameterValue(`Value (${req.Attribute}) for parameter attribute is invalid. Only createVolumePermission can be reset.`);
    }
    s.createVolumePermissions = [];
    await this.deps.store.snapshots.update(s);
  }

  /** CopySnapshot, called in the destination region: records the copy and starts it. */
  async copy(caller: Caller, req: CopySnapshotRequest): Promise<{ SnapshotId: string; Tags?: Tag[] }> {
    if (!findRegion(req.SourceRegion)) throw Errors.invalidParameterValue(`Invalid source region: ${req.SourceRegion}`);
    // Snapshot descriptions are at most 255 characters, as EC2 allows for CreateSnapshot.
    if (req.Description !== undefined && req.Description.length > 255) {
      throw Errors.invalidParameterValue('Description must be at most 255 characters long.');
    }
    const tags = tagsFor(req.TagSpecifications, ['snapshot'], 'snapshot');
    const source = await this.findUsable(caller, req.SourceSnapshotId, req.SourceRegion);
    // Without a Description, the copy says where it came from, followed by the source's own
    // description: the form AWS gives copies (e.g. "[Copied snap-… from us-east-1] Created by …").
    const description = req.Description ?? [`[Copied ${source.snapshotId} from ${req.SourceRegion}]`, source.description].filter(Boolean).join(' ');
    const record = await this.planCopy(caller, { source, encrypted: req.Encrypted, kmsKeyId: req.KmsKeyId, description });
    await this.startCopies(caller, [{ record, tags }]);
    // CopySnapshotResult carries the tags applied to the new snapshot, as AWS returns them.
    return { SnapshotId: record.snapshotId, Tags: tags.length ? tags : undefined };
  }

  /** A pending copy of a snapshot, planned but not stored (see snapshot-copy-plan.ts). */
  planCopy(caller: Caller, req: SnapshotCopyRequest): Promise<SnapshotRecord> {
    return planSnapshotCopy(this.deps, caller, req);
  }

  /**
   * Stores planned copies and starts them in the background. All are stored before any starts,
   * so a copy that completes at once never finds its siblings missing (CopyImage's image
   * settles only when every one of its copies has).
   */
  async startCopies(caller: Caller, copies: { record: SnapshotRecord; tags: Tag[] }[]): Promise<void> {
    for (const { record, tags } of copies) await this.deps.store.snapshots.insert(record, { account: caller.account, tags });
    for (const { record } of copies) this.deps.copier.start(record);
  }
}

export function toWireSnapshot(s: SnapshotRecord, tags: { Key?: string; Value?: string }[]): Snapshot {
  const copy = s.copySource ?? s.copiedFrom;
  return {
    SnapshotId: s.snapshotId,
    VolumeId: s.volumeId,
    State: s.state,
    StateMessage: s.stateMessage,
    StartTime: new Date(s.startTime),
    Progress: `${s.progress}%`,
    OwnerId: s.ownerId,
    OwnerAlias: s.ownerAlias,
    Description: s.description ?? '',
    VolumeSize: s.volumeSize,
    Encrypted: s.encrypted,
    KmsKeyId: s.kmsKeyId,
    StorageTier: 'standard',
    // Encrypted or not, never server-side encryption (sse-ebs): KMS keys seal the data.
    SseType: 'none',
    // AWS sets TransferType only on copies; amiforge's copies are standard, never time-based.
    TransferType: copy ? 'standard' : undefined,
    // The full (not incremental) size: every block mapped, known once the snapshot is completed.
    FullSnapshotSizeInBytes: s.state === 'completed' && s.blockCount !== undefined ? s.blockCount * BLOCK_SIZE : undefined,
    CompletionTime: s.completionTime ? new Date(s.completionTime) : undefined,
    Tags: tags.length ? tags : undefined,
  };
}
