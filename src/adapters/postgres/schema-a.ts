// PostgreSQL tables for images, tags, the Recycle Bin and account settings (version 1 of the
// schema, with schema-b.ts's). Key columns use the "C" collation: ids, names and tag keys then
// order by code point exactly as SQLite orders them (pages and name ranges agree across stores),
// and the btree indexes serve both the ORDER BY and the name-prefix ranges.
export const SCHEMA_A = `
CREATE TABLE images (
  image_id    text COLLATE "C" PRIMARY KEY,
  region      text COLLATE "C" NOT NULL,
  owner_id    text COLLATE "C" NOT NULL,
  owner_alias text COLLATE "C",
  name        text COLLATE "C" NOT NULL,
  is_public   boolean NOT NULL,
  doc         jsonb NOT NULL,   -- the stored image (EC2 wire members in version 1; the StoredImage record from version 2)
  permissions jsonb NOT NULL    -- launch permissions as given (also in launch_permissions, for lookups)
);
-- AMI names are unique per owner and region (InvalidAMIName.Duplicate), also across nodes.
CREATE UNIQUE INDEX images_owner_name ON images (owner_id, region, name);
CREATE INDEX images_region_id ON images (region, image_id);
CREATE INDEX images_owner_id ON images (owner_id, region, image_id);
CREATE INDEX images_owner_alias_id ON images (owner_alias, region, image_id) WHERE owner_alias IS NOT NULL;
CREATE INDEX images_region_name ON images (region, name);
CREATE INDEX images_state ON images ((doc->>'State'));

-- The ClientToken of the request that made an image, one per owner and region.
CREATE TABLE image_client_tokens (
  image_id       text COLLATE "C" PRIMARY KEY REFERENCES images (image_id) ON DELETE CASCADE,
  region         text COLLATE "C" NOT NULL,
  owner_id       text COLLATE "C" NOT NULL,
  client_token   text COLLATE "C" NOT NULL,
  request_digest text NOT NULL
);
CREATE UNIQUE INDEX image_client_tokens_token ON image_client_tokens (region, owner_id, client_token);

CREATE TABLE launch_permissions (
  image_id text COLLATE "C" NOT NULL REFERENCES images (image_id) ON DELETE CASCADE,
  kind     text NOT NULL CHECK (kind IN ('user', 'group', 'org', 'ou')),
  value    text COLLATE "C" NOT NULL,
  PRIMARY KEY (image_id, kind, value)
);
CREATE INDEX launch_permissions_grantee ON launch_permissions (kind, value, image_id);

-- Tags belong to the account that set them: tags on an image shared with you are yours alone.
CREATE TABLE tags (
  account       text COLLATE "C" NOT NULL,
  region        text COLLATE "C" NOT NULL,
  resource_id   text COLLATE "C" NOT NULL,
  resource_type text COLLATE "C" NOT NULL,
  key           text COLLATE "C" NOT NULL,
  value         text COLLATE "C" NOT NULL,
  PRIMARY KEY (account, region, resource_id, key)
);
CREATE INDEX tags_by_key ON tags (account, region, key, value);
CREATE INDEX tags_by_resource ON tags (resource_id);

-- Which snapshots each image's block device mapping names (InvalidSnapshot.InUse).
CREATE TABLE image_snapshots (
  image_id    text COLLATE "C" NOT NULL,
  snapshot_id text COLLATE "C" NOT NULL,
  PRIMARY KEY (image_id, snapshot_id)
);
CREATE INDEX image_snapshots_by_snapshot ON image_snapshots (snapshot_id);

-- The snapshots each deregistered image named (the storage report's "left behind").
CREATE TABLE deregistered_image_snapshots (
  snapshot_id text COLLATE "C" NOT NULL,
  image_id    text COLLATE "C" NOT NULL,
  region      text COLLATE "C" NOT NULL,
  PRIMARY KEY (snapshot_id, image_id)
);
CREATE INDEX deregistered_image_snapshots_by_region ON deregistered_image_snapshots (region, snapshot_id);

CREATE TABLE rbin_rules (
  rule_id       text COLLATE "C" PRIMARY KEY,
  account       text COLLATE "C" NOT NULL,
  region        text COLLATE "C" NOT NULL,
  resource_type text COLLATE "C" NOT NULL,
  doc           jsonb NOT NULL    -- the RetentionRuleRecord
);
CREATE INDEX rbin_rules_owner ON rbin_rules (account, region, rule_id);

-- A binned snapshot's block map stays in snapshot_blocks under its id (its data is kept).
CREATE TABLE recycle_bin (
  resource_id   text COLLATE "C" PRIMARY KEY,
  resource_type text COLLATE "C" NOT NULL,
  account       text COLLATE "C" NOT NULL,
  region        text COLLATE "C" NOT NULL,
  exit_time     text COLLATE "C" NOT NULL,   -- ISO 8601 UTC: orders as the instants do
  doc           jsonb NOT NULL    -- the BinEntry
);
CREATE INDEX recycle_bin_owner ON recycle_bin (account, region, resource_type, resource_id);
CREATE INDEX recycle_bin_exit ON recycle_bin (exit_time);

CREATE TABLE account_settings (
  account text COLLATE "C" NOT NULL,
  region  text COLLATE "C" NOT NULL,
  name    text COLLATE "C" NOT NULL,
  doc     jsonb NOT NULL,
  PRIMARY KEY (account, region, name)
);
`;

/** A's tables, emptied by reset() (children before parents, though TRUNCATE takes them together). */
export const RESET_A = [
  'tags', 'launch_permissions', 'image_client_tokens', 'image_snapshots', 'deregistered_image_snapshots', 'images',
  'recycle_bin', 'rbin_rules', 'account_settings',
];
