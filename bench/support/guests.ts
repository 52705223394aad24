// Watching real guests from outside, for the boot benchmarks: console lines, an ssh login, the
// block store's read counter, and the QEMU processes a server started. Every wait is bounded.
import { readdirSync, readFileSync } from 'node:fs';
import { DescribeInstancesCommand, GetConsoleOutputCommand, TerminateInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { sshRun } from '../../test/support/qemu.ts';
import { memoryOf } from './servers.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value; rejects after `limitMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, o: { limitMs: number; everyMs?: number }): Promise<T> {
  const deadline = Date.now() + o.limitMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${o.limitMs / 1000} s`);
    await sleep(o.everyMs ?? 250);
  }
}

/** Bytes the server's volumes have read from the block store so far (GET /_amiforge/volume-reads). */
export async function volumeReads(endpoint: string): Promise<number> {
  const res = await fetch(`${endpoint}/_amiforge/volume-reads`);
  return ((await res.json()) as { bytesRead: number }).bytesRead;
}

export async function consoleText(ec2: EC2Client, id: string): Promise<string> {
  const { Output } = await ec2.send(new GetConsoleOutputCommand({ InstanceId: id, Latest: true }));
  return Output ? Buffer.from(Output, 'base64').toString('utf8') : '';
}

/** True when `ssh user@address true` logs in with `key` (no prompts, no known-hosts file). */
export async function sshLogsIn(key: string, user: string, address: string, port = 22): Promise<boolean> {
  return (await sshRun(key, user, address, 'true', port)).code === 0;
}

/** Terminates `ids` and waits until they are `terminated` (their QEMU processes gone). */
export async function terminate(ec2: EC2Client, ids: string[], limitMs = 300_000): Promise<void> {
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  await until('instances terminated', async () => {
    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    return Reservations.flatMap((r) => r.Instances!).every((i) => i.State!.Name === 'terminated') ? true : undefined;
  }, { limitMs, everyMs: 500 });
}

export interface QemuProcess { pid: number; rss: number; argv: string[] }

/** The QEMU processes descending from `rootPid` (the server starts them), with their VmRSS. */
export function qemuProcesses(rootPid: number): QemuProcess[] {
  const parent = new Map<number, number>();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === rootPid) return true;
    return false;
  };
  const out: QemuProcess[] = [];
  for (const pid of parent.keys()) {
    if (!descends(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (!/qemu-system/.test(argv[0] ?? '')) continue;
      out.push({ pid, rss: memoryOf(pid).rss, argv });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The load averages (1, 5, 15 min) as `uptime` prints them. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
