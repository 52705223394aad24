// Recycle Bin rules and binned resources in PostgreSQL. Moving a resource into or out of the bin
// is one transaction, so a crash leaves it either live or binned, never both or neither; row
// locks make two nodes moving the same resource at once do it once.
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import type {
  BinEntry, BinnedImage, BinnedSnapshot, BinQuery, RecycleBinRepository, RetainedResourceType, RetentionRuleRecord,
} from '../../ports/recycle-bin-repository.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { PgDatabase, Queryable } from './pg-database.ts';
import { deleteImageRows } from './pg-images.ts';

/** The live tables' own writers, run inside this adapter's transactions. */
export interface LiveWriters {
  images: { insertInTx(q: Queryable, record: ImageRecord, tags?: { account: string; tags: Tag[] }): Promise<void> };
  snapshots: { insertInTx(q: Queryable, record: SnapshotRecord, tags?: { account: string; tags: Tag[] }): Promise<void> };
}

export class PgRecycleBin implements RecycleBinRepository {
  private readonly db: PgDatabase;
  private readonly live: LiveWriters;
  constructor(db: PgDatabase, live: LiveWriters) {
    this.db = db;
    this.live = live;
  }

  async insertRule(r: RetentionRuleRecord): Promise<void> {
    await this.db.query('INSERT INTO rbin_rules (rule_id, account, region, resource_type, doc) VALUES ($1, $2, $3, $4, $5)',
      [r.ruleId, r.account, r.region, r.resourceType, JSON.stringify(r)]);
  }

  async getRule(account: string, region: string, ruleId: string): Promise<RetentionRuleRecord | undefined> {
    const [row] = await this.db.query<{ doc: RetentionRuleRecord }>('SELECT doc FROM rbin_rules WHERE rule_id = $1 AND account = $2 AND region = $3',
      [ruleId, account, region]);
    return row?.doc;
  }

  async listRules(account: string, region: string, resourceType?: RetainedResourceType): Promise<RetentionRuleRecord[]> {
    const rows = await this.db.query<{ doc: RetentionRuleRecord }>(`SELECT doc FROM rbin_rules WHERE account = $1 AND region = $2
      AND ($3::text IS NULL OR resource_type = $3) ORDER BY rule_id`, [account, region, resourceType ?? null]);
    return rows.map((r) => r.doc);
  }

  async updateRule(r: RetentionRuleRecord): Promise<void> {
    await this.db.query('UPDATE rbin_rules SET doc = $1 WHERE rule_id = $2 AND account = $3 AND region = $4',
      [JSON.stringify(r), r.ruleId, r.account, r.region]);
  }

