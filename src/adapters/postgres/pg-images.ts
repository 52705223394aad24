// Images in PostgreSQL, with their launch permissions, client tokens and the snapshots their
// mappings name. Every write that touches several tables is one transaction.
import { Errors } from '../../domain/errors.ts';
import type { LaunchPermission, Tag } from '../../protocol/ec2/types.generated.ts';
import type { ImageQuery, ImageRecord, ImageRepository } from '../../ports/metadata-store.ts';
import { isUniqueViolation, type PgDatabase, type Queryable } from './pg-database.ts';
import { imageScanWhere } from './pg-image-query.ts';
import { pgImageTable } from './pg-image-table.ts';
import type { ImageTablePage, ImageTableQuery } from '../../ports/image-table.ts';
import { MAX_TAGS_PER_RESOURCE, tagCountAfter, tagSetLockKey, tagUpsert } from './pg-tags.ts';

/** Rows fetched per round trip while scanning: memory stays flat and no cursor is held across awaits. */
const SCAN_BATCH = 500;

interface ImageRow { region: string; doc: ImageRecord['image']; permissions: LaunchPermission[] }
const COLUMNS = 'i.image_id, i.region, i.doc, i.permissions';

function toRecord(row: ImageRow): ImageRecord {
  return { region: row.region, image: row.doc, launchPermissions: row.permissions };
}

function permissionColumns(perms: LaunchPermission[]): [string[], string[]] {
  const kinds: string[] = [];
  const values: string[] = [];
  for (const p of perms) {
    if (p.Group) { kinds.push('group'); values.push(p.Group); }
    else if (p.UserId) { kinds.push('user'); values.push(p.UserId); }
    else if (p.OrganizationArn) { kinds.push('org'); values.push(p.OrganizationArn); }
    else { kinds.push('ou'); values.push(p.OrganizationalUnitArn!); }
  }
  return [kinds, values];
}

function isPublic(record: ImageRecord): boolean {
  return record.launchPermissions.some((p) => p.Group === 'all');
}

