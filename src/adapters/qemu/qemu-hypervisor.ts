// The QEMU driver: one qemu-system-x86_64 per running instance, on the instance's own volumes.
// How it boots (guest-boot.ts): the base image's kernel and initramfs (docs/base-image.md) by
// default, a paravirtual image's registered kernel, or the firmware (SeaBIOS, OVMF) and the boot
// loader on the root volume for HVM images. docs/qemu-driver.md describes it for operators.
//
// Per instance, a runtime directory (RUNTIME/<instance-id>/, mode 0700) holds:
//   dNN.nbd       an NBD server per disk (root first, then EBS and instance-store volumes by
//                 device name), reading and writing the volume lazily through its block map;
//                 hNN.nbd for disks hot-plugged later
//   imds.sock     the instance metadata service (MetadataResponder), reached by the guest at
//                 169.254.169.254 through QEMU's user network guestfwd (restrict=on)
//   qmp.sock      QEMU's control socket: power-down, hot-plug, port forwards, events
//   console.sock  the serial console, which amiforge writes to console.log (console-log.ts) and
//                 watches for boots that failed (boot-watch.ts: an `unreachable` event)
//   qemu.pid      so a later amiforge can end a QEMU a crashed one left behind
//   console.log   the serial console, appended across stops (capped), deleted at termination
//   ovmf-vars.fd  a UEFI guest's variable store, kept across stops, deleted at termination
// Sockets and the pid file go when the guest exits; the directory when the instance terminates.
//
// States follow the process: `running` is reported once QEMU runs the guest (as EC2 reports
// running before the operating system has booted: watch the console for that); QEMU's exit is an
// `exited` event, guest-initiated unless stop()/terminate() asked for it. Stop = ACPI power button
// (QMP system_powerdown, for images with acpid or systemd) and Ctrl-Alt-Del (the base image's
// busybox init powers off on it), repeated until the guest is gone or the timeout kills it.
// Reboot = the same clean shutdown, then a new QEMU on the same disks (not reported as an exit).
// The guest's own reboot: a firmware-booted guest resets in place (QMP RESET); a kernel-booted
// one (-no-reboot) ends its QEMU with a guest-reset SHUTDOWN and is started again in a new one,
// unless its kernel panicked (an exit with the panic as detail, as before).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import {
  GuestAlreadyRunningError, GuestNotRunningError, type ConsoleOutput, type ForwardsResult, type GuestDisk, type GuestEvent, type GuestForwards,
  type Hypervisor, type HypervisorCapabilities, type StartGuestOptions, type StopGuestOptions,
} from '../../ports/hypervisor.ts';
import { BootWatch } from './boot-watch.ts';
import { plugDisk, unplugDisk } from './hotplug.ts';
import { ConsoleFollowers } from '../../ports/console-followers.ts';
import { ConsoleLog, readConsoleTail } from './console-log.ts';
import { bootFiles } from './guest-boot.ts';
import { MetadataResponder } from './metadata-responder.ts';
import { NbdServer } from './nbd-server.ts';
import { PortForwards } from './port-forwards.ts';
import { detectAccelerator, guestCommand } from './qemu-command.ts';
import { QmpClient } from './qmp.ts';
import { ec2Smbios } from './smbios.ts';
import { diskExport } from './volume-export.ts';

