// scripts/make-boot-disk.sh, the assembler of the Debian image's disk: its layout (an MBR with
// GRUB's boot code, core.img in the gap, an EFI system partition, the ext4 root last), that it
// leaves its input alone and gives the same bytes twice, and that GRUB really starts from it and
// reads its grub.cfg under both firmwares: SeaBIOS and OVMF (the kernel here is a stand-in, so
// GRUB stops at loading it; the Debian image's full boot is measured in docs/debian-image.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const UUID = '0d3b1a6e-9c4e-4b57-a1f0-000000000001';
const OVMF = '/usr/share/OVMF';

async function withDisk(fn: (dir: string, disk: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-boot-disk-'));
  try {
    const rootfs = join(dir, 'rootfs');
    await mkdir(join(rootfs, 'boot'), { recursive: true });
    await mkdir(join(rootfs, 'etc'));
    await writeFile(join(rootfs, 'boot', 'vmlinuz-6.1.0-9-test'), 'not a kernel\n');
    await writeFile(join(rootfs, 'boot', 'vmlinuz-6.1.0-10-test'), 'not a kernel either\n');
    await writeFile(join(rootfs, 'boot', 'initrd.img-6.1.0-10-test'), 'not an initramfs\n');
    await writeFile(join(rootfs, 'etc', 'hostname'), 'test\n');
    const disk = join(dir, 'disk.raw');
    await run('bash', [join(repo, 'scripts/make-boot-disk.sh'), '--rootfs', rootfs, '--output', disk, '--size', '64M',
      '--cmdline', 'ro console=ttyS0,115200 amiforge.test', '--root-uuid', UUID]);
    await fn(dir, disk);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

test('layout: MBR with GRUB boot code, core.img in the gap, an ESP with BOOTX64.EFI, the root last with grub.cfg', () => withDisk(async (dir, disk) => {
  const table = JSON.parse((await run('sfdisk', ['--json', disk])).stdout).partitiontable;
  assert.equal(table.label, 'dos');
  const [esp, root] = table.partitions;
  assert.deepEqual([esp.start, esp.type], [2048, 'ef']);
  assert.equal(root.type, '83');
  assert.equal(root.bootable, true);
  assert.equal(root.start + root.size, 64 * 2048, 'the root partition runs to the end of the disk (growpart grows it)');

  const bytes = await readFile(disk);
  const bootImg = await readFile('/usr/lib/grub/i386-pc/boot.img');
  assert.ok(bytes.subarray(0, 440).equals(bootImg.subarray(0, 440)), "GRUB's boot.img in the MBR");
  assert.equal(bytes.readUInt16LE(510), 0xaa55);
  const diskboot = await readFile('/usr/lib/grub/i386-pc/diskboot.img');
  assert.ok(bytes.subarray(512, 512 + 0x100).equals(diskboot.subarray(0, 0x100)), 'core.img (diskboot first) at sector 1');

  const esp0 = `${disk}@@${esp.start * 512}`;
  const efi = (await run('mdir', ['-i', esp0, '-b', '::/EFI/BOOT'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } })).stdout;
  assert.match(efi, /BOOTX64\.EFI/);

  const fs = `${disk}?offset=${root.start * 512}`;
  const cfg = (await run('debugfs', ['-R', 'cat /boot/grub/grub.cfg', fs])).stdout;
  assert.match(cfg, /^serial --unit=0 --speed=115200$/m);
  assert.match(cfg, /^set timeout=0$/m);
  assert.match(cfg, new RegExp(`search --no-floppy --fs-uuid --set=root ${UUID}`));
  // The newest kernel in the tree, with its initramfs, on the given command line.
  assert.match(cfg, new RegExp(`linux /boot/vmlinuz-6\\.1\\.0-10-test root=UUID=${UUID} ro console=ttyS0,115200 amiforge.test`));
  assert.match(cfg, /initrd \/boot\/initrd\.img-6\.1\.0-10-test/);
  for (const platform of ['i386-pc', 'x86_64-efi']) {
    assert.match((await run('debugfs', ['-R', `ls -p /boot/grub/${platform}`, fs])).stdout, /\/normal\.mod\//, `${platform} modules`);
  }
  assert.match((await run('debugfs', ['-R', 'stats', fs])).stdout, new RegExp(`Filesystem UUID:\\s+${UUID}`));
  // The input tree is left as it was.
  assert.deepEqual((await readdir(join(dir, 'rootfs', 'boot'))).sort(), ['initrd.img-6.1.0-10-test', 'vmlinuz-6.1.0-10-test', 'vmlinuz-6.1.0-9-test']);
}));

test('reproducible: the same tree gives the same bytes', () => withDisk(async (dir, disk) => {
  const first = await sha256(disk);
  await run('bash', [join(repo, 'scripts/make-boot-disk.sh'), '--rootfs', join(dir, 'rootfs'), '--output', join(dir, 'again.raw'),
    '--size', '64M', '--cmdline', 'ro console=ttyS0,115200 amiforge.test', '--root-uuid', UUID]);
  assert.equal(await sha256(join(dir, 'again.raw')), first);
}));

/** Boots the disk until GRUB has read grub.cfg and tried the (stand-in) kernel; the console. */
function bootToGrub(disk: string, firmware: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const qemu = spawn('qemu-system-x86_64', [
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot', '-M', 'pc', '-accel', 'tcg,tb-size=64', '-m', '256',
      ...firmware, '-drive', `file=${disk},format=raw,if=none,id=d,snapshot=on`, '-device', 'virtio-blk-pci,drive=d', '-serial', 'stdio',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => qemu.kill('SIGKILL'), 90_000);
    qemu.stdout.on('data', (c: Buffer) => {
      out += c.toString('latin1');
      // GRUB's menu entry ran: it found the root by UUID and read grub.cfg from it.
      if (/Booting `6\.1\.0-10-test'[\s\S]*(error|invalid)/.test(out)) qemu.kill('SIGKILL');
    });
    qemu.on('error', reject);
    qemu.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

test('GRUB starts from the disk and reads its grub.cfg under SeaBIOS', () => withDisk(async (_, disk) => {
  const console = await bootToGrub(disk, []);
  assert.match(console, /Booting `6\.1\.0-10-test'/, `console:\n${console}`);
}));

test('GRUB starts from the disk and reads its grub.cfg under OVMF (UEFI)', () => withDisk(async (dir, disk) => {
  const vars = join(dir, 'OVMF_VARS.fd');
  await copyFile(join(OVMF, 'OVMF_VARS_4M.fd'), vars);
  const console = await bootToGrub(disk, [
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${join(OVMF, 'OVMF_CODE_4M.fd')}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${vars}`,
  ]);
  assert.match(console, /Booting `6\.1\.0-10-test'/, `console:\n${console.slice(-2000)}`);
}));
