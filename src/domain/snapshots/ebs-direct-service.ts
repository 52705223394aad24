// The EBS direct APIs' rules: snapshots are written block by block while pending, completed
// once (checked against the client's block count and aggregate checksum), and read only once
// completed. Blocks are content-addressed and shared across every snapshot of the region.
import { createHash } from 'node:crypto';
import type {
  CompleteSnapshotRequest, GetSnapshotBlockRequest, GetSnapshotBlockResponse, ListChangedBlocksRequest,
  ListChangedBlocksResponse, ListSnapshotBlocksRequest, ListSnapshotBlocksResponse, PutSnapshotBlockRequest,
  StartSnapshotRequest, StartSnapshotResponse,
} from '../../protocol/ebs/types.generated.ts';
import { BLOCK_SIZE, BlockCorruptError, BlockHashMismatchError, BlockMissingError, type BlockStore } from '../../ports/block-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { Caller } from '../context.ts';
import { Errors, isServiceError } from '../errors.ts';
import { BlockTamperedError } from '../encryption/block-seal.ts';
import type { EbsEncryption } from '../encryption/ebs-encryption.ts';
import { ebsKeyError } from '../encryption/lineage-keys.ts';
import { loadBlock, storeBlock, type Sealing } from '../encryption/sealed-blocks.ts';
import { checkTags } from '../tags/tag-specifications.ts';
import { decodeBlockToken, decodePageToken, encodeBlockToken, encodePageToken } from './block-token.ts';
import { canUseSnapshot, uploadTimedOut } from './snapshot-access.ts';
import type { SnapshotBlockPublicAccess } from './snapshot-block-public-access.ts';

const BLOCKS_PER_GIB = (1024 * 1024 * 1024) / BLOCK_SIZE;
/** How long block tokens are said to stay valid (ExpiryTime), as AWS documents: 7 days. */
const TOKEN_LIFETIME_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_TIMEOUT_MINUTES = 60;
const MAX_VOLUME_GIB = 65536;
const DEFAULT_PAGE = 10_000;

export interface EbsDirectDeps {
  store: MetadataStore; blocks: BlockStore; clock: Clock; ids: IdGenerator; encryption: EbsEncryption;
  /** Public snapshots whose owner blocks all sharing are not readable by other accounts. */
  publicAccess?: SnapshotBlockPublicAccess;
}

const tagKey = (t: { Key?: string; Value?: string }) => JSON.stringify([t.Key, t.Value ?? '']);
const sameTags = (a: { Key?: string; Value?: string }[], b: { Key?: string; Value?: string }[]) =>
  a.length === b.length && a.map(tagKey).sort().join() === b.map(tagKey).sort().join();

/** EC2's tag rules, reported as EBS reports them: ValidationException INVALID_TAG (not EC2's codes). */
function ebsTags(tags: { Key?: string; Value?: string }[]): { Key?: string; Value?: string }[] {
  try {
    return checkTags(tags.map((t) => ({ Key: t.Key, Value: t.Value })));
  } catch (err) {
    if (isServiceError(err)) throw Errors.ebsValidation('INVALID_TAG', err.message);
    throw err;
  }
}

const notFound = (id: string) => Errors.ebsNotFound(`The snapshot '${id}' does not exist.`);

export class EbsDirectService {
  private readonly deps: EbsDirectDeps;
  /** When this process last refreshed each pending snapshot's idle timer (see touch). */
  private readonly touched = new Map<string, number>();
  constructor(deps: EbsDirectDeps) {
    this.deps = deps;
  }

  /** A snapshot the caller may read (owner, shared or public), failed lazily if timed out. */
  private async readable(caller: Caller, id: string): Promise<SnapshotRecord> {
    const s = await this.load(caller, id);
    if (!canUseSnapshot(caller, s) || await this.deps.publicAccess?.hidden(caller, s)) throw notFound(id);
    if (s.state !== 'completed') {
      throw Errors.ebsValidation('INVALID_SNAPSHOT_ID', `The snapshot '${id}' is ${s.state}; blocks can be read only from a completed snapshot.`);
    }
    return s;
  }

  /** A pending snapshot the caller owns: the only kind that accepts writes. */
  private async writable(caller: Caller, id: string): Promise<SnapshotRecord> {
    const s = await this.load(caller, id);
    if (s.ownerId !== caller.account) throw notFound(id);
    if (s.state !== 'pending' || s.copySource) {
      throw Errors.ebsValidation('INVALID_SNAPSHOT_ID', `The snapshot '${id}' is ${s.state}; blocks can be written only while it is pending.`);
    }
    return s;
  }