export interface QemuHypervisorOptions {
  /** The built base image: vmlinux and initramfs.cpio (scripts/build-base-image.sh). */
  imageDir: string;
  /**
   * Where per-instance sockets, consoles and pid files live. Unix socket paths are limited to
   * 107 bytes, so keep it short (default: a directory under the system's temporary directory).
   */
  runtimeDir?: string;
  /**
   * Guest memory is the instance type's, capped at this (MiB). Default 1024: a distribution's
   * boot (cloud-init, sshd) needs more than 512; under TCG QEMU touches only what the guest uses.
   */
  maxMemoryMiB?: number;
  /**
   * Guest vCPUs are the instance type's, capped at this. Default 2: a distribution boots ~20%
   * faster with 2 than with 1 under TCG (one host thread per vCPU); 1 on a small shared host.
   */
  maxVcpus?: number;
  /** How long a reboot waits for the guest to power down before resetting it anyway. Default 30 s. */
  rebootTimeoutMs?: number;
  /** How long a hot-unplug waits for the guest to let go of the disk. Default 120 s. */
  detachTimeoutMs?: number;
  /**
   * Extra kernel command line for kernel boots. Default `quiet no_timer_check`: under TCG on a
   * loaded host the kernel's IO-APIC timer check can miss its ticks and panic ("IO-APIC + timer
   * doesn't work!").
   */
  cmdline?: string;
  /**
   * The file a kernel (aki-...) or ramdisk (ari-...) image stands for, by image id (from the
   * catalogue: its `file` under the build directory), or undefined when there is none here. A
   * paravirtual guest (StartGuestOptions.boot `kernel`) boots these files with its root volume;
   * without this option the driver boots no PV kernels.
   */
  kernelFiles?: (imageId: string) => string | undefined;
  /** Where Debian's `ovmf` package puts OVMF (UEFI boots). Default /usr/share/OVMF. */
  ovmfDir?: string;
  /**
   * Forwarded host port = guest port + this (default 0), for operators who cannot bind ports
   * below 1024: with 10000, guest port 22 is reached on the instance's address at 10022.
   */
  forwardPortOffset?: number;
  /** Forward from addresses beyond loopback (127.0.0.0/8). Default false: instances are reachable from this host only. */
  forwardBeyondLoopback?: boolean;
  /** Failures that are not any caller's (NBD export errors, cleanup, ports that could not be forwarded at a start). */
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

/** A disk plugged into the guest: its NBD server and QEMU device (and block node, when hot-plugged). */
interface PluggedDisk {
  disk: GuestDisk;
  deviceId: string;
  nbd: NbdServer;
  /** The blockdev-add node of a hot-plugged disk (disks given at start are -drive, removed with their device). */
  node?: string;
}

class QemuGuest {
  opts: StartGuestOptions;
  readonly dir: string;
  phase: Phase = 'starting';
  process?: ChildProcess;
  qmp?: QmpClient;
  /** Disks by device name. */
  readonly plugged = new Map<string, PluggedDisk>();
  imds?: MetadataResponder;
  console?: ConsoleLog;
  watch?: BootWatch;
  forwards?: PortForwards;
  /** stop()/terminate() asked for the exit. */
  hostInitiated = false;
  /** The process was killed rather than shut down. */
  killed = false;
  /** The guest goes down to come up again in a new QEMU (reboot(), or the guest's own reset). */
  rebooting = false;
  /** A stop or termination came during a reboot: the guest stays down. */
  cancelReboot = false;
  /** QEMU reported the guest's own reset (kernel boots run with -no-reboot). */
  guestReset = false;
  hotplugSeq = 0;
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

