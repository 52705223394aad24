// The QEMU command line for one guest, and which accelerator this host can really use.
//
// Choices, from measurements on these machines (shared/notes/qemu-here.md):
// - `pc` machine, not microvm: microvm hangs about one boot in four without tsc_early_khz, and
//   `pc` has the i8042 through which Ctrl-Alt-Del asks the guest to shut down cleanly.
// - Two ways to boot (GuestBoot in the Hypervisor port):
//   * a kernel booted directly (`-kernel`, the base image's uncompressed vmlinux or a PV image's
//     registered kernel): decompressing vmlinuz under software emulation costs 3-4 s. The root
//     volume is /dev/vda. `-no-reboot` stays: a reset guest booted through -kernel's PVH entry
//     faults at once here, so the driver starts a new QEMU instead (qemu-hypervisor.ts);
//   * the firmware (HVM): SeaBIOS (QEMU's default for `pc`) or OVMF from pflash, which run the
//     boot loader on the root disk. The root disk is the only boot device (`bootindex=0`,
//     `-boot strict=on`), and the guest's own reboot is a reset in the same process.
//   `graphics=off` makes SeaBIOS print to the serial console (its "No bootable device." included).
// - The root disk is an NBD export on a unix socket (nbd-server.ts), as virtio-blk.
// - User-mode networking on 169.254.0.0/16 with restrict=on (the guest reaches nothing on the
//   host's network) and 169.254.169.254:80 forwarded to the metadata responder through socat.
//   The NIC has no option ROM, so no firmware tries to boot from the network.
// - TCG's translation cache is 1 GiB by default, ~1.4 GiB of resident memory per guest for a
//   distribution's boot; 256 MiB cost no speed in the measurements and halve that.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { guestfwdCommand } from './metadata-responder.ts';

export type Accelerator = 'kvm' | 'tcg';

/** An NBD export on a unix socket, as a virtio-blk disk. `id` names the QEMU device (for unplugging). */
export interface NbdDisk { socket: string; exportName: string; id?: string }

export type FirmwareOption =
  | { kind: 'bios' }
  /** OVMF: its code read-only, and a variable store of the guest's own (written by the guest). */
  | { kind: 'uefi'; code: string; vars: string };

export interface GuestCommandOptions {
  /** The kernel to boot directly; ignored when `firmware` is given. */
  kernel?: string;
  initrd?: string;
  /** Appended to the kernel command line (console and root are set here). */
  cmdline?: string;
  /** Boot through the firmware and the disk's own boot loader (HVM): no kernel from outside. */
  firmware?: FirmwareOption;
  accel: Accelerator;
  memoryMiB: number;
  vcpus: number;
  /** The root disk (the guest's /dev/vda, and the only boot device). */
  root: NbdDisk;
  /** More disks (EBS data volumes, instance store), in order: /dev/vdb, /dev/vdc, ... */
  disks?: NbdDisk[];
  /** The metadata responder's unix socket; without it the guest has no network. */
  metadataSocket?: string;
  /**
   * The NIC's MAC address: the one instance metadata lists (network/interfaces/macs/), which
   * cloud-init configures; a NIC with another MAC stays down. QEMU's default when not given.
   */
  mac?: string;
  /** Where the serial console is written: a file ... */
  serialLog?: string;
  /** Append to the console file instead of replacing it (the console outlives a stop). */
  serialAppend?: boolean;
  /** ... or a unix socket amiforge listens on (QEMU connects to it). */
  serialSocket?: string;
  /** A QMP control socket (created by QEMU) for stopping the guest and watching it. */
  qmpSocket: string;
  /** `-smbios` values (e.g. type=1,... from smbios.ts): what the guest reads from its DMI tables. */
  smbios?: string[];
  /** TCG's translation cache (MiB). Default 256. */
  tbSizeMiB?: number;
}

