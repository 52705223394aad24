// The console's image table in SQLite (src/adapters/image-table-sql.ts builds the SQL).
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { ImageTablePage, ImageTableQuery } from '../../ports/image-table.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import { imageTableSql, type ImageTableDialect } from '../image-table-sql.ts';

const SQLITE: ImageTableDialect = {
  // Numbered: a clause may be written before an earlier parameter's first use (the reader's account).
  param: (value, params) => { params.push(value); return `?${params.length}`; },
  member: (name) => `json_extract(i.doc, '$.${name}')`,
  true: '1',
  // Deprecated images are few: read them from their partial index and sort them, rather than walk
  // every image in page order (seconds at 100,000), which SQLite's planner prefers without statistics.
  from: (q) => (q.deprecatedBy ? 'images i INDEXED BY images_region_deprecation' : 'images i'),
  // instr, not LIKE: LIKE ignores ASCII case and gives `%` and `_` meanings.
  nameContains: (text) => `instr(i.name, ${text}) > 0`,
  nameMatches: (pattern, params) => { params.push(pattern); return `ec2_wildcard(?${params.length}, i.name)`; },
};

/** Indexes the table's sorts walk (schema version 8): per owner, and region-wide. */
export const IMAGE_TABLE_INDEXES = `
CREATE INDEX IF NOT EXISTS images_owner_created ON images (owner_id, region, json_extract(doc, '$.creationDate'), image_id);
CREATE INDEX IF NOT EXISTS images_region_created ON images (region, json_extract(doc, '$.creationDate'), image_id);
CREATE INDEX IF NOT EXISTS images_owner_state ON images (owner_id, region, json_extract(doc, '$.state'), image_id);
CREATE INDEX IF NOT EXISTS images_owner_arch ON images (owner_id, region, coalesce(json_extract(doc, '$.architecture'), ''), image_id);
CREATE INDEX IF NOT EXISTS images_owner_name_id ON images (owner_id, region, name, image_id);
CREATE INDEX IF NOT EXISTS images_region_name_id ON images (region, name, image_id);
CREATE INDEX IF NOT EXISTS images_region_owner_id ON images (region, owner_id, image_id);
CREATE INDEX IF NOT EXISTS images_region_deprecation ON images (region, json_extract(doc, '$.deprecationTime')) WHERE json_extract(doc, '$.deprecationTime') IS NOT NULL;
-- The console's lineage: the images made from an image (CreateImage from its instances, CopyImage).
CREATE INDEX IF NOT EXISTS images_source ON images (json_extract(doc, '$.sourceImageId')) WHERE json_extract(doc, '$.sourceImageId') IS NOT NULL;
`;

type Row = Record<string, SQLInputValue>;

export function sqliteImageTable(db: DatabaseSync, q: ImageTableQuery, toRecord: (row: Row) => ImageRecord): ImageTablePage {
  const { page, count } = imageTableSql(SQLITE, q, 'i.region, i.doc, i.permissions');
  const rows = db.prepare(page.sql).all(...(page.params as SQLInputValue[])) as Row[];
  const total = Number((db.prepare(count.sql).get(...(count.params as SQLInputValue[])) as Row).n);
  return { records: rows.map(toRecord), total };
}
