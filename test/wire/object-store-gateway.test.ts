// The object store the BlockStore adapter and the cluster run on: Ceph's RADOS Gateway, a real
// S3 server started by scripts/ceph-rgw.sh, driven here with the official S3 client. Proves the
// gateway stores 512 KiB blocks, and that with radosgw stopped requests fail with a network error
// (retryable) and succeed again once it is back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import {
  createTestBucket, objectStore, s3Client, startPrivateObjectStore, type PrivateObjectStore,
} from '../support/object-store.ts';

const BLOCK = 512 * 1024;
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('the shared gateway', () => {
  let s3: S3Client;
  let bucket: string;

  before(async () => {
    const store = await objectStore();
    s3 = s3Client(store);
    bucket = await createTestBucket();
  });
  after(() => s3?.destroy());

  test('objectStore() is idempotent: the same endpoint every call', async () => {
    assert.deepEqual(await objectStore(), await objectStore());
  });

  test('puts, gets, lists and deletes a 512 KiB object', async () => {
    const body = randomBytes(BLOCK);
    const key = 'snapshots/snap-0123/blocks/00000001';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await got.Body!.transformToByteArray();
    assert.equal(bytes.length, BLOCK);
    assert.equal(sha256(bytes), sha256(body));

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'snapshots/snap-0123/' }));
    assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.Size]), [[key, BLOCK]]);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), (e: Error) => e.name === 'NotFound');
    const empty = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.equal(empty.KeyCount, 0);
  });

  test('createTestBucket() makes a fresh bucket each time', async () => {
    const other = await createTestBucket();
    assert.notEqual(other, bucket);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: other }));
    assert.equal(listed.KeyCount, 0);
  });
});

describe('the gateway down and back (a private cluster: the shared one keeps serving)', () => {
  let store: PrivateObjectStore;
  let s3: S3Client;
  let bucket: string;

  before(async () => {
    store = await startPrivateObjectStore();
    // One attempt: the test sees each failure rather than the client's retries.
    s3 = s3Client(store, { maxAttempts: 1 });
    bucket = await createTestBucket(undefined, store);
  });
  after(async () => {
    s3?.destroy();
    await store?.stop();
  });

  test('requests fail with a connection error while radosgw is stopped, then work again', async () => {
    const body = randomBytes(BLOCK);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'before', Body: body }));

    await store.stopGateway();
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'during', Body: body })),
      (e: NodeJS.ErrnoException) => {
        // No HTTP response at all: the SDK classes this as a transient (retryable) network error.
        assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, undefined);
        assert.match(`${e.code ?? ''} ${e.name} ${e.message}`, /ECONNREFUSED|ECONNRESET|socket hang up/);
        return true;
      },
    );

    await store.startGateway();
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after', Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'before' }));
    assert.equal(sha256(await got.Body!.transformToByteArray()), sha256(body));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['after', 'before']);
  });
});
