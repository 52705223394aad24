// Snapshots and their block maps in PostgreSQL. Several nodes write at once: a snapshot's row
// lock orders its deletion against images being registered on it, and the unique client-token
// index keeps a retried StartSnapshot from making two.
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type {
  BlockEntry, ChangedBlockEntry, LeftBehindSnapshot, SnapshotQuery, SnapshotRecord, SnapshotRepository, SnapshotState, SnapshotUsage,
} from '../../ports/snapshot-repository.ts';
import type { PgDatabase, Queryable } from './pg-database.ts';
import { putTags } from './pg-tags.ts';
import { adoptSnapshotBlocks } from './pg-volumes.ts';
import { BINNED_IMAGES_NAMING, leftBehind, storedBlocksByOwner, storedBlocksExcluding, usage } from './pg-snapshot-usage.ts';

type Row = { snapshot_id: string; doc: SnapshotRecord };
type EntryRow = { block_index: number; hash: string; checksum: string | null };
const SCAN_BATCH = 500;

const toEntry = (r: EntryRow): BlockEntry => (r.checksum == null
  ? { index: r.block_index, hash: r.hash }
  : { index: r.block_index, hash: r.hash, checksum: r.checksum });

/** Inserts a map's entries in one statement per batch, however long the map. */
async function upsertBlocks(q: Queryable, snapshotId: string, entries: BlockEntry[]): Promise<void> {
  const BATCH = 20_000;
  for (let k = 0; k < entries.length; k += BATCH) {
    const part = entries.slice(k, k + BATCH);
    await q.query(`INSERT INTO snapshot_blocks (snapshot_id, block_index, hash, written, checksum)
      SELECT $1, i, h, true, c FROM unnest($2::int[], $3::text[], $4::text[]) AS e(i, h, c)
      ON CONFLICT (snapshot_id, block_index) DO UPDATE SET hash = excluded.hash, written = true, checksum = excluded.checksum`,
    [snapshotId, part.map((e) => e.index), part.map((e) => e.hash), part.map((e) => e.checksum ?? null)]);
  }
}

