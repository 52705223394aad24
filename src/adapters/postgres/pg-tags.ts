// Tags in PostgreSQL. Rows belong to the account that set them. putTags is also run by the other
// repositories inside their own transactions (a resource created with its tags).
import { Errors } from '../../domain/errors.ts';
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type { TagQuery, TagRecord, TagRepository } from '../../ports/metadata-store.ts';
import type { PgDatabase, Queryable } from './pg-database.ts';

const SCAN_BATCH = 500;
const MAX_TAGS_PER_RESOURCE = 50;

// DescribeTags sees the tags of resources in the Recycle Bin too (kept in their entry, which the
// owner may still retag), with the system tag AWS assigns while a resource is there.
const BIN_TYPE = "CASE r.resource_type WHEN 'EC2_IMAGE' THEN 'image' ELSE 'snapshot' END";
const TAGS_WITH_RECYCLE_BIN = `
  SELECT account, region, resource_id, resource_type, key, value FROM tags
  UNION ALL SELECT r.account, r.region, r.resource_id, ${BIN_TYPE}, t->>'Key', t->>'Value'
    FROM recycle_bin r, jsonb_array_elements(r.doc->'tags') t
  UNION ALL SELECT r.account, r.region, r.resource_id, ${BIN_TYPE}, 'aws:recycle-bin:resource-in-bin', 'true' FROM recycle_bin r`;

/**
 * Sets tags on resources, overwriting existing keys' values; Errors.tagLimitExceeded past 50 on
 * one resource. Run inside the caller's transaction. Each resource's tag set is locked for the
 * rest of that transaction (an advisory lock on its key; taken in id order, so two writers never
 * wait on each other in a cycle): two nodes tagging one resource at once cannot pass 50 together.
 */
export async function putTags(q: Queryable, account: string, region: string, resources: { id: string; type: string }[], tags: Tag[]): Promise<void> {
  const sorted = [...resources].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const keys = tags.map((t) => t.Key ?? '');
  const values = tags.map((t) => t.Value ?? '');
  for (const r of sorted) {
    await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [tagSetLockKey(account, region, r.id)]);
    // A statement of its own after the lock: its snapshot then sees every tag committed before.
    const [row] = await q.query<{ n: number }>(`WITH ${tagUpsert('$1', '$2', '$3', '$4', '$5', '$6')}
      SELECT ${tagCountAfter('$1', '$2', '$3')} AS n`, [account, region, r.id, r.type, keys, values]);
    if (row!.n > MAX_TAGS_PER_RESOURCE) throw Errors.tagLimitExceeded();
  }
}

/** The advisory lock key of one resource's tag set (see putTags). */
export const tagSetLockKey = (account: string, region: string, resourceId: string): string =>
  `tags\u0001${account}\u0001${region}\u0001${resourceId}`;

/**
 * A `tagged` CTE upserting tags (keys and values as two text[] parameters) on one resource,
 * returning the keys written; `from` names a CTE the rows depend on (written only if it has a row).
 * Later duplicates of a key win, as the one-row-at-a-time upsert left them.
 */
export function tagUpsert(account: string, region: string, id: string, type: string, keys: string, values: string, from?: string): string {
  return `tagged AS (INSERT INTO tags (account, region, resource_id, resource_type, key, value)
      SELECT DISTINCT ON (k) ${account}, ${region}, ${id}, ${type}, k, v FROM unnest(${keys}::text[], ${values}::text[]) WITH ORDINALITY AS t(k, v, n)
      ${from ? `WHERE EXISTS (SELECT 1 FROM ${from})` : ''} ORDER BY k, n DESC
      ON CONFLICT (account, region, resource_id, key) DO UPDATE SET value = excluded.value RETURNING key)`;
}

/**
 * The resource's tag count once `tagged` is written: the statement reads the table as it was
 * before, so it counts the keys it did not touch plus the ones it wrote.
 */
export function tagCountAfter(account: string, region: string, id: string): string {
  return `((SELECT count(*) FROM tags WHERE account = ${account} AND region = ${region} AND resource_id = ${id}
      AND key <> ALL(ARRAY(SELECT key FROM tagged))) + (SELECT count(*) FROM tagged))::int`;
}

export { MAX_TAGS_PER_RESOURCE };

export class PgTags implements TagRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async forResources(account: string, region: string, resourceIds: string[]): Promise<Map<string, Tag[]>> {
    const out = new Map<string, Tag[]>();
    if (!resourceIds.length) return out;
    const rows = await this.db.query<{ resource_id: string; key: string; value: string }>(`SELECT resource_id, key, value FROM tags
      WHERE account = $1 AND region = $2 AND resource_id = ANY($3::text[]) ORDER BY resource_id, key`, [account, region, resourceIds]);
    for (const r of rows) {
      let list = out.get(r.resource_id);
      if (!list) out.set(r.resource_id, (list = []));
      list.push({ Key: r.key, Value: r.value });
    }
    return out;
  }

  async put(account: string, region: string, resources: { id: string; type: string }[], tags: Tag[]): Promise<void> {
    await this.db.tx((q) => putTags(q, account, region, resources, tags));
  }

  async remove(account: string, region: string, resourceIds: string[], tags: Tag[] | undefined): Promise<void> {
    await this.db.tx(async (q) => {
      if (!tags) {
        await q.query('DELETE FROM tags WHERE account = $1 AND region = $2 AND resource_id = ANY($3::text[])', [account, region, resourceIds]);
        return;
      }
      for (const t of tags) {
        if (t.Value === undefined) {
          await q.query('DELETE FROM tags WHERE account = $1 AND region = $2 AND resource_id = ANY($3::text[]) AND key = $4',
            [account, region, resourceIds, t.Key ?? '']);
        } else {
          await q.query('DELETE FROM tags WHERE account = $1 AND region = $2 AND resource_id = ANY($3::text[]) AND key = $4 AND value = $5',
            [account, region, resourceIds, t.Key ?? '', t.Value]);
        }
      }
    });
  }

  async *scan(q: TagQuery): AsyncIterable<TagRecord> {
    const where = ['account = $1', 'region = $2'];
    const params: unknown[] = [q.account, q.region];
    for (const [column, values] of [['resource_id', q.resourceIds], ['resource_type', q.resourceTypes], ['key', q.keys]] as const) {
      if (!values) continue;
      params.push(values);
      where.push(`${column} = ANY($${params.length}::text[])`);
    }
    // The cursor is "resourceId NUL key" (PostgreSQL text cannot hold NUL): compared as a pair,
    // which orders exactly as the joined string does, since ids hold no NUL.
    const cursor = (q.afterCursor ?? '').split('\u0000');
    let after: [string, string] = [cursor[0] ?? '', cursor.slice(1).join('\u0000')];
    const n = params.length;
    const sql = `SELECT resource_id, resource_type, key, value FROM (${TAGS_WITH_RECYCLE_BIN}) u
      WHERE ${where.join(' AND ')} AND (resource_id COLLATE "C", key COLLATE "C") > ($${n + 1}::text COLLATE "C", $${n + 2}::text COLLATE "C")
      ORDER BY resource_id COLLATE "C", key COLLATE "C" LIMIT ${SCAN_BATCH}`;
    for (;;) {
      const rows = await this.db.query<{ resource_id: string; resource_type: string; key: string; value: string }>(sql, [...params, ...after]);
      for (const r of rows) yield { resourceId: r.resource_id, resourceType: r.resource_type, key: r.key, value: r.value };
      if (rows.length < SCAN_BATCH) return;
      const last = rows[rows.length - 1]!;
      after = [last.resource_id, last.key];
    }
  }
}
