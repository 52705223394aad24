// The instance lifecycle benchmark, against a real amiforge process (simulated hypervisor with no
// boot delay, so what is timed is amiforge's own work), driven with @aws-sdk/client-ec2/-ebs:
//
//   1. RunInstances → running for a 1 GiB and a 100 GiB image: the same within noise, because a
//      launch volume is a reference to the image's snapshot (copy-on-write), O(1) in its size.
//   2. CreateImage of a 10 GiB volume with 1% and with 100% of its blocks changed: the time grows
//      with the change, since a snapshot is the source's map plus the changed blocks, which are
//      the only ones made durable. The blocks are written through the real API: RunInstances
//      user data in the simulator's dialect (`fill`), which writes through VolumeData.
//   3. RunInstances with MaxCount=100: all reach running; server memory per instance from the
//      VmRSS delta in /proc/PID/status.
import { parseArgs } from 'node:util';
import { CompleteSnapshotCommand, EBSClient, StartSnapshotCommand, PutSnapshotBlockCommand } from '@aws-sdk/client-ebs';
import {
  CreateImageCommand, DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeInstancesCommand, EC2Client,
  GetConsoleOutputCommand, RegisterImageCommand, RunInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { percentile } from './support/load.ts';
import { cpuMsOf, memoryOf, startAmiforge, type BenchServer } from './support/servers.ts';
import { fmtMB, fmtMs, renderTable, type Row } from './support/table.ts';

export const description = 'Instances: RunInstances→running for 1 vs 100 GiB images, CreateImage time vs blocks changed (1% vs 100% of 10 GiB), 100 instances at once with memory per instance';

const USAGE = `usage: npm run bench -- lifecycle [--runs N] [--count N] [--quick]
  --runs N    launches per image size in part 1 (default 20)
  --count N   instances in part 3's single RunInstances (default 100)
  --quick     part 2 changes 1% and 10% of the volume instead of 1% and 100% (less disk, faster)`;

const BLOCK = 512 * 1024;
const GiB = 1024 ** 3;
const LIMIT_MS = 600_000;

interface Clients { ec2: EC2Client; ebs: EBSClient }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined>, pollMs = 5): Promise<T> {
  const deadline = Date.now() + LIMIT_MS;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not done in ${LIMIT_MS / 1000} s`);
    await sleep(pollMs);
  }
}

/** A completed snapshot of `sizeGiB` with one boot block, registered as an x86_64 image. */
async function imageOf(c: Clients, sizeGiB: number): Promise<{ imageId: string; snapshotId: string }> {
  const { SnapshotId } = await c.ebs.send(new StartSnapshotCommand({ VolumeSize: sizeGiB, Timeout: 60 }));
  const block = Buffer.alloc(BLOCK);
  block.write(`amiforge benchmark disk of ${sizeGiB} GiB`);
  block[510] = 0x55;
  block[511] = 0xaa;
  const checksum = createHash('sha256').update(block).digest('base64');
  await c.ebs.send(new PutSnapshotBlockCommand({ SnapshotId, BlockIndex: 0, BlockData: block, DataLength: BLOCK, Checksum: checksum, ChecksumAlgorithm: 'SHA256' }));
  await c.ebs.send(new CompleteSnapshotCommand({ SnapshotId, ChangedBlocksCount: 1 }));
  const { ImageId } = await c.ec2.send(new RegisterImageCommand({
    Name: `bench-${sizeGiB}gib-${Date.now()}`, Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId, VolumeType: 'gp3' } }],
  }));
  return { imageId: ImageId!, snapshotId: SnapshotId! };
}

async function states(c: Clients, ids: string[]): Promise<string[]> {
  const out = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return out.Reservations!.flatMap((r) => r.Instances!.map((i) => i.State!.Name!));
}

/** RunInstances, then DescribeInstances until every instance is running; times both. */
async function launch(c: Clients, imageId: string, count: number, userData?: string): Promise<{ ids: string[]; runMs: number; runningMs: number }> {
  const t0 = performance.now();
  const out = await c.ec2.send(new RunInstancesCommand({ ImageId: imageId, MinCount: count, MaxCount: count, InstanceType: 't3.nano', UserData: userData }));
  const runMs = performance.now() - t0;
  const ids = out.Instances!.map((i) => i.InstanceId!);
  await until('running', async () => ((await states(c, ids)).every((s) => s === 'running') ? true : undefined));
  return { ids, runMs, runningMs: performance.now() - t0 };
}

async function terminate(c: Clients, ids: string[]): Promise<void> {
  await c.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  await until('terminated', async () => ((await states(c, ids)).every((s) => s === 'terminated') ? true : undefined), 20);
}

async function consoleOf(c: Clients, id: string): Promise<string> {
  const out = await c.ec2.send(new GetConsoleOutputCommand({ InstanceId: id }));
  return out.Output ? Buffer.from(out.Output, 'base64').toString() : '';
}

async function partOne(c: Clients, runs: number): Promise<{ table: string; singleMs: number }> {
  const small = await imageOf(c, 1);
  const large = await imageOf(c, 100);
  for (const img of [small, large]) await terminate(c, (await launch(c, img.imageId, 1)).ids); // warm-up
  const times = new Map<number, { run: number[]; running: number[] }>([[1, { run: [], running: [] }], [100, { run: [], running: [] }]]);
  for (let i = 0; i < runs; i++) {
    for (const [size, img] of [[1, small], [100, large]] as const) {
      const r = await launch(c, img.imageId, 1);
      times.get(size)!.run.push(r.runMs);
      times.get(size)!.running.push(r.runningMs);
      await terminate(c, r.ids);
    }
  }
  const base = percentile(times.get(1)!.running, 50);
  const rows: Row[] = [...times].map(([size, t]) => [
    `${size} GiB image`, fmtMs(percentile(t.run, 50)), fmtMs(percentile(t.running, 50)), fmtMs(percentile(t.running, 90)),
    size === 1 ? '(reference)' : `${(percentile(t.running, 50) / base).toFixed(2)}× the 1 GiB launch`,
  ]);
  return {
    table: renderTable(['launch (1 instance, t3.nano)', 'RunInstances p50 ms', '→ running p50 ms', 'p90 ms', 'compared with'], rows),
    singleMs: base,
  };
}

async function partTwo(c: Clients, pid: number, fractions: number[]): Promise<string> {
  const source = await imageOf(c, 10);
  const blocks = (10 * GiB) / BLOCK;
  const rows: Row[] = [];
  const points: [number, number][] = [];
  let refMs: number | undefined;
  let refBlocks: number | undefined;
  for (const fraction of fractions) {
    const changed = Math.round(blocks * fraction);
    const { ids: [id] } = await launch(c, source.imageId, 1,
      Buffer.from(`#!amiforge-sim\nfill /dev/xvda 0 ${changed * BLOCK} bench-${fraction}\n`).toString('base64'));
    const fillStart = performance.now();
    await until('user data', async () => (/Cloud-init v\. [\d.]+ finished/.test(await consoleOf(c, id)) ? true : undefined), 100);
    const fillMs = performance.now() - fillStart;
    // The kernel writes a big fill back while it runs, a small one not yet: sync(1) first, so both
    // runs time the same thing (the snapshot's map, making its changed blocks durable, metadata).
    spawnSync('sync');
    const cpu0 = cpuMsOf(pid);
    const t0 = performance.now();
    const { ImageId } = await c.ec2.send(new CreateImageCommand({ InstanceId: id, Name: `bench-${fraction}-${Date.now()}`, NoReboot: true }));
    const image = await until('image available', async () => {
      const img = (await c.ec2.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0];
      if (img.State === 'failed') throw new Error(`image failed: ${img.StateReason?.Message}`);
      return img.State === 'available' ? img : undefined;
    }, 5);
    const ms = performance.now() - t0;
    const cpuMs = cpuMsOf(pid) - cpu0;
    const perBlock = ms / changed;
    points.push([changed, ms]);
    refMs ??= ms;
    refBlocks ??= changed;
    rows.push([
      `${(fraction * 100).toFixed(0)}% (${changed} blocks, ${fmtMB(changed * BLOCK)} MB)`, fmtMs(fillMs), fmtMs(ms), fmtMs(cpuMs), perBlock.toFixed(3),
      refMs === ms ? '(reference)' : `${(ms / refMs).toFixed(1)}× the time for ${(changed / refBlocks!).toFixed(0)}× the blocks`,
    ]);
    await terminate(c, [id]);
    await c.ec2.send(new DeregisterImageCommand({ ImageId }));
    await c.ec2.send(new DeleteSnapshotCommand({ SnapshotId: image.BlockDeviceMappings![0].Ebs!.SnapshotId }));
  }
  const [[b1, t1], [b2, t2]] = points;
  const marginal = (t2 - t1) / (b2 - b1);
  return `${renderTable(['CreateImage of a 10 GiB volume, changed', 'user data fill ms', '→ available ms', 'server CPU ms', 'ms per block', 'compared with'], rows)}
\na straight line through the two runs: ${marginal.toFixed(3)} ms per changed block + ${fmtMs(t1 - marginal * b1)} ms`;
}

