// The golden-image flow on real guests, through the official SDK: `amiforge serve --hypervisor
// qemu`, RunInstances of amiforge-minimal-linux with user data that writes a file, CreateImage
// (with its reboot), RunInstances of the new image with user data that reads the file back, and
// termination of everything, after which no QEMU process, socket or runtime directory is left.
// Runs under TCG when KVM does not work (a boot takes seconds; the machine may be loaded).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateImageCommand, DescribeImagesCommand, DescribeInstancesCommand, GetConsoleOutputCommand, RunInstancesCommand,
  TerminateInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { defaultRuntimeDir } from '../../src/adapters/qemu/qemu-hypervisor.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const STEP_MS = 300_000;

let server: RunningServer;
let ec2: EC2Client;

before(async () => {
  await run('bash', [join(repo, 'scripts', 'build-base-image.sh')], { maxBuffer: 16 * 1024 * 1024 });
  server = await startServer({ extraArgs: ['--hypervisor', 'qemu'] });
  ec2 = ec2Client(server.endpoint, devCredentials('111111111111'));
});

after(async () => {
  await server?.stop();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = STEP_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const consoleOf = async (instanceId: string): Promise<string> => {
  const { Output } = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: true }));
  return Output ? Buffer.from(Output, 'base64').toString('utf8') : '';
};

const consoleShows = (instanceId: string, text: string) =>
  until(`"${text}" on the console of ${instanceId}`, async () => {
    const out = await consoleOf(instanceId);
    return out.includes(text) ? out : undefined;
  });

async function launch(imageId: string, script: string): Promise<string> {
  const { Instances } = await ec2.send(new RunInstancesCommand({
    ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, UserData: Buffer.from(script).toString('base64'),
  }));
  return Instances![0].InstanceId!;
}

const qemuProcessesUnder = async (dir: string): Promise<number[]> => {
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith('qemu-system') && cmd.includes(dir)) pids.push(Number(p));
  }
  return pids;
};

test('golden image: configure an instance, CreateImage, launch the image, find the configuration; nothing left behind', { timeout: 1_200_000 }, async (t) => {
  const started = Date.now();
  const { Images } = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['amiforge-minimal-linux'] }] }));
  assert.equal(Images?.length, 1, 'the base image is in the catalogue');
  const base = Images![0];
  assert.equal(base.ImdsSupport, 'v2.0');

  const builder = await launch(base.ImageId!, [
    '#!/bin/sh',
    'echo "configured by user data of $(hostname)" >/etc/golden.txt',
    'sync',
    'echo golden-marker-written',
    '',
  ].join('\n'));
  const first = await consoleShows(builder, 'golden-marker-written');
  assert.match(first, new RegExp(`amiforge: instance-id ${builder}`));
  t.diagnostic(`builder ${builder} configured after ${Date.now() - started} ms`);

  const { ImageId } = await ec2.send(new CreateImageCommand({ InstanceId: builder, Name: 'golden-v1' }));
  await until('the image available', async () => {
    const { Images: [img] = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }));
    assert.notEqual(img?.State, 'failed', `CreateImage failed: ${JSON.stringify(img?.StateReason)}`);
    return img?.State === 'available' ? img : undefined;
  });
  t.diagnostic(`${ImageId} available after ${Date.now() - started} ms`);
  // CreateImage shut the builder down cleanly for its snapshot and booted it again.
  await consoleShows(builder, 'amiforge: shutting down');
  await until('the builder booted again', async () => ((await consoleOf(builder)).split('amiforge: boot finished').length >= 3 ? true : undefined));

  const clone = await launch(ImageId!, '#!/bin/sh\necho "golden says: $(cat /etc/golden.txt)"\n');
  const out = await consoleShows(clone, 'golden says:');
  assert.match(out, new RegExp(`golden says: configured by user data of ip-[0-9-]+\\.ec2\\.internal`));
  assert.match(out, new RegExp(`amiforge: instance-id ${clone}`));
  assert.doesNotMatch(out, /golden-marker-written/, 'the builder\'s user data does not run in the clone');
  t.diagnostic(`clone ${clone} read the file after ${Date.now() - started} ms`);

  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [builder, clone] }));
  await until('both terminated', async () => {
    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [builder, clone] }));
    const states = Reservations.flatMap((r) => r.Instances!.map((i) => i.State!.Name));
    return states.every((s) => s === 'terminated') ? true : undefined;
  });
  const runtimeDir = defaultRuntimeDir(server.dataDir);
  assert.deepEqual(await qemuProcessesUnder(runtimeDir), [], 'no QEMU process is left');
  assert.deepEqual(await readdir(runtimeDir), [], 'no socket, console or directory is left');
  await server.stop();
  await assert.rejects(readdir(runtimeDir), { code: 'ENOENT' });
  t.diagnostic(`whole flow ${Date.now() - started} ms`);
});
