// The console's image table in PostgreSQL (src/adapters/image-table-sql.ts builds the SQL).
// Document members compare in the "C" collation, as the key columns do, so pages order the same
// in both stores and the expression indexes below serve the sorts.
import type { ImageTablePage, ImageTableQuery } from '../../ports/image-table.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import { imageTableSql, type ImageTableDialect } from '../image-table-sql.ts';
import type { Queryable } from './pg-database.ts';
import { wildcardToLike } from './pg-wildcard.ts';

const member = (name: string) => `(i.doc->>'${name}') COLLATE "C"`;

const PG: ImageTableDialect = {
  param: (value, params) => { params.push(value); return `$${params.length}`; },
  member,
  true: 'true',
  from: () => 'images i',
  nameContains: (text) => `strpos(i.name, ${text}) > 0`,
  nameMatches: (pattern, params) => { params.push(wildcardToLike(pattern)); return `i.name LIKE $${params.length}`; },
};

/** Schema version 9: the indexes the table's sorts walk, per owner and region-wide. */
export const IMAGE_TABLE_INDEXES_SQL = `
CREATE INDEX images_owner_created ON images (owner_id, region, ((doc->>'creationDate') COLLATE "C"), image_id);
CREATE INDEX images_region_created ON images (region, ((doc->>'creationDate') COLLATE "C"), image_id);
CREATE INDEX images_owner_state ON images (owner_id, region, ((doc->>'state') COLLATE "C"), image_id);
CREATE INDEX images_owner_arch ON images (owner_id, region, (coalesce((doc->>'architecture') COLLATE "C", '')), image_id);
CREATE INDEX images_owner_name_id ON images (owner_id, region, name, image_id);
CREATE INDEX images_region_name_id ON images (region, name, image_id);
CREATE INDEX images_region_owner_id ON images (region, owner_id, image_id);
CREATE INDEX images_region_deprecation ON images (region, ((doc->>'deprecationTime') COLLATE "C")) WHERE (doc->>'deprecationTime') IS NOT NULL;
-- The console's lineage: the images made from an image (CreateImage from its instances, CopyImage).
CREATE INDEX images_source ON images ((doc->>'sourceImageId')) WHERE (doc->>'sourceImageId') IS NOT NULL;
`;

interface Row { region: string; doc: ImageRecord['image']; permissions: ImageRecord['launchPermissions'] }

export async function pgImageTable(db: Queryable, q: ImageTableQuery): Promise<ImageTablePage> {
  const { page, count } = imageTableSql(PG, q, 'i.region, i.doc, i.permissions');
  const rows = await db.query<Row>(page.sql, page.params);
  const [counted] = await db.query<{ n: string }>(count.sql, count.params);
  return { records: rows.map((r) => ({ region: r.region, image: r.doc, launchPermissions: r.permissions })), total: Number(counted!.n) };
}
