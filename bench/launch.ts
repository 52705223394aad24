// Real boots: amiforge-minimal-linux under `amiforge serve --hypervisor qemu` (KVM when it works,
// else TCG), driven with @aws-sdk/client-ec2:
//
//   1. For a 1 GiB and a 16 GiB root volume of the same image (RunInstances BlockDeviceMappings
//      VolumeSize): RunInstances → the first console line, → "user-data done", and the bytes
//      read from the block store for volumes meanwhile (GET /_amiforge/volume-reads) against the
//      volume size. Aims: boot time independent of the size (a volume is copy-on-write over the
//      snapshot and read lazily), bytes read a small fraction of it.
//   2. Four instances at once (one RunInstances, MaxCount 4): time until all four ran their user
//      data; amiforge's own memory per running guest (server VmRSS delta / 4, aim < 20 MB) beside
//      the guests' (VmRSS of the QEMU processes, which the guest's memory and TCG's code cache
//      make large, and which amiforge does not hold).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import {
  DescribeImagesCommand, DescribeInstancesCommand, EC2Client, GetConsoleOutputCommand, RunInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { memoryOf, startAmiforge, type BenchServer } from './support/servers.ts';
import { fmtMB, fmtMs, renderTable, type Row } from './support/table.ts';

export const description = 'Real boots under QEMU: RunInstances → first console line and → user data done for 1 vs 16 GiB roots, bytes read from the block store, 4 guests at once with amiforge\'s memory per guest';

const USAGE = `usage: npm run bench -- launch [--runs N]
  --runs N   launches per root size in part 1 (default 3)
Needs QEMU and the base image: bash scripts/install-qemu.sh && bash scripts/build-base-image.sh`;

const GiB = 1024 ** 3;
const LIMIT_MS = 600_000;
const MARKER = 'launch-bench: user data done';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function volumeReads(server: BenchServer): Promise<number> {
  const res = await fetch(`${server.endpoint}/_amiforge/volume-reads`);
  return ((await res.json()) as { bytesRead: number }).bytesRead;
}

async function consoleText(ec2: EC2Client, id: string): Promise<string> {
  const { Output } = await ec2.send(new GetConsoleOutputCommand({ InstanceId: id, Latest: true }));
  return Output ? Buffer.from(Output, 'base64').toString('utf8') : '';
}

interface Launch { firstLineMs: number; userDataMs: number }

/** Polls the consoles of `ids` until each shows a line and then the marker; times from `t0`. */
async function watch(ec2: EC2Client, ids: string[], t0: number): Promise<Map<string, Launch>> {
  const first = new Map<string, number>();
  const done = new Map<string, Launch>();
  const deadline = Date.now() + LIMIT_MS;
  while (done.size < ids.length) {
    if (Date.now() > deadline) throw new Error(`user data did not finish on ${ids.filter((i) => !done.has(i)).join(', ')} within ${LIMIT_MS / 1000} s`);
    await Promise.all(ids.filter((id) => !done.has(id)).map(async (id) => {
      const text = await consoleText(ec2, id);
      const now = performance.now() - t0;
      if (text.trim() && !first.has(id)) first.set(id, now);
      if (text.includes(MARKER)) done.set(id, { firstLineMs: first.get(id)!, userDataMs: now });
    }));
    await sleep(100);
  }
  return done;
}

async function terminate(ec2: EC2Client, ids: string[]): Promise<void> {
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  const deadline = Date.now() + LIMIT_MS;
  for (;;) {
    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    if (Reservations.flatMap((r) => r.Instances!).every((i) => i.State!.Name === 'terminated')) return;
    if (Date.now() > deadline) throw new Error('instances did not terminate');
    await sleep(200);
  }
}

