// Guest sessions over SSH, the way Image Builder's workflow reaches a build or test instance on the
// QEMU hypervisor (as Packer does): OpenSSH's client with the launch's private key in a 0600 file,
// BatchMode, no host key checks (the guest is new and its keys are about to be removed by the
// sanitize step), a short ConnectTimeout. The login user is the first of admin (Debian), ec2-user,
// ubuntu, root that gets in and may run `sudo -n`; open() retries until one does, since a guest
// still booting refuses connections and cloud-init installs the key late.
//
// One TCP connection carries a session's scripts: OpenSSH's connection sharing (ControlMaster),
// with its control socket in the session's private 0700 directory beside the key. The key
// exchange and login cost a second or more each under software emulation, which a build paid per
// script; now it pays them once (again after a reboot). The master outlives sshd restarts (a
// restarted sshd keeps its connections), stops once idle for CONTROL_PERSIST_SECONDS should close()
// never come, and goes at close() (`ssh -O exit`). A master that died (the guest went away) is
// replaced by the next script's ssh, which then connects on its own (ControlMaster=auto).
//
// A script travels on stdin; the guest writes it to a temporary file and runs it with bash as root,
// in the working directory, under coreutils' `timeout` so a step that runs too long stops in the
// guest too. Its exit status comes back after a marker on stderr: without the marker, the guest was
// not reached (ssh's own 255) and run() rejects, as the port says.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandResult, GuestAccess, GuestSession, GuestTarget, RunOptions } from '../../ports/guest-session.ts';

export interface SshGuestAccessOptions {
  /** Login users tried in order. */
  users?: string[];
  /** ssh's ConnectTimeout, in seconds. */
  connectTimeoutSeconds?: number;
  /** Pause between rounds of connection attempts while the guest boots. */
  retryDelayMs?: number;
}

export const DEFAULT_USERS = ['admin', 'ec2-user', 'ubuntu', 'root'];
const EXIT_MARKER = '__amiforge_exit_status__';
/** How long a master with no script running stays, should the session never be closed. */
const CONTROL_PERSIST_SECONDS = 300;

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

interface SshResult { code: number; stdout: string; stderr: string; timedOut: boolean }

/** `127.100.0.5` or `127.100.0.5:2222`. */
function hostAndPort(address: string): { host: string; port: number } {
  const m = /^([^:]+):(\d+)$/.exec(address);
  return m ? { host: m[1], port: Number(m[2]) } : { host: address, port: 22 };
}

/** Runs ssh once; kills it at `timeoutMs` (then timedOut) or when `signal` aborts (then rejects). */
function ssh(args: string[], input: string, timeoutMs: number, signal?: AbortSignal): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const child = spawn('ssh', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, Math.min(timeoutMs, 2 ** 31 - 1));
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.on('error', () => {}); // the guest may close early; the exit status says what happened
    child.on('error', (err) => { clearTimeout(timer); signal?.removeEventListener('abort', onAbort); reject(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(signal.reason);
      resolve({ code: code ?? 255, stdout, stderr, timedOut });
    });
    child.stdin.end(input);
  });
}

/** Stops the shared connection behind `args` (its master); nothing happens when there is none. */
async function dropMaster(args: string[]): Promise<void> {
  await ssh([...args.slice(0, -1), '-O', 'exit', args[args.length - 1]], '', 10_000).catch(() => {});
}

class SshGuestSession implements GuestSession {
  readonly description: string;
  private readonly baseArgs: string[];
  private readonly sudo: boolean;
  private readonly keyDir: string;
  private readonly retryDelayMs: number;
  private closed = false;

  constructor(user: string, host: string, port: number, baseArgs: string[], keyDir: string, retryDelayMs: number) {
    this.description = `ssh ${user}@${host}:${port}`;
    this.baseArgs = baseArgs;
    this.sudo = user !== 'root';
    this.keyDir = keyDir;
    this.retryDelayMs = retryDelayMs;
  }

  /** The remote command: store stdin in a file, run it with bash as root under `timeout`, report the status. */
  private remote(opts: RunOptions): string {
    const seconds = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
    const inner = [
      'f=$(mktemp) || exit 125',
      'cat > "$f"',
      ...(opts.cwd ? [`mkdir -p -- ${shq(opts.cwd)} && cd -- ${shq(opts.cwd)} || { echo "cannot use the working directory ${opts.cwd.replace(/[^\w./-]/g, '')}" >&2; rm -f -- "$f"; echo ${EXIT_MARKER} 125 >&2; exit 125; }`] : []),
      ...Object.entries(opts.env ?? {}).map(([k, v]) => `export ${k}=${shq(v)}`),
      `timeout -k 10 ${seconds} bash "$f" </dev/null`,
      'rc=$?',
      'rm -f -- "$f"',
      `echo ${EXIT_MARKER} $rc >&2`,
      'exit $rc',
    ].join('\n');
    return `${this.sudo ? 'sudo -n ' : ''}bash -c ${shq(inner)}`;
  }