  async deleteRule(account: string, region: string, ruleId: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM rbin_rules WHERE rule_id = $1 AND account = $2 AND region = $3 RETURNING 1',
      [ruleId, account, region])).length > 0;
  }

  private async insertEntry(q: Queryable, e: BinEntry): Promise<void> {
    await q.query('INSERT INTO recycle_bin (resource_id, resource_type, account, region, exit_time, doc) VALUES ($1, $2, $3, $4, $5, $6)',
      [e.resourceId, e.resourceType, e.account, e.region, e.exitTime, JSON.stringify(e)]);
  }

  async binImage(e: BinnedImage): Promise<void> {
    await this.db.tx(async (q) => {
      // Only an image still live enters the bin: two nodes binning it (or one deregistering it)
      // at once leave one entry, or none.
      const [row] = await q.query('SELECT 1 FROM images WHERE image_id = $1 AND region = $2 FOR UPDATE', [e.resourceId, e.region]);
      if (!row) return;
      await deleteImageRows(q, e.region, e.resourceId);
      await this.insertEntry(q, e);
    });
  }

  async binSnapshot(e: BinnedSnapshot): Promise<{ binned: boolean; inUseBy?: string }> {
    return this.db.tx(async (q) => {
      const id = e.resourceId;
      // The snapshot's row is locked before images are looked at: an image being registered on
      // it holds a share lock on the same row (PgImages.insertInTx), so one of the two waits for
      // the other and then sees its outcome.
      const [row] = await q.query('SELECT 1 FROM snapshots WHERE snapshot_id = $1 AND region = $2 FOR UPDATE', [id, e.region]);
      if (!row) return { binned: false };
      const [user] = await q.query<{ image_id: string }>(`SELECT i.image_id FROM image_snapshots s JOIN images i ON i.image_id = s.image_id
        WHERE s.snapshot_id = $1 AND i.region = $2 ORDER BY i.image_id LIMIT 1`, [id, e.region]);
      if (user) return { binned: false, inUseBy: user.image_id };
      await q.query('DELETE FROM snapshots WHERE snapshot_id = $1 AND region = $2', [id, e.region]);
      await q.query('DELETE FROM create_volume_permissions WHERE snapshot_id = $1', [id]);
      await q.query('DELETE FROM tags WHERE resource_id = $1 AND region = $2', [id, e.region]);
      await this.insertEntry(q, e);
      return { binned: true };
    });
  }

  async retag(account: string, region: string, resourceId: string, change: (tags: Tag[]) => Tag[]): Promise<boolean> {
    return this.db.tx(async (q) => {
      const [row] = await q.query<{ doc: BinEntry }>('SELECT doc FROM recycle_bin WHERE resource_id = $1 AND account = $2 AND region = $3 FOR UPDATE',
        [resourceId, account, region]);
      if (!row) return false;
      const e = row.doc;
      e.tags = change(e.tags);
      await q.query('UPDATE recycle_bin SET doc = $1 WHERE resource_id = $2', [JSON.stringify(e), resourceId]);
      return true;
    });
  }

  async getBinned(account: string, region: string, resourceType: RetainedResourceType, resourceId: string): Promise<BinEntry | undefined> {
    const [row] = await this.db.query<{ doc: BinEntry }>(`SELECT doc FROM recycle_bin
      WHERE resource_id = $1 AND resource_type = $2 AND account = $3 AND region = $4`, [resourceId, resourceType, account, region]);
    return row?.doc;
  }

  async listBinned(q: BinQuery): Promise<BinEntry[]> {
    const rows = await this.db.query<{ doc: BinEntry }>(`SELECT doc FROM recycle_bin WHERE account = $1 AND region = $2 AND resource_type = $3
      AND resource_id > $4 AND ($5::text[] IS NULL OR resource_id = ANY($5::text[])) ORDER BY resource_id LIMIT $6`,
    [q.account, q.region, q.resourceType, q.afterId ?? '', q.resourceIds ?? null, q.limit]);
    return rows.map((r) => r.doc);
  }

  async restore(e: BinEntry): Promise<void> {
    await this.db.tx(async (q) => {
      // Taking the entry first makes a second, concurrent restore of it find nothing to do.
      const taken = await q.query('DELETE FROM recycle_bin WHERE resource_id = $1 RETURNING 1', [e.resourceId]);
      if (!taken.length) return;
      const tags = { account: e.account, tags: e.tags };
      if (e.resourceType === 'EC2_IMAGE') {
        // Share-locks the snapshots the image names, as registering does: a node deleting one of
        // them (which locks it, then looks for live and binned images naming it) either finishes
        // first or waits and sees the restored image; never a moment with neither.
        await q.query('SELECT 1 FROM snapshots WHERE snapshot_id = ANY($1::text[]) AND region = $2 ORDER BY snapshot_id FOR SHARE',
          [snapshotIdsOf(e.image), e.region]);
        await this.live.images.insertInTx(q, e.image, tags);
      }
      else await this.live.snapshots.insertInTx(q, e.snapshot, tags);
    });
  }

  async expired(now: string): Promise<BinEntry[]> {
    const rows = await this.db.query<{ doc: BinEntry }>('SELECT doc FROM recycle_bin WHERE exit_time <= $1 ORDER BY exit_time', [now]);
    return rows.map((r) => r.doc);
  }

  async purge(e: BinEntry): Promise<void> {
    await this.db.tx(async (q) => {
      const taken = await q.query('DELETE FROM recycle_bin WHERE resource_id = $1 RETURNING 1', [e.resourceId]);
      if (!taken.length) return;
      if (e.resourceType === 'EBS_SNAPSHOT') {
        await q.query('DELETE FROM snapshot_blocks WHERE snapshot_id = $1', [e.resourceId]);
        return;
      }
      // Its snapshots are now left behind by a deregistered image, as after an ordinary
      // DeregisterImage (what the storage report and clean-up look for).
      const snapshotIds = snapshotIdsOf(e.image);
      await q.query(`INSERT INTO deregistered_image_snapshots (snapshot_id, image_id, region)
        SELECT snapshot_id, $1, region FROM snapshots WHERE snapshot_id = ANY($2::text[]) AND region = $3 ON CONFLICT DO NOTHING`,
      [e.resourceId, snapshotIds, e.region]);
    });
  }

  async referencedHashes(region: string): Promise<Set<string>> {
    const rows = await this.db.query<{ hash: string }>(`SELECT DISTINCT b.hash FROM snapshot_blocks b JOIN recycle_bin r ON r.resource_id = b.snapshot_id
      WHERE r.region = $1 AND r.resource_type = 'EBS_SNAPSHOT'`, [region]);
    return new Set(rows.map((r) => r.hash));
  }
}

function snapshotIdsOf(record: ImageRecord): string[] {
  return [...new Set((record.image.blockDeviceMappings ?? []).map((m) => m.ebs?.snapshotId).filter((s): s is string => !!s))].sort();
}