  private async load(caller: Caller, id: string): Promise<SnapshotRecord> {
    const s = await this.deps.store.snapshots.get(caller.region, id);
    if (!s) throw notFound(id);
    if (uploadTimedOut(s, this.deps.clock.now())) {
      s.state = 'error';
      s.stateMessage = `The upload was idle for more than its timeout of ${s.timeoutMinutes} minutes.`;
      // Once, by whichever node reads it first; a node that lost the race reads the outcome.
      if (!(await this.deps.store.snapshots.update(s, { ifState: 'pending' }))) return this.load(caller, id);
    }
    return s;
  }

  async start(caller: Caller, req: StartSnapshotRequest): Promise<StartSnapshotResponse> {
    if (req.KmsKeyArn !== undefined && !req.Encrypted) {
      throw Errors.ebsValidation('INVALID_PARAMETER_VALUE', 'KmsKeyArn can be given only with Encrypted set to true.');
    }
    // AWS: "The maximum size is 65536 GiB (64 TiB)"; the model states only the minimum.
    if (req.VolumeSize > MAX_VOLUME_GIB) {
      throw Errors.ebsValidation('INVALID_VOLUME_SIZE', `The volume size ${req.VolumeSize} GiB exceeds the maximum of ${MAX_VOLUME_GIB} GiB.`);
    }
    const tags = ebsTags(req.Tags ?? []);
    if (req.ClientToken) {
      const prior = await this.deps.store.snapshots.findByClientToken(caller.region, caller.account, req.ClientToken);
      if (prior) {
        // AWS: a retry with the same token must repeat every parameter, or it is a conflict.
        // Timeout and Tags count too (they were once ignored, so a changed retry got the old one).
        const priorTags = (await this.deps.store.tags.forResources(caller.account, caller.region, [prior.snapshotId])).get(prior.snapshotId) ?? [];
        const same = (!req.Encrypted || prior.encrypted) && (req.KmsKeyArn === undefined || req.KmsKeyArn === prior.kmsKeyId)
          && prior.volumeSize === req.VolumeSize && prior.parentSnapshotId === req.ParentSnapshotId
          && prior.description === req.Description && prior.timeoutMinutes === (req.Timeout ?? DEFAULT_TIMEOUT_MINUTES)
          && sameTags(priorTags, tags);
        if (!same) throw Errors.ebsConflict('The request uses the same client token as a previous, but non-identical request.');
        return this.startResponse(prior, priorTags);
      }
    }
    let parent: SnapshotRecord | undefined;
    if (req.ParentSnapshotId) {
      parent = await this.readable(caller, req.ParentSnapshotId);
      if (req.VolumeSize < parent.volumeSize) {
        throw Errors.ebsValidation('INVALID_VOLUME_SIZE', `The volume size ${req.VolumeSize} GiB is smaller than the parent snapshot's ${parent.volumeSize} GiB.`);
      }
    }
    const now = this.deps.clock.now().toISOString();
    const snapshotId = this.deps.ids.next('snap');
    // A child of an encrypted parent continues its lineage (same data key); otherwise a new
    // lineage starts here when Encrypted, KmsKeyArn or encryption by default asks for one.
    let keyArn: string | undefined;
    let dataKey = parent?.dataKey;
    try {
      if (parent?.encrypted) {
        if (req.KmsKeyArn && req.KmsKeyArn !== parent.kmsKeyId) {
          throw Errors.ebsValidation('INVALID_PARAMETER_VALUE', `The KMS key must be the parent snapshot's (${parent.kmsKeyId}).`);
        }
        await this.unlock(caller, parent);
        keyArn = parent.kmsKeyId;
      } else {
        keyArn = await this.deps.encryption.target(caller, { encrypted: req.Encrypted ?? undefined, kmsKeyId: req.KmsKeyArn }, ebsKeyError);
        if (keyArn) {
          const made = await this.deps.encryption.keys.create(caller, keyArn, snapshotId);
          made.plaintext.fill(0);
          dataKey = made.encryption.dataKey;
          keyArn = made.encryption.kmsKeyId;
        }
      }
    } catch (err) {
      throw this.asEbsError(err);
    }
    const record: SnapshotRecord = {
      region: caller.region,
      snapshotId,
      ownerId: caller.account,
      volumeSize: req.VolumeSize,
      state: 'pending',
      progress: 0,
      startTime: now,
      description: req.Description,
      parentSnapshotId: parent?.snapshotId,
      volumeId: 'vol-ffffffff',
      encrypted: !!keyArn,
      kmsKeyId: keyArn,
      dataKey: keyArn ? dataKey : undefined,
      clientToken: req.ClientToken,
      timeoutMinutes: req.Timeout ?? DEFAULT_TIMEOUT_MINUTES,
      lastActivity: now,
      createVolumePermissions: [],
    };
    try {
      await this.deps.store.snapshots.insert(record, { account: caller.account, tags });
    } catch (err) {
      // Another node stored a snapshot with this token between the lookup above and this insert
      // (the token is unique per owner and region): answer as the retry this request is.
      if (req.ClientToken && (await this.deps.store.snapshots.findByClientToken(caller.region, caller.account, req.ClientToken))) {
        return this.start(caller, req);
      }
      throw err;
    }
    if (parent) await this.deps.store.snapshots.inheritBlocks(record.snapshotId, parent.snapshotId);
    return this.startResponse(record, tags);
  }