  /**
   * The ACPI power button, and Ctrl-Alt-Del for kernel-booted guests (the base image's busybox
   * init powers off on it); errors ignored (the guest may be going already). Not Ctrl-Alt-Del for
   * firmware-booted guests: a systemd distribution reboots on it, and without -no-reboot QEMU
   * would restart the guest instead of letting it power off.
   */
  async pressPowerButtons(): Promise<void> {
    const qmp = this.qmp;
    if (!qmp) return;
    await qmp.execute('system_powerdown').catch(() => {});
    if (this.opts.boot?.kind !== 'firmware') await qmp.sendCtrlAltDel().catch(() => {});
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

export class QemuHypervisor implements Hypervisor {
  readonly name = 'qemu';
  readonly capabilities: HypervisorCapabilities;
  private readonly opts: Required<Omit<QemuHypervisorOptions, 'onError' | 'kernelFiles'>> & Pick<QemuHypervisorOptions, 'onError' | 'kernelFiles'>;
  private readonly guestsById = new Map<string, QemuGuest>();
  private readonly listeners = new Set<(e: GuestEvent) => void>();
  private readonly consoleFollowers = new ConsoleFollowers();
  private closed = false;

  private constructor(opts: QemuHypervisorOptions) {
    this.opts = {
      imageDir: opts.imageDir,
      runtimeDir: opts.runtimeDir ?? join(tmpdir(), `amiforge-qemu-${process.pid}`),
      maxMemoryMiB: opts.maxMemoryMiB ?? 1024,
      maxVcpus: opts.maxVcpus ?? 2,
      rebootTimeoutMs: opts.rebootTimeoutMs ?? 30_000,
      detachTimeoutMs: opts.detachTimeoutMs ?? 120_000,
      cmdline: opts.cmdline ?? 'quiet no_timer_check',
      kernelFiles: opts.kernelFiles,
      ovmfDir: opts.ovmfDir ?? '/usr/share/OVMF',
      forwardPortOffset: opts.forwardPortOffset ?? 0,
      forwardBeyondLoopback: opts.forwardBeyondLoopback ?? false,
      onError: opts.onError,
    };
    this.capabilities = {
      hotplug: true, simDialect: false, forwarding: true,
      bootModes: opts.kernelFiles ? ['firmware', 'kernel'] : ['firmware'],
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
    if (Buffer.byteLength(join(root, 'i-0123456789abcdef0', 'console.sock')) > 100) {
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
    if (opts.forwards?.ports.length) {
      const result = await g.forwards!.apply(opts.forwards).catch((err: Error) => ({ forwarded: [], refused: opts.forwards!.ports.map((port) => ({ port, reason: err.message })) }));
      for (const r of result.refused) this.opts.onError?.(`forwarding ${opts.forwards.hostAddress} port ${r.port} to ${opts.instanceId}`, new Error(r.reason));
    }
  }

  private async launch(g: QemuGuest, disks: GuestDisk[]): Promise<void> {
    await mkdir(g.dir, { recursive: true, mode: 0o700 });
    const files = await bootFiles(g.opts.boot, {
      imageDir: this.opts.imageDir, kernelFiles: this.opts.kernelFiles, ovmfDir: this.opts.ovmfDir, instanceDir: g.dir,
    });
    const nbdDisks = [];
    for (const [i, disk] of disks.entries()) {
      const id = `d${pad(i)}`;
      const socket = join(g.dir, `${id}.nbd`);
      const server = this.nbdFor(g, disk);
      g.plugged.set(disk.device, { disk, deviceId: id, nbd: server });
      await server.listen(socket);
      nbdDisks.push({ socket, exportName: 'disk', id });
    }
    const imds = new MetadataResponder({ metadata: g.opts.metadata, dynamic: g.opts.dynamic, userData: g.opts.userData, httpTokens: g.opts.imdsTokens ?? 'optional' });
    g.imds = imds;
    await imds.listen(join(g.dir, 'imds.sock'));
    const instanceId = g.opts.instanceId;
    const watch = new BootWatch((detail) => this.emit({ kind: 'unreachable', instanceId, detail }));
    g.watch = watch;
    // One decoder per console: a character split between two pieces reaches followers whole.
    const decoder = new StringDecoder('utf8');
    g.console = new ConsoleLog({
      file: join(g.dir, 'console.log'),
      onOutput: (chunk) => {
        watch.feed(chunk);
        this.consoleFollowers.deliver(instanceId, decoder.write(chunk));
      },
      onError: (err) => this.opts.onError?.(`console of ${instanceId}`, err),
    });
    await g.console.listen(join(g.dir, 'console.sock'));
    const accel = await detectAccelerator(join(this.opts.imageDir, 'vmlinux'), join(this.opts.imageDir, 'initramfs.cpio'));
    const qmpSocket = join(g.dir, 'qmp.sock');
    const args = guestCommand({
      ...files, accel, cmdline: this.opts.cmdline,
      memoryMiB: Math.max(128, Math.min(g.opts.machine.memoryMiB, this.opts.maxMemoryMiB)),
      vcpus: Math.max(1, Math.min(g.opts.machine.vcpus, this.opts.maxVcpus)),
      root: nbdDisks[0], disks: nbdDisks.slice(1),
      metadataSocket: join(g.dir, 'imds.sock'), mac: g.opts.metadata.mac,
      serialSocket: join(g.dir, 'console.sock'), qmpSocket,
      smbios: ec2Smbios(instanceId, g.opts.machine.instanceType),
    });
    args.push('-name', `amiforge-${instanceId}`);
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
    qmp.onEvent((e) => this.onQmpEvent(g, e));
    g.forwards = new PortForwards({ hmp: (c) => qmp.hmp(c), offset: this.opts.forwardPortOffset, beyondLoopback: this.opts.forwardBeyondLoopback });
  }

  private nbdFor(g: QemuGuest, disk: GuestDisk): NbdServer {
    return new NbdServer({
      export: diskExport(disk), name: 'disk',
      onError: (err) => this.opts.onError?.(`NBD export of ${disk.volumeId} (${disk.device}) to ${g.opts.instanceId}`, err),
    });
  }

  private onQmpEvent(g: QemuGuest, e: Record<string, unknown>): void {
    const data = (e.data ?? {}) as Record<string, unknown>;
    if (e.event === 'RESET') g.watch?.rearm(); // a firmware-booted guest rebooting in place: a new boot to watch
    if (e.event === 'SHUTDOWN' && data.reason === 'guest-reset' && !g.hostInitiated && !g.rebooting) {
      // A kernel-booted guest rebooted itself; -no-reboot ends this QEMU, and a new one boots it
      // (a kernel that panicked asked for that reset: that is a crash, reported as an exit).
      g.guestReset = true;
      if (!g.watch?.detail?.startsWith('Kernel panic')) {
        g.rebooting = true;
        void this.restartAfterExit(g);
      }
    }
  }

  /** QEMU is gone: release its sockets, flush its disks, report the exit. */
  private async onExit(g: QemuGuest): Promise<void> {
    const wasUp = g.phase !== 'starting';
    // QMP's last events (SHUTDOWN and its reason) may arrive just after the process is gone.
    if (g.qmp) await Promise.race([g.qmp.gone, new Promise((r) => setTimeout(r, 1000))]);
    // A rebooting guest keeps its place until it is started again (a stop meanwhile cancels that).
    if (this.guestsById.get(g.opts.instanceId) === g && wasUp && !g.rebooting) this.guestsById.delete(g.opts.instanceId);
    await this.cleanUp(g);
    if (!wasUp) return; // start() reports the failure, and marks the guest gone
    if (g.rebooting) return g.markGone(); // restartAfterExit() starts it again (or reports the exit)
    const status = g.process?.signalCode ?? g.process?.exitCode;
    const detail = g.killed ? undefined
      : g.guestReset && g.watch?.detail ? `the guest crashed: ${g.watch.detail}`
        : status === 0 ? undefined : `QEMU exited (${status}): ${g.stderr.trim()}`;
    this.emit({ kind: 'exited', instanceId: g.opts.instanceId, initiatedBy: g.hostInitiated ? 'host' : 'guest', forced: g.killed, detail });
    g.markGone();
  }

  private async cleanUp(g: QemuGuest): Promise<void> {
    g.qmp?.close();
    g.forwards?.forget();
    const results = await Promise.allSettled([...[...g.plugged.values()].map((p) => p.nbd.close()), g.imds?.close(), g.console?.close()]);
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
    if (g.phase === 'stopping' || g.phase === 'gone') {
      // Already shutting down (or down between a reboot's two QEMUs): this stop waits for it,
      // bounded by its own timeout.
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
    await this.restartAfterExit(g);
  }

  /** Once a rebooting guest's QEMU is gone: a new one on the same disks, unless a stop came meanwhile. */
  private async restartAfterExit(g: QemuGuest): Promise<void> {
    await g.gone;
    const instanceId = g.opts.instanceId;
    if (this.guestsById.get(instanceId) === g) this.guestsById.delete(instanceId);
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
    this.consoleFollowers.forget(instanceId);
  }

  private upGuest(instanceId: string): QemuGuest & { qmp: QmpClient } {
    const g = this.guestsById.get(instanceId);
    if (!g || g.phase !== 'up' || !g.qmp) throw new GuestNotRunningError(instanceId);
    return g as QemuGuest & { qmp: QmpClient };
  }

  /**
   * Hot-plugs a volume (hotplug.ts) from a new NBD server. Kept in the guest's disks, so a
   * reboot's new QEMU has it from the start.
   */
  async attachDisk(instanceId: string, disk: GuestDisk): Promise<void> {
    const g = this.upGuest(instanceId);
    if (g.plugged.has(disk.device)) throw new Error(`${disk.device} is already in use on ${instanceId}`);
    const deviceId = `h${pad(g.hotplugSeq++)}`;
    const socket = join(g.dir, `${deviceId}.nbd`);
    const node = `node-${deviceId}`;
    const server = this.nbdFor(g, disk);
    await server.listen(socket);
    try {
      await plugDisk(g.qmp, { deviceId, node, socket });
    } catch (err) {
      await server.close();
      throw err;
    }
    g.plugged.set(disk.device, { disk, deviceId, nbd: server, node });
    g.opts = { ...g.opts, disks: [...g.opts.disks.filter((d) => d.device !== disk.device), disk] };
  }

  /**
   * Hot-unplugs a volume (hotplug.ts), then closes its NBD server, which flushes what the guest
   * wrote. A guest that never lets go fails the detach after detachTimeoutMs; the disk stays.
   */
  async detachDisk(instanceId: string, device: string): Promise<void> {
    const g = this.upGuest(instanceId);
    const p = g.plugged.get(device);
    if (!p) return;
    if (device === g.opts.rootDevice) throw new Error(`${device} is the root volume of ${instanceId}`);
    await unplugDisk(g.qmp, { deviceId: p.deviceId, node: p.node, timeoutMs: this.opts.detachTimeoutMs, repeatMs: REPRESS_MS, what: `${device} of ${instanceId}` });
    await p.nbd.close();
    g.plugged.delete(device);
    g.opts = { ...g.opts, disks: g.opts.disks.filter((d) => d.device !== device), instanceStore: g.opts.instanceStore.filter((d) => d.device !== device) };
  }

  /** Replaces the guest's forwarded ports (see port-forwards.ts); a reboot's new QEMU forwards the same set. */
  async setForwards(instanceId: string, forwards: GuestForwards): Promise<ForwardsResult> {
    const g = this.upGuest(instanceId);
    g.opts = { ...g.opts, forwards };
    return g.forwards!.apply(forwards);
  }

  async consoleOutput(instanceId: string): Promise<ConsoleOutput | undefined> {
    return readConsoleTail(join(this.dirOf(instanceId), 'console.log'), CONSOLE_LIMIT);
  }

  watchConsole(instanceId: string, listener: (text: string) => void): () => void {
    let stopped = false;
    let off: (() => void) | undefined;
    void (async () => {
      // Once the console's writes have settled, the file holds every piece reported so far; the
      // read and the subscription then happen in one synchronous step, so no piece lands between
      // them (a piece that arrived while waiting is in the file, not delivered).
      await this.guestsById.get(instanceId)?.console?.settled();
      if (stopped) return;
      listener(readConsoleTail(join(this.dirOf(instanceId), 'console.log'), CONSOLE_LIMIT)?.text ?? '');
      off = this.consoleFollowers.add(instanceId, listener);
    })().catch((err) => this.opts.onError?.(`following the console of ${instanceId}`, err));
    return () => {
      stopped = true;
      off?.();
    };
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

  /** NBD statistics per running guest and device (bytes the guest read and wrote, bytes stored for them). */
  diskStats(instanceId: string): ReturnType<NbdServer['allStats']>[] {
    return [...(this.guestsById.get(instanceId)?.plugged.values() ?? [])].map((p) => p.nbd.allStats());
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