  async run(script: string, opts: RunOptions): Promise<CommandResult> {
    if (this.closed) throw new Error(`${this.description}: the session is closed`);
    for (const k of Object.keys(opts.env ?? {})) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not an environment variable name: ${k}`);
    const started = Date.now();
    // The local kill comes a little after the guest's own timeout, which stops the script there.
    const r = await ssh([...this.baseArgs, this.remote(opts)], script, opts.timeoutMs + 20_000, opts.signal);
    const marker = new RegExp(`\\n?${EXIT_MARKER} (\\d+)\\n?$`).exec(r.stderr);
    if (!marker) {
      if (r.timedOut) return { exitCode: 124, stdout: r.stdout, stderr: r.stderr, timedOut: true };
      if (r.code === 255) throw new Error(`${this.description}: the guest cannot be reached: ${r.stderr.trim().split('\n').pop() ?? 'ssh failed'}`);
      return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr };
    }
    const exitCode = Number(marker[1]);
    const stderr = r.stderr.slice(0, marker.index);
    // coreutils' timeout answers 124 (137 after its kill) when it stopped the script.
    const timedOut = (exitCode === 124 || exitCode === 137) && Date.now() - started >= opts.timeoutMs - 1000;
    return { exitCode, stdout: r.stdout, stderr: stderr ? `${stderr}\n`.replace(/\n\n$/, '\n') : '', ...(timedOut ? { timedOut } : {}) };
  }

  private async bootId(signal?: AbortSignal): Promise<string | undefined> {
    try {
      const r = await this.run('cat /proc/sys/kernel/random/boot_id', { timeoutMs: 15_000, signal });
      return r.exitCode === 0 ? r.stdout.trim() : undefined;
    } catch (err) {
      if (signal?.aborted) throw err;
      return undefined;
    }
  }

  async reboot(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
    const deadline = Date.now() + opts.timeoutMs;
    const before = await this.bootId(opts.signal);
    if (!before) throw new Error(`${this.description}: the guest does not answer before the reboot`);
    // Detached and delayed, so this command returns before sshd goes down.
    await this.run('nohup sh -c "sleep 1; systemctl reboot || reboot" >/dev/null 2>&1 &', { timeoutMs: 30_000, signal: opts.signal }).catch((err) => {
      if (opts.signal?.aborted) throw err;
    });
    // Back when a session answers with another boot id: the guest went away and came back. The
    // shared connection goes first, and after each answer from the old boot: one to a guest that
    // vanished mid-reboot would otherwise hold the next attempts until its keep-alives give up.
    await dropMaster(this.baseArgs);
    while (Date.now() < deadline) {
      await sleep(this.retryDelayMs, undefined, { signal: opts.signal });
      const now = await this.bootId(opts.signal);
      if (now && now !== before) return;
      await dropMaster(this.baseArgs);
    }
    throw new Error(`${this.description}: the guest did not come back within ${Math.round(opts.timeoutMs / 1000)} s of the reboot`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await dropMaster(this.baseArgs);
    rmSync(this.keyDir, { recursive: true, force: true });
  }
}

/** Sessions over SSH to guests with a public (forwarded) address and the launch's key pair. */
export function sshGuestAccess(options: SshGuestAccessOptions = {}): GuestAccess {
  const users = options.users ?? DEFAULT_USERS;
  const connectTimeout = options.connectTimeoutSeconds ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 1000; // a booting guest answers within a second of sshd starting
  return {
    async open(target: GuestTarget, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<GuestSession> {
      if (!target.address) throw new Error(`${target.instanceId} has no address to reach it at`);
      if (!target.privateKey) throw new Error(`no private key to reach ${target.instanceId} with`);
      const { host, port } = hostAndPort(target.address);
      // mkdtemp makes the directory 0700: only this user reaches the key and the control socket.
      const keyDir = mkdtempSync(join(tmpdir(), 'amiforge-ssh-'));
      const key = join(keyDir, 'key');
      writeFileSync(key, target.privateKey.endsWith('\n') ? target.privateKey : `${target.privateKey}\n`, { mode: 0o600 });
      const argsFor = (user: string) => [
        '-i', key, '-p', String(port), '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no',
        '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', `ConnectTimeout=${connectTimeout}`,
        '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4',
        // One master per user tried: a refused login leaves none, so the next user starts afresh.
        '-o', 'ControlMaster=auto', '-o', `ControlPath=${join(keyDir, `cm-${user}`)}`, '-o', `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
        `${user}@${host}`,
      ];
      const deadline = Date.now() + opts.timeoutMs;
      let last = 'no attempt made';
      try {
        while (Date.now() < deadline) {
          for (const user of users) {
            const probe = user === 'root' ? 'true' : 'sudo -n true';
            const r = await ssh([...argsFor(user), probe], '', connectTimeout * 1000 + 15_000, opts.signal);
            if (r.code === 0) return new SshGuestSession(user, host, port, argsFor(user), keyDir, retryDelayMs);
            // Logged in but may not use sudo: its master is of no use.
            if (r.code !== 255) await dropMaster(argsFor(user));
            last = `${user}: ${r.stderr.trim().split('\n').pop() || `exit status ${r.code}`}`;
            // Nothing answers yet (booting): no point trying the other users this round.
            if (r.code === 255 && !/Permission denied/i.test(r.stderr)) break;
          }
          await sleep(retryDelayMs, undefined, { signal: opts.signal });
        }
      } catch (err) {
        // An abort may come after a login's master started in the background.
        for (const user of users) await dropMaster(argsFor(user));
        rmSync(keyDir, { recursive: true, force: true });
        throw err;
      }
      rmSync(keyDir, { recursive: true, force: true });
      throw new Error(`${target.instanceId} at ${host}:${port} did not accept SSH within ${Math.round(opts.timeoutMs / 1000)} s (${last})`);
    },
  };
}