  private startResponse(s: SnapshotRecord, tags: { Key?: string; Value?: string }[]): StartSnapshotResponse {
    return {
      SnapshotId: s.snapshotId, OwnerId: s.ownerId, Status: s.state, StartTime: new Date(s.startTime),
      VolumeSize: s.volumeSize, BlockSize: BLOCK_SIZE, Description: s.description, ParentSnapshotId: s.parentSnapshotId,
      Tags: tags.length ? tags : undefined, SseType: 'none', KmsKeyArn: s.kmsKeyId,
    };
  }

  /** EC2-side errors (e.g. InvalidParameterDependency) and KMS refusals, as EBS reports them. */
  private asEbsError(err: unknown): unknown {
    const mapped = ebsKeyError(err);
    if (mapped !== err || !isServiceError(err) || err.fields.Reason) return mapped;
    if (err.status === 400 && !['ValidationException', 'AccessDeniedException', 'ResourceNotFoundException'].includes(err.code)) {
      return Errors.ebsValidation('INVALID_PARAMETER_VALUE', err.message);
    }
    return err;
  }

  /** The snapshot's data key, unwrapped now for this caller (KMS checks its right to the key). */
  private async unlock(caller: Caller, s: SnapshotRecord): Promise<Sealing | undefined> {
    if (!s.encrypted || !s.dataKey) return undefined;
    try {
      return { key: await this.deps.encryption.keys.open(caller, s.dataKey), lineage: s.dataKey.lineage };
    } catch (err) {
      throw ebsKeyError(err);
    }
  }

  async putBlock(caller: Caller, req: PutSnapshotBlockRequest): Promise<{ Checksum: string; ChecksumAlgorithm: 'SHA256' }> {
    const s = await this.writable(caller, req.SnapshotId);
    if (req.BlockIndex >= s.volumeSize * BLOCKS_PER_GIB) {
      throw Errors.ebsValidation('INVALID_BLOCK', `Block index ${req.BlockIndex} is beyond the end of a ${s.volumeSize} GiB snapshot.`);
    }
    const body = req.BlockData;
    // A view of the request body, not a copy (512 KiB per block).
    const data = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (req.DataLength !== data.length) {
      throw Errors.ebsValidation('INVALID_PARAMETER_VALUE', `x-amz-Data-Length says ${req.DataLength} bytes but the body has ${data.length}.`);
    }
    if (data.length !== BLOCK_SIZE) {
      throw Errors.ebsValidation('INVALID_BLOCK', `Block data must be exactly ${BLOCK_SIZE} bytes; got ${data.length}.`);
    }
    const mismatch = () => Errors.ebsValidation('INVALID_PARAMETER_VALUE', 'The SHA256 checksum of the block data does not match x-amz-Checksum.');
    // The checksum names the block's address; the store hashes the data to check it against that
    // address before storing anything, so each block is hashed once here, not twice. A checksum
    // that is not the canonical base64 of a SHA-256 can match no data.
    const claimed = Buffer.from(req.Checksum, 'base64');
    if (claimed.length !== 32 || claimed.toString('base64') !== req.Checksum) throw mismatch();
    const hash = claimed.toString('hex');
    if (s.encrypted) {
      // Sealed: the address is the sealed bytes' hash, so the plaintext is hashed here, once.
      const sealing = await this.unlock(caller, s);
      if (createHash('sha256').update(data).digest('hex') !== hash) throw mismatch();
      try {
        const stored = await storeBlock(this.deps.blocks, s.region, req.BlockIndex, data, sealing, hash);
        await this.deps.store.snapshots.putBlock(s.snapshotId, req.BlockIndex, stored.hash, stored.checksum);
      } finally {
        sealing?.key.fill(0);
      }
      await this.touch(s, req.Progress);
      return { Checksum: req.Checksum, ChecksumAlgorithm: 'SHA256' };
    }
    // Block first, then the reference: a crash between them leaves an unreferenced block (which
    // garbage collection reclaims), never a reference to a missing block.
    try {
      await this.deps.blocks.put(s.region, hash, data);
    } catch (err) {
      if (err instanceof BlockHashMismatchError) throw mismatch();
      throw err;
    }
    await this.deps.store.snapshots.putBlock(s.snapshotId, req.BlockIndex, hash);
    await this.touch(s, req.Progress);
    return { Checksum: req.Checksum, ChecksumAlgorithm: 'SHA256' };
  }