const UNSAFE = /[,\s?&]/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function guestCommand(o: GuestCommandOptions): string[] {
  // Commas split QEMU's option values; these paths and names are embedded in such values.
  const paths = [o.root.socket, o.root.exportName, o.qmpSocket, o.serialLog, o.serialSocket, ...(o.disks ?? []).map((d) => d.socket)];
  if (o.firmware?.kind === 'uefi') paths.push(o.firmware.code, o.firmware.vars);
  for (const v of paths) {
    if (v !== undefined && UNSAFE.test(v)) throw new Error(`${v}: QEMU option values here must not contain commas, spaces, ? or &`);
  }
  if (!o.serialLog === !o.serialSocket) throw new Error('the serial console needs exactly one of serialLog and serialSocket');
  const accel = o.accel === 'tcg' ? `tcg,tb-size=${o.tbSizeMiB ?? 256}` : o.accel;
  const args = [
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-M', 'pc,graphics=off', '-accel', accel, '-cpu', o.accel === 'kvm' ? 'host' : 'max',
    '-m', String(o.memoryMiB), '-smp', String(o.vcpus),
  ];
  if (o.firmware) {
    args.push('-boot', 'strict=on');
    if (o.firmware.kind === 'uefi') {
      args.push(
        '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${o.firmware.code}`,
        '-drive', `if=pflash,format=raw,unit=1,file=${o.firmware.vars}`,
      );
    }
  } else {
    if (!o.kernel) throw new Error('a guest boots either a kernel or its firmware');
    args.push('-no-reboot', '-kernel', o.kernel);
    if (o.initrd) args.push('-initrd', o.initrd);
    // panic=-1 with -no-reboot: a guest that panics ends QEMU instead of hanging.
    args.push('-append', ['console=ttyS0', 'root=/dev/vda', 'panic=-1', o.cmdline ?? ''].join(' ').trim());
  }
  for (const s of o.smbios ?? []) args.push('-smbios', s);
  args.push(
    '-chardev', o.serialSocket ? `socket,id=serial0,path=${o.serialSocket}` : `file,id=serial0,path=${o.serialLog}${o.serialAppend ? ',append=on' : ''}`,
    '-serial', 'chardev:serial0',
    '-qmp', `unix:${o.qmpSocket},server=on,wait=off`,
  );
  [o.root, ...(o.disks ?? [])].forEach((d, i) => {
    const drive = i === 0 ? 'root' : `disk${i - 1}`;
    args.push(
      '-drive', `file=nbd+unix:///${d.exportName}?socket=${d.socket},format=raw,if=none,id=${drive},cache=writeback`,
      // (-kernel takes boot index 0 for its own option ROM: only firmware boots name the root disk.)
      '-device', `virtio-blk-pci,drive=${drive}${d.id ? `,id=${d.id}` : ''}${i === 0 && o.firmware ? ',bootindex=0' : ''}`,
    );
  });
  if (o.metadataSocket) {
    args.push(
      '-netdev', `user,id=${NETDEV},restrict=on,ipv6=off,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=${GUEST_ADDRESS},guestfwd=tcp:169.254.169.254:80-cmd:${guestfwdCommand(o.metadataSocket)}`,
      // romfile= : no iPXE option ROM, so no firmware tries to boot from the network.
      '-device', `virtio-net-pci,netdev=${NETDEV},romfile=${o.mac && MAC.test(o.mac) ? `,mac=${o.mac}` : ''}`,
    );
  }
  return args;
}

/** The user network's id (HMP's hostfwd_add names it). */
export const NETDEV = 'net0';
/**
 * The address QEMU's DHCP gives the guest (dhcpstart; the base image sets it itself). Left to QEMU,
 * the first lease on a /16 is x.x.2.15, where no forwarded port would reach.
 */
export const GUEST_ADDRESS = '169.254.0.15';

let detected: Promise<Accelerator> | undefined;

/**
 * KVM if it really runs this kernel, else TCG. /dev/kvm existing proves little here: a nested
 * KVM may abort on `-cpu host` or hang, so the probe boots the kernel and initramfs with
 * `amiforge.probe` (the initramfs prints a line and powers off) under a short timeout. Computed
 * once per process; AMIFORGE_QEMU_ACCEL=kvm|tcg skips the probe.
 */
export function detectAccelerator(kernel: string, initrd: string): Promise<Accelerator> {
  const forced = process.env.AMIFORGE_QEMU_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return Promise.resolve(forced);
  detected ??= probeKvm(kernel, initrd).then((ok) => (ok ? 'kvm' : 'tcg'));
  return detected;
}

async function probeKvm(kernel: string, initrd: string): Promise<boolean> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const qemu = spawn('qemu-system-x86_64', [
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-M', 'pc', '-accel', 'kvm', '-cpu', 'host',
      '-m', '256', '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 amiforge.probe panic=-1 quiet',
      '-serial', 'stdio',
    ], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => qemu.kill('SIGKILL'), 8000);
    qemu.stdout.on('data', (c: Buffer) => (out += c.toString('latin1')));
    qemu.on('error', () => resolve(false));
    qemu.on('close', () => {
      clearTimeout(timer);
      resolve(out.includes('amiforge-probe-ok'));
    });
  });
}