export class PgImages implements ImageRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  private async writePermissions(q: Queryable, imageId: string, perms: LaunchPermission[]): Promise<void> {
    await q.query('DELETE FROM launch_permissions WHERE image_id = $1', [imageId]);
    if (!perms.length) return;
    await q.query(`INSERT INTO launch_permissions (image_id, kind, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
      ON CONFLICT DO NOTHING`, [imageId, ...permissionColumns(perms)]);
  }

  /** Keeps image_snapshots in step with the image's mappings (for InvalidSnapshot.InUse). */
  private async writeSnapshotRefs(q: Queryable, record: ImageRecord): Promise<void> {
    const id = record.image.imageId;
    await q.query('DELETE FROM image_snapshots WHERE image_id = $1', [id]);
    const snapshotIds = (record.image.blockDeviceMappings ?? []).map((m) => m.ebs?.snapshotId).filter((s): s is string => !!s);
    if (!snapshotIds.length) return;
    await q.query(`INSERT INTO image_snapshots (image_id, snapshot_id) SELECT $1, s FROM unnest($2::text[]) AS t(s)
      ON CONFLICT DO NOTHING`, [id, snapshotIds]);
  }

  async insert(record: ImageRecord, tags?: { account: string; tags: Tag[] }, options: { requireSnapshots?: string[] } = {}): Promise<void> {
    // One statement, committed on its own: the image is new, so no other writer can know its id
    // (nor tag it) before this commits, and the snapshots' locks last until the statement ends.
    await this.writeNew(this.db, record, tags, options);
  }

  /** insert's writes, for a caller already in a transaction (the Recycle Bin's restore). */
  async insertInTx(q: Queryable, record: ImageRecord, tags?: { account: string; tags: Tag[] }, options: { requireSnapshots?: string[] } = {}): Promise<void> {
    // A restored image's id was known before: its tag set is locked as CreateTags locks it.
    if (tags?.tags.length) {
      await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [tagSetLockKey(tags.account, record.region, record.image.imageId)]);
    }
    await this.writeNew(q, record, tags, options);
  }

  /**
   * The image with its launch permissions, snapshot references, client token and tags, in one
   * statement (one round trip: RegisterImage's throughput on a shared database is bound by round
   * trips, not by work). The named snapshots are key-share locked while it runs: a deletion of one
   * of them (which locks the row FOR UPDATE, then looks for images naming it) either commits
   * first, and this statement finds the snapshot gone and writes nothing, or waits and then sees
   * this image. A key-share lock, unlike a share lock, lets updates of the snapshot's other
   * columns (progress, state) go on meanwhile, and many registrations share it.
   */
  private async writeNew(q: Queryable, record: ImageRecord, tags: { account: string; tags: Tag[] } | undefined, options: { requireSnapshots?: string[] }): Promise<void> {
    const img = record.image;
    const required = [...new Set(options.requireSnapshots ?? [])].sort();
    const snapshotIds = [...new Set((img.blockDeviceMappings ?? []).map((m) => m.ebs?.snapshotId).filter((s): s is string => !!s))];
    const [kinds, values] = permissionColumns(record.launchPermissions);
    const tagList = tags?.tags ?? [];
    if (new Set(tagList.map((t) => t.Key ?? '')).size > MAX_TAGS_PER_RESOURCE) throw Errors.tagLimitExceeded();
    const params: unknown[] = [img.imageId, record.region, img.ownerId, img.ownerAlias ?? null, img.name, isPublic(record),
      JSON.stringify(img), JSON.stringify(record.launchPermissions), required, kinds, values, snapshotIds,
      record.clientToken?.token ?? null, record.clientToken?.requestDigest ?? null,
      tags?.account ?? '', tagList.map((t) => t.Key ?? ''), tagList.map((t) => t.Value ?? '')];
    const sql = `WITH locked AS (SELECT snapshot_id FROM snapshots WHERE snapshot_id = ANY($9::text[]) AND region = $2
        ORDER BY snapshot_id FOR KEY SHARE),
      img AS (INSERT INTO images (image_id, region, owner_id, owner_alias, name, is_public, doc, permissions)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE (SELECT count(*) FROM locked) = cardinality($9::text[]) RETURNING image_id),
      perms AS (INSERT INTO launch_permissions (image_id, kind, value) SELECT image_id, k, v FROM img, unnest($10::text[], $11::text[]) AS t(k, v)
        ON CONFLICT DO NOTHING),
      refs AS (INSERT INTO image_snapshots (image_id, snapshot_id) SELECT image_id, s FROM img, unnest($12::text[]) AS t(s)
        ON CONFLICT DO NOTHING),
      token AS (INSERT INTO image_client_tokens (image_id, region, owner_id, client_token, request_digest)
        SELECT image_id, $2, $3, $13, $14 FROM img WHERE $13::text IS NOT NULL),
      ${tagUpsert('$15', '$2', '$1', "'image'", '$16', '$17', 'img')}
      SELECT ARRAY(SELECT snapshot_id FROM locked) AS found, (SELECT count(*) FROM img)::int AS stored, ${tagCountAfter('$15', '$2', '$1')} AS tag_count`;
    let row: { found: string[]; stored: number; tag_count: number };
    try {
      [row] = await q.query<typeof row>(sql, params) as [typeof row];
    } catch (err) {
      if (isUniqueViolation(err, 'images_owner_name')) throw Errors.amiNameDuplicate(img.name);
      if (isUniqueViolation(err, 'image_client_tokens_token')) throw Errors.idempotentParameterMismatch();
      throw err;
    }
    if (!row.stored) {
      const found = new Set(row.found);
      for (const id of options.requireSnapshots ?? []) if (!found.has(id)) throw Errors.snapshotNotFound(id);
      throw new Error(`image ${img.imageId} was not stored`);
    }
    // A new image has no tags but these (checked before writing); a restored one is counted under
    // its tag-set lock, in the restore's transaction, which this error rolls back.
    if (row.tag_count > MAX_TAGS_PER_RESOURCE) {
      throw Errors.tagLimitExceeded();
    }
  }

  async get(region: string, imageId: string): Promise<ImageRecord | undefined> {
    const [row] = await this.db.query<ImageRow>(`SELECT ${COLUMNS} FROM images i WHERE i.image_id = $1 AND i.region = $2`, [imageId, region]);
    return row && toRecord(row);
  }

  async findByClientToken(region: string, ownerId: string, token: string): Promise<ImageRecord | undefined> {
    const [row] = await this.db.query<ImageRow & { client_token: string; request_digest: string }>(`SELECT ${COLUMNS}, t.client_token, t.request_digest
      FROM image_client_tokens t JOIN images i ON i.image_id = t.image_id
      WHERE t.region = $1 AND t.owner_id = $2 AND t.client_token = $3`, [region, ownerId, token]);
    return row && { ...toRecord(row), clientToken: { token: row.client_token, requestDigest: row.request_digest } };
  }

  async update(record: ImageRecord): Promise<void> {
    const img = record.image;
    await this.db.tx(async (q) => {
      let updated: unknown[];
      try {
        updated = await q.query(`UPDATE images SET owner_id = $1, owner_alias = $2, name = $3, is_public = $4, doc = $5, permissions = $6
          WHERE image_id = $7 AND region = $8 RETURNING 1`, [img.ownerId, img.ownerAlias ?? null, img.name, isPublic(record),
          JSON.stringify(img), JSON.stringify(record.launchPermissions), img.imageId, record.region]);
      } catch (err) {
        if (isUniqueViolation(err, 'images_owner_name')) throw Errors.amiNameDuplicate(img.name);
        throw err;
      }
      // Deregistered or binned by another node meanwhile: nothing left to update.
      if (!updated.length) return;
      await this.writePermissions(q, img.imageId, record.launchPermissions);
      await this.writeSnapshotRefs(q, record);
    });
  }

  async delete(region: string, imageId: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      // Locks the image row first: a concurrent update or Recycle Bin move of it waits, then finds it gone.
      const [row] = await q.query('SELECT 1 FROM images WHERE image_id = $1 AND region = $2 FOR UPDATE', [imageId, region]);
      if (!row) return false;
      await q.query(`INSERT INTO deregistered_image_snapshots (snapshot_id, image_id, region)
        SELECT snapshot_id, image_id, $2 FROM image_snapshots WHERE image_id = $1 ON CONFLICT DO NOTHING`, [imageId, region]);
      await deleteImageRows(q, region, imageId);
      return true;
    });
  }

  async *scan(query: ImageQuery): AsyncIterable<ImageRecord> {
    const { where, params } = imageScanWhere(query);
    const n = params.length;
    // Keyset pagination on the id: each batch resumes after the last id, and the first is no
    // bigger than the caller expects to need (a MaxResults page and one more).
    const sql = `SELECT ${COLUMNS} FROM images i WHERE ${where} AND i.image_id > $${n + 1} ORDER BY i.image_id LIMIT $${n + 2}`;
    let after = query.afterImageId ?? '';
    let batch = Math.min(SCAN_BATCH, Math.max(1, query.expectedCount ?? SCAN_BATCH));
    for (;;) {
      const rows = await this.db.query<ImageRow & { image_id: string }>(sql, [...params, after, batch]);
      for (const row of rows) yield toRecord(row);
      if (rows.length < batch) return;
      after = rows[rows.length - 1]!.image_id;
      batch = SCAN_BATCH;
    }
  }

  table(query: ImageTableQuery): Promise<ImageTablePage> {
    return pgImageTable(this.db, query);
  }

  async derivedFrom(sourceImageId: string): Promise<ImageRecord[]> {
    const rows = await this.db.query<ImageRow>(`SELECT ${COLUMNS} FROM images i WHERE (i.doc->>'sourceImageId') = $1 ORDER BY i.image_id`, [sourceImageId]);
    return rows.map(toRecord);
  }

  async count(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM images');
    return row!.n;
  }

  async inState(state: string): Promise<ImageRecord[]> {
    const rows = await this.db.query<ImageRow>(`SELECT ${COLUMNS} FROM images i WHERE i.doc->>'state' = $1 ORDER BY i.image_id`, [state]);
    return rows.map(toRecord);
  }
}

/**
 * An image's rows in every table but the Recycle Bin: permissions, snapshot references, client
 * token, every account's tags, the image. Shared by DeregisterImage and the Recycle Bin's move.
 */
export async function deleteImageRows(q: Queryable, region: string, imageId: string): Promise<boolean> {
  await q.query('DELETE FROM launch_permissions WHERE image_id = $1', [imageId]);
  await q.query('DELETE FROM image_snapshots WHERE image_id = $1', [imageId]);
  await q.query('DELETE FROM image_client_tokens WHERE image_id = $1', [imageId]);
  await q.query('DELETE FROM tags WHERE resource_id = $1 AND region = $2', [imageId, region]);
  return (await q.query('DELETE FROM images WHERE image_id = $1 AND region = $2 RETURNING 1', [imageId, region])).length > 0;
}