  private async touch(s: SnapshotRecord, reported: number | undefined): Promise<void> {
    const progress = reported ?? s.progress;
    const now = this.deps.clock.now();
    // Progress and the idle timer are refreshed at most once a second: no write per block. The
    // record was read when this request began, so 16 blocks in flight all saw the same old
    // lastActivity: this process's own last refresh is checked too, or each of them would
    // rewrite (and queue on the lock of) the same snapshot row.
    const last = Math.max(Date.parse(s.lastActivity), this.touched.get(s.snapshotId) ?? 0);
    if (progress !== s.progress || now.getTime() - last > 1000) {
      if (this.touched.size >= 10_000) this.touched.clear();
      this.touched.set(s.snapshotId, now.getTime());
      s.progress = Math.min(99, progress);
      s.lastActivity = now.toISOString();
      // Never over a snapshot another request (on any node) completed or failed meanwhile.
      await this.deps.store.snapshots.update(s, { ifState: 'pending' });
    }
  }

  async complete(caller: Caller, req: CompleteSnapshotRequest): Promise<{ Status: 'completed' }> {
    const s = await this.writable(caller, req.SnapshotId);
    const written = await this.deps.store.snapshots.writtenBlocks(s.snapshotId);
    const fail = async (message: string) => {
      s.state = 'error';
      s.stateMessage = message;
      await this.deps.store.snapshots.update(s, { ifState: 'pending' });
      return Errors.ebsValidation('INVALID_PARAMETER_VALUE', message);
    };
    if (req.ChangedBlocksCount !== written.length) {
      throw await fail(`ChangedBlocksCount is ${req.ChangedBlocksCount} but ${written.length} blocks were written; the snapshot failed.`);
    }
    if (req.Checksum !== undefined) {
      if (req.ChecksumAlgorithm !== 'SHA256' || req.ChecksumAggregationMethod !== 'LINEAR') {
        throw Errors.ebsValidation('INVALID_PARAMETER_VALUE', 'An aggregate checksum needs ChecksumAlgorithm SHA256 and ChecksumAggregationMethod LINEAR.');
      }
      // LINEAR: SHA-256 over the written blocks' SHA-256 digests, concatenated in index order.
      const aggregate = createHash('sha256');
      for (const b of written) aggregate.update(Buffer.from(b.checksum ?? b.hash, 'hex'));
      if (aggregate.digest('base64') !== req.Checksum) {
        throw await fail('The aggregate checksum does not match the blocks written; the snapshot failed.');
      }
    }
    await this.deps.blocks.sync(s.region, written.map((b) => b.hash));
    s.state = 'completed';
    s.progress = 100;
    s.completionTime = this.deps.clock.now().toISOString();
    // Counted once, now that the map is final: DescribeSnapshots reports FullSnapshotSizeInBytes.
    s.blockCount = await this.deps.store.snapshots.countBlocks(s.snapshotId);
    if (!(await this.deps.store.snapshots.update(s, { ifState: 'pending' }))) {
      // Settled meanwhile by another request (on this node or another): a completion raced with
      // this one is the same outcome; anything else is reported as it is now.
      const now = await this.deps.store.snapshots.get(s.region, s.snapshotId);
      if (now?.state !== 'completed') {
        throw Errors.ebsValidation('INVALID_SNAPSHOT_ID', `The snapshot '${s.snapshotId}' is ${now?.state ?? 'deleted'}; it can no longer be completed.`);
      }
    }
    return { Status: 'completed' };
  }

