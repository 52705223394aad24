// The hypervisor port: what the instance domain needs from whatever runs guests. A driver starts
// a guest on the instance's volumes, stops it (gracefully, then by force), reboots it, hot-plugs
// volumes, reports what the guest does (booted, exited) and keeps its console output.
//
// Drivers: src/adapters/sim (no guest runs; volumes are real) and src/adapters/qemu (real guests). Each passes the
// contract suite in test/contracts/hypervisor.contract.ts, skipping only what it lists with a
// reason. Nothing here knows about EC2 states: the domain maps guest events to them.

/**
 * A volume as the guest sees it: a byte range read and written lazily through the volume's block
 * map (VolumeData). A QEMU driver serves it over a block-device bridge; the simulator calls it.
 */
export interface GuestDisk {
  /** The device name in the instance's block device mapping, e.g. /dev/xvda or /dev/sdb. */
  device: string;
  volumeId: string;
  sizeBytes: number;
  read(offset: number, length: number): Promise<Buffer>;
  write(offset: number, data: Buffer): Promise<void>;
  /**
   * Optional whole-block access (512 KiB blocks of the volume's map) and a cache flush: a driver
   * that serves the disk to a real guest caches blocks through these and flushes on the guest's
   * request; without them it reads and writes byte ranges and has nothing to flush.
   */
  blocks?: GuestDiskBlocks;
}

export interface GuestDiskBlocks {
  readonly blockSize: number;
  /** The block's bytes; the caller must not change them (they may be the write buffer's). */
  readBlock(index: number): Promise<Buffer>;
  /**
   * Replaces a block. Writes may wait in memory until `flush` (the volume's write buffer): the
   * caller must not change `data` afterwards. `changed` is the byte range of the block the guest
   * wrote (the rest is the block's current bytes); the whole block when not given.
   */
  writeBlock(index: number, data: Buffer, changed?: { offset: number; length: number }): Promise<void>;
  /** Makes every completed write durable (a guest's FLUSH, or FUA). */
  flush(): Promise<void>;
  /** What the disk's writes cost the block store so far (bytes written, blocks and bytes stored). */
  writeStats?(): Record<string, number>;
}

export interface GuestMachine {
  /** The EC2 instance type name, e.g. t3.micro. */
  instanceType: string;
  vcpus: number;
  memoryMiB: number;
  architecture: 'x86_64' | 'arm64' | 'i386';
  bootMode?: 'legacy-bios' | 'uefi';
}

/**
 * How the guest boots, from the image's virtualization type (as EC2 distinguished them):
 * - `firmware` (HVM): the machine's firmware (SeaBIOS for legacy-bios, OVMF for uefi) finds the
 *   boot loader on the root disk, which loads the disk's own kernel. Nothing comes from outside.
 * - `kernel` (paravirtual): the registered kernel image (aki-...) and ramdisk image (ari-...) are
 *   booted with the image's root volume as the root disk, as a PV AMI was on Xen.
 */
export type GuestBoot =
  | { kind: 'firmware'; firmware: 'bios' | 'uefi' }
  | { kind: 'kernel'; kernelImageId: string; ramdiskImageId?: string };

/**
 * Host TCP ports forwarded to the guest: `hostAddress:port` on the amiforge host reaches the
 * guest's `port`. `ports` is the whole set (what the instance's security groups allow inbound);
 * each call replaces the previous one.
 */
export interface GuestForwards {
  /** The instance's own address on the host (its PublicIpAddress), e.g. 127.100.0.5. */
  hostAddress: string;
  ports: number[];
}

/** What became of a forwarding request: the ports forwarded, and each that could not be, with why. */
export interface ForwardsResult {
  forwarded: number[];
  refused: { port: number; reason: string }[];
}

export interface StartGuestOptions {
  instanceId: string;
  machine: GuestMachine;
  /** How the guest boots; a driver that cannot boot it this way rejects with HypervisorUnsupportedError. Default: kernel of the driver's base image. */
  boot?: GuestBoot;
  /** Host ports forwarded to the guest from the start (see setForwards). */
  forwards?: GuestForwards;
  /** Device name of the root volume; one of `disks`. */
  rootDevice: string;
  /** EBS volumes, by device name. */
  disks: GuestDisk[];
  /** Instance-store volumes: empty at every start, gone when the guest stops. */
  instanceStore: GuestDisk[];
  /** The raw user data (already base64-decoded), served by the metadata service. */
  userData?: Buffer;
  /**
   * True the first time this instance boots. cloud-init runs user data once per instance; a real
   * guest remembers that on its own disk, the simulator relies on this flag.
   */
  firstBoot: boolean;
  /** Instance metadata by IMDS path (`instance-id`, `local-ipv4`, `placement/availability-zone`, ...). */
  metadata: Record<string, string>;
  /** Paths under IMDS's dynamic/ (`instance-identity/document`, the identity document's JSON). */
  dynamic?: Record<string, string>;
  /**
   * IMDSv2 session tokens: `required` (the image's imdsSupport is v2.0; GETs without a token are
   * 401) or `optional` (the default; IMDSv1 GETs work too).
   */
  imdsTokens?: 'required' | 'optional';
}