export class PgSnapshots implements SnapshotRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  private static columns(r: SnapshotRecord): unknown[] {
    const isPublic = r.createVolumePermissions.some((p) => p.Group === 'all');
    return [r.snapshotId, r.region, r.ownerId, r.ownerAlias ?? null, r.state, isPublic, r.clientToken ?? null, JSON.stringify(r)];
  }

  private static async writePermissions(q: Queryable, r: SnapshotRecord): Promise<void> {
    await q.query('DELETE FROM create_volume_permissions WHERE snapshot_id = $1', [r.snapshotId]);
    const perms = r.createVolumePermissions;
    await q.query(`INSERT INTO create_volume_permissions (snapshot_id, kind, value)
      SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS p(k, v) ON CONFLICT DO NOTHING`,
    [r.snapshotId, perms.map((p) => (p.Group ? 'group' : 'user')), perms.map((p) => p.Group ?? p.UserId ?? '')]);
  }

  async insert(r: SnapshotRecord, tags?: { account: string; tags: Tag[] }): Promise<void> {
    await this.db.tx((q) => this.insertInTx(q, r, tags));
  }

  /** insert's writes, for a caller already in a transaction (the Recycle Bin's restore). */
  async insertInTx(q: Queryable, r: SnapshotRecord, tags?: { account: string; tags: Tag[] }): Promise<void> {
    await q.query(`INSERT INTO snapshots (snapshot_id, region, owner_id, owner_alias, state, is_public, client_token, doc)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`, PgSnapshots.columns(r));
    await PgSnapshots.writePermissions(q, r);
    if (tags?.tags.length) await putTags(q, tags.account, r.region, [{ id: r.snapshotId, type: 'snapshot' }], tags.tags);
  }

  async get(region: string, snapshotId: string): Promise<SnapshotRecord | undefined> {
    const [row] = await this.db.query<Row>('SELECT doc FROM snapshots WHERE snapshot_id = $1 AND region = $2', [snapshotId, region]);
    return row?.doc;
  }

  async findByClientToken(region: string, ownerId: string, clientToken: string): Promise<SnapshotRecord | undefined> {
    const [row] = await this.db.query<Row>('SELECT doc FROM snapshots WHERE region = $1 AND owner_id = $2 AND client_token = $3',
      [region, ownerId, clientToken]);
    return row?.doc;
  }

  async update(r: SnapshotRecord, options: { ifState?: SnapshotState } = {}): Promise<boolean> {
    return this.db.tx(async (q) => {
      // With ifState the row is written only while still in that state (a state change several nodes race to make).
      const rows = await q.query(`UPDATE snapshots SET region = $2, owner_id = $3, owner_alias = $4, state = $5, is_public = $6, client_token = $7,
        doc = $8::jsonb WHERE snapshot_id = $1${options.ifState ? ' AND state = $9' : ''} RETURNING 1`,
      options.ifState ? [...PgSnapshots.columns(r), options.ifState] : PgSnapshots.columns(r));
      if (!rows.length) return false;
      await PgSnapshots.writePermissions(q, r);
      return true;
    });
  }

  async delete(region: string, snapshotId: string): Promise<boolean> {
    return this.db.tx((q) => deleteSnapshotRows(q, region, snapshotId));
  }

  async deleteUnlessInUse(region: string, snapshotId: string, options: { binnedImagesToo?: boolean } = {}): Promise<{ deleted: boolean; inUseBy?: string }> {
    return this.db.tx(async (q) => {
      // The row lock waits for an image being registered on the snapshot (which holds a share
      // lock on this row until it commits), so its reference is seen below; an image registered
      // after this commits finds the row gone.
      const [mine] = await q.query('SELECT 1 FROM snapshots WHERE snapshot_id = $1 AND region = $2 FOR UPDATE', [snapshotId, region]);
      // Gone already (deleted, or moved into the Recycle Bin, whose entry keeps the block map).
      if (!mine) return { deleted: false };
      const inUseBy = await imageUsing(q, region, snapshotId) ?? (options.binnedImagesToo ? await binnedImageUsing(q, region, snapshotId) : undefined);
      if (inUseBy) return { deleted: false, inUseBy };
      await adoptSnapshotBlocks(q, snapshotId);
      return { deleted: await deleteSnapshotRows(q, region, snapshotId) };
    });
  }

  async *scan(q: SnapshotQuery): AsyncIterable<SnapshotRecord> {
    const params: unknown[] = [q.region, q.visibleTo.account];
    const p = (v: unknown) => `$${params.push(v)}`;
    const sharedWith = (who: string) => `EXISTS (SELECT 1 FROM create_volume_permissions cp WHERE cp.snapshot_id = s.snapshot_id
      AND cp.kind = 'user' AND cp.value ${who})`;
    const where = ['s.region = $1', `(s.owner_id = $2 OR s.is_public OR ${sharedWith('= $2')})`];
    if (q.snapshotIds) where.push(`s.snapshot_id = ANY(${p(q.snapshotIds)}::text[])`);
    if (q.ownerIds || q.ownerAliases) {
      where.push(`(s.owner_id = ANY(${p(q.ownerIds ?? [])}::text[]) OR s.owner_alias = ANY(${p(q.ownerAliases ?? [])}::text[]))`);
    }
    if (q.restorableBy) {
      const { self, accounts, includePublic } = q.restorableBy;
      const any: string[] = [];
      if (self) any.push(`(s.owner_id = $2 OR ${sharedWith('= $2')})`);
      if (includePublic) any.push('s.is_public');
      any.push(`(s.owner_id = $2 AND ${sharedWith(`= ANY(${p(accounts)}::text[])`)})`);
      where.push(`(${any.join(' OR ')})`);
    }
    const after = params.length + 1;
    const sql = `SELECT s.snapshot_id, s.doc FROM snapshots s WHERE ${where.join(' AND ')} AND s.snapshot_id > $${after}
      ORDER BY s.snapshot_id LIMIT ${SCAN_BATCH}`;
    let cursor = q.afterSnapshotId ?? '';
    for (;;) {
      const rows = await this.db.query<Row>(sql, [...params, cursor]);
      for (const row of rows) yield row.doc;
      if (rows.length < SCAN_BATCH) return;
      cursor = rows[rows.length - 1].snapshot_id;
    }
  }

  async inState(state: SnapshotState): Promise<SnapshotRecord[]> {
    return (await this.db.query<Row>('SELECT doc FROM snapshots WHERE state = $1 ORDER BY snapshot_id', [state])).map((r) => r.doc);
  }

  async inheritBlocks(childId: string, parentId: string): Promise<void> {
    await this.db.query(`INSERT INTO snapshot_blocks (snapshot_id, block_index, hash, written, checksum)
      SELECT $1, block_index, hash, false, checksum FROM snapshot_blocks WHERE snapshot_id = $2
      ON CONFLICT (snapshot_id, block_index) DO UPDATE SET hash = excluded.hash, written = false, checksum = excluded.checksum`, [childId, parentId]);
  }

  async putBlock(snapshotId: string, index: number, hash: string, checksum?: string): Promise<void> {
    await upsertBlocks(this.db, snapshotId, [{ index, hash, checksum }]);
  }

  async putBlocks(snapshotId: string, entries: BlockEntry[]): Promise<void> {
    await this.db.tx((q) => upsertBlocks(q, snapshotId, entries));
  }

  async block(snapshotId: string, index: number): Promise<string | undefined> {
    return (await this.entry(snapshotId, index))?.hash;
  }

  async entry(snapshotId: string, index: number): Promise<BlockEntry | undefined> {
    const [row] = await this.db.query<EntryRow>('SELECT block_index, hash, checksum FROM snapshot_blocks WHERE snapshot_id = $1 AND block_index = $2',
      [snapshotId, index]);
    return row && toEntry(row);
  }

  async countBlocks(snapshotId: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM snapshot_blocks WHERE snapshot_id = $1', [snapshotId]);
    return row.n;
  }

  async blocks(snapshotId: string, fromIndex: number, limit: number): Promise<BlockEntry[]> {
    return (await this.db.query<EntryRow>(`SELECT block_index, hash, checksum FROM snapshot_blocks WHERE snapshot_id = $1 AND block_index >= $2
      ORDER BY block_index LIMIT $3`, [snapshotId, fromIndex, limit])).map(toEntry);
  }

  async writtenBlocks(snapshotId: string): Promise<BlockEntry[]> {
    return (await this.db.query<EntryRow>(`SELECT block_index, hash, checksum FROM snapshot_blocks WHERE snapshot_id = $1 AND written
      ORDER BY block_index`, [snapshotId])).map(toEntry);
  }

  async changedBlocks(firstId: string | undefined, secondId: string, fromIndex: number, limit: number): Promise<ChangedBlockEntry[]> {
    const rows = await this.db.query<{ block_index: number; first: string | null; second: string | null }>(`
      SELECT coalesce(a.block_index, b.block_index) AS block_index, a.hash AS first, b.hash AS second
      FROM (SELECT block_index, hash FROM snapshot_blocks WHERE snapshot_id = $1 AND block_index >= $3) a
      FULL OUTER JOIN (SELECT block_index, hash FROM snapshot_blocks WHERE snapshot_id = $2 AND block_index >= $3) b
        ON a.block_index = b.block_index
      WHERE a.hash IS DISTINCT FROM b.hash ORDER BY 1 LIMIT $4`, [firstId ?? '', secondId, fromIndex, limit]);
    return rows.map((r) => ({ index: r.block_index, firstHash: r.first ?? undefined, secondHash: r.second ?? undefined }));
  }

  async imagesUsing(region: string, snapshotId: string): Promise<string[]> {
    return (await this.db.query<{ image_id: string }>(`SELECT DISTINCT i.image_id FROM image_snapshots s JOIN images i ON i.image_id = s.image_id
      WHERE s.snapshot_id = $1 AND i.region = $2 ORDER BY i.image_id`, [snapshotId, region])).map((r) => r.image_id);
  }

  async referencedHashes(region: string): Promise<Set<string>> {
    const rows = await this.db.query<{ hash: string }>(`SELECT DISTINCT b.hash FROM snapshot_blocks b
      JOIN snapshots s ON s.snapshot_id = b.snapshot_id WHERE s.region = $1`, [region]);
    return new Set(rows.map((r) => r.hash));
  }

  usage(region: string, ownerId?: string): Promise<SnapshotUsage[]> {
    return usage(this.db, region, ownerId);
  }

  storedBlocksByOwner(region: string): Promise<Map<string, number>> {
    return storedBlocksByOwner(this.db, region);
  }

  storedBlocksExcluding(region: string, ownerId: string, excluding: string[]): Promise<number> {
    return storedBlocksExcluding(this.db, region, ownerId, excluding);
  }

  leftBehind(region: string, ownerId?: string): Promise<LeftBehindSnapshot[]> {
    return leftBehind(this.db, region, ownerId);
  }
}

