// The SQLite schema as migration version 1 creates it (with the schema-*.ts files). Each statement
// is idempotent, so files made before versioned migrations take version 1 in place. Do not edit:
// a schema change is a new entry in migrations.ts.
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
-- DescribeImages reads pages in id order: a region's images, or one owner's. These indexes give
-- that order, so a page costs its own rows. (region, is_public, image_id) did not: the planner
-- took it and sorted every image of the region for each page.
DROP INDEX IF EXISTS images_region_public;
CREATE INDEX IF NOT EXISTS images_region_id ON images (region, image_id);
CREATE INDEX IF NOT EXISTS images_owner_id ON images (owner_id, region, image_id);
-- Only the catalogue's images have an owner alias (amazon): a partial index costs user images nothing.
DROP INDEX IF EXISTS images_alias_id;
CREATE INDEX IF NOT EXISTS images_owner_alias_id ON images (owner_alias, region, image_id) WHERE owner_alias IS NOT NULL;
-- Name filters with a literal prefix (\`ubuntu/images/*\`) read a range of this index.
CREATE INDEX IF NOT EXISTS images_region_name ON images (region, name);

-- The ClientToken of the request that made an image (CopyImage's idempotency), one per owner and region.
CREATE TABLE IF NOT EXISTS image_client_tokens (
  image_id       TEXT PRIMARY KEY REFERENCES images (image_id) ON DELETE CASCADE,
  region         TEXT NOT NULL,
  owner_id       TEXT NOT NULL,
  client_token   TEXT NOT NULL,
  request_digest TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS image_client_tokens_token ON image_client_tokens (region, owner_id, client_token);

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

-- Which snapshots each image's block device mapping names.
CREATE TABLE IF NOT EXISTS image_snapshots (
  image_id    TEXT NOT NULL,
  snapshot_id TEXT NOT NULL,
  PRIMARY KEY (image_id, snapshot_id)
);
CREATE INDEX IF NOT EXISTS image_snapshots_by_snapshot ON image_snapshots (snapshot_id);

-- The snapshots each deregistered image named, recorded as it is deregistered: how
-- \`amiforge storage report\` and \`clean-up\` know a snapshot was left behind by an image (a
-- snapshot's description is user-set and copied with it, so it cannot tell). Rows go with the snapshot.
CREATE TABLE IF NOT EXISTS deregistered_image_snapshots (
  snapshot_id TEXT NOT NULL,
  image_id    TEXT NOT NULL,
  region      TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, image_id)
);
CREATE INDEX IF NOT EXISTS deregistered_image_snapshots_by_region ON deregistered_image_snapshots (region, snapshot_id);

CREATE TABLE IF NOT EXISTS snapshots (
  snapshot_id  TEXT PRIMARY KEY,
  region       TEXT NOT NULL,
  owner_id     TEXT NOT NULL,
  owner_alias  TEXT,
  state        TEXT NOT NULL,
  is_public    INTEGER NOT NULL,
  client_token TEXT,
  doc          TEXT NOT NULL    -- the SnapshotRecord, JSON
);
CREATE INDEX IF NOT EXISTS snapshots_owner ON snapshots (region, owner_id, snapshot_id);
CREATE INDEX IF NOT EXISTS snapshots_state ON snapshots (state);
CREATE UNIQUE INDEX IF NOT EXISTS snapshots_client_token ON snapshots (region, owner_id, client_token) WHERE client_token IS NOT NULL;

-- The full block map of every snapshot; written = 1 for entries the snapshot wrote itself.
CREATE TABLE IF NOT EXISTS snapshot_blocks (
  snapshot_id TEXT NOT NULL,
  block_index INTEGER NOT NULL,
  hash        TEXT NOT NULL,
  written     INTEGER NOT NULL,
  checksum    TEXT,            -- SHA-256 of the plaintext when it differs from hash (encrypted)
  PRIMARY KEY (snapshot_id, block_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS snapshot_blocks_by_hash ON snapshot_blocks (hash);

CREATE TABLE IF NOT EXISTS create_volume_permissions (
  snapshot_id TEXT NOT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('user', 'group')),
  value       TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, kind, value)
);
CREATE INDEX IF NOT EXISTS create_volume_permissions_grantee ON create_volume_permissions (kind, value, snapshot_id);

CREATE TABLE IF NOT EXISTS volumes (
  volume_id    TEXT PRIMARY KEY,
  region       TEXT NOT NULL,
  owner_id     TEXT NOT NULL,
  state        TEXT NOT NULL,
  client_token TEXT,
  snapshot_id  TEXT,            -- the source snapshot its unwritten blocks are read from
  doc          TEXT NOT NULL    -- the VolumeRecord, JSON
);
CREATE INDEX IF NOT EXISTS volumes_owner ON volumes (region, owner_id, volume_id);
CREATE INDEX IF NOT EXISTS volumes_by_snapshot ON volumes (snapshot_id);

-- The blocks written to a volume since it was created; the rest are its source snapshot's.
CREATE TABLE IF NOT EXISTS volume_blocks (
  volume_id   TEXT NOT NULL,
  block_index INTEGER NOT NULL,
  hash        TEXT NOT NULL,
  checksum    TEXT,
  PRIMARY KEY (volume_id, block_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS volume_blocks_by_hash ON volume_blocks (hash);
-- A volume's small-write journal: 4 KiB pages written since their block was last stored whole
-- (VolumeData); a block's bytes are its volume_blocks (or snapshot) block with these laid over it.
CREATE TABLE IF NOT EXISTS volume_journal (
  volume_id   TEXT NOT NULL,
  block_index INTEGER NOT NULL,
  page        INTEGER NOT NULL,
  data        BLOB NOT NULL,
  PRIMARY KEY (volume_id, block_index, page)
) WITHOUT ROWID;
-- KMS keys. The document is the KeyRecord; key material lives apart, wrapped under the root key.
CREATE TABLE IF NOT EXISTS kms_keys (
  key_id  TEXT PRIMARY KEY,
  region  TEXT NOT NULL,
  account TEXT NOT NULL,
  doc     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kms_keys_owner ON kms_keys (account, region, key_id);

-- Each version of a key's material, AES-256-GCM-wrapped under the root key (never plaintext).
CREATE TABLE IF NOT EXISTS kms_key_material (
  key_id  TEXT NOT NULL,
  version INTEGER NOT NULL,
  wrapped BLOB NOT NULL,
  PRIMARY KEY (key_id, version)
) WITHOUT ROWID;

-- Aliases are per account and region.
CREATE TABLE IF NOT EXISTS kms_aliases (
  account       TEXT NOT NULL,
  region        TEXT NOT NULL,
  alias_name    TEXT NOT NULL,
  target_key_id TEXT NOT NULL,
  created       TEXT NOT NULL,
  updated       TEXT NOT NULL,
  PRIMARY KEY (account, region, alias_name)
);
CREATE INDEX IF NOT EXISTS kms_aliases_by_key ON kms_aliases (target_key_id);

-- Grants on a key; grantee_account and retiring_principal are what grants are looked up by.
CREATE TABLE IF NOT EXISTS kms_grants (
  key_id             TEXT NOT NULL,
  grant_id           TEXT NOT NULL,
  region             TEXT NOT NULL,
  grantee_account    TEXT NOT NULL,
  retiring_principal TEXT,
  doc                TEXT NOT NULL,
  PRIMARY KEY (key_id, grant_id)
);
CREATE INDEX IF NOT EXISTS kms_grants_by_retiring ON kms_grants (region, retiring_principal, grant_id);

-- Settings that outlive a reset, such as the root key's fingerprint.
CREATE TABLE IF NOT EXISTS kms_settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;