export interface StopGuestOptions {
  /** How long a graceful shutdown may take before the guest is killed. */
  timeoutMs: number;
  /** Skip the graceful shutdown (StopInstances Force, TerminateInstances). */
  force?: boolean;
}

export type GuestEvent =
  /** The guest finished booting (EC2: pending → running). Also after a reboot. */
  | { kind: 'running'; instanceId: string }
  /**
   * The guest is gone. `initiatedBy: 'guest'` when it shut itself down or crashed (EC2 applies
   * InstanceInitiatedShutdownBehavior); 'host' when stop() or terminate() asked for it.
   */
  | { kind: 'exited'; instanceId: string; initiatedBy: 'guest' | 'host'; forced: boolean; detail?: string }
  /**
   * The guest runs but cannot be reached: its firmware found nothing to boot, or its boot loader
   * failed (EC2: the instance status check's reachability fails, `impaired`). `detail` is the
   * console's reason, e.g. "No bootable device.".
   */
  | { kind: 'unreachable'; instanceId: string; detail: string };

export interface ConsoleOutput {
  /** The most recent console text (at most the last 64 KiB, as EC2 returns). */
  text: string;
  /** When the console was last written. */
  timestamp: Date;
}

/** What a driver can do; the domain refuses the rest with a typed error, never silently. */
export interface HypervisorCapabilities {
  /** Volumes can be attached to and detached from a running guest. */
  hotplug: boolean;
  /** Runs user data in the `#!amiforge-sim` test dialect (the simulator). */
  simDialect: boolean;
  /** Boots from the disk's own boot loader (GuestBoot `firmware`) and PV kernels (`kernel`). */
  bootModes?: GuestBoot['kind'][];
  /** Forwards host ports to guests (setForwards). */
  forwarding?: boolean;
}

export class GuestAlreadyRunningError extends Error {
  readonly instanceId: string;
  constructor(instanceId: string) {
    super(`a guest for ${instanceId} is already running`);
    this.instanceId = instanceId;
  }
}

export class GuestNotRunningError extends Error {
  readonly instanceId: string;
  constructor(instanceId: string) {
    super(`no guest is running for ${instanceId}`);
    this.instanceId = instanceId;
  }
}

/** An operation this driver does not support (see capabilities). */
export class HypervisorUnsupportedError extends Error {}

export interface Hypervisor {
  /** `sim`, `qemu`, ... (logged, and shown as the driver in use). */
  readonly name: string;
  readonly capabilities: HypervisorCapabilities;

  /**
   * Starts a guest; resolves once it is started (not booted: `running` is an event). Rejects
   * with GuestAlreadyRunningError when the instance already has a guest.
   */
  start(options: StartGuestOptions): Promise<void>;
  /** Shuts the guest down and resolves when it has exited; resolves at once when none runs. */
  stop(instanceId: string, options: StopGuestOptions): Promise<void>;
  /** Restarts the guest's operating system; rejects with GuestNotRunningError when none runs. */
  reboot(instanceId: string): Promise<void>;
  /**
   * Kills the guest if it runs and releases everything kept for the instance (console output,
   * sockets, files). Idempotent.
   */
  terminate(instanceId: string): Promise<void>;
  /** Hot-plugs a volume into a running guest (capabilities.hotplug). */
  attachDisk(instanceId: string, disk: GuestDisk): Promise<void>;
  detachDisk(instanceId: string, device: string): Promise<void>;
  /**
   * Replaces the set of host ports forwarded to a running guest (capabilities.forwarding). Ports
   * that cannot be bound are reported in the result, not thrown; GuestNotRunningError when no
   * guest runs.
   */
  setForwards?(instanceId: string, forwards: GuestForwards): Promise<ForwardsResult>;
  /** The console output kept for the instance (across stops, until terminate), if any. */
  consoleOutput(instanceId: string): Promise<ConsoleOutput | undefined>;
  /**
   * Follows the instance's console as the guest writes it: `listener` is called first with the
   * text kept now (at most the last 64 KiB, '' when there is none), then with each piece written
   * after it, in order, with nothing lost or repeated in between, across stops, reboots and
   * starts, until the instance is terminated or the returned function unsubscribes. The instance
   * need not have a guest yet. Listeners must be quick: a driver calls them as output arrives.
   */
  watchConsole(instanceId: string, listener: (text: string) => void): () => void;
  /** Instances with a guest running now. */
  guests(): Promise<string[]>;
  /** Subscribes to guest events; returns the unsubscribe function. */
  onEvent(listener: (event: GuestEvent) => void): () => void;
  /** Stops every guest (forced) and releases the driver. */
  close(): Promise<void>;
}
