// A server whose blocks live in an S3-compatible bucket (`serve --blocks s3://...`, Ceph's RADOS
// Gateway here): snapshots written through EBS direct land as objects; `amiforge fsck --blocks`
// finds an object deleted and another overwritten behind the server's back, as it does on disk;
// and while the object store is unreachable, reads fail with the service's retryable internal
// error (no detail of the cause) and succeed again once it is back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ALICE, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf } from '../support/clients.ts';
import { ebsClient, expectEbsError, getBlock, uploadSnapshot } from '../support/ebs.ts';
import { objectStore } from '../support/object-store.ts';
import { Relay } from '../support/tcp-relay.ts';
import { CLI, type Run } from '../support/storage-cli.ts';
import { createS3BlockStore } from '../../src/adapters/s3/s3-block-store.ts';

const BUCKET = 'amiforge-test-blocks';
const PREFIX = `wire-${randomBytes(6).toString('hex')}`;
const REGION = 'us-east-1';

const s3 = await objectStore();
const s3Env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region };
const raw = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });

const relay = new Relay(new URL(s3.endpoint));
const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-s3-wire-'));
const catalog = join(dataDir, 'empty-catalog.json');
writeFileSync(catalog, JSON.stringify({ images: [] }));
let server: RunningServer;
let blocksArgs: string[];

before(async () => {
  await createS3BlockStore({ bucket: BUCKET, prefix: PREFIX, endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }).ensureBucket();
  await relay.open();
  blocksArgs = ['--blocks', `s3://${BUCKET}/${PREFIX}`, '--s3-endpoint', `http://127.0.0.1:${relay.port}`];
  server = await startServer({ dataDir, accounts: [ALICE], env: s3Env, extraArgs: [...blocksArgs, '--catalog', catalog] });
});

after(async () => {
  await server?.stop();
  await relay.cut().catch(() => {});
  const store = createS3BlockStore({ bucket: BUCKET, prefix: PREFIX, endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  await store.destroyDomain(REGION);
  store.close();
  raw.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

function amiforge(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(CLI, [...args, '--data-dir', dataDir], { env: { ...process.env, ...s3Env }, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const keyOf = (base64: string): string => {
  const hex = Buffer.from(base64, 'base64').toString('hex');
  return `${PREFIX}/${REGION}/${hex.slice(0, 2)}/${hex}`;
};

test('fsck --blocks s3://... finds an object deleted and another overwritten in the bucket', async () => {
  const ebs = ebsClient(server.endpoint, credentialsOf(ALICE), REGION);
  const seeds = new Map([[0, 'a'], [1, 'b'], [2, 'c']]);
  const { checksums } = await uploadSnapshot(ebs, {}, seeds);
  ebs.destroy();

  const clean = await amiforge('fsck', ...blocksArgs, '--region', REGION, '--json');
  assert.equal(clean.code, 0, clean.stderr);
  assert.deepEqual(JSON.parse(clean.stdout).fsck.map((r: any) => [r.referenced, r.missing.length, r.corrupt.length]), [[3, 0, 0]]);

  await raw.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: keyOf(checksums.get(0)!) }));
  await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: keyOf(checksums.get(1)!), Body: randomBytes(512 * 1024) }));

  const broken = await amiforge('fsck', ...blocksArgs, '--region', REGION, '--json');
  assert.equal(broken.code, 1, broken.stderr);
  const [report] = JSON.parse(broken.stdout).fsck;
  const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
  assert.deepEqual(report.missing, [hex(checksums.get(0)!)]);
  assert.deepEqual(report.corrupt, [hex(checksums.get(1)!)]);

  // The storage commands open the same bucket.
  const usage = await amiforge('storage', 'report', ...blocksArgs, '--region', REGION, '--json');
  assert.equal(usage.code, 0, usage.stderr);

  // A bucket that does not exist is one clear message, not a stack trace.
  const absent = await amiforge('fsck', '--blocks', 's3://amiforge-no-such-bucket', '--s3-endpoint', s3.endpoint);
  assert.equal(absent.code, 2);
  assert.match(absent.stderr, /bucket amiforge-no-such-bucket does not exist/);
  assert.doesNotMatch(absent.stderr, /\n\s+at /);
});

test('with the object store unreachable, reads fail with a retryable internal error and recover after', async () => {
  const ebs = ebsClient(server.endpoint, credentialsOf(ALICE), REGION);
  try {
    const { snapshotId } = await uploadSnapshot(ebs, {}, new Map([[0, 'x']]));
    const listed = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
    const token = listed.Blocks![0].BlockToken!;
    await relay.cut();
    const err = await expectEbsError(getBlock(ebs, snapshotId, 0, token), { name: 'InternalServerException', status: 500 });
    assert.doesNotMatch(err.message, /127\.0\.0\.1|ECONNREFUSED|s3:/);
    // The cause goes to the server's log (written after the answer, so wait for the line).
    const logged = () => server.logs.some((l) => l.msg === 'request failed' && JSON.stringify(l).includes(`s3://${BUCKET}/${PREFIX}`));
    for (let i = 0; i < 100 && !logged(); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(logged(), 'the cause is in the server log');
    await relay.open(); // the same port again
    const { data } = await getBlock(ebs, snapshotId, 0, token);
    assert.equal(data.length, 512 * 1024);
  } finally {
    ebs.destroy();
  }
});
