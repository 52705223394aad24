// Helpers for the tests that drive QEMU's tools and guests: a raw disk image imported as a
// completed snapshot (all-zero blocks left out, as EBS does), a volume over it, qemu-io runs; and
// for the tests of real guests through the EC2 API, launching, console waits and clean-up checks.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  DescribeImagesCommand, DescribeInstancesCommand, GetConsoleOutputCommand, RunInstancesCommand, TerminateInstancesCommand,
  type EC2Client, type Image,
} from '@aws-sdk/client-ec2';
import { BLOCK_SIZE, type BlockStore } from '../../src/ports/block-store.ts';
import type { MetadataStore } from '../../src/ports/metadata-store.ts';
import type { SnapshotRecord } from '../../src/ports/snapshot-repository.ts';
import type { VolumeRecord } from '../../src/ports/volume-repository.ts';

export const REGION = 'us-east-1';
const OWNER = '111111111111';
const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');

/** Stores `file` as a completed snapshot of `sizeGiB` and returns it with its stored bytes. */
export async function importRawImage(store: MetadataStore, blocks: BlockStore, file: string, snapshotId: string, sizeGiB = 1): Promise<{ snapshot: SnapshotRecord; storedBytes: number }> {
  const now = new Date().toISOString();
  const snapshot: SnapshotRecord = {
    region: REGION, snapshotId, ownerId: OWNER, volumeSize: sizeGiB, state: 'completed', progress: 100,
    startTime: now, completionTime: now, volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 0,
    lastActivity: now, createVolumePermissions: [],
  };
  const entries: { index: number; hash: string }[] = [];
  const fh = await open(file, 'r');
  try {
    for (let index = 0; ; index++) {
      const buf = Buffer.alloc(BLOCK_SIZE);
      const { bytesRead } = await fh.read(buf, 0, BLOCK_SIZE, index * BLOCK_SIZE);
      if (bytesRead === 0) break;
      if (buf.every((b) => b === 0)) continue;
      const hash = createHash('sha256').update(buf).digest('hex');
      await blocks.put(REGION, hash, buf);
      entries.push({ index, hash });
    }
  } finally {
    await fh.close();
  }
  await blocks.sync(REGION, entries.map((e) => e.hash));
  snapshot.blockCount = entries.length;
  await store.snapshots.insert(snapshot);
  await store.snapshots.putBlocks(snapshotId, entries);
  return { snapshot, storedBytes: entries.length * BLOCK_SIZE };
}

/** A volume over `snapshotId` (or empty), as CreateVolume would store it. */
export async function makeVolume(store: MetadataStore, volumeId: string, sizeGiB: number, snapshotId?: string): Promise<VolumeRecord> {
  const vol: VolumeRecord = {
    region: REGION, volumeId, ownerId: OWNER, size: sizeGiB, volumeType: 'gp3', availabilityZone: 'us-east-1a',
    state: 'available', snapshotId, createTime: new Date().toISOString(), encrypted: false, attachments: [],
  };
  await store.volumes.insert(vol);
  return vol;
}

