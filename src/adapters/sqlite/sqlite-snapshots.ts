// Snapshots and their block maps in SQLite.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type {
  BlockEntry, ChangedBlockEntry, LeftBehindSnapshot, SnapshotQuery, SnapshotRecord, SnapshotRepository, SnapshotState, SnapshotUsage,
} from '../../ports/snapshot-repository.ts';
import { putTags, type Tx } from './sqlite-tags.ts';
import { adoptSnapshotBlocks } from './sqlite-volumes.ts';

type Row = Record<string, SQLInputValue>;

// What AWS bills: live snapshots and those in the Recycle Bin (billed at the normal rate there;
// bin_exit is when the bin deletes them for good, NULL for a live one).
const BILLED = `billed AS (
  SELECT snapshot_id, owner_id, region, NULL AS bin_exit FROM snapshots
  UNION ALL SELECT resource_id, account, region, exit_time FROM recycle_bin WHERE resource_type = 'EBS_SNAPSHOT')`;

// Images in the Recycle Bin, one row per block device mapping (m.value); the caller adds the region and snapshot id.
const BINNED_IMAGES_NAMING = `SELECT r.resource_id FROM recycle_bin r, json_each(r.doc, '$.image.image.blockDeviceMappings') m
  WHERE r.resource_type = 'EC2_IMAGE'`;
const SCAN_BATCH = 500;

const toRecord = (row: Row): SnapshotRecord => JSON.parse(String(row.doc));
const toEntry = (r: Row): BlockEntry => (r.checksum == null
  ? { index: Number(r.block_index), hash: String(r.hash) }
  : { index: Number(r.block_index), hash: String(r.hash), checksum: String(r.checksum) });

