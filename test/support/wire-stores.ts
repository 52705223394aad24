// Which stores the wire tests' servers use. By default each server keeps SQLite and its blocks in
// its own data directory. With AMIFORGE_TEST_STORES=postgres-s3 each server gets a fresh
// PostgreSQL database (one throwaway cluster per test process, started on first use, stopped when
// the process exits) and a fresh bucket on the shared RADOS Gateway; the data directory still
// holds what is per node (accounts file, KMS root key, instance state).
import { execFileSync } from 'node:child_process';
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3BlockStore } from '../../src/adapters/s3/s3-block-store.ts';
import { createTestBucket, objectStore, type ObjectStoreEndpoint } from './object-store.ts';
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

/** A fresh database and bucket for one server. */
export async function serverStores(): Promise<ServerStores> {
  const [pg, s3] = await Promise.all([postgres(), objectStore()]);
  const [database, bucket] = await Promise.all([pg.createDatabase(), createTestBucket(undefined, s3)]);
  return {
    args: ['--database', database, '--blocks', `s3://${bucket}/blocks`, '--s3-endpoint', s3.endpoint, '--s3-region', s3.region],
    env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey },
    async release() {
      await Promise.all([pg.dropDatabase(database), emptyAndDeleteBucket(s3, bucket)]);
    },
  };
}

/** The gateway's disk is shared by every test file: a stopped server's blocks are removed. */
async function emptyAndDeleteBucket(store: ObjectStoreEndpoint, bucket: string): Promise<void> {
  // The block store's client: it sends DeleteObjects the Content-MD5 the gateway wants.
  const blocks = createS3BlockStore({
    bucket, prefix: '', endpoint: store.endpoint, region: store.region,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
  const client = blocks.client;
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      token = page.NextContinuationToken;
    } while (token);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } finally {
    blocks.close();
  }
}
