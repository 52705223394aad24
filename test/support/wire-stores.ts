// Which stores the wire tests' servers use. By default each server keeps SQLite and its blocks in
// its own data directory. With AMIFORGE_TEST_STORES=postgres-s3 each server gets a fresh
// PostgreSQL database (one throwaway cluster per test process, started on first use, stopped when
// the process exits) and keeps its blocks on the shared RADOS Gateway; the data directory still
// holds what is per node (accounts file, KMS root key, instance state).
//
// The servers share one bucket, AMIFORGE_TEST_BUCKET (default amiforge-wire-tests, made on first
// use and kept). Each server loads the catalogue, whose disks are about 6,000 blocks of 512 KiB
// over the seven regions: 3 GB and 90 s or more to upload to the one-OSD test gateway, whose
// disk holds 8 GiB. A bucket per server (or per test file) fills that disk in three servers and
// times out when two upload at once. Blocks are addressed by content, so servers sharing a
// bucket share them, as a cluster's nodes do: a server finds the catalogue's blocks listed and
// uploads nothing (if they were stored in the last 5 minutes; older ones are put again, which
// refreshes them). Online GC spares unreferenced blocks for 15 minutes, longer than a test file
// runs, so no server collects blocks another is still using.
import { execFileSync } from 'node:child_process';
import { createS3BlockStore } from '../../src/adapters/s3/s3-block-store.ts';
import { objectStore, type ObjectStoreEndpoint } from './object-store.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';

export type WireStores = 'sqlite-fs' | 'postgres-s3';

export function wireStores(): WireStores {
  const value = process.env.AMIFORGE_TEST_STORES ?? 'sqlite-fs';
  if (value !== 'sqlite-fs' && value !== 'postgres-s3') throw new Error(`AMIFORGE_TEST_STORES must be sqlite-fs or postgres-s3, not ${value}`);
  return value;
}

/** What a server started on PostgreSQL and S3 is given, and how its database and bucket go away. */
export interface ServerStores {
  args: string[];
  env: Record<string, string>;
  release(): Promise<void>;
}

let cluster: Promise<TestPostgres> | undefined;

function postgres(): Promise<TestPostgres> {
  cluster ??= startPostgres().then((pg) => {
    // The cluster is a daemon of its own: stopped synchronously as this process ends, however
    // its tests ended.
    process.once('exit', () => pg.stopSync());
    return pg;
  });
  return cluster;
}

let bucketMade: Promise<string> | undefined;

/** The bucket the servers share (see above), made if absent. */
function sharedBucket(s3: ObjectStoreEndpoint): Promise<string> {
  bucketMade ??= (async () => {
    const bucket = process.env.AMIFORGE_TEST_BUCKET || 'amiforge-wire-tests';
    const blocks = testBlockStore(s3, bucket);
    try { await blocks.ensureBucket(); } finally { blocks.close(); }
    return bucket;
  })();
  return bucketMade;
}

/** A fresh database, and the shared bucket, for one server. */
export async function serverStores(): Promise<ServerStores> {
  const [pg, s3] = await Promise.all([postgres(), objectStore()]);
  const [database, bucket] = await Promise.all([pg.createDatabase(), sharedBucket(s3)]);
  return {
    args: ['--database', database, '--blocks', `s3://${bucket}/blocks`, '--s3-endpoint', s3.endpoint, '--s3-region', s3.region],
    env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
    async release() { await pg.dropDatabase(database); },
  };
}

function testBlockStore(s3: ObjectStoreEndpoint, bucket: string) {
  return createS3BlockStore({
    bucket, prefix: '', endpoint: s3.endpoint, region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}
