// The simulated hypervisor, amiforge's default driver: no guest operating system runs, but the
// volumes are real. "Booting" reads the root volume's first bytes through the instance's disks
// (VolumeData underneath) and prints a believable console log; user data in the
// `#!amiforge-sim` dialect (sim-user-data.ts) runs once per instance and reads and writes the
// volumes, so a test can change a disk through RunInstances and read it back through another.
//
// How it boots (StartGuestOptions.boot) changes nothing but one case: a firmware (HVM) boot of a
// root volume whose first sector is neither blank nor a catalogue image's and has no boot
// signature (0x55AA at byte 510): a firmware finds nothing to run there. The console shows
// SeaBIOS's "No bootable device.", the guest runs (as EC2's instance does) without booting, and an
// `unreachable` event follows. (A blank root still "boots", so images on empty snapshots stay
// useful for tests.) Forwarded ports are recorded (forwardsOf), never bound.
import {
  GuestAlreadyRunningError, GuestNotRunningError, type ConsoleOutput, type ForwardsResult, type GuestDisk, type GuestEvent,
  type GuestForwards, type Hypervisor, type HypervisorCapabilities, type StartGuestOptions, type StopGuestOptions,
} from '../../ports/hypervisor.ts';
import { bootLine, CLOUD_INIT_VERSION, cloudInitDate, firmwareFinds, kernelLines, SimConsole, uptime } from './sim-console.ts';
import { ConsoleFollowers } from '../../ports/console-followers.ts';
import { isSimScript, parseSimScript, runSimScript, SimScriptError, type ScriptOutcome } from './sim-user-data.ts';

export interface SimHypervisorOptions {
  /**
   * Time from start to `running` (EC2's pending). Default 300 ms. With 0, start() returns once
   * the guest has reported `running` (or failed to boot), so its instance is running at the next call.
   */
  bootMs?: number;
  /** Time a graceful shutdown takes once the guest is idle. Default 100 ms. */
  shutdownMs?: number;
  /** How long a reboot waits for the guest to go idle before forcing it. Default 30 s. */
  rebootTimeoutMs?: number;
}

class GuestKilled extends Error {}

type Outcome = ScriptOutcome | 'crashed';

class SimGuest {
  readonly opts: StartGuestOptions;
  readonly disks: Map<string, GuestDisk>;
  readonly startedAt = performance.now();
  readonly kill = new AbortController();
  readonly stop = new AbortController();
  work: Promise<Outcome> = Promise.resolve('finished');
  detail?: string;
  private resolveExit!: () => void;
  readonly exited = new Promise<void>((r) => { this.resolveExit = r; });
  done = false;
  private resolveBooted!: () => void;
  /** Settles when the guest reports `running`, or its boot ends without doing so. */
  readonly booted = new Promise<void>((r) => { this.resolveBooted = r; });

  constructor(opts: StartGuestOptions, disks?: Map<string, GuestDisk>) {
    this.opts = opts;
    this.disks = disks ?? new Map([...opts.disks, ...opts.instanceStore].map((d) => [d.device, d]));
  }

  get up(): number {
    return 1.2 + (performance.now() - this.startedAt) / 1000;
  }

