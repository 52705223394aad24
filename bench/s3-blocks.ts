// S3BlockStore throughput on an S3-compatible server, and the figures behind put's choice of a
// HEAD before each PUT over a conditional PUT (`If-None-Match: *`, which always sends the body
// and, for a stored block, needs a HEAD after its 412 to learn the block's age): storing new
// blocks and re-putting stored ones, both ways.
//
// The server comes from the environment as the SDK reads it: AWS_ENDPOINT_URL_S3 (or
// AWS_ENDPOINT_URL), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; `scripts/ceph-rgw.sh env` prints
// them for the local gateway. Everything is written under a fresh prefix and removed afterwards.
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3BlockStore, type S3BlockStore } from '../src/adapters/s3/s3-block-store.ts';
import { BLOCK_SIZE } from '../src/ports/block-store.ts';
import { renderTable, type Row } from './support/table.ts';

export const description = 'S3BlockStore: put/get of 512 KiB blocks on an S3-compatible server; HEAD-first vs If-None-Match puts';

const USAGE = `usage: npm run bench -- s3-blocks [--bucket amiforge-bench] [--blocks 256] [--concurrency 1,16,64]
  (server and credentials from AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)`;

const D = 'us-east-1';

interface Block { hash: string; data: Buffer }

function blocks(n: number): Block[] {
  return Array.from({ length: n }, () => {
    const data = randomBytes(BLOCK_SIZE);
    return { hash: createHash('sha256').update(data).digest('hex'), data };
  });
}

/** Runs fn over items, `limit` at a time; returns the seconds taken. */
async function timed<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
  return (performance.now() - started) / 1000;
}

/** The alternative put: PUT If-None-Match, then on 412 the HEAD put would need for the block's age. */
async function conditionalPut(store: S3BlockStore, b: Block): Promise<void> {
  if (createHash('sha256').update(b.data).digest('hex') !== b.hash) throw new Error('hash');
  const Key = `${store.prefix}/${D}/${b.hash.slice(0, 2)}/${b.hash}`;
  try {
    await store.client.send(new PutObjectCommand({
      Bucket: store.bucket, Key, Body: b.data, ContentMD5: createHash('md5').update(b.data).digest('base64'), IfNoneMatch: '*',
    }));
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw err;
    await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key }));
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      bucket: { type: 'string', default: 'amiforge-bench' },
      blocks: { type: 'string', default: '256' },
      concurrency: { type: 'string', default: '1,16,64' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  const n = Number(values.blocks);
  const concurrencies = values.concurrency.split(',').map(Number);
  const rows: Row[] = [];
  const mibs = (seconds: number) => `${((n * BLOCK_SIZE) / 1048576 / seconds).toFixed(0)} MiB/s`;
  const perBlock = (seconds: number) => `${((seconds * 1000) / n).toFixed(2)} ms`;
  for (const c of concurrencies) {
    const prefix = `bench-${randomBytes(4).toString('hex')}`;
    const store = createS3BlockStore({ bucket: values.bucket, prefix });
    await store.ensureBucket();
    try {
      rows.push({ section: `concurrency ${c}` });
      const mine = blocks(n);
      const alternative = blocks(n);
      const measure = async (what: string, items: Block[], fn: (b: Block) => Promise<unknown>) => {
        const s = await timed(items, c, fn);
        rows.push([what, String(c), mibs(s), perBlock(s)]);
      };
      await measure('put new: HEAD 404 + PUT (put)', mine, (b) => store.put(D, b.hash, b.data));
      await measure('put stored: HEAD (put)', mine, (b) => store.put(D, b.hash, b.data));
      await measure('put new: PUT If-None-Match (alternative)', alternative, (b) => conditionalPut(store, b));
      await measure('put stored: PUT 412 + HEAD (alternative)', alternative, (b) => conditionalPut(store, b));
      await measure('get: GET + SHA-256', mine, (b) => store.get(D, b.hash));
    } finally {
      await store.destroyDomain(D);
      store.close();
    }
  }
  console.log(`${n} blocks of 512 KiB per row\n`);
  console.log(renderTable(['operation', 'in flight', 'throughput', 'wall time per block'], rows));
}
