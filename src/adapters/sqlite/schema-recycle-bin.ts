// The SQLite schema for the Recycle Bin: retention rules, and the images and snapshots deleted
// under them. Idempotent, as SCHEMA.
export const RECYCLE_BIN_SCHEMA = `
CREATE TABLE IF NOT EXISTS rbin_rules (
  rule_id       TEXT PRIMARY KEY,
  account       TEXT NOT NULL,
  region        TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  doc           TEXT NOT NULL    -- the RetentionRuleRecord, JSON
);
CREATE INDEX IF NOT EXISTS rbin_rules_owner ON rbin_rules (account, region, rule_id);

-- A binned snapshot's block map stays in snapshot_blocks under its id (its data is kept).
CREATE TABLE IF NOT EXISTS recycle_bin (
  resource_id   TEXT PRIMARY KEY,
  resource_type TEXT NOT NULL,
  account       TEXT NOT NULL,
  region        TEXT NOT NULL,
  exit_time     TEXT NOT NULL,
  doc           TEXT NOT NULL    -- the BinEntry, JSON
);
CREATE INDEX IF NOT EXISTS recycle_bin_owner ON recycle_bin (account, region, resource_type, resource_id);
CREATE INDEX IF NOT EXISTS recycle_bin_exit ON recycle_bin (exit_time);
`;

export const RECYCLE_BIN_RESET = ' DELETE FROM recycle_bin; DELETE FROM rbin_rules;';
