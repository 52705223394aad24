// Disaster recovery on real guests, through the official SDK: a file written by user data in
// us-east-1 is captured by CreateImage, the image is copied to us-west-2 with CopyImage, and then
// us-east-1's block store is destroyed while the server is down. After a restart on the same data
// directory, an instance launched from the copy in us-west-2 reads the file back byte for byte;
// the lost region's image still launches but its guest gets I/O errors from the disk (never
// other bytes), powers off and its instance stops; no API call fails with a 500. Everything is terminated and no QEMU is left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyImageCommand, CreateImageCommand, DescribeImagesCommand, DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { defaultRuntimeDir } from '../../src/adapters/qemu/qemu-hypervisor.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import {
  baseImage, buildBaseImage, consoleOf, consoleShows, imageAvailable, launchWithScript, qemuProcessesUnder, terminateAll, until,
} from '../support/qemu.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const ACCOUNT = '111111111111';
const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-dr-'));
const servers: RunningServer[] = [];

async function serve(): Promise<{ east: EC2Client; west: EC2Client }> {
  const server = await startServer({ dataDir, extraArgs: ['--hypervisor', 'qemu'] });
  servers.push(server);
  return {
    east: ec2Client(server.endpoint, devCredentials(ACCOUNT), 'us-east-1'),
    west: ec2Client(server.endpoint, devCredentials(ACCOUNT), 'us-west-2'),
  };
}

/** Requests any server of this test answered with a 5xx (each is logged with its cause). */
const serverFailures = () => servers.flatMap((s) => s.logs).filter((l) => typeof l.status === 'number' && l.status >= 500);

before(buildBaseImage);

after(async () => {
  for (const s of servers) if (s.process.exitCode === null && s.process.signalCode === null) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('disaster recovery: an image copied to us-west-2 boots with its data after us-east-1\'s block store is lost', { timeout: 1_800_000 }, async (t) => {
  const started = Date.now();
  const step = (what: string) => t.diagnostic(`${what} after ${Date.now() - started} ms`);
  const content = randomBytes(24).toString('hex');
  // What the guest's sha256sum prints for the file `echo` wrote (content and a newline).
  const digest = createHash('sha256').update(`${content}\n`).digest('hex');

  let { east, west } = await serve();
  const base = await baseImage(east);
  const builder = await launchWithScript(east, base.ImageId!, [
    '#!/bin/sh',
    `echo ${content} >/var/lib/dr.txt`,
    'sync',
    'echo "dr-written $(sha256sum /var/lib/dr.txt)"',
    '',
  ].join('\n'));
  const written = await consoleShows(east, builder, 'dr-written');
  assert.match(written, new RegExp(`dr-written ${digest}`), 'the guest wrote the bytes the test chose');
  step(`builder ${builder} wrote the file`);

  const { ImageId: sourceId } = await east.send(new CreateImageCommand({ InstanceId: builder, Name: 'dr-source' }));
  await imageAvailable(east, sourceId!);
  step(`${sourceId} available in us-east-1`);
  const { ImageId: copyId } = await west.send(new CopyImageCommand({ SourceRegion: 'us-east-1', SourceImageId: sourceId, Name: 'dr-copy' }));
  const copy = await imageAvailable(west, copyId!);
  assert.equal(copy.SourceImageId, sourceId);
  step(`${copyId} available in us-west-2`);
  await terminateAll(east, [builder]);

  // The disaster: us-east-1's blocks are gone while the server is down; its metadata survives.
  await servers[0].stop();
  const blocks = join(dataDir, 'blocks');
  assert.ok((await stat(join(blocks, 'us-east-1'))).isDirectory(), 'the fs block store keeps us-east-1 under blocks/us-east-1');
  await rm(join(blocks, 'us-east-1'), { recursive: true });
  ({ east, west } = await serve());
  step('server restarted without us-east-1\'s blocks');

  const reader = await launchWithScript(west, copyId!, [
    '#!/bin/sh',
    'echo "dr-read $(cat /var/lib/dr.txt)"',
    'echo "dr-sum $(sha256sum /var/lib/dr.txt)"',
    '',
  ].join('\n'));
  // A copy still leaning on us-east-1's blocks would fail to mount its root: fail fast on that.
  const read = await consoleShows(west, reader, /dr-sum [0-9a-f]{64}|amiforge-initramfs: /);
  assert.doesNotMatch(read, /I\/O error|amiforge-initramfs: /, 'the copy\'s disk reads all succeed');
  assert.match(read, new RegExp(`dr-read ${content}\\r?\\n`), 'the copy holds the file the builder wrote');
  assert.match(read, new RegExp(`dr-sum ${digest} `), 'and its sha256 is the one the builder printed');
  assert.doesNotMatch(read, /dr-written/, 'the builder\'s user data does not run again');
  step(`reader ${reader} in us-west-2 read the file`);

  // The lost region's image is still registered (its metadata survived), so RunInstances takes
  // it (EBS fetches a snapshot's blocks lazily, so a launch cannot know they are lost); the guest's
  // reads of lost blocks fail (NBD EIO), so it cannot mount its root and powers off: an error,
  // never some other bytes.
  const { Images: [lost] = [] } = await east.send(new DescribeImagesCommand({ ImageIds: [sourceId!] }));
  assert.equal(lost?.State, 'available');
  const orphan = await launchWithScript(east, sourceId!, '#!/bin/sh\necho "dr-read $(cat /var/lib/dr.txt)"\n');
  const failed = await consoleShows(east, orphan, /amiforge-initramfs: cannot mount|amiforge: boot finished/);
  assert.match(failed, /I\/O error/, 'the guest saw read errors from its disk');
  assert.match(failed, /amiforge-initramfs: cannot mount \/dev\/vda/);
  assert.doesNotMatch(failed, /dr-read/);
  assert.equal((await consoleOf(east, orphan)).includes(content), false);
  step(`${orphan} in us-east-1 could not read its disk`);
  // The guest powered itself off: the instance stops, as EC2 shows a shutdown from inside.
  const stopped = await until(`${orphan} stopped`, async () => {
    const { Reservations = [] } = await east.send(new DescribeInstancesCommand({ InstanceIds: [orphan] }));
    const i = Reservations[0]?.Instances?.[0];
    return i?.State?.Name === 'stopped' ? i : undefined;
  });
  assert.equal(stopped.StateReason?.Code, 'Client.InstanceInitiatedShutdown');

  await terminateAll(west, [reader]);
  await terminateAll(east, [orphan]);
  const runtimeDir = defaultRuntimeDir(dataDir);
  assert.deepEqual(await qemuProcessesUnder(runtimeDir), [], 'no QEMU process is left');
  assert.deepEqual(await readdir(runtimeDir), [], 'no socket, console or directory is left');
  assert.deepEqual(serverFailures(), [], 'no request failed with a server error');
  await servers[1].stop();
  await assert.rejects(readdir(runtimeDir), { code: 'ENOENT' });
  step('whole flow');
});
