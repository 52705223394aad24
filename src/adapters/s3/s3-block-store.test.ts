// S3BlockStore against a real S3-compatible server (Ceph's RADOS Gateway, started once per
// machine by test/support/object-store.ts): the BlockStore contract, plus what only this adapter
// promises (layout, the location syntax, typed errors when the server or the bucket is missing).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { BlockCorruptError, BlockStoreUnavailableError } from '../../ports/block-store.ts';
import { block, blockStoreContract } from '../../../test/contracts/block-store.contract.ts';
import { objectStore } from '../../../test/support/object-store.ts';
import { createS3BlockStore, parseBlocksLocation, type S3BlockStore } from './s3-block-store.ts';

const BUCKET = 'amiforge-test-blocks';
const D = 'us-east-1';

const server = await objectStore();
const credentials = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
/** A plain client, to look at and damage objects behind the store's back. */
const raw = new S3Client({ endpoint: server.endpoint, region: server.region, credentials, forcePathStyle: true });
after(() => raw.destroy());

function storeAt(prefix: string, bucket = BUCKET): S3BlockStore {
  return createS3BlockStore({ bucket, prefix, endpoint: server.endpoint, region: server.region, credentials });
}

/** Every key under `prefix/`. */
async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await raw.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function removeAll(prefix: string): Promise<void> {
  const keys = await keysUnder(prefix);
  for (let i = 0; i < keys.length; i += 1000) {
    await raw.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
  }
}

/** A store under a fresh prefix of the shared test bucket, its objects removed afterwards. */
async function withStore(fn: (store: S3BlockStore, prefix: string) => Promise<void>): Promise<void> {
  const prefix = `t-${randomBytes(6).toString('hex')}`;
  const store = storeAt(prefix);
  await store.ensureBucket();
  try {
    await fn(store, prefix);
  } finally {
    await removeAll(prefix);
    store.close();
  }
}

blockStoreContract('S3BlockStore', async () => {
  const prefix = `c-${randomBytes(6).toString('hex')}`;
  const store = storeAt(prefix);
  await store.ensureBucket();
  return {
    store,
    async cleanup() {
      await removeAll(prefix);
      store.close();
    },
    async corrupt(domain, hash) {
      const Key = `${prefix}/${domain}/${hash.slice(0, 2)}/${hash}`;
      const bytes = Buffer.from(await (await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToByteArray());
      bytes[bytes.length >> 1] ^= 0x01;
      await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: bytes }));
    },
  };
});

test('parseBlocksLocation: s3://BUCKET[/PREFIX], anything else refused', () => {
  assert.deepEqual(parseBlocksLocation('s3://blocks'), { bucket: 'blocks', prefix: '' });
  assert.deepEqual(parseBlocksLocation('s3://blocks/'), { bucket: 'blocks', prefix: '' });
  assert.deepEqual(parseBlocksLocation('s3://my.blocks-1/amiforge/prod/'), { bucket: 'my.blocks-1', prefix: 'amiforge/prod' });
  for (const bad of ['blocks', '/var/lib/blocks', 's3://', 's3:///x', 's3://Bad_Bucket', 's3://b', 's3://blocks/a/../b', 's3://blocks/a//b']) {
    assert.throws(() => parseBlocksLocation(bad), /s3:\/\/BUCKET|prefix/, bad);
  }
});

test('layout: <prefix>/<domain>/<first two hex digits>/<hash>, holding exactly the block bytes', () => withStore(async (store, prefix) => {
  const b = block(5000);
  await store.put(D, b.hash, b.data);
  await store.put('eu-west-2', b.hash, b.data);
  assert.deepEqual((await keysUnder(prefix)).sort(),
    [`${prefix}/eu-west-2/${b.hash.slice(0, 2)}/${b.hash}`, `${prefix}/${D}/${b.hash.slice(0, 2)}/${b.hash}`]);
  const got = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${D}/${b.hash.slice(0, 2)}/${b.hash}` }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(b.data));
}));

test('an object overwritten through a plain S3 client reads as BlockCorruptError; list skips foreign keys', () => withStore(async (store, prefix) => {
  const b = block();
  await store.put(D, b.hash, b.data);
  await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${D}/${b.hash.slice(0, 2)}/${b.hash}`, Body: block().data }));
  await assert.rejects(store.get(D, b.hash), BlockCorruptError);
  await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${D}/notes.txt`, Body: 'not a block' }));
  await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${D}/00/${b.hash}`, Body: 'wrong fan-out' }));
  const listed = [];
  for await (const info of store.list(D)) listed.push(info.hash);
  assert.deepEqual(listed, [b.hash]);
}));

test('destroyDomain deletes more than one DeleteObjects batch (1000 keys), and only its domain', () => withStore(async (store, prefix) => {
  const blocks = Array.from({ length: 1005 }, () => block(16));
  const keep = block(16);
  await store.put('eu-west-2', keep.hash, keep.data);
  for (let i = 0; i < blocks.length; i += 64) {
    await Promise.all(blocks.slice(i, i + 64).map((b) => store.put(D, b.hash, b.data)));
  }
  assert.equal((await keysUnder(`${prefix}/${D}`)).length, blocks.length);
  await store.destroyDomain(D);
  assert.deepEqual(await keysUnder(`${prefix}/${D}`), []);
  assert.ok((await store.get('eu-west-2', keep.hash)).equals(keep.data));
}));

