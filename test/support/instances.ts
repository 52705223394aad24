// Helpers for wire tests of instances: user data in the simulator's dialect, console output,
// bounded waits on the SDK's own waiters, and a small disk uploaded through the EBS direct APIs.
import assert from 'node:assert/strict';
import {
  DescribeInstancesCommand, GetConsoleOutputCommand, RegisterImageCommand, RunInstancesCommand, waitUntilImageAvailable, waitUntilInstanceRunning,
  waitUntilInstanceStopped, waitUntilInstanceTerminated, type EC2Client, type Instance, type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { CompleteSnapshotCommand, StartSnapshotCommand, type EBSClient } from '@aws-sdk/client-ebs';
import { BLOCK_SIZE, checksumOf, linearChecksum, putBlock } from './ebs.ts';

/** Base64 user data: a `#!amiforge-sim` script of these lines. */
export const simUserData = (...lines: string[]): string => Buffer.from(['#!amiforge-sim', ...lines, ''].join('\n')).toString('base64');

/** The SDK's waiters with delays suited to the simulator (its defaults poll every 15 s). */
export const fast = (client: EC2Client, maxWaitTime = 60) => ({ client, maxWaitTime, minDelay: 0.1, maxDelay: 0.5 });

export async function waitRunning(ec2: EC2Client, ids: string[]): Promise<void> {
  await waitUntilInstanceRunning(fast(ec2), { InstanceIds: ids });
}
export async function waitStopped(ec2: EC2Client, ids: string[]): Promise<void> {
  await waitUntilInstanceStopped(fast(ec2), { InstanceIds: ids });
}
export async function waitTerminated(ec2: EC2Client, ids: string[]): Promise<void> {
  await waitUntilInstanceTerminated(fast(ec2), { InstanceIds: ids });
}
export async function waitImage(ec2: EC2Client, imageId: string): Promise<void> {
  await waitUntilImageAvailable(fast(ec2), { ImageIds: [imageId] });
}

/**
 * Polls DescribeInstances until the instance is in `state` (for paths the SDK's waiters count as
 * failures, such as pending → stopped when a guest powers itself off).
 */
export async function waitState(ec2: EC2Client, instanceId: string, state: string, timeoutMs = 20_000): Promise<Instance> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0].Instances![0];
    if (i.State?.Name === state) return i;
    if (Date.now() > deadline) assert.fail(`${instanceId} is ${i.State?.Name}, not ${state}, after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The decoded console text (GetConsoleOutput carries it base64-encoded). */
export async function consoleText(ec2: EC2Client, instanceId: string): Promise<string> {
  const out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: instanceId }));
  assert.equal(out.InstanceId, instanceId);
  assert.ok(out.Timestamp instanceof Date);
  return out.Output ? Buffer.from(out.Output, 'base64').toString('utf8') : '';
}

/** Polls the console until `pattern` shows (or fails after `timeoutMs`); returns the text. */
export async function waitForConsole(ec2: EC2Client, instanceId: string, pattern: RegExp | string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await consoleText(ec2, instanceId);
    if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) return text;
    if (Date.now() > deadline) assert.fail(`the console of ${instanceId} did not show ${pattern} within ${timeoutMs} ms:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** cloud-init's last line: user data has run (or there was none). */
export const CLOUD_INIT_DONE = /Cloud-init v\. [\d.]+ finished/;

/** Counts the boots in a console log. */
export const bootsIn = (text: string): number => text.split('Linux version').length - 1;

/** RunInstances of one instance; returns it as RunInstances described it. */
export async function runOne(ec2: EC2Client, input: Partial<RunInstancesCommandInput> & { ImageId: string }): Promise<Instance> {
  const out = await ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', ...input }));
  assert.equal(out.Instances?.length, 1);
  return out.Instances![0];
}

/** The catalogue's Amazon Linux 2023 image in us-east-1 (public, on a real root snapshot). */
export const CATALOGUE_AMI = 'ami-0dd4dbe59a8675ce3';

/**
 * Uploads a small disk (`blocks`: index → bytes, each at most one block) as a completed snapshot
 * through the EBS direct APIs, and registers it as an x86_64 HVM image with its root at /dev/xvda.
 */
export async function uploadImage(ec2: EC2Client, ebs: EBSClient, name: string, blocks: Map<number, Buffer>, sizeGiB = 2): Promise<{ imageId: string; snapshotId: string }> {
  const started = await ebs.send(new StartSnapshotCommand({ VolumeSize: sizeGiB, Timeout: 60, Description: `disk of ${name}` }));
  const snapshotId = started.SnapshotId!;
  const indexes = [...blocks.keys()].sort((a, b) => a - b);
  const digests: Buffer[] = [];
  for (const i of indexes) {
    const data = Buffer.alloc(BLOCK_SIZE);
    blocks.get(i)!.copy(data);
    await putBlock(ebs, snapshotId, i, data);
    digests.push(Buffer.from(checksumOf(data), 'base64'));
  }
  const done = await ebs.send(new CompleteSnapshotCommand({
    SnapshotId: snapshotId, ChangedBlocksCount: indexes.length, Checksum: linearChecksum(digests), ChecksumAlgorithm: 'SHA256', ChecksumAggregationMethod: 'LINEAR',
  }));
  assert.equal(done.Status, 'completed');
  const reg = await ec2.send(new RegisterImageCommand({
    Name: name, Architecture: 'x86_64', VirtualizationType: 'hvm', EnaSupport: true, RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId, VolumeType: 'gp3', DeleteOnTermination: true } }],
  }));
  return { imageId: reg.ImageId!, snapshotId };
}

/** A first block with an MBR boot signature and a line of text, as a tiny bootable disk has. */
export function bootBlock(text: string): Buffer {
  const b = Buffer.alloc(4096);
  b.write(text, 0, 'utf8');
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}
