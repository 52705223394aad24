// Volumes and their own blocks in SQLite.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type { BlockEntry } from '../../ports/snapshot-repository.ts';
import type { JournalPage, VolumeQuery, VolumeRecord, VolumeRepository } from '../../ports/volume-repository.ts';
import { putTags, type Tx } from './sqlite-tags.ts';

type Row = Record<string, SQLInputValue>;
const SCAN_BATCH = 500;
const toRecord = (row: Row): VolumeRecord => JSON.parse(String(row.doc));
const toEntry = (r: Row): BlockEntry => (r.checksum == null
  ? { index: Number(r.block_index), hash: String(r.hash) }
  : { index: Number(r.block_index), hash: String(r.hash), checksum: String(r.checksum) });

export class SqliteVolumes implements VolumeRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  constructor(db: DatabaseSync, tx: Tx) {
    this.db = db;
    this.tx = tx;
  }

  async insert(r: VolumeRecord, tags?: { account: string; tags: Tag[] }): Promise<void> {
    this.tx(() => {
      this.db.prepare('INSERT INTO volumes (volume_id, region, owner_id, state, client_token, snapshot_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(r.volumeId, r.region, r.ownerId, r.state, r.clientToken ?? null, r.snapshotId ?? null, JSON.stringify(r));
      if (tags?.tags.length) putTags(this.db, tags.account, r.region, [{ id: r.volumeId, type: 'volume' }], tags.tags);
    });
  }

  async get(region: string, volumeId: string): Promise<VolumeRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM volumes WHERE volume_id = ? AND region = ?').get(volumeId, region) as Row | undefined;
    return row && toRecord(row);
  }

  async findByClientToken(region: string, ownerId: string, clientToken: string): Promise<VolumeRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM volumes WHERE region = ? AND owner_id = ? AND client_token = ?')
      .get(region, ownerId, clientToken) as Row | undefined;
    return row && toRecord(row);
  }

  async update(r: VolumeRecord): Promise<void> {
    this.db.prepare('UPDATE volumes SET state = ?, doc = ? WHERE volume_id = ?').run(r.state, JSON.stringify(r), r.volumeId);
  }

  async delete(region: string, volumeId: string): Promise<boolean> {
    return this.tx(() => {
      this.db.prepare('DELETE FROM volume_blocks WHERE volume_id = ?').run(volumeId);
      this.db.prepare('DELETE FROM volume_journal WHERE volume_id = ?').run(volumeId);
      this.db.prepare('DELETE FROM tags WHERE resource_id = ? AND region = ?').run(volumeId, region);
      return Number(this.db.prepare('DELETE FROM volumes WHERE volume_id = ? AND region = ?').run(volumeId, region).changes) > 0;
    });
  }

  async *scan(q: VolumeQuery): AsyncIterable<VolumeRecord> {
    const where = ['region = ?', 'owner_id = ?'];
    const params: SQLInputValue[] = [q.region, q.ownerId];
    if (q.volumeIds) {
      where.push('volume_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(q.volumeIds));
    }
    where.push('volume_id > ?');
    const stmt = this.db.prepare(`SELECT volume_id, doc FROM volumes WHERE ${where.join(' AND ')} ORDER BY volume_id LIMIT ?`);
    let after = q.afterVolumeId ?? '';
    for (;;) {
      const rows = stmt.all(...params, after, SCAN_BATCH) as Row[];
      for (const row of rows) yield toRecord(row);
      if (rows.length < SCAN_BATCH) return;
      after = String(rows[rows.length - 1].volume_id);
    }
  }

  async attachedTo(region: string, ownerId: string, instanceIds: string[]): Promise<VolumeRecord[]> {
    if (!instanceIds.length) return [];
    return (this.db.prepare(`SELECT doc FROM volumes v WHERE region = ? AND owner_id = ? AND EXISTS (
        SELECT 1 FROM json_each(v.doc, '$.attachments') a
        WHERE json_extract(a.value, '$.instanceId') IN (SELECT value FROM json_each(?)) AND json_extract(a.value, '$.state') != 'detached')
      ORDER BY volume_id`).all(region, ownerId, JSON.stringify(instanceIds)) as Row[]).map(toRecord);
  }

  async block(volumeId: string, index: number): Promise<string | undefined> {
    const row = this.db.prepare('SELECT hash FROM volume_blocks WHERE volume_id = ? AND block_index = ?').get(volumeId, index) as Row | undefined;
    return row ? String(row.hash) : undefined;
  }

  async entry(volumeId: string, index: number): Promise<BlockEntry | undefined> {
    const row = this.db.prepare('SELECT block_index, hash, checksum FROM volume_blocks WHERE volume_id = ? AND block_index = ?')
      .get(volumeId, index) as Row | undefined;
    return row ? toEntry(row) : undefined;
  }

  async putBlock(volumeId: string, index: number, hash: string, checksum?: string): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO volume_blocks (volume_id, block_index, hash, checksum) VALUES (?, ?, ?, ?)')
      .run(volumeId, index, hash, checksum ?? null);
  }

  async journalPages(volumeId: string, index: number): Promise<JournalPage[]> {
    return (this.db.prepare('SELECT page, data FROM volume_journal WHERE volume_id = ? AND block_index = ? ORDER BY page')
      .all(volumeId, index) as Row[]).map((r) => ({ index, page: Number(r.page), data: Buffer.from(r.data as Uint8Array) }));
  }

  async journalIndex(volumeId: string): Promise<{ index: number; page: number }[]> {
    return (this.db.prepare('SELECT block_index, page FROM volume_journal WHERE volume_id = ? ORDER BY block_index, page')
      .all(volumeId) as Row[]).map((r) => ({ index: Number(r.block_index), page: Number(r.page) }));
  }

  async commitWrites(volumeId: string, writes: { blocks: BlockEntry[]; pages: JournalPage[] }): Promise<void> {
    this.tx(() => {
      const map = this.db.prepare('INSERT OR REPLACE INTO volume_blocks (volume_id, block_index, hash, checksum) VALUES (?, ?, ?, ?)');
      const drop = this.db.prepare('DELETE FROM volume_journal WHERE volume_id = ? AND block_index = ?');
      for (const b of writes.blocks) {
        map.run(volumeId, b.index, b.hash, b.checksum ?? null);
        drop.run(volumeId, b.index);
      }
      const page = this.db.prepare('INSERT OR REPLACE INTO volume_journal (volume_id, block_index, page, data) VALUES (?, ?, ?, ?)');
      for (const p of writes.pages) page.run(volumeId, p.index, p.page, p.data);
    });
  }

  async ownBlocks(volumeId: string): Promise<BlockEntry[]> {
    return (this.db.prepare('SELECT block_index, hash, checksum FROM volume_blocks WHERE volume_id = ? ORDER BY block_index')
      .all(volumeId) as Row[]).map(toEntry);
  }

  async snapshotVolumes(items: { volumeId: string; snapshotId: string; parentSnapshotId?: string }[]): Promise<void> {
    // One transaction: no write lands between two volumes' snapshots (crash-consistent).
    this.tx(() => {
      for (const it of items) {
        if (it.parentSnapshotId) {
          this.db.prepare(`INSERT OR REPLACE INTO snapshot_blocks (snapshot_id, block_index, hash, written, checksum)
            SELECT ?, block_index, hash, 0, checksum FROM snapshot_blocks WHERE snapshot_id = ?`).run(it.snapshotId, it.parentSnapshotId);
        }
        this.db.prepare(`INSERT OR REPLACE INTO snapshot_blocks (snapshot_id, block_index, hash, written, checksum)
          SELECT ?, block_index, hash, 1, checksum FROM volume_blocks WHERE volume_id = ?`).run(it.snapshotId, it.volumeId);
      }
    });
  }

  async adoptSnapshotBlocks(snapshotId: string): Promise<number> {
    return this.tx(() => adoptSnapshotBlocks(this.db, snapshotId));
  }

  async referencedHashes(region: string): Promise<Set<string>> {
    const out = new Set<string>();
    const stmt = this.db.prepare('SELECT DISTINCT b.hash FROM volume_blocks b JOIN volumes v ON v.volume_id = b.volume_id WHERE v.region = ?');
    for (const row of stmt.iterate(region) as Iterable<Row>) out.add(String(row.hash));
    return out;
  }
}

/**
 * Volumes made from the snapshot copy its entries they have not overwritten, so they keep their
 * data once it is gone. Runs inside the caller's transaction (a snapshot deletion's).
 */
export function adoptSnapshotBlocks(db: DatabaseSync, snapshotId: string): number {
  return Number(db.prepare(`INSERT OR IGNORE INTO volume_blocks (volume_id, block_index, hash, checksum)
    SELECT v.volume_id, b.block_index, b.hash, b.checksum FROM volumes v JOIN snapshot_blocks b ON b.snapshot_id = v.snapshot_id
    WHERE v.snapshot_id = ?`).run(snapshotId).changes);
}