test('a missing bucket is a BlockStoreUnavailableError that names it and says what to do', async () => {
  const store = storeAt('p', `amiforge-absent-${randomBytes(4).toString('hex')}`);
  try {
    await assert.rejects(store.checkBucket(), (err: unknown) => {
      assert.ok(err instanceof BlockStoreUnavailableError, String(err));
      assert.match(err.message, /amiforge-absent-[0-9a-f]+ does not exist/);
      assert.match(err.message, new RegExp(server.endpoint.replace(/[.]/g, '\\.')));
      assert.match(err.message, /Create it/);
      return true;
    });
    const b = block(10);
    await assert.rejects(store.get(D, b.hash), BlockStoreUnavailableError);
    await assert.rejects(store.put(D, b.hash, b.data), BlockStoreUnavailableError);
  } finally {
    store.close();
  }
});

test('an unreachable endpoint gives BlockStoreUnavailableError once the retries are spent', async () => {
  // Port 9 (discard) on loopback: nothing listens, so every attempt is refused at once and only
  // the SDK's backoff between the attempts takes time.
  const store = createS3BlockStore({
    bucket: BUCKET, prefix: 'p', endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials, maxAttempts: 3,
  });
  let attempts = 0;
  store.client.middlewareStack.add((next) => async (args) => { attempts++; return next(args); }, { step: 'finalizeRequest', priority: 'low' });
  try {
    const b = block(10);
    const ops = [() => store.get(D, b.hash), () => store.put(D, b.hash, b.data), () => store.has(D, b.hash), () => store.checkBucket()];
    for (const op of ops) {
      await assert.rejects(op(), (err: unknown) => {
        assert.ok(err instanceof BlockStoreUnavailableError, String(err));
        assert.match(err.message, /127\.0\.0\.1:9/);
        return true;
      });
    }
    assert.equal(attempts, ops.length * 3, 'each request was tried three times');
  } finally {
    store.close();
  }
});

test('throttling (503 SlowDown) is retried with backoff; a server that keeps throttling is BlockStoreUnavailableError', async () => {
  // A stand-in server that throttles the first `throttled` requests and then answers HEADs with
  // 404: the SDK's retry rules, not the gateway, are what is under test here.
  const slowDown = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
  let requests = 0;
  let throttled = 0;
  const fake = createServer((req, res) => {
    requests++;
    req.resume();
    if (requests <= throttled) {
      res.writeHead(503, { 'content-type': 'application/xml' }).end(req.method === 'HEAD' ? undefined : slowDown);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  const store = createS3BlockStore({
    bucket: BUCKET, prefix: 'p', endpoint: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, region: 'us-east-1', credentials, maxAttempts: 3,
  });
  try {
    const b = block(10);
    throttled = 2;
    assert.equal(await store.has(D, b.hash), false, 'answered after two throttled attempts');
    assert.equal(requests, 3);
    requests = 0;
    throttled = 100;
    await assert.rejects(store.get(D, b.hash), (err: unknown) => {
      assert.ok(err instanceof BlockStoreUnavailableError, String(err));
      assert.match(err.message, /SlowDown|503/);
      return true;
    });
    assert.equal(requests, 3, 'three attempts, then given up');
  } finally {
    store.close();
    await new Promise((resolve) => fake.close(resolve));
  }
});

test('DeleteObjects carries Content-MD5 (what every S3-compatible server accepts), not only a CRC32 header', async () => {
  const store = storeAt(`m-${randomBytes(6).toString('hex')}`);
  const seen: Record<string, string>[] = [];
  store.client.middlewareStack.add((next, context) => async (args) => {
    if (context.commandName === 'DeleteObjectsCommand') seen.push({ ...(args.request as { headers: Record<string, string> }).headers });
    return next(args);
  }, { step: 'finalizeRequest', priority: 'low' });
  try {
    await store.ensureBucket();
    const b = block(10);
    await store.put(D, b.hash, b.data);
    await store.destroyDomain(D);
    assert.equal(await store.has(D, b.hash), false);
    assert.equal(seen.length, 1);
    assert.match(seen[0]['content-md5'] ?? '', /^[A-Za-z0-9+/]{22}==$/);
    assert.deepEqual(Object.keys(seen[0]).filter((h) => /checksum/i.test(h)), []);
  } finally {
    store.close();
  }
});

test('put: a new block is a HEAD and a PUT; a stored one only a HEAD, plus a rewrite once it is old', async () => {
  const prefix = `r-${randomBytes(6).toString('hex')}`;
  const stores = [storeAt(prefix), createS3BlockStore({ bucket: BUCKET, prefix, endpoint: server.endpoint, region: server.region, credentials, refreshAfterMs: -1 })];
  const sent: string[] = [];
  for (const s of stores) {
    s.client.middlewareStack.add((next, context) => async (args) => {
      sent.push(String(context.commandName));
      return next(args);
    }, { step: 'finalizeRequest', priority: 'low' });
  }
  const [store, eager] = stores;
  try {
    await store.ensureBucket();
    sent.length = 0;
    const b = block();
    await store.put(D, b.hash, b.data);
    assert.deepEqual(sent.splice(0), ['HeadObjectCommand', 'PutObjectCommand']);
    await store.put(D, b.hash, b.data); // just written: left alone
    assert.deepEqual(sent.splice(0), ['HeadObjectCommand']);
    await eager.put(D, b.hash, b.data); // "old" for this store: written again
    assert.deepEqual(sent.splice(0), ['HeadObjectCommand', 'PutObjectCommand']);
    assert.ok((await store.get(D, b.hash)).equals(b.data));
  } finally {
    await removeAll(prefix);
    for (const s of stores) s.close();
  }
});
