// Starts the servers a benchmark measures, as real processes on 127.0.0.1, and reads their
// memory from /proc. Every wait is bounded; stop() ends only the process started here.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface BenchServer {
  name: string;
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

export interface Memory {
  /** Peak resident set size (VmHWM), bytes. */
  peak: number;
  /** Current resident set size (VmRSS), bytes. */
  rss: number;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system) a process has used so far, ms; robust to other load on the machine. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted from after the command name.
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000;
}

/** VmHWM and VmRSS of a process (Linux /proc). */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  // The kernel updates VmHWM lazily, so a fresh VmRSS can be the higher of the two.
  const rss = kb('VmRSS') * 1024;
  return { peak: Math.max(kb('VmHWM') * 1024, rss), rss };
}

function stopper(child: ChildProcess, cleanup: () => void): () => Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    cleanup();
  };
}

/**
 * amiforge as users run it, `bin/amiforge serve`, in dev mode with a fresh data directory and,
 * unless told otherwise, its default (info) log level, so each request is logged as in normal
 * use; the log goes to a pipe that is drained and dropped. `nodeArgs` (e.g. --cpu-prof) travel
 * in NODE_OPTIONS. Ready once /_amiforge/health answers.
 */
export async function startAmiforge(o: { serveArgs?: string[]; nodeArgs?: string[]; env?: Record<string, string> } = {}): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-bench-'));
  const port = await freePort();
  const args = ['serve', '--port', String(port), '--data-dir', dataDir, ...(o.serveArgs ?? [])];
  const env = { ...process.env, ...o.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, ...(o.nodeArgs ?? [])].filter(Boolean).join(' ') };
  // bin/amiforge execs node, so the child's pid is the server's own.
  const child = spawn(join(ROOT, 'bin/amiforge'), args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  child.stdout!.resume();
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const server: BenchServer = {
    name: 'amiforge',
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: stopper(child, () => rmSync(dataDir, { recursive: true, force: true })),
  };
  await waitUntilUp(server, child, `${server.endpoint}/_amiforge/health`, () => stderr);
  return server;
}

/**
 * Runs `bin/amiforge --version`, which loads the server's modules, so that Node's compile cache
 * (enabled by bin/amiforge) holds them, as it does for any server started before. Returns the
 * command's wall time, ms: much shorter when the cache already held them.
 */
export function warmAmiforge(): number {
  const started = performance.now();
  const r = spawnSync(join(ROOT, 'bin/amiforge'), ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`bin/amiforge --version failed: ${r.stderr}`);
  return performance.now() - started;
}

/** Polls `url` until it answers (at most 30 s); stops the server if it never does. */
async function waitUntilUp(server: BenchServer, child: ChildProcess, url: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await server.stop();
      throw new Error(`${server.name} exited with ${child.exitCode} before answering: ${stderr()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return;
    } catch {
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${server.name} did not answer in 30 s: ${stderr()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * A loopback block of its own for the instances' public addresses (--public-address-range): two
 * servers on one host with the default 127.100.0.0/16 both give their first instance 127.100.0.1,
 * and the second one's forwarded ports are refused (address in use).
 */
export function ownPublicAddressRange(): string {
  return `127.${101 + Math.floor(Math.random() * 150)}.${Math.floor(Math.random() * 256)}.0/24`;
}

/** A TCP port free on 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The installed moto version, or undefined when moto_server is not on PATH. */
export function motoVersion(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  if (which.status !== 0) return undefined;
  const v = spawnSync('python3', ['-c', 'import moto; print(moto.__version__)'], { encoding: 'utf8' });
  return v.status === 0 ? v.stdout.trim() : 'unknown version';
}

/** `moto_server -p PORT` (Python moto, the common AWS mock), ready once it answers. */
export async function startMoto(): Promise<BenchServer> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  // The pyenv shim execs the interpreter, so the child's pid is moto's own process.
  const server: BenchServer = { name: 'moto', endpoint: `http://127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child, () => {}) };
  await waitUntilUp(server, child, `${server.endpoint}/moto-api/`, () => stderr);
  return server;
}
