// The SQLite schema for instances, their private addresses and key pairs. Idempotent, as SCHEMA.
export const INSTANCE_SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  instance_id   TEXT PRIMARY KEY,
  region        TEXT NOT NULL,
  owner_id      TEXT NOT NULL,
  state         TEXT NOT NULL,
  client_token  TEXT,
  terminated_at TEXT,
  node_id       TEXT,            -- the node running its guest (InstanceRecord.nodeId)
  doc           TEXT NOT NULL    -- the InstanceRecord, JSON
);
CREATE INDEX IF NOT EXISTS instances_owner ON instances (region, owner_id, instance_id);
CREATE INDEX IF NOT EXISTS instances_token ON instances (region, owner_id, client_token) WHERE client_token IS NOT NULL;
CREATE INDEX IF NOT EXISTS instances_state ON instances (state);

-- Private addresses in use, per region (the default VPC's 172.31.0.0/16). A terminated
-- instance's row is deleted, so its address can be given again.
CREATE TABLE IF NOT EXISTS private_addresses (
  region      TEXT NOT NULL,
  address     INTEGER NOT NULL,
  instance_id TEXT NOT NULL UNIQUE,
  PRIMARY KEY (region, address)
) WITHOUT ROWID;

-- SSH key pairs: names are unique per account and region, as in EC2.
CREATE TABLE IF NOT EXISTS key_pairs (
  key_pair_id TEXT PRIMARY KEY,
  region      TEXT NOT NULL,
  owner_id    TEXT NOT NULL,
  key_name    TEXT NOT NULL,
  doc         TEXT NOT NULL    -- the KeyPairRecord, JSON
);
CREATE UNIQUE INDEX IF NOT EXISTS key_pairs_name ON key_pairs (region, owner_id, key_name);
`;

/** The node column's index: created by migration 4, once files from before nodes have the column. */
export const INSTANCE_NODE_INDEX = 'CREATE INDEX IF NOT EXISTS instances_node ON instances (node_id, state)';

/** Statements that empty these tables (the test suites' reset). */
export const INSTANCE_RESET = 'DELETE FROM instances; DELETE FROM private_addresses; DELETE FROM key_pairs;';
