// Tags in SQLite. Rows belong to the account that set them.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { Errors } from '../../domain/errors.ts';
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type { TagQuery, TagRecord, TagRepository } from '../../ports/metadata-store.ts';

type Row = Record<string, SQLInputValue>;
export type Tx = <T>(fn: () => T) => T;

const SCAN_BATCH = 500;

// DescribeTags sees the tags of resources in the Recycle Bin too (kept in their entry, which the
// owner may still retag), with the system tag AWS assigns while a resource is there.
const BIN_TYPE = "CASE r.resource_type WHEN 'EC2_IMAGE' THEN 'image' ELSE 'snapshot' END";
const TAGS_WITH_RECYCLE_BIN = `
  SELECT account, region, resource_id, resource_type, key, value FROM tags
  UNION ALL SELECT r.account, r.region, r.resource_id, ${BIN_TYPE}, json_extract(t.value, '$.Key'), json_extract(t.value, '$.Value')
    FROM recycle_bin r, json_each(r.doc, '$.tags') t
  UNION ALL SELECT r.account, r.region, r.resource_id, ${BIN_TYPE}, 'aws:recycle-bin:resource-in-bin', 'true' FROM recycle_bin r`;
const MAX_TAGS_PER_RESOURCE = 50;

export function putTags(db: DatabaseSync, account: string, region: string, resources: { id: string; type: string }[], tags: Tag[]): void {
  const upsert = db.prepare(`INSERT INTO tags (account, region, resource_id, resource_type, key, value) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (account, region, resource_id, key) DO UPDATE SET value = excluded.value`);
  const count = db.prepare('SELECT count(*) AS n FROM tags WHERE account = ? AND region = ? AND resource_id = ?');
  for (const r of resources) {
    for (const tag of tags) upsert.run(account, region, r.id, r.type, tag.Key ?? '', tag.Value ?? '');
    if (Number((count.get(account, region, r.id) as Row).n) > MAX_TAGS_PER_RESOURCE) throw Errors.tagLimitExceeded();
  }
}

export class SqliteTags implements TagRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  constructor(db: DatabaseSync, tx: Tx) {
    this.db = db;
    this.tx = tx;
  }

  async forResources(account: string, region: string, resourceIds: string[]): Promise<Map<string, Tag[]>> {
    const out = new Map<string, Tag[]>();
    if (!resourceIds.length) return out;
    const rows = this.db.prepare(`SELECT resource_id, key, value FROM tags WHERE account = ? AND region = ?
      AND resource_id IN (SELECT value FROM json_each(?)) ORDER BY resource_id, key`)
      .all(account, region, JSON.stringify(resourceIds)) as Row[];
    for (const r of rows) {
      const id = String(r.resource_id);
      let list = out.get(id);
      if (!list) out.set(id, (list = []));
      list.push({ Key: String(r.key), Value: String(r.value) });
    }
    return out;
  }

  async put(account: string, region: string, resources: { id: string; type: string }[], tags: Tag[]): Promise<void> {
    this.tx(() => putTags(this.db, account, region, resources, tags));
  }

  async remove(account: string, region: string, resourceIds: string[], tags: Tag[] | undefined): Promise<void> {
    this.tx(() => {
      for (const id of resourceIds) {
        if (!tags) {
          this.db.prepare('DELETE FROM tags WHERE account = ? AND region = ? AND resource_id = ?').run(account, region, id);
          continue;
        }
        for (const t of tags) {
          if (t.Value === undefined) {
            this.db.prepare('DELETE FROM tags WHERE account = ? AND region = ? AND resource_id = ? AND key = ?')
              .run(account, region, id, t.Key ?? '');
          } else {
            this.db.prepare('DELETE FROM tags WHERE account = ? AND region = ? AND resource_id = ? AND key = ? AND value = ?')
              .run(account, region, id, t.Key ?? '', t.Value);
          }
        }
      }
    });
  }

  async *scan(q: TagQuery): AsyncIterable<TagRecord> {
    const where = ['account = ?', 'region = ?'];
    const params: SQLInputValue[] = [q.account, q.region];
    for (const [column, values] of [['resource_id', q.resourceIds], ['resource_type', q.resourceTypes], ['key', q.keys]] as const) {
      if (!values) continue;
      where.push(`${column} IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(values));
    }
    where.push("(resource_id || char(0) || key) > ?");
    const stmt = this.db.prepare(`SELECT resource_id, resource_type, key, value FROM (${TAGS_WITH_RECYCLE_BIN}) WHERE ${where.join(' AND ')}
      ORDER BY resource_id, key LIMIT ?`);
    let after = q.afterCursor ?? '';
    for (;;) {
      const rows = stmt.all(...params, after, SCAN_BATCH) as Row[];
      for (const r of rows) {
        yield { resourceId: String(r.resource_id), resourceType: String(r.resource_type), key: String(r.key), value: String(r.value) };
      }
      if (rows.length < SCAN_BATCH) return;
      const last = rows[rows.length - 1];
      after = `${last.resource_id}\u0000${last.key}`;
    }
  }
}
