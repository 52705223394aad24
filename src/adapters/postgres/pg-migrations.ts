// The PostgreSQL MetadataStore's schema versions, applied by migrate() at start-up. A released
// version is never edited: a change to the schema is a new version appended here.
import type { Migration } from './migrations.ts';
import { SCHEMA_A } from './schema-a.ts';
import { SCHEMA_B } from './schema-b.ts';
import { SCHEMA_NODES } from './schema-nodes.ts';
import { SCHEMA_CLUSTER } from './schema-cluster.ts';
import { IMAGE_RECORDS_SQL } from './migration-image-records.ts';
import { IB_RECORDS_SQL } from './migration-ib-records.ts';
import { TAG_INDEX_SQL } from './migration-tag-index.ts';
import { SCHEMA_CONSOLE_SESSIONS } from './pg-console-sessions.ts';
import { SCHEMA_SSM_PARAMETERS } from './pg-ssm-parameters.ts';
import { IMAGE_TABLE_INDEXES_SQL } from './pg-image-table.ts';

export const PG_MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'images, tags, Recycle Bin, account settings; snapshots, volumes, KMS, instances, network, Image Builder',
    sql: SCHEMA_A + SCHEMA_B,
  },
  {
    version: 2,
    description: 'node registry; the node running each instance\'s guest',
    sql: SCHEMA_NODES,
  },
  {
    version: 3,
    description: 'work leases of background work; copy schedules\' run state',
    sql: SCHEMA_CLUSTER,
  },
  {
    version: 4,
    description: 'stored images are image records (camelCase), no longer EC2 wire members',
    sql: IMAGE_RECORDS_SQL,
  },
  {
    version: 5,
    description: 'Image Builder records: amiforge\'s own members get names of their own, no longer `_`-prefixed',
    sql: IB_RECORDS_SQL,
  },
  {
    version: 6,
    description: 'tags_by_key on (account, region, key, resource_id): one-entry probes for DescribeImages tag filters',
    sql: TAG_INDEX_SQL,
  },
  {
    version: 7,
    description: 'web console sessions',
    sql: SCHEMA_CONSOLE_SESSIONS,
  },
  {
    version: 8,
    description: 'Systems Manager parameters',
    sql: SCHEMA_SSM_PARAMETERS,
  },
  {
    version: 9,
    description: 'indexes for the console\'s image table: its sorts per owner and per region, and the images made from an image',
    sql: IMAGE_TABLE_INDEXES_SQL,
  },
];
