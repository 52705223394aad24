// The QEMU command line for one guest, and which accelerator this host can really use.
//
// Choices, from measurements on these machines (shared/notes/qemu-here.md):
// - `pc` machine, not microvm: microvm hangs about one boot in four without tsc_early_khz, and
//   `pc` has the i8042 through which Ctrl-Alt-Del asks the guest to shut down cleanly.
// - The kernel is booted directly (`-kernel vmlinux`, uncompressed): decompressing it under
//   software emulation costs 3-4 s.
// - The root disk is an NBD export on a unix socket (nbd-server.ts), as virtio-blk.
// - User-mode networking on 169.254.0.0/16 with restrict=on (the guest reaches nothing on the
//   host's network) and 169.254.169.254:80 forwarded to the metadata responder through socat.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import { guestfwdCommand } from './metadata-responder.ts';

export type Accelerator = 'kvm' | 'tcg';

export interface GuestCommandOptions {
  kernel: string;
  initrd: string;
  /** Appended to the kernel command line (console and root are set here). */
  cmdline?: string;
  accel: Accelerator;
  memoryMiB: number;
  vcpus: number;
  /** The root disk: an NBD export on a unix socket (the guest's /dev/vda). */
  root: { socket: string; exportName: string };
  /** More disks (EBS data volumes, instance store), in order: /dev/vdb, /dev/vdc, ... */
  disks?: { socket: string; exportName: string }[];
  /** The metadata responder's unix socket; without it the guest has no network. */
  metadataSocket?: string;
  /** Where the serial console is written. */
  serialLog: string;
  /** Append to the console file instead of replacing it (the console outlives a stop). */
  serialAppend?: boolean;
  /** A QMP control socket (created by QEMU) for stopping the guest and watching it. */
  qmpSocket: string;
}

export function guestCommand(o: GuestCommandOptions): string[] {
  // Commas split QEMU's option values; these paths and names are embedded in such values.
  for (const v of [o.root.socket, o.root.exportName, o.serialLog, o.qmpSocket]) {
    if (/[,\s?&]/.test(v)) throw new Error(`${v}: QEMU option values here must not contain commas, spaces, ? or &`);
  }
  const args = [
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-M', 'pc', '-accel', o.accel, '-cpu', o.accel === 'kvm' ? 'host' : 'max',
    '-m', String(o.memoryMiB), '-smp', String(o.vcpus),
    '-kernel', o.kernel, '-initrd', o.initrd,
    // panic=-1 with -no-reboot: a guest that panics ends QEMU instead of hanging.
    '-append', ['console=ttyS0', 'root=/dev/vda', 'panic=-1', o.cmdline ?? ''].join(' ').trim(),
    '-chardev', `file,id=serial0,path=${o.serialLog}${o.serialAppend ? ',append=on' : ''}`, '-serial', 'chardev:serial0',
    '-qmp', `unix:${o.qmpSocket},server=on,wait=off`,
    '-drive', `file=nbd+unix:///${o.root.exportName}?socket=${o.root.socket},format=raw,if=none,id=root,cache=writeback`,
    '-device', 'virtio-blk-pci,drive=root',
  ];
  (o.disks ?? []).forEach((d, i) => args.push(
    '-drive', `file=nbd+unix:///${d.exportName}?socket=${d.socket},format=raw,if=none,id=disk${i},cache=writeback`,
    '-device', `virtio-blk-pci,drive=disk${i}`,
  ));
  if (o.metadataSocket) {
    args.push(
      '-netdev', `user,id=net0,restrict=on,ipv6=off,net=169.254.0.0/16,host=169.254.0.2,guestfwd=tcp:169.254.169.254:80-cmd:${guestfwdCommand(o.metadataSocket)}`,
      // romfile= : no iPXE option ROM to load, the kernel is booted directly.
      '-device', 'virtio-net-pci,netdev=net0,romfile=',
    );
  }
  return args;
}

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

/**
 * QEMU arguments that make a guest look like an EC2 instance to cloud-init, for real operating
 * systems (the Debian image). cloud-init's EC2 datasource (22.4, Debian 12) decides it is on AWS
 * when the DMI system UUID starts with `ec2` and equals the system serial number; only then does
 * it run at init-local (DHCP, then the metadata crawl before networking), use IMDSv2 tokens and
 * read the identity document. Without it, it warns and falls back to IMDSv1 late in boot. So:
 *   -smbios type=1,manufacturer=Amazon EC2,product=<instance type>,serial=<uuid>,uuid=<uuid>
 *   -smbios type=3,manufacturer=Amazon EC2,asset=<instance id>   (Nitro's chassis asset tag)
 *   -global virtio-net-pci.mac=<the metadata's `mac`>  (cloud-init configures the NIC whose MAC
 *                                                      IMDS lists; a different one stays down)
 * where <uuid> is `ec2` followed by hex from the instance id. Takes the guest's metadata
 * (`instance-id`, `instance-type`, `mac`, as domain/instances/guest-spec.ts writes them).
 */
export function ec2GuestArgs(metadata: Record<string, string>): string[] {
  const instanceId = metadata['instance-id'] ?? '';
  const hex = createHash('sha256').update(`smbios/${instanceId}`).digest('hex');
  const uuid = `ec2${hex.slice(0, 5)}-${hex.slice(5, 9)}-${hex.slice(9, 13)}-${hex.slice(13, 17)}-${hex.slice(17, 29)}`;
  // Commas separate QEMU's option values; doubled, they stand for one.
  const q = (v: string): string => v.replaceAll(',', ',,');
  const args = [
    '-smbios', `type=1,manufacturer=Amazon EC2,product=${q(metadata['instance-type'] ?? 'unknown')},serial=${uuid},uuid=${uuid}`,
    '-smbios', `type=3,manufacturer=Amazon EC2,asset=${q(instanceId)}`,
  ];
  const mac = metadata['mac'];
  if (mac && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac)) args.push('-global', `virtio-net-pci.mac=${mac}`);
  return args;
}
