// Snapshot transfer through the real CLI against a real server: `amiforge snapshot upload` and
// `snapshot download` of a dense random image, beside this machine's limit measured in the same
// run, then incremental uploads (--parent) with no change and with 1% of the blocks changed.
//
// The limit is the least work any upload must do, in one process: read each 512 KiB block, hash
// it with SHA-256, and write it sequentially to another file. An upload does more (the client
// reads and hashes, the server hashes again, stores each block as its own file and records it in
// SQLite) on the same cores, so the aim is 60% of the limit.
//
// Peak memory is VmHWM: the server's from /proc/PID/status at the end; each CLI run's from
// /usr/bin/time (or, without it, by sampling /proc/PID/status while it runs).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { memoryOf } from './support/servers.ts';
import { BLOCK, changeBlocks, flush, machineLimit, makeImage, parseSize } from './support/disk-image.ts';
import { parseImageBenchArgs } from './support/image-args.ts';
import { renderTable, type Row } from './support/table.ts';

export const description = 'snapshot upload/download via the CLI vs sha256 + sequential write; incremental upload; peak memory';

const USAGE = `usage: npm run bench -- blocks [--size 4G] [--concurrency 16] [--change 1] [--dir DIR]
  --size S          image size: bytes, or with K, M, G (default 4G; needs about 3x free space)
  --concurrency N   the CLI's --concurrency (default 16)
  --change P        percent of blocks changed for the incremental upload (default 1)
  --dir DIR         where to create the scratch directory (default: the OS temp dir)
  --server-log FILE keep the server's log (JSON lines) in FILE`;

const ROOT = new URL('../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/amiforge');
const MB = 1e6;
const AIM_SHARE = 0.6;
const AIM_MEMORY = 256 * MB;

interface CliRun {
  seconds: number;
  /** Peak resident set (VmHWM), bytes. */
  peak: number;
  /** CPU time (user + system) of the CLI, and of the server meanwhile, seconds. */
  cpu: number;
  serverCpu: number;
  stdout: string;
  stderr: string;
}

const hasTime = existsSync('/usr/bin/time');

interface Server { endpoint: string; pid: number; stop(): Promise<void> }

/**
 * `bin/amiforge serve` (as shipped: the launcher's node flags included) in dev mode, info log
 * level, a fresh data directory in `dir`; its log is drained and dropped.
 */
