// Cross-region CopyImage, timed from the call until DescribeImages says `available`:
//
//   1. a 4 GiB image of random data (uploaded through the EBS direct APIs by `amiforge image
//      import`, not timed) copied from us-east-1 to us-west-2: every block moves;
//   2. 1% of its blocks changed, uploaded as a child snapshot (ParentSnapshotId, through
//      `amiforge image import --parent`) and registered, then that image copied the same way:
//      us-west-2 already holds the other 99% of the blocks, so only the changed ones move.
//
// Beside them, measured in the same run: the machine's limit for moving 4 GiB (read each 512 KiB
// block, SHA-256 it, write it sequentially: the least a copy between two storage domains does),
// and the blocks each copy moved (GET /_amiforge/snapshot-copies). Aim: the second copy takes at
// most 5% of the first.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CopyImageCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { BLOCK, changeBlocks, flush, machineLimit, makeImage, parseSize } from './support/disk-image.ts';
import { cpuMsOf, memoryOf, startAmiforge, type BenchServer } from './support/servers.ts';
import { parseImageBenchArgs } from './support/image-args.ts';
import { renderTable } from './support/table.ts';

export const description = 'cross-region CopyImage of a 4 GiB image, then of a child with 1% of blocks changed (incremental), vs read + sha256 + write';

const USAGE = `usage: npm run bench -- copy [--size 4G] [--change 1] [--dir DIR]
  --size S     image size: bytes, or with K, M, G (default 4G; needs about 4x free space)
  --change P   percent of blocks changed for the second image (default 1)
  --dir DIR    where to create the scratch directory for the image file (default: the OS temp dir)`;

const ROOT = new URL('../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/amiforge');
const SOURCE = 'us-east-1';
const DEST = 'us-west-2';
const AIM_RATIO = 0.05;
const MB = 1e6;
const exec = promisify(execFile);
const credentials = { accessKeyId: '123456789012', secretAccessKey: 'bench' };

/** `amiforge image import` (EBS direct upload + RegisterImage); returns the image id. */
async function importImage(server: BenchServer, file: string, name: string, parent?: string): Promise<string> {
  const env = {
    ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: SOURCE, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AMIFORGE_CACHE_DIR: join(file, '..', 'cache'),
  };
  const args = ['image', 'import', file, '--name', name, ...(parent ? ['--parent', parent] : [])];
  const { stdout } = await exec(CLI, args, { env, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

async function blocksMoved(server: BenchServer): Promise<number> {
  const res = await fetch(`${server.endpoint}/_amiforge/snapshot-copies`);
  return ((await res.json()) as { blocksMoved: number }).blocksMoved;
}

interface Timed { seconds: number; serverCpu: number; blocks: number; imageId: string }

/** CopyImage into DEST, timed until the copy is `available`. */
async function timedCopy(server: BenchServer, dest: EC2Client, sourceImageId: string, name: string): Promise<Timed> {
  const blocks0 = await blocksMoved(server);
  const cpu0 = cpuMsOf(server.pid);
  const started = performance.now();
  const { ImageId } = await dest.send(new CopyImageCommand({ SourceImageId: sourceImageId, SourceRegion: SOURCE, Name: name }));
  for (;;) {
    const state = (await dest.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0].State;
    if (state === 'available') break;
    if (state !== 'pending') throw new Error(`the copy ${ImageId} of ${sourceImageId} ended ${state}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, serverCpu: (cpuMsOf(server.pid) - cpu0) / 1000, blocks: (await blocksMoved(server)) - blocks0, imageId: ImageId! };
}

export async function run(args: string[]): Promise<void> {
  const values = parseImageBenchArgs(args, USAGE, {});
  if (!values) return;
  const size = parseSize(values.size);
  const change = Number(values.change);
  const blocks = Math.ceil(size / BLOCK);
  const dir = mkdtempSync(join(values.dir, 'amiforge-bench-copy-'));
  const file = join(dir, 'image.raw');
  console.log(`image: ${(size / 1024 ** 3).toFixed(2)} GiB of random data (${blocks} blocks); copies ${SOURCE} -> ${DEST}`);
  console.log(`machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);

  const server = await startAmiforge();
  const ec2 = (region: string) => new EC2Client({ endpoint: server.endpoint, region, credentials, maxAttempts: 1 });
  const [src, dest] = [ec2(SOURCE), ec2(DEST)];
  try {
    await makeImage(file, size);
    const first = await importImage(server, file, 'copy-bench-v1');
    const parent = (await src.send(new DescribeImagesCommand({ ImageIds: [first] }))).Images![0].BlockDeviceMappings![0].Ebs!.SnapshotId!;
    flush();

    const limit = await machineLimit(file, join(dir, 'sink.raw'), size);
    rmSync(join(dir, 'sink.raw'));
    flush();

    const full = await timedCopy(server, dest, first, 'copy-bench-v1');
    flush();

    const changed = await changeBlocks(file, size, change);
    const second = await importImage(server, file, 'copy-bench-v2', parent);
    flush();
    const incr = await timedCopy(server, dest, second, 'copy-bench-v2');
    const serverPeak = memoryOf(server.pid).peak;

    const f1 = (n: number) => n.toFixed(1);
    const f2 = (n: number) => n.toFixed(2);
    const rate = (s: number) => (size / MB / s).toFixed(0);
    const ratio = incr.seconds / full.seconds;
    console.log(renderTable(['', 'seconds', 'MB/s of image', 'of limit', 'blocks moved', 'server CPU s'], [
      ['machine limit: read + SHA-256 + sequential write', f2(limit.seconds), rate(limit.seconds), '100%', String(blocks), f1(limit.cpu)],
      ['CopyImage, full (every block moves)', f2(full.seconds), rate(full.seconds), `${((100 * limit.seconds) / full.seconds).toFixed(0)}%`, String(full.blocks), f1(full.serverCpu)],
      [`CopyImage, ${change}% changed (${changed} blocks)`, f2(incr.seconds), '', '', String(incr.blocks), f1(incr.serverCpu)],
      ['  the limit for just those blocks', f2((limit.seconds * changed) / blocks), '', '', String(changed), ''],
    ]));
    console.log(`\nincremental / full: ${(100 * ratio).toFixed(2)}% (aim <= ${AIM_RATIO * 100}%: ${ratio <= AIM_RATIO ? 'met' : 'NOT met'}); `
      + `blocks moved: ${incr.blocks} of ${blocks} (${changed} changed)`);
    console.log(`server peak memory (VmHWM): ${(serverPeak / MB).toFixed(1)} MB; load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
