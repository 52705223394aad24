// Volumes, their own blocks and small-write journals in PostgreSQL.
import { Errors } from '../../domain/errors.ts';
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type { BlockEntry } from '../../ports/snapshot-repository.ts';
import type { JournalPage, VolumeQuery, VolumeRecord, VolumeRepository } from '../../ports/volume-repository.ts';
import type { PgDatabase, Queryable } from './pg-database.ts';
import { putTags } from './pg-tags.ts';

type Row = { volume_id: string; doc: VolumeRecord };
type EntryRow = { block_index: number; hash: string; checksum: string | null };
const SCAN_BATCH = 500;
const toEntry = (r: EntryRow): BlockEntry => (r.checksum == null
  ? { index: r.block_index, hash: r.hash }
  : { index: r.block_index, hash: r.hash, checksum: r.checksum });

export class PgVolumes implements VolumeRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async insert(r: VolumeRecord, tags?: { account: string; tags: Tag[] }): Promise<void> {
    await this.db.tx(async (q) => {
      // The source snapshot stays share-locked until this commits: a node deleting it waits,
      // then sees this volume and lets it adopt the snapshot's blocks; had the deletion come
      // first, the volume is refused rather than left reading a map that is gone.
      if (r.snapshotId) {
        const [source] = await q.query('SELECT 1 FROM snapshots WHERE snapshot_id = $1 AND region = $2 FOR SHARE', [r.snapshotId, r.region]);
        if (!source) throw Errors.snapshotNotFound(r.snapshotId);
      }
      await q.query(`INSERT INTO volumes (volume_id, region, owner_id, state, client_token, snapshot_id, doc)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [r.volumeId, r.region, r.ownerId, r.state, r.clientToken ?? null, r.snapshotId ?? null, JSON.stringify(r)]);
      if (tags?.tags.length) await putTags(q, tags.account, r.region, [{ id: r.volumeId, type: 'volume' }], tags.tags);
    });
  }

  async get(region: string, volumeId: string): Promise<VolumeRecord | undefined> {
    const [row] = await this.db.query<Row>('SELECT doc FROM volumes WHERE volume_id = $1 AND region = $2', [volumeId, region]);
    return row?.doc;
  }

  async findByClientToken(region: string, ownerId: string, clientToken: string): Promise<VolumeRecord | undefined> {
    const [row] = await this.db.query<Row>('SELECT doc FROM volumes WHERE region = $1 AND owner_id = $2 AND client_token = $3 ORDER BY volume_id LIMIT 1',
      [region, ownerId, clientToken]);
    return row?.doc;
  }

  async update(r: VolumeRecord): Promise<void> {
    await this.db.query('UPDATE volumes SET state = $2, doc = $3::jsonb WHERE volume_id = $1', [r.volumeId, r.state, JSON.stringify(r)]);
  }

  async delete(region: string, volumeId: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      await q.query('DELETE FROM volume_blocks WHERE volume_id = $1', [volumeId]);
      await q.query('DELETE FROM volume_journal WHERE volume_id = $1', [volumeId]);
      await q.query('DELETE FROM tags WHERE resource_id = $1 AND region = $2', [volumeId, region]);
      return (await q.query('DELETE FROM volumes WHERE volume_id = $1 AND region = $2 RETURNING 1', [volumeId, region])).length > 0;
    });
  }

  async *scan(q: VolumeQuery): AsyncIterable<VolumeRecord> {
    const params: unknown[] = [q.region, q.ownerId];
    const where = ['region = $1', 'owner_id = $2'];
    if (q.volumeIds) where.push(`volume_id = ANY($${params.push(q.volumeIds)}::text[])`);
    const sql = `SELECT volume_id, doc FROM volumes WHERE ${where.join(' AND ')} AND volume_id > $${params.length + 1}
      ORDER BY volume_id LIMIT ${SCAN_BATCH}`;
    let after = q.afterVolumeId ?? '';
    for (;;) {
      const rows = await this.db.query<Row>(sql, [...params, after]);
      for (const row of rows) yield row.doc;
      if (rows.length < SCAN_BATCH) return;
      after = rows[rows.length - 1].volume_id;
    }
  }

  async attachedTo(region: string, ownerId: string, instanceIds: string[]): Promise<VolumeRecord[]> {
    if (!instanceIds.length) return [];
    return (await this.db.query<Row>(`SELECT doc FROM volumes v WHERE region = $1 AND owner_id = $2 AND EXISTS (
        SELECT 1 FROM jsonb_array_elements(coalesce(v.doc->'attachments', '[]'::jsonb)) a
        WHERE a->>'instanceId' = ANY($3::text[]) AND a->>'state' <> 'detached')
      ORDER BY volume_id`, [region, ownerId, instanceIds])).map((r) => r.doc);
  }

  async block(volumeId: string, index: number): Promise<string | undefined> {
    return (await this.entry(volumeId, index))?.hash;
  }

  async entry(volumeId: string, index: number): Promise<BlockEntry | undefined> {
    const [row] = await this.db.query<EntryRow>('SELECT block_index, hash, checksum FROM volume_blocks WHERE volume_id = $1 AND block_index = $2',
      [volumeId, index]);
    return row && toEntry(row);
  }

  async putBlock(volumeId: string, index: number, hash: string, checksum?: string): Promise<void> {
    await this.db.query(`INSERT INTO volume_blocks (volume_id, block_index, hash, checksum) VALUES ($1, $2, $3, $4)
      ON CONFLICT (volume_id, block_index) DO UPDATE SET hash = excluded.hash, checksum = excluded.checksum`, [volumeId, index, hash, checksum ?? null]);
  }

  async journalPages(volumeId: string, index: number): Promise<JournalPage[]> {
    return (await this.db.query<{ page: number; data: Buffer }>('SELECT page, data FROM volume_journal WHERE volume_id = $1 AND block_index = $2 ORDER BY page',
      [volumeId, index])).map((r) => ({ index, page: r.page, data: r.data }));
  }

  async journalIndex(volumeId: string): Promise<{ index: number; page: number }[]> {
    return (await this.db.query<{ block_index: number; page: number }>(
      'SELECT block_index, page FROM volume_journal WHERE volume_id = $1 ORDER BY block_index, page', [volumeId]))
      .map((r) => ({ index: r.block_index, page: r.page }));
  }

  async commitWrites(volumeId: string, writes: { blocks: BlockEntry[]; pages: JournalPage[] }): Promise<void> {
    await this.db.tx(async (q) => {
      const { blocks, pages } = writes;
      if (blocks.length) {
        await q.query(`INSERT INTO volume_blocks (volume_id, block_index, hash, checksum)
          SELECT $1, i, h, c FROM unnest($2::int[], $3::text[], $4::text[]) AS e(i, h, c)
          ON CONFLICT (volume_id, block_index) DO UPDATE SET hash = excluded.hash, checksum = excluded.checksum`,
        [volumeId, blocks.map((b) => b.index), blocks.map((b) => b.hash), blocks.map((b) => b.checksum ?? null)]);
        await q.query('DELETE FROM volume_journal WHERE volume_id = $1 AND block_index = ANY($2::int[])', [volumeId, blocks.map((b) => b.index)]);
      }
      // One statement may not upsert a row twice: the last version of each page wins, as it would in order.
      const newest = new Map(pages.map((p) => [`${p.index}/${p.page}`, p]));
      for (const p of newest.values()) {
        await q.query(`INSERT INTO volume_journal (volume_id, block_index, page, data) VALUES ($1, $2, $3, $4)
          ON CONFLICT (volume_id, block_index, page) DO UPDATE SET data = excluded.data`, [volumeId, p.index, p.page, p.data]);
      }
    });
  }

  async ownBlocks(volumeId: string): Promise<BlockEntry[]> {
    return (await this.db.query<EntryRow>('SELECT block_index, hash, checksum FROM volume_blocks WHERE volume_id = $1 ORDER BY block_index',
      [volumeId])).map(toEntry);
  }

  async snapshotVolumes(items: { volumeId: string; snapshotId: string; parentSnapshotId?: string }[]): Promise<void> {
    // One REPEATABLE READ transaction: every statement reads the same instant, so no write
    // committed by another node lands in one volume's snapshot and not another's (crash-consistent).
    await this.db.tx(async (q) => {
      for (const it of items) {
        if (it.parentSnapshotId) {
          await q.query(`INSERT INTO snapshot_blocks (snapshot_id, block_index, hash, written, checksum)
            SELECT $1, block_index, hash, false, checksum FROM snapshot_blocks WHERE snapshot_id = $2
            ON CONFLICT (snapshot_id, block_index) DO UPDATE SET hash = excluded.hash, written = false, checksum = excluded.checksum`,
          [it.snapshotId, it.parentSnapshotId]);
        }
        await q.query(`INSERT INTO snapshot_blocks (snapshot_id, block_index, hash, written, checksum)
          SELECT $1, block_index, hash, true, checksum FROM volume_blocks WHERE volume_id = $2
          ON CONFLICT (snapshot_id, block_index) DO UPDATE SET hash = excluded.hash, written = true, checksum = excluded.checksum`,
        [it.snapshotId, it.volumeId]);
      }
    }, 'repeatable read');
  }

  async adoptSnapshotBlocks(snapshotId: string): Promise<number> {
    return this.db.tx((q) => adoptSnapshotBlocks(q, snapshotId));
  }

  async referencedHashes(region: string): Promise<Set<string>> {
    const rows = await this.db.query<{ hash: string }>(`SELECT DISTINCT b.hash FROM volume_blocks b JOIN volumes v ON v.volume_id = b.volume_id
      WHERE v.region = $1`, [region]);
    return new Set(rows.map((r) => r.hash));
  }
}

/**
 * Volumes made from the snapshot copy its entries they have not overwritten, so they keep their
 * data once it is gone. Runs inside the caller's transaction (a snapshot deletion's).
 */
export async function adoptSnapshotBlocks(q: Queryable, snapshotId: string): Promise<number> {
  const [row] = await q.query<{ n: number }>(`WITH adopted AS (INSERT INTO volume_blocks (volume_id, block_index, hash, checksum)
    SELECT v.volume_id, b.block_index, b.hash, b.checksum FROM volumes v JOIN snapshot_blocks b ON b.snapshot_id = v.snapshot_id
    WHERE v.snapshot_id = $1 ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*)::int AS n FROM adopted`, [snapshotId]);
  return row.n;
}