async function startServer(dir: string, logFile?: string): Promise<Server> {
  const child = spawn(CLI, ['serve', '--port', '0', '--data-dir', join(dir, 'server')], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (logFile) child.stdout.pipe(createWriteStream(logFile));
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`amiforge did not start in 30 s: ${stderr}`)), 30_000);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (!line.includes('amiforge listening')) return;
      clearTimeout(timer);
      lines.close(); // which pauses stdout: resume it, into the log file or to be dropped
      child.stdout.resume();
      resolve(Number((JSON.parse(line) as { port: number }).port));
    });
    child.once('exit', (code) => reject(new Error(`amiforge exited with ${code} before listening: ${stderr}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    // bin/amiforge execs node: the child is the server itself.
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs bin/amiforge with `args`; measures wall time and the CLI process's peak memory. */
async function cli(args: string[], env: NodeJS.ProcessEnv, dir: string, serverPid: number): Promise<CliRun> {
  const timeFile = join(dir, 'time.out');
  const [cmd, argv] = hasTime ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', timeFile, CLI, ...args]] : [CLI, args];
  const serverBefore = cpuOf(serverPid);
  const started = performance.now();
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  let sampled = 0;
  let sampledCpu = 0;
  // Without /usr/bin/time: bin/amiforge execs node, so the child's pid is the CLI's; sample it.
  const sampler = hasTime ? undefined : setInterval(() => {
    try {
      sampled = Math.max(sampled, memoryOf(child.pid!).peak);
      sampledCpu = cpuOf(child.pid!);
    } catch { /* exited */ }
  }, 25);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = cpuOf(serverPid) - serverBefore;
  if (sampler) clearInterval(sampler);
  if (code !== 0) throw new Error(`amiforge ${args.join(' ')} exited with ${code}: ${stderr}`);
  let peak = sampled;
  let cpu = sampledCpu;
  if (hasTime) {
    const [kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    peak = kb * 1024;
    cpu = user + sys;
  }
  return { seconds, peak, cpu, serverCpu, stdout: stdout.trim(), stderr };
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system) a process has used so far, seconds (Linux /proc). */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

const sentOf = (stderr: string) => Number(/: (\d+) of \d+ blocks sent/.exec(stderr)?.[1] ?? NaN);

async function sha256File(path: string): Promise<string> {
  const fh = await open(path, 'r');
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
  try {
    for (let pos = 0; ;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (!bytesRead) break;
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

const mbps = (bytes: number, s: number) => bytes / MB / s;
const f1 = (n: number) => n.toFixed(1);
const f0 = (n: number) => n.toFixed(0);

export async function run(args: string[]): Promise<void> {
  const values = parseImageBenchArgs(args, USAGE, {
    concurrency: { type: 'string', default: '16' },
    'server-log': { type: 'string' },
  });
  if (!values) return;
  const size = parseSize(values.size);
  const concurrency = Number(values.concurrency);
  const change = Number(values.change);
  const dir = mkdtempSync(join(values.dir, 'amiforge-bench-blocks-'));
  const src = join(dir, 'image.raw');
  const out = join(dir, 'download.raw');
  console.log(`image: ${(size / 1024 ** 3).toFixed(2)} GiB of random data (${Math.ceil(size / BLOCK)} blocks), CLI --concurrency ${concurrency}`);
  console.log(`machine: ${availableParallelism()} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`scratch: ${dir}; CLI memory from ${hasTime ? '/usr/bin/time' : 'sampling /proc/PID/status'}\n`);

  const server = await startServer(dir, values['server-log']);
  try {
    await makeImage(src, size);
    const sourceHash = await sha256File(src);
    flush();

    const { seconds: limitSeconds, cpu: limitCpu } = await machineLimit(src, join(dir, 'sink.raw'), size);
    rmSync(join(dir, 'sink.raw'));
    flush();
    const limitRate = mbps(size, limitSeconds);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ENDPOINT_URL: server.endpoint,
      AWS_ACCESS_KEY_ID: '123456789012',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AMIFORGE_CACHE_DIR: join(dir, 'cache'),
    };
    const c = ['--concurrency', String(concurrency)];

    const up = await cli(['snapshot', 'upload', src, ...c], env, dir, server.pid);
    const snapshotId = up.stdout;
    flush();
    const down = await cli(['snapshot', 'download', snapshotId, out, ...c], env, dir, server.pid);
    const identical = (await sha256File(out)) === sourceHash;
    rmSync(out);
    flush();

    // Incremental: first with nothing changed (the cost of reading and hashing the image), then
    // with blocks changed, against the manifest the full upload cached, and without it.
    const same = await cli(['snapshot', 'upload', src, '--parent', snapshotId, ...c], env, dir, server.pid);
    const changed = await changeBlocks(src, size, change);
    flush();
    const incr = await cli(['snapshot', 'upload', src, '--parent', snapshotId, ...c], env, dir, server.pid);
    rmSync(join(dir, 'cache'), { recursive: true, force: true }); // no manifest: GetSnapshotBlock per parent block
    const incrNoCache = await cli(['snapshot', 'upload', src, '--parent', snapshotId, ...c], env, dir, server.pid);

    // Encrypted: the (changed) image uploaded and downloaded again with encryption by default on
    // (the aws/ebs key), beside the limit with AES-256-GCM sealing added, measured now.
    const changedHash = await sha256File(src);
    const { seconds: sealSeconds, cpu: sealCpu } = await machineLimit(src, join(dir, 'sink.raw'), size, true);
    rmSync(join(dir, 'sink.raw'));
    flush();
    const { EC2Client, EnableEbsEncryptionByDefaultCommand } = await import('@aws-sdk/client-ec2');
    await new EC2Client({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: '123456789012', secretAccessKey: 'bench' } })
      .send(new EnableEbsEncryptionByDefaultCommand({}));
    const encUp = await cli(['snapshot', 'upload', src, ...c], env, dir, server.pid);
    flush();
    const encDown = await cli(['snapshot', 'download', encUp.stdout, out, ...c], env, dir, server.pid);
    const encIdentical = (await sha256File(out)) === changedHash;
    rmSync(out);
    const serverPeak = memoryOf(server.pid).peak;

    const pct = (rate: number) => `${f0((100 * rate) / limitRate)}%`;
    const mem = (bytes: number) => `${f1(bytes / MB)}`;
    const row = (label: string, r: CliRun, rated: boolean, aim: string): string[] => [
      label, f1(r.seconds), f0(mbps(size, r.seconds)), rated ? pct(mbps(size, r.seconds)) : '', Number.isNaN(sentOf(r.stderr)) ? '' : String(sentOf(r.stderr)),
      f1(r.cpu), f1(r.serverCpu), mem(r.peak), aim,
    ];
    const rows: Row[] = [
      { section: 'throughput (MB/s = 10^6 bytes/s of image)' },
      ['machine limit: read + SHA-256 + sequential write', f1(limitSeconds), f0(limitRate), '100%', '', f1(limitCpu), '', '', ''],
      row('snapshot upload (full)', up, true, `>= ${AIM_SHARE * 100}%`),
      row('snapshot download', down, true, `>= ${AIM_SHARE * 100}%`),
      { section: `incremental upload (--parent), ${changed} blocks = ${change}% changed` },
      row('no change (local scan only)', same, false, '0 sent'),
      row(`${change}% changed, manifest cached`, incr, false, `${changed} sent`),
      row(`${change}% changed, no manifest (GetSnapshotBlock)`, incrNoCache, false, `${changed} sent`),
      { section: 'encrypted (encryption by default, aws/ebs key); "of limit" is of the AES-256-GCM limit' },
      ['machine limit + AES-256-GCM seal + SHA-256 of sealed', f1(sealSeconds), f0(mbps(size, sealSeconds)), '100%', '', f1(sealCpu), '', '', ''],
      ...[['snapshot upload (encrypted)', encUp], ['snapshot download (encrypted)', encDown]].map(([label, r]) => {
        const cr = r as CliRun;
        const cells = row(label as string, cr, false, `>= ${AIM_SHARE * 100}%`);
        cells[3] = `${f0((100 * mbps(size, cr.seconds)) / mbps(size, sealSeconds))}%`;
        return cells;
      }),
    ];
    console.log(renderTable(['', 'seconds', 'MB/s', 'of limit', 'blocks sent', 'CLI CPU s', 'server CPU s', 'CLI peak MB', 'aim'], rows));
    const sendPart = incr.seconds - same.seconds;
    console.log(`\nincremental: ${f1(incr.seconds)} s = ${f1(same.seconds)} s reading and hashing the image (as with no change) `
      + `+ ${f1(Math.max(0, sendPart))} s for ${changed} blocks; the full upload's rate predicts ${f1((up.seconds * changed) / Math.ceil(size / BLOCK))} s for them`);
    console.log(`download identical to the image (SHA-256): ${identical ? 'yes' : 'NO'}; encrypted download identical: ${encIdentical ? 'yes' : 'NO'}`);
    console.log(`peak memory (VmHWM): server ${mem(serverPeak)} MB, CLI at most ${mem(Math.max(up.peak, down.peak, same.peak, incr.peak, incrNoCache.peak))} MB (aim < ${AIM_MEMORY / MB} MB each)`);
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(`aims: upload ${verdict(mbps(size, up.seconds) >= AIM_SHARE * limitRate)}, download ${verdict(mbps(size, down.seconds) >= AIM_SHARE * limitRate)}, `
      + `memory ${verdict(serverPeak < AIM_MEMORY && Math.max(up.peak, down.peak, incr.peak) < AIM_MEMORY)}`);
    console.log(`CPU seconds (user + system) tell the work done whatever else runs on the machine: the limit's ${f1(limitCpu)} s `
      + `against ${f1(up.cpu + up.serverCpu)} s for the upload (CLI + server) and ${f1(down.cpu + down.serverCpu)} s for the download.`);
    const cores = availableParallelism();
    const ceiling = (cpu: number) => `${f0(Math.min(100, (100 * cores * limitCpu) / cpu))}%`;
    console.log(`CPU-bound ceiling with ${cores} CPUs all to ourselves (CPUs x limit CPU / transfer CPU): upload ${ceiling(up.cpu + up.serverCpu)}, `
      + `download ${ceiling(down.cpu + down.serverCpu)} of the limit`);
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
