// SIGKILL in the middle of uploads, then a restart: nothing completed is lost, no half-written
// snapshot is ever reported completed, and garbage collection reclaims what the upload left.
// Also: a block corrupted on disk is an error on read (never wrong bytes) and fsck reports it.
// And a volume served over NBD (as to a QEMU guest) by a process SIGKILLed mid-use: every write
// the client flushed (NBD FLUSH, or a FUA write) is there afterwards; unflushed writes may be lost
// but corrupt nothing. And RegisterImage calls in flight together (committed as one group) by a
// process SIGKILLed among them: every registration answered is there afterwards, whole.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CompleteSnapshotCommand, EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand,
  StartSnapshotCommand,
} from '@aws-sdk/client-ebs';
import { DeleteSnapshotCommand, DescribeImagesCommand, DescribeSnapshotsCommand, EC2Client, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { VolumeData } from '../../src/domain/volumes/volume-data.ts';
import { openStores } from '../../src/server/stores.ts';
import { NbdClient } from '../support/nbd-client.ts';
import { makeVolume, REGION } from '../support/qemu.ts';
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

describe('crash recovery of a volume in use (NBD)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-nbdcrash-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('SIGKILL of the server: writes flushed by the client survive; unflushed ones corrupt nothing', async () => {
    const VOL = 'vol-0c0ffee0c0ffee001';
    const setup = await openStores(dataDir);
    await makeVolume(setup.store, VOL, 1);
    await setup.store.close();
    const socket = join(dataDir, 'd.nbd');
    const child = spawn(process.execPath, [join(ROOT, 'test/support/nbd-volume-server.ts'), dataDir, REGION, VOL, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (c: Buffer) => { if (c.toString().includes('ready')) resolve(); });
        child.once('exit', (code) => reject(new Error(`the NBD server exited (${code}) before it was ready`)));
      });
      const nbd = await NbdClient.connect(socket);
      // A FUA write; then a guest's pattern: 4 KiB writes scattered over 8 blocks, and a flush.
      const fua = randomBytes(8192);
      await nbd.write(20 * BLOCK + 4096, fua, { fua: true });
      const span = 8 * BLOCK;
      const flushed = Buffer.alloc(span);
      for (let i = 0; i < 300; i++) {
        const at = randomInt(0, span / 4096) * 4096;
        const piece = randomBytes(4096);
        piece.copy(flushed, at);
        await nbd.write(at, piece);
      }
      await nbd.flush();
      // Not flushed: over flushed data, in a new block, and a whole block.
      const unflushed = [
        { at: 4096, bytes: Buffer.alloc(4096, 0x22) },
        { at: 12 * BLOCK + 512, bytes: Buffer.alloc(4096, 0x33) },
        { at: 14 * BLOCK, bytes: Buffer.alloc(BLOCK, 0x44) },
      ];
      for (const u of unflushed) await nbd.write(u.at, u.bytes);
      child.kill('SIGKILL');
      await exited;
      nbd.destroy();

      const { store, blocks } = await openStores(dataDir);
      try {
        const vol = (await store.volumes.get(REGION, VOL))!;
        const data = new VolumeData({ store, blocks });
        const now = await data.read(vol, 0, span);
        const w = unflushed[0];
        const first = now.subarray(w.at, w.at + 4096);
        assert.ok(first.equals(flushed.subarray(w.at, w.at + 4096)) || first.equals(w.bytes), 'an unflushed write is all there or not at all');
        first.copy(flushed, w.at);
        assert.ok(now.equals(flushed), 'every flushed write is there');
        assert.ok((await data.read(vol, 20 * BLOCK + 4096, 8192)).equals(fua), 'the FUA write is there');
        for (const u of unflushed.slice(1)) {
          const got = await data.read(vol, u.at, u.bytes.length);
          assert.ok(got.equals(u.bytes) || got.equals(Buffer.alloc(u.bytes.length)), `the unflushed write at ${u.at} is all there or not at all`);
        }
        // Every block the volume's map names is there and intact (reads verify SHA-256).
        for (const b of await store.volumes.ownBlocks(VOL)) await blocks.get(REGION, b.hash);
      } finally {
        await store.close();
      }
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('crash recovery of registrations committed together', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-regcrash-'));
  let server: RunningServer;
  before(async () => {
    server = await startServer({ dataDir });
  });
  after(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('SIGKILL among concurrent RegisterImage calls: every answered registration survives, whole', async () => {
    let { ebs, ec2 } = clients(server);
    const snap = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Description: 'root for the registrations' }));
    await ebs.send(new CompleteSnapshotCommand({ SnapshotId: snap.SnapshotId!, ChangedBlocksCount: 0 }));
    const answered = new Map<string, string>();
    const TOTAL = 600;
    let next = 0;
    // 32 callers, each registering one image after another: many writes reach the store together.
    const caller = async () => {
      while (next < TOTAL) {
        const name = `crash-reg-${next++}`;
        try {
          const r = await ec2.send(new RegisterImageCommand({
            Name: name, Architecture: 'x86_64', RootDeviceName: '/dev/xvda', VirtualizationType: 'hvm',
            BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap.SnapshotId! } }],
            TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'n', Value: name }] }],
          }));
          answered.set(r.ImageId!, name);
        } catch {
          return; // the kill: this and later calls fail
        }
      }
    };
    const callers = Array.from({ length: 32 }, caller);
    while (answered.size < 100) await new Promise((r) => setTimeout(r, 2));
    await server.kill();
    await Promise.all(callers);
    assert.ok(answered.size < TOTAL, 'the kill came before the registrations finished');

    server = await startServer({ dataDir });
    ({ ec2 } = clients(server));
    const listed = (await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images!;
    const byId = new Map(listed.map((i) => [i.ImageId!, i]));
    for (const [id, name] of answered) {
      const image = byId.get(id);
      assert.ok(image, `${id} (${name}) was answered, so it survives`);
      assert.equal(image.Name, name);
      assert.equal(image.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId, snap.SnapshotId);
      assert.deepEqual(image.Tags, [{ Key: 'n', Value: name }], `${id} has its tag: its writes committed together`);
    }
    // Registrations the kill cut short are there whole or not at all.
    for (const image of listed) assert.deepEqual(image.Tags, [{ Key: 'n', Value: image.Name }]);
  });
});
