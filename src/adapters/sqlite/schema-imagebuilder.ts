// The SQLite schema for Image Builder's records (src/ports/imagebuilder-repository.ts): one table,
// the document as JSON beside the columns queries select by. Idempotent, as SCHEMA.
export const IMAGEBUILDER_SCHEMA = `
CREATE TABLE IF NOT EXISTS ib_records (
  arn        TEXT PRIMARY KEY,
  kind       TEXT NOT NULL,
  account    TEXT NOT NULL,
  region     TEXT NOT NULL,
  name       TEXT NOT NULL,
  version    TEXT,
  build      INTEGER,
  parent     TEXT,
  state      TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  doc        TEXT NOT NULL    -- the IbRecord's doc, JSON
);
CREATE INDEX IF NOT EXISTS ib_records_owner ON ib_records (kind, account, region, name);
CREATE INDEX IF NOT EXISTS ib_records_parent ON ib_records (kind, parent);
CREATE INDEX IF NOT EXISTS ib_records_state ON ib_records (kind, state);
`;

export const IMAGEBUILDER_RESET = ' DELETE FROM ib_records;';
