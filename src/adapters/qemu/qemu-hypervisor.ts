// The QEMU driver: one qemu-system-x86_64 per running instance, booting the base image's kernel
// and initramfs (docs/base-image.md) on the instance's own volumes.
//
// Per instance, a runtime directory (RUNTIME/<instance-id>/, mode 0700) holds:
//   dN.nbd        an NBD server per disk (root first, then EBS and instance-store volumes by
//                 device name), reading and writing the volume lazily through its block map
//   imds.sock     the instance metadata service (MetadataResponder), reached by the guest at
//                 169.254.169.254 through QEMU's user network guestfwd (restrict=on)
//   qmp.sock      QEMU's control socket: power-down, reset, status
//   qemu.pid      so a later amiforge can end a QEMU a crashed one left behind
//   console.log   the serial console, appended across stops, deleted at termination
// Sockets and the pid file go when the guest exits; the directory when the instance terminates.
//
// States follow the process: `running` is reported once QEMU runs the guest (as EC2 reports
// running before the operating system has booted: watch the console for that); QEMU's exit is an
// `exited` event, guest-initiated unless stop()/terminate() asked for it. Stop = ACPI power button
// (QMP system_powerdown, for images with acpid or systemd) and Ctrl-Alt-Del (the base image's
// busybox init powers off on it), repeated until the guest is gone or the timeout kills it.
// Reboot = the same clean shutdown, then a new QEMU on the same disks (not reported as an exit).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  GuestAlreadyRunningError, GuestNotRunningError, HypervisorUnsupportedError, type ConsoleOutput, type GuestDisk, type GuestEvent,
  type Hypervisor, type StartGuestOptions, type StopGuestOptions,
} from '../../ports/hypervisor.ts';
import { MetadataResponder } from './metadata-responder.ts';
import { NbdServer } from './nbd-server.ts';
import { detectAccelerator, guestCommand } from './qemu-command.ts';
import { QmpClient } from './qmp.ts';
import { diskExport } from './volume-export.ts';

export interface QemuHypervisorOptions {
  /** The built base image: vmlinux and initramfs.cpio (scripts/build-base-image.sh). */
  imageDir: string;
  /**
   * Where per-instance sockets, consoles and pid files live. Unix socket paths are limited to
   * 107 bytes, so keep it short (default: a directory under the system's temporary directory).
   */
  runtimeDir?: string;
  /** Guest memory is the instance type's, capped at this (MiB). Default 512. */
  maxMemoryMiB?: number;
  /** Guest vCPUs are the instance type's, capped at this. Default 1 (TCG on a small host). */
  maxVcpus?: number;
  /** How long a reboot waits for the guest to power down before resetting it anyway. Default 30 s. */
  rebootTimeoutMs?: number;
  /**
   * Extra kernel command line. Default `quiet no_timer_check`: under TCG on a loaded host the
   * kernel's IO-APIC timer check can miss its ticks and panic ("IO-APIC + timer doesn't work!").
   */
  cmdline?: string;
  /** Failures that are not any caller's (NBD export errors, cleanup). */
  onError?: (what: string, err: unknown) => void;
}

const CONSOLE_LIMIT = 64 * 1024;
/** How often a graceful stop presses the buttons again (the first press may land mid-boot). */
const REPRESS_MS = 3000;

/** Why `--hypervisor qemu` cannot run here, or undefined when it can. */
export function qemuUnavailable(imageDir: string): string | undefined {
  const onPath = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'qemu-system-x86_64')));
  if (!onPath) return 'qemu-system-x86_64 is not installed: run `bash scripts/install-qemu.sh` (as root)';
  if (!(process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'socat')))) {
    return 'socat is not installed (it carries instance metadata to the guest): run `bash scripts/install-qemu.sh` (as root)';
  }
  for (const f of ['vmlinux', 'initramfs.cpio']) {
    if (!existsSync(join(imageDir, f))) return `the base image is not built (${join(imageDir, f)} is missing): run \`bash scripts/build-base-image.sh\``;
  }
  return undefined;
}

/** The default runtime directory for a data directory: short, and the same on every start. */
export function defaultRuntimeDir(dataDir: string): string {
  return join(tmpdir(), `amiforge-qemu-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12)}`);
}

type Phase = 'starting' | 'up' | 'stopping' | 'gone';