  async getBlock(caller: Caller, req: GetSnapshotBlockRequest): Promise<GetSnapshotBlockResponse> {
    // The snapshot and the block's entry are looked up together (two round trips to a shared
    // database in the time of one); the entry is used only once the snapshot proves readable.
    const [s, entry] = await Promise.all([
      this.readable(caller, req.SnapshotId),
      this.deps.store.snapshots.entry(req.SnapshotId, req.BlockIndex),
    ]);
    const token = decodeBlockToken(req.BlockToken);
    const hash = entry?.hash;
    if (token.snapshotId !== s.snapshotId || token.index !== req.BlockIndex || token.hash !== hash) {
      throw Errors.ebsValidation('INVALID_BLOCK_TOKEN', 'The block token does not name this block of this snapshot.');
    }
    const sealing = await this.unlock(caller, s);
    let data: Buffer;
    try {
      data = await loadBlock(this.deps.blocks, s.region, req.BlockIndex, entry!.hash, sealing);
    } catch (err) {
      if (err instanceof BlockCorruptError || err instanceof BlockMissingError || err instanceof BlockTamperedError) {
        throw Errors.blockUnreadable(s.snapshotId, req.BlockIndex, err.message);
      }
      throw err;
    } finally {
      sealing?.key.fill(0);
    }
    const checksum = entry!.checksum ?? entry!.hash;
    return { BlockData: data, DataLength: data.length, Checksum: Buffer.from(checksum, 'hex').toString('base64'), ChecksumAlgorithm: 'SHA256' };
  }

  async listBlocks(caller: Caller, req: ListSnapshotBlocksRequest): Promise<ListSnapshotBlocksResponse> {
    const s = await this.readable(caller, req.SnapshotId);
    const from = decodePageToken(req.NextToken) ?? req.StartingBlockIndex ?? 0;
    const limit = req.MaxResults ?? DEFAULT_PAGE;
    const entries = await this.deps.store.snapshots.blocks(s.snapshotId, from, limit + 1);
    const page = entries.slice(0, limit);
    return {
      Blocks: page.map((b) => ({ BlockIndex: b.index, BlockToken: encodeBlockToken({ snapshotId: s.snapshotId, index: b.index, hash: b.hash }) })),
      ExpiryTime: new Date(this.deps.clock.now().getTime() + TOKEN_LIFETIME_MS),
      VolumeSize: s.volumeSize,
      BlockSize: BLOCK_SIZE,
      NextToken: entries.length > limit ? encodePageToken(entries[limit].index) : undefined,
    };
  }

  async listChangedBlocks(caller: Caller, req: ListChangedBlocksRequest): Promise<ListChangedBlocksResponse> {
    const second = await this.readable(caller, req.SecondSnapshotId);
    let first: SnapshotRecord | undefined;
    if (req.FirstSnapshotId) {
      first = await this.readable(caller, req.FirstSnapshotId);
      if (!(await this.related(caller, first, second))) {
        throw Errors.ebsValidation('UNRELATED_SNAPSHOTS', `The snapshots ${first.snapshotId} and ${second.snapshotId} are not of the same lineage.`);
      }
    }
    const from = decodePageToken(req.NextToken) ?? req.StartingBlockIndex ?? 0;
    const limit = req.MaxResults ?? DEFAULT_PAGE;
    const entries = await this.deps.store.snapshots.changedBlocks(first?.snapshotId, second.snapshotId, from, limit + 1);
    const token = (s: SnapshotRecord | undefined, index: number, hash: string | undefined) =>
      (s && hash ? encodeBlockToken({ snapshotId: s.snapshotId, index, hash }) : undefined);
    return {
      ChangedBlocks: entries.slice(0, limit).map((c) => ({
        BlockIndex: c.index,
        FirstBlockToken: token(first, c.index, c.firstHash),
        SecondBlockToken: token(second, c.index, c.secondHash),
      })),
      ExpiryTime: new Date(this.deps.clock.now().getTime() + TOKEN_LIFETIME_MS),
      VolumeSize: second.volumeSize,
      BlockSize: BLOCK_SIZE,
      NextToken: entries.length > limit ? encodePageToken(entries[limit].index) : undefined,
    };
  }

  /**
   * Same lineage: the two share an ancestor through parent links (one may be the other's
   * ancestor). Siblings started from one parent count, as two snapshots of one volume do in AWS;
   * the diff is exact for any pair because every snapshot keeps its full block map.
   */
  private async related(caller: Caller, a: SnapshotRecord, b: SnapshotRecord): Promise<boolean> {
    const ancestors = async (s: SnapshotRecord) => {
      const seen = new Set<string>([s.snapshotId]);
      let cur: SnapshotRecord | undefined = s;
      while (cur?.parentSnapshotId && !seen.has(cur.parentSnapshotId)) {
        seen.add(cur.parentSnapshotId);
        cur = await this.deps.store.snapshots.get(caller.region, cur.parentSnapshotId);
      }
      return seen;
    };
    const ofA = await ancestors(a);
    for (const id of await ancestors(b)) if (ofA.has(id)) return true;
    return false;
  }
}