/** VmRSS of the QEMU processes the server started (its children). */
function qemuRss(serverPid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== serverPid || !readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('qemu-system')) continue;
      out.push(memoryOf(Number(p)).rss);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { runs: { type: 'string', default: '3' }, help: { type: 'boolean' } } });
  if (values.help) return console.log(USAGE);
  const runs = Number(values.runs);
  console.log('building the base image if needed (scripts/build-base-image.sh)...');
  await promisify(execFile)('bash', [new URL('../scripts/build-base-image.sh', import.meta.url).pathname], { maxBuffer: 16 * 1024 * 1024 });
  const server = await startAmiforge({ serveArgs: ['--hypervisor', 'qemu', '--log-level', 'warn'] });
  const ec2 = new EC2Client({
    endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: '111111111111', secretAccessKey: 'x' }, maxAttempts: 1,
  });
  try {
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['amiforge-minimal-linux'] }] }));
    const image = Images[0];
    if (!image) throw new Error('amiforge-minimal-linux is not in the catalogue: is the base image built?');
    const userData = Buffer.from(`#!/bin/sh\necho "${MARKER}"\n`).toString('base64');
    const launch = async (sizeGiB: number, count: number) => {
      const t0 = performance.now();
      const { Instances = [] } = await ec2.send(new RunInstancesCommand({
        ImageId: image.ImageId, InstanceType: 't3.micro', MinCount: count, MaxCount: count, UserData: userData,
        BlockDeviceMappings: [{ DeviceName: image.RootDeviceName, Ebs: { VolumeSize: sizeGiB } }],
      }));
      return { ids: Instances.map((i) => i.InstanceId!), t0 };
    };

    // Part 1: 1 GiB vs 16 GiB roots, one guest at a time.
    const rows: Row[] = [];
    const medians: Record<number, { ud: number; read: number }> = {};
    for (const sizeGiB of [1, 16]) {
      const results: (Launch & { read: number })[] = [];
      for (let i = 0; i < runs; i++) {
        const before = await volumeReads(server);
        const { ids, t0 } = await launch(sizeGiB, 1);
        const [r] = (await watch(ec2, ids, t0)).values();
        results.push({ ...r, read: (await volumeReads(server)) - before });
        await terminate(ec2, ids);
      }
      const m = { first: median(results.map((r) => r.firstLineMs)), ud: median(results.map((r) => r.userDataMs)), read: median(results.map((r) => r.read)) };
      medians[sizeGiB] = m;
      rows.push([`${sizeGiB} GiB root`, fmtMs(m.first), fmtMs(m.ud), fmtMB(m.read), `${((m.read / (sizeGiB * GiB)) * 100).toFixed(2)}%`,
        results.map((r) => fmtMs(r.userDataMs)).join(' / ')]);
    }
    console.log(`\n1. RunInstances of amiforge-minimal-linux → console, median of ${runs} (ms; MB read from the block store)\n`);
    console.log(renderTable(['root volume', 'first line', 'user data done', 'MB read', 'of volume', 'each run (user data)'], rows));
    const ratio = medians[16].ud / medians[1].ud;
    console.log(`\n   16 GiB / 1 GiB boot time: ${ratio.toFixed(2)}x   (aim: ~1x, boot time independent of the image size)`);
    console.log(`   read: ${fmtMB(medians[16].read)} MB of 16 GiB   (aim: a small fraction; only the blocks the guest touches)`);

    // Part 2: four at once.
    await sleep(2000);
    const idle = memoryOf(server.pid).rss;
    const { ids, t0 } = await launch(1, 4);
    const all = await watch(ec2, ids, t0);
    const busy = memoryOf(server.pid).rss;
    const guests = qemuRss(server.pid);
    const perGuest = (busy - idle) / ids.length;
    console.log('\n2. Four guests at once (one RunInstances, MaxCount 4)\n');
    console.log(renderTable(['measure', 'value', 'aim'], [
      ['all four ran their user data (ms)', fmtMs(Math.max(...[...all.values()].map((r) => r.userDataMs))), '-'],
      ['each (ms)', [...all.values()].map((r) => fmtMs(r.userDataMs)).join(' / '), '-'],
      ['amiforge VmRSS idle → 4 running (MB)', `${fmtMB(idle)} → ${fmtMB(busy)}`, '-'],
      ['amiforge memory per running guest (MB)', fmtMB(perGuest), '< 20'],
      ['QEMU VmRSS per guest (MB, each)', guests.map((b) => fmtMB(b)).join(' / '), 'not amiforge\'s'],
    ]));
    await terminate(ec2, ids);
  } finally {
    ec2.destroy();
    await server.stop();
  }
}