  /** Waits `ms`; rejects when the guest is killed, and returns early on a stop when asked to. */
  sleep(ms: number, wakeOnStop: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.kill.signal.aborted) return reject(new GuestKilled());
      if (wakeOnStop && this.stop.signal.aborted) return resolve();
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.kill.signal.removeEventListener('abort', onKill);
        this.stop.signal.removeEventListener('abort', onStop);
        fn();
      };
      const timer = setTimeout(() => finish(resolve), ms);
      const onKill = () => finish(() => reject(new GuestKilled()));
      const onStop = () => finish(resolve);
      this.kill.signal.addEventListener('abort', onKill);
      if (wakeOnStop) this.stop.signal.addEventListener('abort', onStop);
    });
  }

  markBooted(): void {
    this.resolveBooted();
  }

  markExited(): void {
    this.done = true;
    this.kill.abort();
    this.resolveExit();
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class SimHypervisor implements Hypervisor {
  readonly name = 'sim';
  readonly capabilities: HypervisorCapabilities = { hotplug: true, simDialect: true, bootModes: ['firmware', 'kernel'], forwarding: true };
  private readonly bootMs: number;
  private readonly shutdownMs: number;
  private readonly rebootTimeoutMs: number;
  private readonly running = new Map<string, SimGuest>();
  private readonly consoles = new Map<string, SimConsole>();
  private readonly forwards = new Map<string, GuestForwards>();
  private readonly listeners = new Set<(e: GuestEvent) => void>();
  private readonly consoleFollowers = new ConsoleFollowers();

  constructor(options: SimHypervisorOptions = {}) {
    this.bootMs = options.bootMs ?? 300;
    this.shutdownMs = options.shutdownMs ?? 100;
    this.rebootTimeoutMs = options.rebootTimeoutMs ?? 30_000;
  }

  async start(opts: StartGuestOptions): Promise<void> {
    if (this.running.has(opts.instanceId)) throw new GuestAlreadyRunningError(opts.instanceId);
    if (!opts.disks.some((d) => d.device === opts.rootDevice) && !opts.instanceStore.some((d) => d.device === opts.rootDevice)) {
      throw new Error(`the root device ${opts.rootDevice} is not among the guest's disks`);
    }
    if (opts.forwards) this.forwards.set(opts.instanceId, opts.forwards);
    const guest = new SimGuest(opts);
    this.launch(guest);
    if (this.bootMs === 0) await guest.booted;
  }

  async setForwards(instanceId: string, forwards: GuestForwards): Promise<ForwardsResult> {
    if (!this.running.has(instanceId)) throw new GuestNotRunningError(instanceId);
    this.forwards.set(instanceId, forwards);
    return { forwarded: [...new Set(forwards.ports)].sort((a, b) => a - b), refused: [] };
  }

  /** The ports last forwarded to the instance's guest (what a real driver would listen on). */
  forwardsOf(instanceId: string): GuestForwards | undefined {
    return this.forwards.get(instanceId);
  }

  private consoleOf(instanceId: string): SimConsole {
    let c = this.consoles.get(instanceId);
    if (!c) this.consoles.set(instanceId, (c = new SimConsole((text) => this.consoleFollowers.deliver(instanceId, text))));
    return c;
  }

  private launch(guest: SimGuest): void {
    this.running.set(guest.opts.instanceId, guest);
    guest.work = this.boot(guest);
    void guest.work.finally(() => guest.markBooted()).catch(() => {});
    guest.work.then((outcome) => {
      if (outcome === 'poweroff') {
        this.consoleOf(guest.opts.instanceId).append(`${uptime(guest.up)} reboot: Power down`);
        this.exit(guest, 'guest', false);
      } else if (outcome === 'crashed') {
        this.exit(guest, 'guest', false);
      }
    }, () => { /* killed: whoever killed it reports the exit */ });
  }

  private async boot(g: SimGuest): Promise<Outcome> {
    const out = this.consoleOf(g.opts.instanceId);
    const print = (line: string) => out.append(line);
    await g.sleep(this.bootMs, true);
    if (g.stop.signal.aborted) return 'interrupted';
    const root = g.disks.get(g.opts.rootDevice)!;
    let head: Buffer;
    try {
      head = await root.read(0, Math.min(4096, root.sizeBytes));
    } catch {
      if (g.kill.signal.aborted) throw new GuestKilled();
      // What a guest would see of a failed read: an I/O error, not the host's reason (which can
      // name the servers and buckets behind amiforge).
      print(`${uptime(0.5)} blk_update_request: I/O error, dev ${g.opts.rootDevice.replace('/dev/', '')}, sector 0`);
      print(`${uptime(0.6)} Kernel panic - not syncing: VFS: Unable to mount root fs`);
      g.detail = 'the root volume cannot be read';
      return 'crashed';
    }
    print(bootLine(g.opts.boot));
    if (g.opts.boot?.kind === 'firmware' && !firmwareFinds(head)) {
      print('SeaBIOS (version 1.16.2-amiforge-sim)');
      print('Booting from Hard Disk...');
      print('Boot failed: not a bootable disk');
      print('');
      print('No bootable device.');
      this.emit({ kind: 'running', instanceId: g.opts.instanceId });
      this.emit({ kind: 'unreachable', instanceId: g.opts.instanceId, detail: 'No bootable device.' });
      g.markBooted();
      return 'finished';
    }
    for (const line of kernelLines(g.opts.machine, g.opts.rootDevice, root, head)) print(line);
    print(`Cloud-init v. ${CLOUD_INIT_VERSION} running 'init' at ${cloudInitDate(new Date())}. Up ${g.up.toFixed(2)} seconds.`);
    const key = g.opts.metadata['public-keys/0/openssh-key'];
    print(key ? `ci-info: authorized key for ec2-user: ${key.split(' ').slice(0, 1).join('')} (${key.split(' ')[2] ?? 'no comment'})`
      : 'ci-info: no authorized SSH keys fingerprints found for user ec2-user.');
    this.emit({ kind: 'running', instanceId: g.opts.instanceId });
    g.markBooted();
    let outcome: Outcome = 'finished';
    if (g.opts.firstBoot && g.opts.userData?.length) outcome = await this.runUserData(g, print);
    if (outcome !== 'interrupted') {
      print(`Cloud-init v. ${CLOUD_INIT_VERSION} finished at ${cloudInitDate(new Date())}. Datasource DataSourceEc2Local.  Up ${g.up.toFixed(2)} seconds`);
      print(`${g.opts.metadata['local-hostname'] ?? 'localhost'} login:`);
    }
    return outcome;
  }

  private async runUserData(g: SimGuest, print: (line: string) => void): Promise<Outcome> {
    print(`Cloud-init v. ${CLOUD_INIT_VERSION} running 'modules:final' at ${cloudInitDate(new Date())}. Up ${g.up.toFixed(2)} seconds.`);
    const data = g.opts.userData!;
    if (!isSimScript(data)) {
      print(`amiforge-sim: user data (${data.length} bytes) is not in the #!amiforge-sim dialect; the simulator does not run it`);
      return 'finished';
    }
    try {
      return await runSimScript(parseSimScript(data.toString('utf8')), {
        disk: (device) => g.disks.get(device),
        print,
        metadata: g.opts.metadata,
        sleep: (ms) => g.sleep(ms, false),
        stopping: () => g.stop.signal.aborted,
      });
    } catch (err) {
      if (err instanceof GuestKilled || g.kill.signal.aborted) throw err;
      const what = err instanceof SimScriptError ? err.message : (err as Error).message;
      print(`amiforge-sim: user data failed: ${what}`);
      print('cc_scripts_user.py[WARNING]: Failed to run module scripts-user');
      return 'finished';
    }
  }

  private emit(event: GuestEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // a listener's failure is its own; the guest carries on
      }
    }
  }

  /** Ends the guest (once) and reports it. */
  private exit(g: SimGuest, initiatedBy: 'guest' | 'host', forced: boolean): void {
    if (g.done) return;
    g.markExited();
    if (this.running.get(g.opts.instanceId) === g) this.running.delete(g.opts.instanceId);
    this.emit({ kind: 'exited', instanceId: g.opts.instanceId, initiatedBy, forced, detail: g.detail });
  }

  /**
   * A graceful shutdown: the guest finishes its current command, then powers down. True when it
   * did so within `timeoutMs`; false when it had to be killed.
   */
  private async shutDown(g: SimGuest, timeoutMs: number, last: string): Promise<boolean> {
    g.stop.abort();
    const out = this.consoleOf(g.opts.instanceId);
    const clean = (async () => {
      await g.work.catch(() => {});
      if (g.done) return;
      out.append(`${uptime(g.up)} systemd[1]: Stopping cloud-init...`);
      await delay(this.shutdownMs);
      out.append(`${uptime(g.up)} ${last}`);
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      clean.then(() => false),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(true), timeoutMs); }),
    ]);
    clearTimeout(timer);
    if (timedOut) out.append(`amiforge-sim: the guest did not shut down within ${timeoutMs} ms; killed`);
    return !timedOut;
  }

  async stop(instanceId: string, options: StopGuestOptions): Promise<void> {
    const g = this.running.get(instanceId);
    if (!g) return;
    if (options.force) {
      this.consoleOf(instanceId).append('amiforge-sim: forced power off');
      this.exit(g, 'host', true);
      return;
    }
    if (g.stop.signal.aborted) {
      // Already shutting down (a stop or a reboot): wait, then stop whatever runs after it.
      await g.exited;
      return this.stop(instanceId, options);
    }
    const clean = await this.shutDown(g, options.timeoutMs, 'reboot: Power down');
    this.exit(g, 'host', !clean);
  }

  async reboot(instanceId: string): Promise<void> {
    const g = this.running.get(instanceId);
    if (!g || g.stop.signal.aborted) throw new GuestNotRunningError(instanceId);
    await this.shutDown(g, this.rebootTimeoutMs, 'reboot: Restarting system');
    if (g.done) return; // killed or terminated meanwhile
    g.markExited();
    this.launch(new SimGuest({ ...g.opts, firstBoot: false }, g.disks));
  }

  async terminate(instanceId: string): Promise<void> {
    const g = this.running.get(instanceId);
    if (g) this.exit(g, 'host', true);
    this.consoles.delete(instanceId);
    this.forwards.delete(instanceId);
    this.consoleFollowers.forget(instanceId);
  }

  async attachDisk(instanceId: string, disk: GuestDisk): Promise<void> {
    const g = this.running.get(instanceId);
    if (!g) throw new GuestNotRunningError(instanceId);
    if (g.disks.has(disk.device)) throw new Error(`${disk.device} is already in use on ${instanceId}`);
    g.disks.set(disk.device, disk);
    this.consoleOf(instanceId).append(`${uptime(g.up)} blkfront: ${disk.device.replace('/dev/', '')}: ${(disk.sizeBytes / 1024 ** 3).toFixed(0)} GiB volume ${disk.volumeId} attached`);
  }

  async detachDisk(instanceId: string, device: string): Promise<void> {
    const g = this.running.get(instanceId);
    if (!g) throw new GuestNotRunningError(instanceId);
    const disk = g.disks.get(device);
    if (!disk) return;
    g.disks.delete(device);
    this.consoleOf(instanceId).append(`${uptime(g.up)} blkfront: ${device.replace('/dev/', '')}: volume ${disk.volumeId} detached`);
  }

  async consoleOutput(instanceId: string): Promise<ConsoleOutput | undefined> {
    const c = this.consoles.get(instanceId);
    return c && { text: c.read(), timestamp: c.timestamp };
  }

  watchConsole(instanceId: string, listener: (text: string) => void): () => void {
    // The console is in memory: what it holds now and every later line, in one step.
    listener(this.consoles.get(instanceId)?.read() ?? '');
    return this.consoleFollowers.add(instanceId, listener);
  }

  async guests(): Promise<string[]> {
    return [...this.running.keys()];
  }

  onEvent(listener: (event: GuestEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    for (const g of [...this.running.values()]) this.exit(g, 'host', true);
  }
}