class QemuGuest {
  readonly opts: StartGuestOptions;
  readonly dir: string;
  phase: Phase = 'starting';
  process?: ChildProcess;
  qmp?: QmpClient;
  nbd: NbdServer[] = [];
  imds?: MetadataResponder;
  /** stop()/terminate() asked for the exit. */
  hostInitiated = false;
  /** The process was killed rather than shut down. */
  killed = false;
  rebooting = false;
  /** A stop or termination came during a reboot: the guest stays down. */
  cancelReboot = false;
  /** Settles once QEMU's exit has been handled (cleanup, event). */
  exitHandled?: Promise<void>;
  stderr = '';
  private resolveGone!: () => void;
  /** Resolves once the process has exited, everything is cleaned up and the event emitted. */
  readonly gone = new Promise<void>((r) => { this.resolveGone = r; });

  constructor(opts: StartGuestOptions, dir: string) {
    this.opts = opts;
    this.dir = dir;
  }

  markGone(): void {
    this.phase = 'gone';
    this.resolveGone();
  }

  kill(): void {
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
      this.killed = true;
      this.process.kill('SIGKILL');
    }
  }

  /** The power button and Ctrl-Alt-Del; errors ignored (the guest may be going already). */
  async pressPowerButtons(): Promise<void> {
    const qmp = this.qmp;
    if (!qmp) return;
    await qmp.execute('system_powerdown').catch(() => {});
    await qmp.sendCtrlAltDel().catch(() => {});
  }

}

export class QemuHypervisor implements Hypervisor {
  readonly name = 'qemu';
  readonly capabilities = { hotplug: false, simDialect: false };
  private readonly opts: Required<Omit<QemuHypervisorOptions, 'onError'>> & Pick<QemuHypervisorOptions, 'onError'>;
  private readonly guestsById = new Map<string, QemuGuest>();
  private readonly listeners = new Set<(e: GuestEvent) => void>();
  private closed = false;

  private constructor(opts: QemuHypervisorOptions) {
    this.opts = {
      imageDir: opts.imageDir,
      runtimeDir: opts.runtimeDir ?? join(tmpdir(), `amiforge-qemu-${process.pid}`),
      maxMemoryMiB: opts.maxMemoryMiB ?? 512,
      maxVcpus: opts.maxVcpus ?? 1,
      rebootTimeoutMs: opts.rebootTimeoutMs ?? 30_000,
      cmdline: opts.cmdline ?? 'quiet no_timer_check',
      onError: opts.onError,
    };
  }