export class SqliteSnapshots implements SnapshotRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  constructor(db: DatabaseSync, tx: Tx) {
    this.db = db;
    this.tx = tx;
  }

  private columns(r: SnapshotRecord): SQLInputValue[] {
    const isPublic = r.createVolumePermissions.some((p) => p.Group === 'all') ? 1 : 0;
    return [r.region, r.ownerId, r.ownerAlias ?? null, r.state, isPublic, r.clientToken ?? null, JSON.stringify(r)];
  }

  private writePermissions(r: SnapshotRecord): void {
    this.db.prepare('DELETE FROM create_volume_permissions WHERE snapshot_id = ?').run(r.snapshotId);
    const insert = this.db.prepare('INSERT OR IGNORE INTO create_volume_permissions (snapshot_id, kind, value) VALUES (?, ?, ?)');
    for (const p of r.createVolumePermissions) {
      insert.run(r.snapshotId, p.Group ? 'group' : 'user', p.Group ?? p.UserId ?? '');
    }
  }

  async insert(r: SnapshotRecord, tags?: { account: string; tags: Tag[] }): Promise<void> {
    this.tx(() => this.insertInTx(r, tags));
  }

  /** insert's writes, for a caller already in a transaction (the Recycle Bin's restore). */
  insertInTx(r: SnapshotRecord, tags?: { account: string; tags: Tag[] }): void {
    this.db.prepare(`INSERT INTO snapshots (snapshot_id, region, owner_id, owner_alias, state, is_public, client_token, doc)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(r.snapshotId, ...this.columns(r));
    this.writePermissions(r);
    if (tags?.tags.length) putTags(this.db, tags.account, r.region, [{ id: r.snapshotId, type: 'snapshot' }], tags.tags);
  }

  async get(region: string, snapshotId: string): Promise<SnapshotRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM snapshots WHERE snapshot_id = ? AND region = ?').get(snapshotId, region) as Row | undefined;
    return row && toRecord(row);
  }

  async findByClientToken(region: string, ownerId: string, clientToken: string): Promise<SnapshotRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM snapshots WHERE region = ? AND owner_id = ? AND client_token = ?')
      .get(region, ownerId, clientToken) as Row | undefined;
    return row && toRecord(row);
  }

  async update(r: SnapshotRecord, options: { ifState?: SnapshotState } = {}): Promise<boolean> {
    return this.tx(() => {
      const [region, owner, alias, state, isPublic, token, doc] = this.columns(r);
      const sql = `UPDATE snapshots SET region = ?, owner_id = ?, owner_alias = ?, state = ?, is_public = ?, client_token = ?, doc = ?
        WHERE snapshot_id = ?${options.ifState ? ' AND state = ?' : ''}`;
      const args = [region, owner, alias, state, isPublic, token, doc, r.snapshotId, ...(options.ifState ? [options.ifState] : [])];
      if (!Number(this.db.prepare(sql).run(...args).changes)) return false;
      this.writePermissions(r);
      return true;
    });
  }

  async delete(region: string, snapshotId: string): Promise<boolean> {
    return this.tx(() => this.deleteRows(region, snapshotId));
  }

  async deleteUnlessInUse(region: string, snapshotId: string, options: { binnedImagesToo?: boolean } = {}): Promise<{ deleted: boolean; inUseBy?: string }> {
    return this.tx(() => {
      // Gone already (deleted, or moved into the Recycle Bin, whose entry keeps the block map).
      if (!this.db.prepare('SELECT 1 FROM snapshots WHERE snapshot_id = ? AND region = ?').get(snapshotId, region)) return { deleted: false };
      const inUseBy = imageUsing(this.db, region, snapshotId) ?? (options.binnedImagesToo ? binnedImageUsing(this.db, region, snapshotId) : undefined);
      if (inUseBy) return { deleted: false, inUseBy };
      adoptSnapshotBlocks(this.db, snapshotId);
      return { deleted: this.deleteRows(region, snapshotId) };
    });
  }

  private deleteRows(region: string, snapshotId: string): boolean {
    if (!Number(this.db.prepare('DELETE FROM snapshots WHERE snapshot_id = ? AND region = ?').run(snapshotId, region).changes)) {
      // The row is gone already. A snapshot moved into the Recycle Bin keeps its block map under
      // the same id; otherwise what is left is mapped to no snapshot (a copy deleted while it
      // ran still maps its last batch) and goes.
      const binned = this.db.prepare("SELECT 1 FROM recycle_bin WHERE resource_id = ? AND region = ?").get(snapshotId, region);
      if (!binned) this.db.prepare('DELETE FROM snapshot_blocks WHERE snapshot_id = ?').run(snapshotId);
      return false;
    }
    this.db.prepare('DELETE FROM snapshot_blocks WHERE snapshot_id = ?').run(snapshotId);
    this.db.prepare('DELETE FROM create_volume_permissions WHERE snapshot_id = ?').run(snapshotId);
    this.db.prepare('DELETE FROM deregistered_image_snapshots WHERE snapshot_id = ? AND region = ?').run(snapshotId, region);
    this.db.prepare('DELETE FROM tags WHERE resource_id = ? AND region = ?').run(snapshotId, region);
    return true;
  }

  async *scan(q: SnapshotQuery): AsyncIterable<SnapshotRecord> {
    const where = ['s.region = ?'];
    const params: SQLInputValue[] = [q.region];
    where.push(`(s.owner_id = ? OR s.is_public = 1 OR EXISTS (SELECT 1 FROM create_volume_permissions p
      WHERE p.snapshot_id = s.snapshot_id AND p.kind = 'user' AND p.value = ?))`);
    params.push(q.visibleTo.account, q.visibleTo.account);
    if (q.snapshotIds) {
      where.push('s.snapshot_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(q.snapshotIds));
    }
    if (q.ownerIds || q.ownerAliases) {
      where.push('(s.owner_id IN (SELECT value FROM json_each(?)) OR s.owner_alias IN (SELECT value FROM json_each(?)))');
      params.push(JSON.stringify(q.ownerIds ?? []), JSON.stringify(q.ownerAliases ?? []));
    }
    if (q.restorableBy) {
      const me = q.visibleTo.account;
      where.push(`(
        (? AND (s.owner_id = ? OR EXISTS (SELECT 1 FROM create_volume_permissions p WHERE p.snapshot_id = s.snapshot_id
          AND p.kind = 'user' AND p.value = ?)))
        OR (? AND s.is_public = 1)
        OR (s.owner_id = ? AND EXISTS (SELECT 1 FROM create_volume_permissions p WHERE p.snapshot_id = s.snapshot_id
          AND p.kind = 'user' AND p.value IN (SELECT value FROM json_each(?)))))`);
      params.push(q.restorableBy.self ? 1 : 0, me, me, q.restorableBy.includePublic ? 1 : 0, me, JSON.stringify(q.restorableBy.accounts));
    }
    where.push('s.snapshot_id > ?');
    const stmt = this.db.prepare(`SELECT s.snapshot_id, s.doc FROM snapshots s WHERE ${where.join(' AND ')} ORDER BY s.snapshot_id LIMIT ?`);
    let after = q.afterSnapshotId ?? '';
    for (;;) {
      const rows = stmt.all(...params, after, SCAN_BATCH) as Row[];
      for (const row of rows) yield toRecord(row);
      if (rows.length < SCAN_BATCH) return;
      after = String(rows[rows.length - 1].snapshot_id);
    }
  }

  async inState(state: SnapshotState): Promise<SnapshotRecord[]> {
    return (this.db.prepare('SELECT doc FROM snapshots WHERE state = ?').all(state) as Row[]).map(toRecord);
  }

  async inheritBlocks(childId: string, parentId: string): Promise<void> {
    this.tx(() => {
      this.db.prepare(`INSERT OR REPLACE INTO snapshot_blocks (snapshot_id, block_index, hash, written, checksum)
        SELECT ?, block_index, hash, 0, checksum FROM snapshot_blocks WHERE snapshot_id = ?`).run(childId, parentId);
    });
  }

  async putBlock(snapshotId: string, index: number, hash: string, checksum?: string): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO snapshot_blocks (snapshot_id, block_index, hash, written, checksum) VALUES (?, ?, ?, 1, ?)')
      .run(snapshotId, index, hash, checksum ?? null);
  }

  async putBlocks(snapshotId: string, entries: BlockEntry[]): Promise<void> {
    this.tx(() => {
      const stmt = this.db.prepare('INSERT OR REPLACE INTO snapshot_blocks (snapshot_id, block_index, hash, written, checksum) VALUES (?, ?, ?, 1, ?)');
      for (const e of entries) stmt.run(snapshotId, e.index, e.hash, e.checksum ?? null);
    });
  }

  async block(snapshotId: string, index: number): Promise<string | undefined> {
    const row = this.db.prepare('SELECT hash FROM snapshot_blocks WHERE snapshot_id = ? AND block_index = ?').get(snapshotId, index) as Row | undefined;
    return row ? String(row.hash) : undefined;
  }

  async entry(snapshotId: string, index: number): Promise<BlockEntry | undefined> {
    const row = this.db.prepare('SELECT block_index, hash, checksum FROM snapshot_blocks WHERE snapshot_id = ? AND block_index = ?')
      .get(snapshotId, index) as Row | undefined;
    return row ? toEntry(row) : undefined;
  }

  async countBlocks(snapshotId: string): Promise<number> {
    return Number((this.db.prepare('SELECT count(*) AS n FROM snapshot_blocks WHERE snapshot_id = ?').get(snapshotId) as Row).n);
  }

  async blocks(snapshotId: string, fromIndex: number, limit: number): Promise<BlockEntry[]> {
    return (this.db.prepare(`SELECT block_index, hash, checksum FROM snapshot_blocks WHERE snapshot_id = ? AND block_index >= ?
      ORDER BY block_index LIMIT ?`).all(snapshotId, fromIndex, limit) as Row[]).map(toEntry);
  }

  async writtenBlocks(snapshotId: string): Promise<BlockEntry[]> {
    return (this.db.prepare('SELECT block_index, hash, checksum FROM snapshot_blocks WHERE snapshot_id = ? AND written = 1 ORDER BY block_index')
      .all(snapshotId) as Row[]).map(toEntry);
  }

  async changedBlocks(firstId: string | undefined, secondId: string, fromIndex: number, limit: number): Promise<ChangedBlockEntry[]> {
    // A full outer join of the two maps on block index, keeping indexes whose hashes differ.
    // HAVING compares the aggregates themselves: a bare `first` there resolved to the inner
    // column (one arbitrary row of the group, always NULL on one side), so every block of both
    // snapshots was reported as changed.
    const rows = this.db.prepare(`
      SELECT block_index, max(first_hash) AS first, max(second_hash) AS second FROM (
        SELECT block_index, hash AS first_hash, NULL AS second_hash FROM snapshot_blocks WHERE snapshot_id = ? AND block_index >= ?
        UNION ALL
        SELECT block_index, NULL, hash FROM snapshot_blocks WHERE snapshot_id = ? AND block_index >= ?
      ) GROUP BY block_index HAVING max(first_hash) IS NOT max(second_hash) ORDER BY block_index LIMIT ?`)
      .all(firstId ?? '', fromIndex, secondId, fromIndex, limit) as Row[];
    return rows.map((r) => ({
      index: Number(r.block_index),
      firstHash: r.first === null ? undefined : String(r.first),
      secondHash: r.second === null ? undefined : String(r.second),
    }));
  }

  async imagesUsing(region: string, snapshotId: string): Promise<string[]> {
    return (this.db.prepare(`SELECT DISTINCT i.image_id FROM image_snapshots s JOIN images i ON i.image_id = s.image_id
      WHERE s.snapshot_id = ? AND i.region = ? ORDER BY i.image_id`).all(snapshotId, region) as Row[]).map((r) => String(r.image_id));
  }

  async referencedHashes(region: string): Promise<Set<string>> {
    const out = new Set<string>();
    const stmt = this.db.prepare(`SELECT DISTINCT b.hash FROM snapshot_blocks b JOIN snapshots s ON s.snapshot_id = b.snapshot_id
      WHERE s.region = ?`);
    for (const row of stmt.iterate(region) as Iterable<Row>) out.add(String(row.hash));
    return out;
  }

  async usage(region: string, ownerId?: string): Promise<SnapshotUsage[]> {
    // A block is a snapshot's own when no other snapshot in the region maps any index to it.
    const rows = this.db.prepare(`
      WITH ${BILLED},
      refs AS (
        SELECT b.hash, count(DISTINCT b.snapshot_id) AS n FROM snapshot_blocks b
        JOIN billed s ON s.snapshot_id = b.snapshot_id WHERE s.region = ? GROUP BY b.hash)
      SELECT s.snapshot_id, s.owner_id, s.bin_exit, count(b.hash) AS blocks,
             coalesce(sum(CASE WHEN refs.n = 1 THEN 1 ELSE 0 END), 0) AS own,
             (SELECT json_group_array(json_object('imageId', r.resource_id, 'until', r.exit_time)) FROM recycle_bin r,
                json_each(r.doc, '$.image.image.blockDeviceMappings') m
              WHERE r.resource_type = 'EC2_IMAGE' AND r.region = s.region AND json_extract(m.value, '$.ebs.snapshotId') = s.snapshot_id) AS binned_images
      FROM billed s LEFT JOIN snapshot_blocks b ON b.snapshot_id = s.snapshot_id LEFT JOIN refs ON refs.hash = b.hash
      WHERE s.region = ? AND (? IS NULL OR s.owner_id = ?)
      GROUP BY s.snapshot_id ORDER BY s.snapshot_id`).all(region, region, ownerId ?? null, ownerId ?? null) as Row[];
    return rows.map((r) => {
      const u: SnapshotUsage = { snapshotId: String(r.snapshot_id), ownerId: String(r.owner_id), blocks: Number(r.blocks), ownBlocks: Number(r.own) };
      if (r.bin_exit !== null) u.inRecycleBinUntil = String(r.bin_exit);
      const images = JSON.parse(String(r.binned_images)) as { imageId: string; until: string }[];
      if (images.length) u.binnedImages = images;
      return u;
    });
  }

  async storedBlocksByOwner(region: string): Promise<Map<string, number>> {
    const rows = this.db.prepare(`WITH ${BILLED} SELECT s.owner_id, count(DISTINCT b.hash) AS n FROM snapshot_blocks b
      JOIN billed s ON s.snapshot_id = b.snapshot_id WHERE s.region = ? GROUP BY s.owner_id`).all(region) as Row[];
    return new Map(rows.map((r) => [String(r.owner_id), Number(r.n)]));
  }

  async storedBlocksExcluding(region: string, ownerId: string, excluding: string[]): Promise<number> {
    const row = this.db.prepare(`WITH ${BILLED} SELECT count(DISTINCT b.hash) AS n FROM snapshot_blocks b
      JOIN billed s ON s.snapshot_id = b.snapshot_id
      WHERE s.region = ? AND s.owner_id = ? AND s.snapshot_id NOT IN (SELECT value FROM json_each(?))`)
      .get(region, ownerId, JSON.stringify(excluding)) as Row;
    return Number(row.n);
  }

  async leftBehind(region: string, ownerId?: string): Promise<LeftBehindSnapshot[]> {
    const rows = this.db.prepare(`
      SELECT s.snapshot_id, s.owner_id,
        (SELECT json_group_array(image_id) FROM (SELECT d.image_id FROM deregistered_image_snapshots d
           WHERE d.snapshot_id = s.snapshot_id AND d.region = s.region ORDER BY d.image_id)) AS images,
        (SELECT json_group_array(volume_id) FROM (SELECT v.volume_id FROM volumes v
           WHERE v.snapshot_id = s.snapshot_id AND v.region = s.region ORDER BY v.volume_id)) AS volumes
      FROM snapshots s
      WHERE s.region = ? AND (? IS NULL OR s.owner_id = ?)
        AND EXISTS (SELECT 1 FROM deregistered_image_snapshots d WHERE d.snapshot_id = s.snapshot_id AND d.region = s.region)
        AND NOT EXISTS (SELECT 1 FROM image_snapshots m JOIN images i ON i.image_id = m.image_id
          WHERE m.snapshot_id = s.snapshot_id AND i.region = s.region)
        AND NOT EXISTS (${BINNED_IMAGES_NAMING} AND r.region = s.region AND json_extract(m.value, '$.ebs.snapshotId') = s.snapshot_id)
      ORDER BY s.snapshot_id`).all(region, ownerId ?? null, ownerId ?? null) as Row[];
    return rows.map((r) => ({
      snapshotId: String(r.snapshot_id), ownerId: String(r.owner_id),
      imageIds: JSON.parse(String(r.images)), volumeIds: JSON.parse(String(r.volumes)),
    }));
  }
}

/** The first image in the region that names the snapshot; run inside the caller's transaction. */
export function imageUsing(db: DatabaseSync, region: string, snapshotId: string): string | undefined {
  const row = db.prepare(`SELECT i.image_id FROM image_snapshots s JOIN images i ON i.image_id = s.image_id
    WHERE s.snapshot_id = ? AND i.region = ? ORDER BY i.image_id LIMIT 1`).get(snapshotId, region) as Row | undefined;
  return row ? String(row.image_id) : undefined;
}

/** The first image in the region's Recycle Bin that names the snapshot (restoring it needs the snapshot). */
export function binnedImageUsing(db: DatabaseSync, region: string, snapshotId: string): string | undefined {
  const row = db.prepare(`${BINNED_IMAGES_NAMING} AND r.region = ? AND json_extract(m.value, '$.ebs.snapshotId') = ?
    ORDER BY r.resource_id LIMIT 1`).get(region, snapshotId) as Row | undefined;
  return row ? String(row.resource_id) : undefined;
}
