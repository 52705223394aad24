// The shared stores a multi-node benchmark runs on: a throwaway PostgreSQL (scripts/postgres.sh)
// and the RADOS Gateway (scripts/ceph-rgw.sh, shared with the tests), with a bucket of its own.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../test/support/postgres.ts';
import { createTestBucket, objectStore, type ObjectStoreEndpoint } from '../../test/support/object-store.ts';

export interface ClusterStores {
  /** A new empty database on the cluster; its URL. */
  database(): Promise<string>;
  s3: ObjectStoreEndpoint;
  bucket: string;
  /** Environment for amiforge nodes: the object store's endpoint and credentials, as the SDK reads them. */
  env: Record<string, string>;
  /** A KMS root key file every node shares. */
  kmsRootKeyFile: string;
  /** An empty public catalogue: the bench measures the API, not loading catalogue disks into the bucket. */
  emptyCatalog: string;
  /** Process ids of the PostgreSQL server and its backends (for CPU accounting). */
  postgresPids(): number[];
  stop(): Promise<void>;
}

/** The postmaster (first line of postmaster.pid) and its children: one backend per connection. */
function postgresProcesses(dataDir: string): number[] {
  const main = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readFileSync(`/proc/${main}/task/${main}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [main, ...children];
}

export async function startClusterStores(): Promise<ClusterStores> {
  const pg = await startPostgres();
  const s3 = await objectStore();
  const bucket = await createTestBucket();
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-scale-'));
  const kmsRootKeyFile = join(dir, 'kms-root.key');
  writeFileSync(kmsRootKeyFile, randomBytes(32), { mode: 0o600 });
  const emptyCatalog = join(dir, 'empty-catalog.json');
  writeFileSync(emptyCatalog, JSON.stringify({ images: [] }));
  return {
    database: () => pg.createDatabase(),
    s3,
    bucket,
    env: { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region },
    kmsRootKeyFile,
    emptyCatalog,
    postgresPids: () => postgresProcesses(pg.dataDir),
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
