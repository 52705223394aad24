// The real S3-compatible server the object-store tests use: Ceph's RADOS Gateway, started by
// scripts/ceph-rgw.sh. One shared cluster serves every test file (starting it is idempotent and
// serialised across processes); a fault test that stops the gateway takes a private cluster of
// its own so the files running beside it keep theirs.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

const run = promisify(execFile);
const SCRIPT = new URL('../../scripts/ceph-rgw.sh', import.meta.url).pathname;

export interface ObjectStoreEndpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** A cluster of this test's own: the gateway can be stopped and started again (fault tests). */
export interface PrivateObjectStore extends ObjectStoreEndpoint {
  stopGateway(): Promise<void>;
  startGateway(): Promise<void>;
  /** Stops every daemon and removes the cluster's state. */
  stop(): Promise<void>;
}

async function script(command: string, dir?: string): Promise<string> {
  const env = dir ? { ...process.env, AMIFORGE_CEPH_DIR: dir } : process.env;
  // The first start makes the cluster (20-40 s); later ones return at once.
  const { stdout } = await run('bash', [SCRIPT, command], { env, maxBuffer: 1 << 20, timeout: 600_000 });
  return stdout;
}

function readEndpoint(dir: string): ObjectStoreEndpoint {
  const values = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'endpoint.env'), 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) values.set(line.slice(0, at), line.slice(at + 1));
  }
  const get = (key: string): string => {
    const value = values.get(key);
    if (!value) throw new Error(`${dir}/endpoint.env has no ${key}`);
    return value;
  };
  return {
    endpoint: get('AWS_ENDPOINT_URL_S3'),
    region: get('AWS_REGION'),
    accessKeyId: get('AWS_ACCESS_KEY_ID'),
    secretAccessKey: get('AWS_SECRET_ACCESS_KEY'),
  };
}

function sharedDir(): string {
  return process.env.AMIFORGE_CEPH_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'amiforge-ceph');
}

let shared: Promise<ObjectStoreEndpoint> | undefined;

/** The shared gateway, started on first use (once per process; idempotent across processes). */
export function objectStore(): Promise<ObjectStoreEndpoint> {
  shared ??= script('start').then(() => readEndpoint(sharedDir()));
  return shared;
}

/** A whole cluster for one test (its own directory, ports and daemons); call stop() at the end. */
export async function startPrivateObjectStore(): Promise<PrivateObjectStore> {
  // The script's lock file sits beside the cluster's directory: both inside this one.
  const parent = mkdtempSync(join(tmpdir(), 'amiforge-ceph-'));
  const dir = join(parent, 'cluster');
  await script('start', dir);
  return {
    ...readEndpoint(dir),
    stopGateway: async () => { await script('stop-gateway', dir); },
    startGateway: async () => { await script('start-gateway', dir); },
    stop: async () => {
      await script('stop', dir);
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** An S3 client for the gateway: path-style addressing (no DNS names per bucket on 127.0.0.1). */
export function s3Client(store: ObjectStoreEndpoint, options: { maxAttempts?: number } = {}): S3Client {
  return new S3Client({
    endpoint: store.endpoint,
    region: store.region,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
    forcePathStyle: true,
    maxAttempts: options.maxAttempts,
  });
}

/** A fresh bucket with a unique name on the shared gateway (or on `store`); returns its name. */
export async function createTestBucket(name?: string, store?: ObjectStoreEndpoint): Promise<string> {
  const target = store ?? (await objectStore());
  const bucket = name ?? `amiforge-test-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const client = s3Client(target);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return bucket;
}

/**
 * Empties and removes a bucket made by createTestBucket: the shared gateway's one OSD is small,
 * and every test file's leftovers would fill it.
 */
export async function deleteTestBucket(bucket: string, store?: ObjectStoreEndpoint): Promise<void> {
  const client = s3Client(store ?? (await objectStore()));
  try {
    for (;;) {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!);
      if (keys.length === 0) break;
      // One request per object: DeleteObjects' checksum header is not accepted by every gateway.
      for (let i = 0; i < keys.length; i += 32) {
        await Promise.all(keys.slice(i, i + 32).map((Key) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))));
      }
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}
