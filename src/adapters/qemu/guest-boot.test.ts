// Which files a boot uses: the base image by default, a PV image's kernel and ramdisk through
// kernelFiles, nothing but the firmware for HVM (OVMF's variable store copied once per instance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HypervisorUnsupportedError } from '../../ports/hypervisor.ts';
import { bootFiles, OVMF_VARS_FILE } from './guest-boot.ts';

test('base image, PV kernel and ramdisk, BIOS, UEFI with the instance\'s own variable store', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-boot-'));
  try {
    const ovmfDir = join(dir, 'ovmf');
    await mkdir(ovmfDir);
    await writeFile(join(ovmfDir, 'OVMF_CODE_4M.fd'), 'code');
    await writeFile(join(ovmfDir, 'OVMF_VARS_4M.fd'), 'template');
    const c = { imageDir: '/img', ovmfDir, instanceDir: dir, kernelFiles: (id: string) => ({ 'aki-1': '/k/vmlinuz', 'ari-1': '/k/initrd' })[id] };
    assert.deepEqual(await bootFiles(undefined, c), { kernel: '/img/vmlinux', initrd: '/img/initramfs.cpio' });
    assert.deepEqual(await bootFiles({ kind: 'kernel', kernelImageId: 'aki-1', ramdiskImageId: 'ari-1' }, c), { kernel: '/k/vmlinuz', initrd: '/k/initrd' });
    assert.deepEqual(await bootFiles({ kind: 'kernel', kernelImageId: 'aki-1' }, c), { kernel: '/k/vmlinuz', initrd: undefined });
    await assert.rejects(bootFiles({ kind: 'kernel', kernelImageId: 'aki-2' }, c), /aki-2 has no kernel file/);
    await assert.rejects(bootFiles({ kind: 'kernel', kernelImageId: 'aki-1', ramdiskImageId: 'ari-2' }, c), /ari-2 has no file/);
    await assert.rejects(bootFiles({ kind: 'kernel', kernelImageId: 'aki-1' }, { ...c, kernelFiles: undefined }), HypervisorUnsupportedError);
    assert.deepEqual(await bootFiles({ kind: 'firmware', firmware: 'bios' }, c), { firmware: { kind: 'bios' } });

    const uefi = await bootFiles({ kind: 'firmware', firmware: 'uefi' }, c);
    assert.deepEqual(uefi, { firmware: { kind: 'uefi', code: join(ovmfDir, 'OVMF_CODE_4M.fd'), vars: join(dir, OVMF_VARS_FILE) } });
    await writeFile(join(dir, OVMF_VARS_FILE), 'written by the guest');
    await bootFiles({ kind: 'firmware', firmware: 'uefi' }, c);
    assert.equal(await readFile(join(dir, OVMF_VARS_FILE), 'utf8'), 'written by the guest', 'kept, not copied again');
    await assert.rejects(bootFiles({ kind: 'firmware', firmware: 'uefi' }, { ...c, ovmfDir: join(dir, 'none') }), HypervisorUnsupportedError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
