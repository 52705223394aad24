// The SQLite schema. Each statement is idempotent so opening an existing data directory is safe.
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS images (
  image_id    TEXT PRIMARY KEY,
  region      TEXT NOT NULL,
  owner_id    TEXT NOT NULL,
  owner_alias TEXT,
  name        TEXT NOT NULL,
  is_public   INTEGER NOT NULL,
  doc         TEXT NOT NULL,   -- the stored Image members, JSON
  permissions TEXT NOT NULL    -- launch permissions, JSON (also in launch_permissions, for lookups)
);
-- AMI names are unique per owner and region (InvalidAMIName.Duplicate).
CREATE UNIQUE INDEX IF NOT EXISTS images_owner_name ON images (owner_id, region, name);
CREATE INDEX IF NOT EXISTS images_region_public ON images (region, is_public, image_id);

CREATE TABLE IF NOT EXISTS launch_permissions (
  image_id TEXT NOT NULL REFERENCES images (image_id) ON DELETE CASCADE,
  kind     TEXT NOT NULL CHECK (kind IN ('user', 'group', 'org', 'ou')),
  value    TEXT NOT NULL,
  PRIMARY KEY (image_id, kind, value)
);
CREATE INDEX IF NOT EXISTS launch_permissions_grantee ON launch_permissions (kind, value, image_id);

-- Tags belong to the account that set them: tags on an image shared with you are yours alone.
CREATE TABLE IF NOT EXISTS tags (
  account       TEXT NOT NULL,
  region        TEXT NOT NULL,
  resource_id   TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  key           TEXT NOT NULL,
  value         TEXT NOT NULL,
  PRIMARY KEY (account, region, resource_id, key)
);
CREATE INDEX IF NOT EXISTS tags_by_key ON tags (account, region, key, value);
CREATE INDEX IF NOT EXISTS tags_by_resource ON tags (resource_id);
`;