/** Runs qemu-io on an NBD export over a unix socket; rejects on a non-zero exit. */
export async function qemuIo(socket: string, exportName: string, commands: string[]): Promise<string> {
  const args = ['-f', 'raw', ...commands.flatMap((c) => ['-c', c]), `nbd+unix:///${exportName}?socket=${socket}`];
  const { stdout, stderr } = await run('qemu-io', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout + stderr;
}

// --- Real guests through the EC2 API (`amiforge serve --hypervisor qemu`) ---------------------
// Shared by the tests in test/qemu/: waits are generous because a boot under TCG on a loaded
// machine takes seconds to minutes, and none of them asserts how long anything took.

/** How long one step (a boot, an image becoming available) may take. */
export const GUEST_STEP_MS = 300_000;

/** Builds the base image (skipped when it is up to date), so the catalogue registers it. */
export async function buildBaseImage(): Promise<void> {
  await run('bash', [join(REPO, 'scripts', 'build-base-image.sh')], { maxBuffer: 16 * 1024 * 1024 });
}

/** Builds the test disk with its own boot loader (skipped when it is up to date): BIOS and UEFI boots of HVM guests. */
export async function buildHvmTestDisk(): Promise<void> {
  await run('bash', [join(REPO, 'scripts', 'build-hvm-test-disk.sh')], { maxBuffer: 16 * 1024 * 1024 });
}

/** Polls `fn` every half second until it returns a value; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = GUEST_STEP_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The catalogue's amiforge-minimal-linux, as DescribeImages shows it in the client's region. */
export async function baseImage(ec2: EC2Client): Promise<Image> {
  const { Images } = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['amiforge-minimal-linux'] }] }));
  assert.equal(Images?.length, 1, 'the base image is in the catalogue');
  return Images![0];
}

/** The latest console text of a guest. */
export async function consoleOf(ec2: EC2Client, instanceId: string): Promise<string> {
  const { Output } = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: true }));
  return Output ? Buffer.from(Output, 'base64').toString('utf8') : '';
}

/** Waits until the console shows `text`; returns the whole console then. */
export const consoleShows = (ec2: EC2Client, instanceId: string, text: string | RegExp): Promise<string> =>
  until(`${text} on the console of ${instanceId}`, async () => {
    const out = await consoleOf(ec2, instanceId);
    return (typeof text === 'string' ? out.includes(text) : text.test(out)) ? out : undefined;
  });

/** RunInstances of one guest with a user-data script; returns its id. */
export async function launchWithScript(ec2: EC2Client, imageId: string, script: string): Promise<string> {
  const { Instances } = await ec2.send(new RunInstancesCommand({
    ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, UserData: Buffer.from(script).toString('base64'),
  }));
  return Instances![0].InstanceId!;
}

/** Waits until the image is available; fails at once, with its StateReason, if it failed. */
export const imageAvailable = (ec2: EC2Client, imageId: string): Promise<Image> =>
  until(`${imageId} available`, async () => {
    const { Images: [img] = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    assert.notEqual(img?.State, 'failed', `${imageId} failed: ${JSON.stringify(img?.StateReason)}`);
    return img?.State === 'available' ? img : undefined;
  });

/** TerminateInstances, then waits until every one of them is terminated. */
export async function terminateAll(ec2: EC2Client, instanceIds: string[]): Promise<void> {
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
  await until(`${instanceIds.join(', ')} terminated`, async () => {
    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: instanceIds }));
    const states = Reservations.flatMap((r) => r.Instances!.map((i) => i.State!.Name));
    return states.every((s) => s === 'terminated') ? true : undefined;
  });
}

/** Pids of QEMU processes whose command line names `dir` (the server's runtime directory). */
export async function qemuProcessesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith('qemu-system') && cmd.includes(dir)) pids.push(Number(p));
  }
  return pids;
}

/** Builds the Debian 12 image (skipped when its cache is current), so the catalogue registers it. */
export async function buildDebianImage(): Promise<void> {
  await run('bash', [join(REPO, 'scripts', 'build-debian-image.sh')], { maxBuffer: 64 * 1024 * 1024 });
}

/** Writes a private key (mode 0600, as ssh requires) into `dir`; returns its path. */
export function writePrivateKey(dir: string, name: string, pem: string): string {
  const file = join(dir, name);
  writeFileSync(file, pem.endsWith('\n') ? pem : `${pem}\n`, { mode: 0o600 });
  return file;
}

/** One command over ssh, no prompts and no known-hosts file; resolves with its exit code and output. */
export async function sshRun(key: string, user: string, address: string, command: string, port = 22): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    '-i', key, '-p', String(port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `${user}@${address}`, command,
  ];
  try {
    const { stdout, stderr } = await run('ssh', args, { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 255, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