/** Removes a snapshot with its map, permissions, left-behind records and tags; in the caller's transaction. */
async function deleteSnapshotRows(q: Queryable, region: string, snapshotId: string): Promise<boolean> {
  const gone = await q.query('DELETE FROM snapshots WHERE snapshot_id = $1 AND region = $2 RETURNING 1', [snapshotId, region]);
  if (!gone.length) {
    // The row is gone already. A snapshot moved into the Recycle Bin keeps its block map under
    // the same id; otherwise what is left is mapped to no snapshot (a copy deleted while it ran
    // still maps its last batch) and goes.
    const [binned] = await q.query('SELECT 1 FROM recycle_bin WHERE resource_id = $1 AND region = $2', [snapshotId, region]);
    if (!binned) await q.query('DELETE FROM snapshot_blocks WHERE snapshot_id = $1', [snapshotId]);
    return false;
  }
  await q.query('DELETE FROM snapshot_blocks WHERE snapshot_id = $1', [snapshotId]);
  await q.query('DELETE FROM create_volume_permissions WHERE snapshot_id = $1', [snapshotId]);
  await q.query('DELETE FROM deregistered_image_snapshots WHERE snapshot_id = $1 AND region = $2', [snapshotId, region]);
  await q.query('DELETE FROM tags WHERE resource_id = $1 AND region = $2', [snapshotId, region]);
  return true;
}

/** The first image in the region that names the snapshot; run inside the caller's transaction. */
export async function imageUsing(q: Queryable, region: string, snapshotId: string): Promise<string | undefined> {
  const [row] = await q.query<{ image_id: string }>(`SELECT i.image_id FROM image_snapshots s JOIN images i ON i.image_id = s.image_id
    WHERE s.snapshot_id = $1 AND i.region = $2 ORDER BY i.image_id LIMIT 1`, [snapshotId, region]);
  return row?.image_id;
}

/** The first image in the region's Recycle Bin that names the snapshot (restoring it needs the snapshot). */
export async function binnedImageUsing(q: Queryable, region: string, snapshotId: string): Promise<string | undefined> {
  const [row] = await q.query<{ resource_id: string }>(`${BINNED_IMAGES_NAMING} AND r.region = $1 AND m->'ebs'->>'snapshotId' = $2
    ORDER BY r.resource_id LIMIT 1`, [region, snapshotId]);
  return row?.resource_id;
}
