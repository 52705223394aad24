// The SQLite schema's versions. Never edit a released migration: a change to the schema is a new
// entry at the end of this list (and the same change in PostgreSQL's list).
import type { DatabaseSync } from 'node:sqlite';
import type { SqliteMigration } from './migrate.ts';
import { SCHEMA } from './schema.ts';
import { RECYCLE_BIN_SCHEMA } from './schema-recycle-bin.ts';
import { NETWORK_SCHEMA } from './schema-network.ts';
import { IMAGEBUILDER_SCHEMA } from './schema-imagebuilder.ts';
import { ACCOUNT_SETTINGS_SCHEMA } from './sqlite-account-settings.ts';
import { imageDocsToRecords } from './migration-image-records.ts';
import { ibRecordsOwnMembers } from './migration-ib-records.ts';
import { INSTANCE_NODE_INDEX, INSTANCE_SCHEMA } from './schema-instances.ts';
import { WORK_LEASES_SCHEMA } from './sqlite-work-leases.ts';
import { COPY_SCHEDULE_STATE_SCHEMA } from './sqlite-copy-schedule-state.ts';
import { NODES_SCHEMA } from './sqlite-nodes.ts';
import { CONSOLE_SESSIONS_SCHEMA } from './sqlite-console-sessions.ts';
import { SSM_PARAMETERS_SCHEMA } from './sqlite-ssm-parameters.ts';
import { IMAGE_TABLE_INDEXES } from './sqlite-image-table.ts';

/** Adds a column unless the table has it already. */
function addColumnIfMissing(db: DatabaseSync, table: string, column: string, type: string): void {
  const cols = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  if (!cols.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}

export const SQLITE_MIGRATIONS: SqliteMigration[] = [
  {
    version: 1,
    // Every statement is CREATE ... IF NOT EXISTS, so a file made before versions existed
    // (user_version 0, tables present) takes this version in place.
    description: 'the schema as it was before versioned migrations',
    up: SCHEMA + INSTANCE_SCHEMA + RECYCLE_BIN_SCHEMA + NETWORK_SCHEMA + IMAGEBUILDER_SCHEMA + ACCOUNT_SETTINGS_SCHEMA,
  },
  {
    version: 2,
    // Files from before encrypted blocks lack the column (newer ones made it in version 1).
    description: 'block maps record the plaintext checksum of encrypted blocks',
    up: (db) => {
      addColumnIfMissing(db, 'snapshot_blocks', 'checksum', 'TEXT');
      addColumnIfMissing(db, 'volume_blocks', 'checksum', 'TEXT');
    },
  },
  {
    version: 3,
    description: 'stored images are image records (camelCase), no longer EC2 wire members',
    up: imageDocsToRecords,
  },
  {
    version: 4,
    // Files made before nodes: instances gain the column (new files have it from version 1).
    description: 'several nodes: the node running each instance, the node registry, work leases, copy schedules\' run state',
    up: (db) => {
      addColumnIfMissing(db, 'instances', 'node_id', 'TEXT');
      db.exec(INSTANCE_NODE_INDEX + ';' + NODES_SCHEMA + WORK_LEASES_SCHEMA + COPY_SCHEDULE_STATE_SCHEMA);
    },
  },
  {
    version: 5,
    description: 'Image Builder records: amiforge\'s own members get names of their own, no longer `_`-prefixed',
    up: ibRecordsOwnMembers,
  },
  {
    version: 6,
    description: 'web console sessions',
    up: CONSOLE_SESSIONS_SCHEMA,
  },
  {
    version: 7,
    description: 'Systems Manager parameters',
    up: SSM_PARAMETERS_SCHEMA,
  },
  {
    version: 8,
    description: 'indexes for the console\'s image table: its sorts per owner and per region, and the images made from an image',
    up: IMAGE_TABLE_INDEXES,
  },
];
