// Recycle Bin rules and binned resources in SQLite. Moving a resource into or out of the bin is
// one transaction, so a crash leaves it either live or binned, never both or neither.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import type {
  BinEntry, BinnedImage, BinnedSnapshot, BinQuery, RecycleBinRepository, RetainedResourceType, RetentionRuleRecord,
} from '../../ports/recycle-bin-repository.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import { imageUsing } from './sqlite-snapshots.ts';
import type { Tx } from './sqlite-tags.ts';

type Row = Record<string, SQLInputValue>;

/** The live tables' own writers, run inside this adapter's transactions. */
export interface LiveWriters {
  images: { insertInTx(record: ImageRecord, tags?: { account: string; tags: Tag[] }): void };
  snapshots: { insertInTx(record: SnapshotRecord, tags?: { account: string; tags: Tag[] }): void };
}

export class SqliteRecycleBin implements RecycleBinRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  private readonly live: LiveWriters;
  constructor(db: DatabaseSync, tx: Tx, live: LiveWriters) {
    this.db = db;
    this.tx = tx;
    this.live = live;
  }

  async insertRule(r: RetentionRuleRecord): Promise<void> {
    this.db.prepare('INSERT INTO rbin_rules (rule_id, account, region, resource_type, doc) VALUES (?, ?, ?, ?, ?)')
      .run(r.ruleId, r.account, r.region, r.resourceType, JSON.stringify(r));
  }

  async getRule(account: string, region: string, ruleId: string): Promise<RetentionRuleRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM rbin_rules WHERE rule_id = ? AND account = ? AND region = ?')
      .get(ruleId, account, region) as Row | undefined;
    return row && JSON.parse(String(row.doc));
  }

  async listRules(account: string, region: string, resourceType?: RetainedResourceType): Promise<RetentionRuleRecord[]> {
    const rows = this.db.prepare(`SELECT doc FROM rbin_rules WHERE account = ? AND region = ? AND (? IS NULL OR resource_type = ?)
      ORDER BY rule_id`).all(account, region, resourceType ?? null, resourceType ?? null) as Row[];
    return rows.map((r) => JSON.parse(String(r.doc)));
  }

  async updateRule(r: RetentionRuleRecord): Promise<void> {
    this.db.prepare('UPDATE rbin_rules SET doc = ? WHERE rule_id = ? AND account = ? AND region = ?')
      .run(JSON.stringify(r), r.ruleId, r.account, r.region);
  }

  async deleteRule(account: string, region: string, ruleId: string): Promise<boolean> {
    return Number(this.db.prepare('DELETE FROM rbin_rules WHERE rule_id = ? AND account = ? AND region = ?')
      .run(ruleId, account, region).changes) > 0;
  }

  private insertEntry(e: BinEntry): void {
    this.db.prepare('INSERT INTO recycle_bin (resource_id, resource_type, account, region, exit_time, doc) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.resourceId, e.resourceType, e.account, e.region, e.exitTime, JSON.stringify(e));
  }

  async binImage(e: BinnedImage): Promise<void> {
    this.tx(() => {
      const id = e.resourceId;
      this.db.prepare('DELETE FROM launch_permissions WHERE image_id = ?').run(id);
      this.db.prepare('DELETE FROM image_snapshots WHERE image_id = ?').run(id);
      this.db.prepare('DELETE FROM image_client_tokens WHERE image_id = ?').run(id);
      this.db.prepare('DELETE FROM tags WHERE resource_id = ? AND region = ?').run(id, e.region);
      this.db.prepare('DELETE FROM images WHERE image_id = ? AND region = ?').run(id, e.region);
      this.insertEntry(e);
    });
  }

  async binSnapshot(e: BinnedSnapshot): Promise<{ binned: boolean; inUseBy?: string }> {
    return this.tx(() => {
      const id = e.resourceId;
      const inUseBy = imageUsing(this.db, e.region, id);
      if (inUseBy) return { binned: false, inUseBy };
      if (!Number(this.db.prepare('DELETE FROM snapshots WHERE snapshot_id = ? AND region = ?').run(id, e.region).changes)) {
        return { binned: false };
      }
      this.db.prepare('DELETE FROM create_volume_permissions WHERE snapshot_id = ?').run(id);
      this.db.prepare('DELETE FROM tags WHERE resource_id = ? AND region = ?').run(id, e.region);
      this.insertEntry(e);
      return { binned: true };
    });
  }

  async retag(account: string, region: string, resourceId: string, change: (tags: Tag[]) => Tag[]): Promise<boolean> {
    return this.tx(() => {
      const row = this.db.prepare('SELECT doc FROM recycle_bin WHERE resource_id = ? AND account = ? AND region = ?')
        .get(resourceId, account, region) as Row | undefined;
      if (!row) return false;
      const e = JSON.parse(String(row.doc)) as BinEntry;
      e.tags = change(e.tags);
      this.db.prepare('UPDATE recycle_bin SET doc = ? WHERE resource_id = ?').run(JSON.stringify(e), resourceId);
      return true;
    });
  }

  async getBinned(account: string, region: string, resourceType: RetainedResourceType, resourceId: string): Promise<BinEntry | undefined> {
    const row = this.db.prepare('SELECT doc FROM recycle_bin WHERE resource_id = ? AND resource_type = ? AND account = ? AND region = ?')
      .get(resourceId, resourceType, account, region) as Row | undefined;
    return row && JSON.parse(String(row.doc));
  }

  async listBinned(q: BinQuery): Promise<BinEntry[]> {
    const rows = this.db.prepare(`SELECT doc FROM recycle_bin WHERE account = ? AND region = ? AND resource_type = ?
      AND resource_id > ? AND (? IS NULL OR resource_id IN (SELECT value FROM json_each(?)))
      ORDER BY resource_id LIMIT ?`).all(
      q.account, q.region, q.resourceType, q.afterId ?? '',
      q.resourceIds ? 1 : null, JSON.stringify(q.resourceIds ?? []), q.limit,
    ) as Row[];
    return rows.map((r) => JSON.parse(String(r.doc)));
  }

  async restore(e: BinEntry): Promise<void> {
    this.tx(() => {
      const tags = { account: e.account, tags: e.tags };
      if (e.resourceType === 'EC2_IMAGE') this.live.images.insertInTx(e.image, tags);
      else this.live.snapshots.insertInTx(e.snapshot, tags);
      this.db.prepare('DELETE FROM recycle_bin WHERE resource_id = ?').run(e.resourceId);
    });
  }

  async expired(now: string): Promise<BinEntry[]> {
    const rows = this.db.prepare('SELECT doc FROM recycle_bin WHERE exit_time <= ? ORDER BY exit_time').all(now) as Row[];
    return rows.map((r) => JSON.parse(String(r.doc)));
  }

  async purge(e: BinEntry): Promise<void> {
    this.tx(() => {
      if (e.resourceType === 'EBS_SNAPSHOT') this.db.prepare('DELETE FROM snapshot_blocks WHERE snapshot_id = ?').run(e.resourceId);
      else {
        // Its snapshots are now left behind by a deregistered image, as after an ordinary
        // DeregisterImage (what the storage report and clean-up look for).
        const record = this.db.prepare(`INSERT OR IGNORE INTO deregistered_image_snapshots (snapshot_id, image_id, region)
          SELECT snapshot_id, ?, region FROM snapshots WHERE snapshot_id = ? AND region = ?`);
        for (const m of e.image.image.blockDeviceMappings ?? []) {
          if (m.ebs?.snapshotId) record.run(e.resourceId, m.ebs.snapshotId, e.region);
        }
      }
      this.db.prepare('DELETE FROM recycle_bin WHERE resource_id = ?').run(e.resourceId);
    });
  }

  async referencedHashes(region: string): Promise<Set<string>> {
    const out = new Set<string>();
    const stmt = this.db.prepare(`SELECT DISTINCT b.hash FROM snapshot_blocks b JOIN recycle_bin r ON r.resource_id = b.snapshot_id
      WHERE r.region = ? AND r.resource_type = 'EBS_SNAPSHOT'`);
    for (const row of stmt.iterate(region) as Iterable<Row>) out.add(String(row.hash));
    return out;
  }
}
