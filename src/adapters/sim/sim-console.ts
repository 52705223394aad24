// What the simulated guest prints on its serial console: a believable Linux boot log naming what
// the root volume holds, cloud-init's lines, and the user data's output. Kept per instance, at
// most the last 64 KiB (what GetConsoleOutput returns).
import type { GuestBoot, GuestMachine } from '../../ports/hypervisor.ts';

const MAX_CONSOLE = 64 * 1024;
export const CLOUD_INIT_VERSION = '24.1';

export class SimConsole {
  private text = '';
  timestamp = new Date();
  /** Called with each line as it is printed (watchConsole's followers). */
  private readonly onAppend: (text: string) => void;

  constructor(onAppend: (text: string) => void = () => {}) {
    this.onAppend = onAppend;
  }

  append(line: string): void {
    this.text += `${line}\n`;
    if (this.text.length > MAX_CONSOLE) this.text = this.text.slice(this.text.length - MAX_CONSOLE);
    this.timestamp = new Date();
    this.onAppend(`${line}\n`);
  }

  read(): string {
    return this.text;
  }
}

/** `[    1.234567]`, the kernel's uptime prefix. */
export const uptime = (seconds: number): string => `[${seconds.toFixed(6).padStart(12)}]`;

/** RFC 2822-style date as cloud-init prints it. */
export const cloudInitDate = (d: Date): string => d.toUTCString().replace('GMT', '+0000');

/** What the first bytes of the root volume say about it. */
export function describeRoot(head: Buffer): { lines: string[]; imageName?: string } {
  const text = head.subarray(0, 4096).toString('latin1');
  if (text.startsWith('amiforge catalogue image\n')) {
    const name = /^name: (.*)$/m.exec(text)?.[1];
    const arch = /^architecture: (.*)$/m.exec(text)?.[1];
    return { imageName: name, lines: [`amiforge-sim: root volume holds the catalogue image ${name ?? '(unnamed)'}${arch ? ` (${arch})` : ''}`] };
  }
  const lines: string[] = [];
  if (head.length >= 1024 && head.subarray(512, 520).toString('latin1') === 'EFI PART') lines.push('amiforge-sim: GPT partition table found on the root volume');
  else if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) lines.push('amiforge-sim: MBR boot signature found on the root volume');
  else if (head.every((b) => b === 0)) lines.push('amiforge-sim: the root volume starts with zeros (no boot sector); booting as if it had one');
  else lines.push('amiforge-sim: the root volume has no boot signature; booting as if it had one');
  return { lines };
}

/**
 * What the simulated machine boots, first on its console (as firmware or Xen's domain builder
 * would say): the kernel and ramdisk images of a paravirtual guest, or the firmware of an HVM one.
 */
export function bootLine(boot: GuestBoot | undefined): string {
  if (!boot) return 'amiforge-sim: booting the default kernel';
  if (boot.kind === 'kernel') {
    return `amiforge-sim: paravirtual boot: kernel ${boot.kernelImageId}${boot.ramdiskImageId ? `, ramdisk ${boot.ramdiskImageId}` : ''}`;
  }
  return `amiforge-sim: HVM boot: ${boot.firmware === 'uefi' ? 'UEFI firmware' : 'legacy BIOS'}, boot loader on the root volume`;
}

/**
 * Whether a firmware finds something to boot in the root volume's first bytes: a boot signature,
 * a GPT, a catalogue image's header, or (the simulator's leniency for images on empty snapshots)
 * nothing at all.
 */
export function firmwareFinds(head: Buffer): boolean {
  if (head.length < 512) return false;
  if (head[510] === 0x55 && head[511] === 0xaa) return true;
  if (head.subarray(0, 512).every((b) => b === 0)) return true;
  return head.subarray(0, 4096).toString('latin1').startsWith('amiforge catalogue image\n');
}

/** The kernel's part of the boot log. */
export function kernelLines(machine: GuestMachine, rootDevice: string, root: { volumeId: string; sizeBytes: number }, head: Buffer): string[] {
  const arch = machine.architecture === 'arm64' ? 'aarch64' : machine.architecture === 'i386' ? 'i686' : 'x86_64';
  const gib = (root.sizeBytes / 1024 ** 3).toFixed(0);
  const dev = rootDevice.replace(/^\/dev\//, '');
  return [
    `${uptime(0)} Linux version 6.1.0-amiforge-sim (builder@amiforge) (gcc 12.2.0) #1 SMP PREEMPT_DYNAMIC ${arch}`,
    `${uptime(0)} Command line: root=/dev/${dev} console=ttyS0,115200n8 nvme_core.io_timeout=4294967295`,
    `${uptime(0)} DMI: Amazon EC2 ${machine.instanceType}/, BIOS 1.0 10/16/2017`,
    `${uptime(0.000001)} Hypervisor detected: KVM`,
    `${uptime(0.002)} Memory: ${machine.memoryMiB * 1024}K available`,
    `${uptime(0.051)} smp: Brought up 1 node, ${machine.vcpus} CPU${machine.vcpus === 1 ? '' : 's'}`,
    `${uptime(0.402)} blkfront: ${dev}: ${gib} GiB volume ${root.volumeId}`,
    ...describeRoot(head).lines.map((l) => `${uptime(0.403)} ${l}`),
    `${uptime(0.981)} EXT4-fs (${dev}): mounted filesystem with ordered data mode. Quota mode: none.`,
    `${uptime(1.207)} systemd[1]: Detected virtualization amazon.`,
  ];
}
