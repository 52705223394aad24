// How a guest boots under QEMU, from the GuestBoot the domain asks for (see the Hypervisor port):
//   undefined          the base image's kernel and initramfs (docs/base-image.md), root /dev/vda
//   kernel (PV)        the catalogue kernel image's file (+ ramdisk), root /dev/vda
//   firmware bios      SeaBIOS, which runs the root disk's boot loader
//   firmware uefi      OVMF: its code read-only, and a copy of its variable store per instance,
//                      kept with the instance (across stops) and removed when it terminates
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HypervisorUnsupportedError, type GuestBoot } from '../../ports/hypervisor.ts';
import type { FirmwareOption } from './qemu-command.ts';

export interface BootFiles {
  kernel?: string;
  initrd?: string;
  firmware?: FirmwareOption;
}

export interface BootContext {
  /** The base image's directory (vmlinux, initramfs.cpio). */
  imageDir: string;
  kernelFiles?: (imageId: string) => string | undefined;
  ovmfDir: string;
  /** The instance's own directory (its OVMF variable store lives there). */
  instanceDir: string;
}

/** OVMF's code and variable-store template in `dir` (Debian 12 ships the 4 MiB build; older ones the 2 MiB). */
export function ovmfFiles(dir: string): { code: string; vars: string } | undefined {
  for (const [code, vars] of [['OVMF_CODE_4M.fd', 'OVMF_VARS_4M.fd'], ['OVMF_CODE.fd', 'OVMF_VARS.fd']]) {
    if (existsSync(join(dir, code)) && existsSync(join(dir, vars))) return { code: join(dir, code), vars: join(dir, vars) };
  }
  return undefined;
}

export const OVMF_VARS_FILE = 'ovmf-vars.fd';

export async function bootFiles(boot: GuestBoot | undefined, c: BootContext): Promise<BootFiles> {
  if (!boot) return { kernel: join(c.imageDir, 'vmlinux'), initrd: join(c.imageDir, 'initramfs.cpio') };
  if (boot.kind === 'kernel') {
    if (!c.kernelFiles) throw new HypervisorUnsupportedError('this qemu driver was given no kernel images: it cannot boot paravirtual images');
    const kernel = c.kernelFiles(boot.kernelImageId);
    if (!kernel) throw new Error(`the kernel image ${boot.kernelImageId} has no kernel file on this host`);
    const initrd = boot.ramdiskImageId ? c.kernelFiles(boot.ramdiskImageId) : undefined;
    if (boot.ramdiskImageId && !initrd) throw new Error(`the ramdisk image ${boot.ramdiskImageId} has no file on this host`);
    return { kernel, initrd };
  }
  if (boot.firmware === 'bios') return { firmware: { kind: 'bios' } };
  const ovmf = ovmfFiles(c.ovmfDir);
  if (!ovmf) throw new HypervisorUnsupportedError(`UEFI boot needs OVMF (Debian's ovmf package) in ${c.ovmfDir}: run \`bash scripts/install-qemu.sh\` (as root)`);
  const vars = join(c.instanceDir, OVMF_VARS_FILE);
  // The guest's own variable store: made once, then kept (boot entries a guest writes survive a stop).
  if (!existsSync(vars)) await copyFile(ovmf.vars, vars);
  return { firmware: { kind: 'uefi', code: ovmf.code, vars } };
}
