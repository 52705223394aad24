// The SQLite schema for the network: default VPCs and subnets, security groups, and the host
// addresses of running instances. Idempotent, as SCHEMA.
export const NETWORK_SCHEMA = `
CREATE TABLE IF NOT EXISTS vpcs (
  vpc_id  TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  region  TEXT NOT NULL,
  doc     TEXT NOT NULL    -- the VpcRecord, JSON
);
CREATE INDEX IF NOT EXISTS vpcs_owner ON vpcs (account, region);

CREATE TABLE IF NOT EXISTS subnets (
  subnet_id TEXT PRIMARY KEY,
  account   TEXT NOT NULL,
  region    TEXT NOT NULL,
  doc       TEXT NOT NULL    -- the SubnetRecord, JSON
);
CREATE INDEX IF NOT EXISTS subnets_owner ON subnets (account, region);

-- Group names are unique per VPC, as in EC2.
CREATE TABLE IF NOT EXISTS security_groups (
  group_id   TEXT PRIMARY KEY,
  account    TEXT NOT NULL,
  region     TEXT NOT NULL,
  vpc_id     TEXT NOT NULL,
  group_name TEXT NOT NULL,
  doc        TEXT NOT NULL    -- the SecurityGroupRecord with its rules, JSON
);
CREATE UNIQUE INDEX IF NOT EXISTS security_groups_name ON security_groups (account, region, vpc_id, group_name);

-- Host addresses (PublicIpAddress) of running instances: unique on the host, whatever the
-- region or account, since the host has one address space.
CREATE TABLE IF NOT EXISTS host_addresses (
  address     INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL UNIQUE,
  account     TEXT NOT NULL,
  region      TEXT NOT NULL
);
`;

/** Statements that empty these tables (the test suites' reset). */
export const NETWORK_RESET = ' DELETE FROM vpcs; DELETE FROM subnets; DELETE FROM security_groups; DELETE FROM host_addresses;';