async function partThree(c: Clients, pid: number, count: number, singleMs: number): Promise<string> {
  const { imageId } = await imageOf(c, 8);
  await terminate(c, (await launch(c, imageId, 1)).ids); // warm-up
  await sleep(1000);
  const before = memoryOf(pid).rss;
  const r = await launch(c, imageId, count);
  await sleep(1000);
  const after = memoryOf(pid).rss;
  const t0 = performance.now();
  const described = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: r.ids }));
  const describeMs = performance.now() - t0;
  const running = described.Reservations!.flatMap((x) => x.Instances!).filter((i) => i.State?.Name === 'running').length;
  const perInstance = (after - before) / count;
  await terminate(c, r.ids);
  return renderTable(['RunInstances MaxCount=' + count, 'value', 'compared with'], [
    ['instances running', `${running} of ${count}`, ''],
    ['RunInstances call, ms', fmtMs(r.runMs), ''],
    ['→ all running, ms', fmtMs(r.runningMs), `${fmtMs(singleMs * count)} ms for ${count} single launches one after another (part 1 p50 × ${count})`],
    ['DescribeInstances of all, ms', fmtMs(describeMs), ''],
    ['server VmRSS before / after, MB', `${fmtMB(before)} / ${fmtMB(after)}`, ''],
    ['server memory per instance, KB', (perInstance / 1024).toFixed(1), 'a t3.nano guest under a real hypervisor: 524,288 KB of guest RAM alone'],
  ]);
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: {
    runs: { type: 'string', default: '20' }, count: { type: 'string', default: '100' }, quick: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
  } });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const runs = Number(values.runs);
  const count = Number(values.count);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(count) || count < 1 || count > 1000) throw new Error(USAGE);
  const server: BenchServer = await startAmiforge({ serveArgs: ['--sim-boot-ms', '0', '--instance-limit', '5000', '--log-level', 'warn'] });
  try {
    const credentials = { accessKeyId: '123456789012', secretAccessKey: 'bench' };
    const c: Clients = {
      ec2: new EC2Client({ endpoint: server.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
      ebs: new EBSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
    };
    console.log(`amiforge ${server.endpoint} (pid ${server.pid}), simulated hypervisor with no boot delay\n`);
    console.log('1. Launch cost against image size (volumes are copy-on-write over the snapshot)\n');
    const one = await partOne(c, runs);
    console.log(`${one.table}\n`);
    console.log('2. CreateImage time against the blocks changed since launch (written by sim user data through VolumeData)\n');
    console.log(`${await partTwo(c, server.pid, values.quick ? [0.01, 0.1] : [0.01, 1])}\n`);
    console.log(`3. ${count} instances in one RunInstances\n`);
    console.log(await partThree(c, server.pid, count, one.singleMs));
  } finally {
    await server.stop();
  }
}
