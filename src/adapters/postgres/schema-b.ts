// The PostgreSQL schema for snapshots and their block maps, volumes, KMS, instances and key
// pairs, the network and Image Builder: the same tables and indexes as the SQLite adapter's,
// with documents as jsonb and times as the ISO text the records carry. Part of migration 1.
// Ids and names that pages are ordered by compare by code point (COLLATE "C"), as SQLite's
// text does, whatever locale the database was created with.
export const SCHEMA_B = `
CREATE TABLE snapshots (
  snapshot_id  text COLLATE "C" PRIMARY KEY,
  region       text NOT NULL,
  owner_id     text NOT NULL,
  owner_alias  text,
  state        text NOT NULL,
  is_public    boolean NOT NULL,
  client_token text,
  doc          jsonb NOT NULL    -- the SnapshotRecord
);
CREATE INDEX snapshots_owner ON snapshots (region, owner_id, snapshot_id);
CREATE INDEX snapshots_region_id ON snapshots (region, snapshot_id);
CREATE INDEX snapshots_state ON snapshots (state);
-- One snapshot per client token: two nodes retrying the same StartSnapshot cannot both insert.
CREATE UNIQUE INDEX snapshots_client_token ON snapshots (region, owner_id, client_token) WHERE client_token IS NOT NULL;

-- The full block map of every snapshot; written marks entries the snapshot wrote itself.
CREATE TABLE snapshot_blocks (
  snapshot_id text COLLATE "C" NOT NULL,
  block_index integer NOT NULL,
  hash        text NOT NULL,
  written     boolean NOT NULL,
  checksum    text,            -- SHA-256 of the plaintext when it differs from hash (encrypted)
  PRIMARY KEY (snapshot_id, block_index)
);
CREATE INDEX snapshot_blocks_by_hash ON snapshot_blocks (hash);

CREATE TABLE create_volume_permissions (
  snapshot_id text COLLATE "C" NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('user', 'group')),
  value       text NOT NULL,
  PRIMARY KEY (snapshot_id, kind, value)
);
CREATE INDEX create_volume_permissions_grantee ON create_volume_permissions (kind, value, snapshot_id);

CREATE TABLE volumes (
  volume_id    text COLLATE "C" PRIMARY KEY,
  region       text NOT NULL,
  owner_id     text NOT NULL,
  state        text NOT NULL,
  client_token text,
  snapshot_id  text COLLATE "C",             -- the source snapshot its unwritten blocks are read from
  doc          jsonb NOT NULL    -- the VolumeRecord
);
CREATE INDEX volumes_owner ON volumes (region, owner_id, volume_id);
CREATE INDEX volumes_by_snapshot ON volumes (snapshot_id);
CREATE INDEX volumes_token ON volumes (region, owner_id, client_token) WHERE client_token IS NOT NULL;

-- The blocks written to a volume since it was created; the rest are its source snapshot's.
CREATE TABLE volume_blocks (
  volume_id   text COLLATE "C" NOT NULL,
  block_index integer NOT NULL,
  hash        text NOT NULL,
  checksum    text,
  PRIMARY KEY (volume_id, block_index)
);
CREATE INDEX volume_blocks_by_hash ON volume_blocks (hash);
-- A volume's small-write journal: 4 KiB pages written since their block was last stored whole.
CREATE TABLE volume_journal (
  volume_id   text COLLATE "C" NOT NULL,
  block_index integer NOT NULL,
  page        integer NOT NULL,
  data        bytea NOT NULL,
  PRIMARY KEY (volume_id, block_index, page)
);

-- KMS keys; material lives apart, wrapped under the root key (never plaintext).
CREATE TABLE kms_keys (
  key_id  text COLLATE "C" PRIMARY KEY,
  region  text NOT NULL,
  account text NOT NULL,
  doc     jsonb NOT NULL
);
CREATE INDEX kms_keys_owner ON kms_keys (account, region, key_id);
CREATE TABLE kms_key_material (
  key_id  text COLLATE "C" NOT NULL,
  version integer NOT NULL,
  wrapped bytea NOT NULL,
  PRIMARY KEY (key_id, version)
);
CREATE TABLE kms_aliases (
  account       text NOT NULL,
  region        text NOT NULL,
  alias_name    text COLLATE "C" NOT NULL,
  target_key_id text NOT NULL,
  created       text NOT NULL,
  updated       text NOT NULL,
  PRIMARY KEY (account, region, alias_name)
);
CREATE INDEX kms_aliases_by_key ON kms_aliases (target_key_id);
CREATE TABLE kms_grants (
  key_id             text COLLATE "C" NOT NULL,
  grant_id           text COLLATE "C" NOT NULL,
  region             text NOT NULL,
  grantee_account    text NOT NULL,
  retiring_principal text,
  doc                jsonb NOT NULL,
  PRIMARY KEY (key_id, grant_id)
);
CREATE INDEX kms_grants_by_retiring ON kms_grants (region, retiring_principal, grant_id);
-- Settings that outlive a reset, such as the root key's fingerprint.
CREATE TABLE kms_settings (
  name  text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE instances (
  instance_id   text COLLATE "C" PRIMARY KEY,
  region        text NOT NULL,
  owner_id      text NOT NULL,
  state         text NOT NULL,
  client_token  text,
  terminated_at text COLLATE "C",
  doc           jsonb NOT NULL    -- the InstanceRecord
);
CREATE INDEX instances_owner ON instances (region, owner_id, instance_id);
CREATE INDEX instances_token ON instances (region, owner_id, client_token) WHERE client_token IS NOT NULL;
CREATE INDEX instances_state ON instances (state);
-- Private addresses in use per region; the primary key is what keeps two nodes from giving one twice.
CREATE TABLE private_addresses (
  region      text NOT NULL,
  address     bigint NOT NULL,
  instance_id text COLLATE "C" NOT NULL UNIQUE,
  PRIMARY KEY (region, address)
);
-- SSH key pairs: names are unique per account and region, as in EC2.
CREATE TABLE key_pairs (
  key_pair_id text COLLATE "C" PRIMARY KEY,
  region      text NOT NULL,
  owner_id    text NOT NULL,
  key_name    text COLLATE "C" NOT NULL,
  doc         jsonb NOT NULL
);
CREATE UNIQUE INDEX key_pairs_name ON key_pairs (region, owner_id, key_name);

CREATE TABLE vpcs (
  vpc_id  text COLLATE "C" PRIMARY KEY,
  account text NOT NULL,
  region  text NOT NULL,
  doc     jsonb NOT NULL
);
CREATE INDEX vpcs_owner ON vpcs (account, region);
CREATE TABLE subnets (
  subnet_id text COLLATE "C" PRIMARY KEY,
  account   text NOT NULL,
  region    text NOT NULL,
  doc       jsonb NOT NULL
);
CREATE INDEX subnets_owner ON subnets (account, region);
-- Group names are unique per VPC, as in EC2.
CREATE TABLE security_groups (
  group_id   text COLLATE "C" PRIMARY KEY,
  account    text NOT NULL,
  region     text NOT NULL,
  vpc_id     text COLLATE "C" NOT NULL,
  group_name text NOT NULL,
  doc        jsonb NOT NULL
);
CREATE UNIQUE INDEX security_groups_name ON security_groups (account, region, vpc_id, group_name);
-- Host addresses of running instances: unique on the host, whatever the region or account.
CREATE TABLE host_addresses (
  address     bigint PRIMARY KEY,
  instance_id text COLLATE "C" NOT NULL UNIQUE,
  account     text NOT NULL,
  region      text NOT NULL
);

-- Image Builder's records. seq is the insertion order, which breaks ties of created_at (an
-- upsert keeps it, as SQLite's rowid was kept).
CREATE TABLE ib_records (
  arn        text COLLATE "C" PRIMARY KEY,
  seq        bigserial NOT NULL,
  kind       text NOT NULL,
  account    text NOT NULL,
  region     text NOT NULL,
  name       text NOT NULL,
  version    text,
  build      integer,
  parent     text,
  state      text,
  created_at text COLLATE "C" NOT NULL,
  updated_at text NOT NULL,
  doc        jsonb NOT NULL
);
CREATE INDEX ib_records_owner ON ib_records (kind, account, region, name);
CREATE INDEX ib_records_parent ON ib_records (kind, parent);
CREATE INDEX ib_records_state ON ib_records (kind, state);
`;

/** B's tables, emptied by the store's reset (kms_settings outlives it: the root key's fingerprint). */
export const RESET_B = [
  'snapshots', 'snapshot_blocks', 'create_volume_permissions', 'volumes', 'volume_blocks', 'volume_journal',
  'kms_keys', 'kms_key_material', 'kms_aliases', 'kms_grants', 'instances', 'private_addresses', 'key_pairs',
  'vpcs', 'subnets', 'security_groups', 'host_addresses', 'ib_records',
];
