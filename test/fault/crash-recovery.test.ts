// SIGKILL in the middle of uploads, then a restart: nothing completed is lost, no half-written
// snapshot is ever reported completed, and garbage collection reclaims what the upload left.
// Also: a block corrupted on disk is an error on read (never wrong bytes) and fsck reports it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CompleteSnapshotCommand, EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from '@aws-sdk/client-ebs';
import { DeleteSnapshotCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const BLOCK = 512 * 1024;
const creds = { accessKeyId: '111111111111', secretAccessKey: 'x' };

const clients = (s: RunningServer) => ({
  ebs: new EBSClient({ endpoint: s.endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 1 }),
  ec2: new EC2Client({ endpoint: s.endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 1 }),
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest();
/** A distinct, reproducible block for (seed, index): a filler byte and a header naming it. */
function block(seed: number, index: number): Buffer {
  const b = Buffer.alloc(BLOCK, (seed * 31 + index) % 251);
  b.write(`block ${seed}/${index}`, 0);
  return b;
}

async function put(ebs: EBSClient, snapshotId: string, index: number, data: Buffer): Promise<void> {
  await ebs.send(new PutSnapshotBlockCommand({
    SnapshotId: snapshotId, BlockIndex: index, BlockData: data, DataLength: data.length,
    Checksum: sha(data).toString('base64'), ChecksumAlgorithm: 'SHA256',
  }));
}

async function fsck(dataDir: string, ...args: string[]): Promise<{ code: number; report: any }> {
  try {
    const { stdout } = await run(join(ROOT, 'bin/amiforge'), ['fsck', '--data-dir', dataDir, '--region', 'us-east-1', '--json', ...args]);
    return { code: 0, report: JSON.parse(stdout) };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, report: JSON.parse(e.stdout) };
  }
}

function blockFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'blocks', 'us-east-1');
  return readdirSync(dir).flatMap((hh) => readdirSync(join(dir, hh)).map((f) => join(dir, hh, f)));
}

describe('crash recovery', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-crash-'));
  let server: RunningServer;
  let completedId = '';
  let pendingId = '';
  const COMPLETED_BLOCKS = 12;

  before(async () => {
    server = await startServer({ dataDir });
  });
  after(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('SIGKILL during an upload loses nothing completed and completes nothing half-written', async () => {
    let { ebs } = clients(server);
    const a = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Description: 'completed before the crash' }));
    completedId = a.SnapshotId!;
    for (let i = 0; i < COMPLETED_BLOCKS; i++) await put(ebs, completedId, i, block(1, i));
    await ebs.send(new CompleteSnapshotCommand({ SnapshotId: completedId, ChangedBlocksCount: COMPLETED_BLOCKS }));

    const b = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Description: 'cut short by the crash' }));
    pendingId = b.SnapshotId!;
    // Many writes in flight; the server is killed once some have been acknowledged.
    let acknowledged = 0;
    // Each write's failure is caught at once: the kill makes the unacknowledged ones fail.
    const inflight = Array.from({ length: 200 }, (_, i) => put(ebs, pendingId, i, block(2, i)).then(() => { acknowledged++; }, () => {}));
    while (acknowledged < 20) await new Promise((r) => setTimeout(r, 5));
    await server.kill();
    await Promise.allSettled(inflight);
    assert.ok(acknowledged < 200, 'the kill came before the upload finished');

    server = await startServer({ dataDir });
    ({ ebs } = clients(server));
    const { ec2 } = clients(server);
    const described = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [completedId, pendingId] }));
    const state = Object.fromEntries(described.Snapshots!.map((s) => [s.SnapshotId, s.State]));
    assert.equal(state[completedId], 'completed');
    assert.equal(state[pendingId], 'pending', 'a half-written upload is never reported completed');

    const listed = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: completedId }));
    assert.equal(listed.Blocks!.length, COMPLETED_BLOCKS);
    for (const blk of listed.Blocks!) {
      const got = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: completedId, BlockIndex: blk.BlockIndex!, BlockToken: blk.BlockToken! }));
      assert.ok(Buffer.from(await got.BlockData!.transformToByteArray()).equals(block(1, blk.BlockIndex!)), `block ${blk.BlockIndex} intact`);
    }
    await assert.rejects(ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: pendingId })), { name: 'ValidationException' });
    // Completing it with the count the client believes is refused unless it matches what landed.
    await assert.rejects(ebs.send(new CompleteSnapshotCommand({ SnapshotId: pendingId, ChangedBlocksCount: 200 })), { name: 'ValidationException' });
    const after = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [pendingId] }));
    assert.equal(after.Snapshots![0].State, 'error');
  });

  test('garbage collection reclaims exactly what the abandoned upload left', async () => {
    const { ec2 } = clients(server);
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: pendingId }));
    await server.stop();
    const before = await fsck(dataDir);
    assert.equal(before.code, 0);
    assert.ok(before.report.fsck[0].orphans > 0, 'the abandoned upload left blocks behind');
    const collected = await fsck(dataDir, '--gc');
    assert.equal(collected.report.gc[0].deleted, before.report.fsck[0].orphans);
    const clean = await fsck(dataDir);
    assert.equal(clean.report.fsck[0].orphans, 0);
    assert.deepEqual(clean.report.fsck[0].missing, []);
    // Exactly the referenced blocks remain: the completed snapshot's and the catalogue's.
    assert.equal(blockFiles(dataDir).length, clean.report.fsck[0].referenced);
    server = await startServer({ dataDir });
  });

  test('a block corrupted on disk is an error on read, never wrong bytes, and fsck reports it', async () => {
    const { ebs } = clients(server);
    const target = sha(block(1, 3)).toString('hex');
    const file = blockFiles(dataDir).find((f) => f.endsWith(target))!;
    const bytes = readFileSync(file);
    bytes[1000] ^= 0xff;
    writeFileSync(file, bytes);
    const listed = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: completedId }));
    const token = listed.Blocks!.find((b) => b.BlockIndex === 3)!.BlockToken!;
    await assert.rejects(
      ebs.send(new GetSnapshotBlockCommand({ SnapshotId: completedId, BlockIndex: 3, BlockToken: token })),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, 'InternalServerException');
        assert.match(err.message, /fsck/);
        return true;
      });
    const report = await fsck(dataDir);
    assert.equal(report.code, 1);
    assert.deepEqual(report.report.fsck[0].corrupt, [target]);
  });
});