  /**
   * Checks QEMU and the base image, ends any QEMU a previous amiforge left running in the same
   * runtime directory (after a crash: its disks were served by that process and are gone) and
   * starts with an empty runtime directory.
   */
  static async create(opts: QemuHypervisorOptions): Promise<QemuHypervisor> {
    const missing = qemuUnavailable(opts.imageDir);
    if (missing) throw new Error(`the qemu hypervisor cannot run: ${missing}`);
    const hv = new QemuHypervisor(opts);
    const root = hv.opts.runtimeDir;
    if (Buffer.byteLength(join(root, 'i-0123456789abcdef0', 'd00.nbd')) > 100) {
      throw new Error(`the QEMU runtime directory ${root} is too long for unix sockets; choose a shorter one`);
    }
    await hv.killLeftovers();
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true, mode: 0o700 });
    return hv;
  }

  /** SIGKILLs QEMU processes recorded in the runtime directory that still run from it. */
  private async killLeftovers(): Promise<number> {
    const root = this.opts.runtimeDir;
    let killed = 0;
    for (const entry of await readdir(root).catch(() => [] as string[])) {
      const pid = Number((await readFile(join(root, entry, 'qemu.pid'), 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(pid) || pid <= 1) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (!cmdline.includes(join(root, entry))) continue; // gone, or the pid was reused
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
    return killed;
  }

  private dirOf(instanceId: string): string {
    if (!/^i-[0-9a-f]{8,17}$/.test(instanceId)) throw new Error(`not an instance id: ${instanceId}`);
    return join(this.opts.runtimeDir, instanceId);
  }

  async start(opts: StartGuestOptions): Promise<void> {
    if (this.closed) throw new Error('the qemu hypervisor is closed');
    if (this.guestsById.has(opts.instanceId)) throw new GuestAlreadyRunningError(opts.instanceId);
    const all = [...opts.disks, ...opts.instanceStore];
    const root = all.find((d) => d.device === opts.rootDevice);
    if (!root) throw new Error(`the root device ${opts.rootDevice} is not among the guest's disks`);
    const others = all.filter((d) => d !== root).sort((a, b) => a.device.localeCompare(b.device));
    const g = new QemuGuest(opts, this.dirOf(opts.instanceId));
    this.guestsById.set(opts.instanceId, g);
    try {
      await this.launch(g, [root, ...others]);
    } catch (err) {
      g.kill();
      if (g.exitHandled) await g.exitHandled;
      else await this.cleanUp(g);
      if (this.guestsById.get(opts.instanceId) === g) this.guestsById.delete(opts.instanceId);
      g.markGone();
      throw err;
    }
    g.phase = 'up';
    // Reported after start() has returned, as the simulator does.
    setImmediate(() => { if (g.phase === 'up' && !g.rebooting) this.emit({ kind: 'running', instanceId: opts.instanceId }); });
  }

  private async launch(g: QemuGuest, disks: GuestDisk[]): Promise<void> {
    await mkdir(g.dir, { recursive: true, mode: 0o700 });
    const sockets = disks.map((_, i) => join(g.dir, `d${String(i).padStart(2, '0')}.nbd`));
    for (const [i, disk] of disks.entries()) {
      const server = new NbdServer({
        export: diskExport(disk), name: 'disk',
        onError: (err) => this.opts.onError?.(`NBD export of ${disk.volumeId} (${disk.device}) to ${g.opts.instanceId}`, err),
      });
      g.nbd.push(server);
      await server.listen(sockets[i]);
    }
    const imds = new MetadataResponder({ metadata: g.opts.metadata, dynamic: g.opts.dynamic, userData: g.opts.userData, httpTokens: g.opts.imdsTokens ?? 'optional' });
    g.imds = imds;
    await imds.listen(join(g.dir, 'imds.sock'));
    const kernel = join(this.opts.imageDir, 'vmlinux');
    const initrd = join(this.opts.imageDir, 'initramfs.cpio');
    const accel = await detectAccelerator(kernel, initrd);
    const qmpSocket = join(g.dir, 'qmp.sock');
    const args = guestCommand({
      kernel, initrd, accel, cmdline: this.opts.cmdline,
      memoryMiB: Math.max(128, Math.min(g.opts.machine.memoryMiB, this.opts.maxMemoryMiB)),
      vcpus: Math.max(1, Math.min(g.opts.machine.vcpus, this.opts.maxVcpus)),
      root: { socket: sockets[0], exportName: 'disk' },
      disks: sockets.slice(1).map((socket) => ({ socket, exportName: 'disk' })),
      metadataSocket: join(g.dir, 'imds.sock'),
      serialLog: join(g.dir, 'console.log'), serialAppend: true, qmpSocket,
    });
    args.push('-name', `amiforge-${g.opts.instanceId}`);
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    g.process = qemu;
    qemu.stderr!.on('data', (c: Buffer) => { g.stderr = (g.stderr + c.toString('utf8')).slice(-4096); });
    const exited = new Promise<void>((r) => qemu.once('close', () => r()));
    qemu.once('error', (err) => { g.stderr += `\n${err.message}`; });
    g.exitHandled = exited.then(() => this.onExit(g));
    if (qemu.pid) await writeFile(join(g.dir, 'qemu.pid'), `${qemu.pid}\n`);
    // QMP answering means QEMU accepted its command line and runs the guest.
    const qmp = await Promise.race([
      QmpClient.connect(qmpSocket, 60_000),
      exited.then(() => { throw new Error(`QEMU exited at start (${qemu.exitCode ?? qemu.signalCode}): ${g.stderr.trim() || 'no message'}`); }),
    ]);
    g.qmp = qmp;
  }

  /** QEMU is gone: release its sockets, flush its disks, report the exit. */
  private async onExit(g: QemuGuest): Promise<void> {
    const wasUp = g.phase !== 'starting';
    if (this.guestsById.get(g.opts.instanceId) === g && wasUp) this.guestsById.delete(g.opts.instanceId);
    await this.cleanUp(g);
    if (!wasUp) return; // start() reports the failure, and marks the guest gone
    if (g.rebooting) return g.markGone(); // reboot() starts it again (or reports the exit)
    const status = g.process?.signalCode ?? g.process?.exitCode;
    const detail = g.killed ? undefined : status === 0 ? undefined : `QEMU exited (${status}): ${g.stderr.trim()}`;
    this.emit({ kind: 'exited', instanceId: g.opts.instanceId, initiatedBy: g.hostInitiated ? 'host' : 'guest', forced: g.killed, detail });
    g.markGone();
  }

  private async cleanUp(g: QemuGuest): Promise<void> {
    g.qmp?.close();
    const results = await Promise.allSettled([...g.nbd.map((s) => s.close()), g.imds?.close()]);
    for (const r of results) if (r.status === 'rejected') this.opts.onError?.(`cleanup of ${g.opts.instanceId}`, r.reason);
    await rm(join(g.dir, 'qmp.sock'), { force: true });
    await rm(join(g.dir, 'qemu.pid'), { force: true });
  }

  async stop(instanceId: string, options: StopGuestOptions): Promise<void> {
    const g = this.guestsById.get(instanceId);
    if (!g) return;
    if (g.phase === 'starting') await Promise.race([this.untilUp(g), g.gone]);
    g.hostInitiated = true;
    g.cancelReboot = true;
    if (options.force) {
      g.kill();
      return g.gone;
    }
    if (g.phase === 'stopping') {
      // Already shutting down: this stop waits for it, bounded by its own timeout.
      const timer = setTimeout(() => g.kill(), options.timeoutMs);
      await g.gone;
      clearTimeout(timer);
      return;
    }
    g.phase = 'stopping';
    const timer = setTimeout(() => g.kill(), options.timeoutMs);
    const repress = setInterval(() => void g.pressPowerButtons(), REPRESS_MS);
    await g.pressPowerButtons();
    await g.gone;
    clearTimeout(timer);
    clearInterval(repress);
  }

  private async untilUp(g: QemuGuest): Promise<void> {
    while (g.phase === 'starting') await new Promise((r) => setTimeout(r, 20));
  }

  async reboot(instanceId: string): Promise<void> {
    const g = this.guestsById.get(instanceId);
    if (!g || g.phase !== 'up' || g.rebooting) throw new GuestNotRunningError(instanceId);
    // The guest shuts down as for a stop (its exit is not reported), and a new QEMU boots it on
    // the same disks. (QMP system_reset would keep the process, but a reset guest booted with
    // -kernel's PVH entry faults at once on these machines.)
    g.rebooting = true;
    g.hostInitiated = true;
    g.phase = 'stopping';
    const timer = setTimeout(() => g.kill(), this.opts.rebootTimeoutMs);
    const repress = setInterval(() => void g.pressPowerButtons(), REPRESS_MS);
    await g.pressPowerButtons();
    await g.gone;
    clearTimeout(timer);
    clearInterval(repress);
    if (g.cancelReboot || this.closed) {
      this.emit({ kind: 'exited', instanceId, initiatedBy: 'host', forced: g.killed });
      return;
    }
    try {
      await this.start({ ...g.opts, firstBoot: false });
    } catch (err) {
      this.emit({ kind: 'exited', instanceId, initiatedBy: 'guest', forced: false, detail: `the guest did not start again: ${(err as Error).message}` });
    }
  }

  async terminate(instanceId: string): Promise<void> {
    const g = this.guestsById.get(instanceId);
    if (g) {
      if (g.phase === 'starting') await Promise.race([this.untilUp(g), g.gone]);
      g.hostInitiated = true;
      g.cancelReboot = true;
      g.kill();
      await g.gone;
    }
    await rm(this.dirOf(instanceId), { recursive: true, force: true });
  }

  async attachDisk(): Promise<void> {
    throw new HypervisorUnsupportedError('the qemu hypervisor does not hot-plug volumes yet; stop the instance first');
  }

  async detachDisk(): Promise<void> {
    throw new HypervisorUnsupportedError('the qemu hypervisor does not hot-unplug volumes yet; stop the instance first');
  }

  async consoleOutput(instanceId: string): Promise<ConsoleOutput | undefined> {
    const file = join(this.dirOf(instanceId), 'console.log');
    let fh;
    try {
      fh = await open(file, 'r');
    } catch {
      return undefined;
    }
    try {
      const { size, mtime } = await fh.stat();
      const length = Math.min(size, CONSOLE_LIMIT);
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, size - length);
      return { text: buf.toString('utf8'), timestamp: mtime };
    } finally {
      await fh.close();
    }
  }

  async guests(): Promise<string[]> {
    return [...this.guestsById.values()].filter((g) => g.phase !== 'gone').map((g) => g.opts.instanceId);
  }

  /** Resident memory (bytes) of each running guest's QEMU process, for benchmarks and logs. */
  async residentBytes(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const g of this.guestsById.values()) {
      const pid = g.process?.pid;
      if (!pid) continue;
      const statusText = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      const kb = /VmRSS:\s+(\d+) kB/.exec(statusText)?.[1];
      if (kb) out[g.opts.instanceId] = Number(kb) * 1024;
    }
    return out;
  }

  /** NBD statistics per running guest and device (bytes the guest read and wrote). */
  diskStats(instanceId: string): NbdServer['stats'][] {
    return this.guestsById.get(instanceId)?.nbd.map((s) => ({ ...s.stats })) ?? [];
  }

  onEvent(listener: (event: GuestEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: GuestEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Kills every guest (their instances boot again at the next start) and empties the runtime directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.guestsById.values()];
    for (const g of all) {
      g.hostInitiated = true;
      g.kill();
    }
    await Promise.all(all.map((g) => g.gone));
    await rm(this.opts.runtimeDir, { recursive: true, force: true }).catch((err) => this.opts.onError?.('runtime directory cleanup', err));
  }
}
