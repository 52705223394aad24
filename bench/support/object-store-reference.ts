// The object store's own speed, as the reference row of the scale bench: a plain S3 client putting
// then getting distinct 512 KiB objects, `parallel` requests in flight, against the same gateway
// the BlockStore adapter uses. Whatever amiforge adds on top (hashing, metadata, forwarding)
// shows as the gap between this row and its own.
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, PutObjectCommand,
} from '@aws-sdk/client-s3';
import { s3Client, type ObjectStoreEndpoint } from '../../test/support/object-store.ts';

const OBJECT_SIZE = 512 * 1024;

export interface GatewayThroughput {
  objects: number;
  parallel: number;
  objectBytes: number;
  putSeconds: number;
  getSeconds: number;
  /** Decimal megabytes per second (1e6 bytes), as the other benches print. */
  putMBps: number;
  getMBps: number;
}

/** `jobs` run with at most `parallel` in flight; resolves when all have. */
async function inParallel(count: number, parallel: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
}

export async function measureGatewayThroughput(
  store: ObjectStoreEndpoint,
  { objects = 512, parallel = 16 }: { objects?: number; parallel?: number } = {},
): Promise<GatewayThroughput> {
  const s3 = s3Client(store);
  const bucket = `amiforge-bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  // Distinct contents per object, made before the clock starts: a few buffers, each object
  // stamped with its index so no two bodies are equal.
  const pool = Array.from({ length: Math.min(objects, 64) }, () => randomBytes(OBJECT_SIZE));
  const body = (i: number): Buffer => {
    const b = Buffer.from(pool[i % pool.length]);
    b.writeUInt32BE(i, 0);
    return b;
  };
  const key = (i: number): string => `blocks/${i.toString().padStart(8, '0')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  try {
    let started = performance.now();
    await inParallel(objects, parallel, async (i) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key(i), Body: body(i) }));
    });
    const putSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    await inParallel(objects, parallel, async (i) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key(i) }));
      const bytes = await got.Body!.transformToByteArray();
      if (bytes.length !== OBJECT_SIZE) throw new Error(`${key(i)}: ${bytes.length} bytes back, expected ${OBJECT_SIZE}`);
    });
    const getSeconds = (performance.now() - started) / 1000;

    const total = objects * OBJECT_SIZE;
    return {
      objects, parallel, objectBytes: OBJECT_SIZE, putSeconds, getSeconds,
      putMBps: total / 1e6 / putSeconds, getMBps: total / 1e6 / getSeconds,
    };
  } finally {
    // Leave the gateway as found: delete the objects (1000 per request, S3's limit), then the bucket.
    for (let from = 0; from < objects; from += 1000) {
      const keys = Array.from({ length: Math.min(1000, objects - from) }, (_, j) => ({ Key: key(from + j) }));
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  }
}
