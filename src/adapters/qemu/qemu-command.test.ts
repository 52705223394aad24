// The guest command line: what must be on it (restricted network, metadata forward, NBD root,
// the accelerator's CPU model) and the paths QEMU's option syntax would misread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectAccelerator, guestCommand, type GuestCommandOptions } from './qemu-command.ts';

const base: GuestCommandOptions = {
  kernel: '/k/vmlinux', initrd: '/k/initramfs.cpio', accel: 'tcg', memoryMiB: 256, vcpus: 1,
  root: { socket: '/run/x/root.nbd', exportName: 'root' }, serialLog: '/run/x/console', qmpSocket: '/run/x/qmp',
};
const after = (args: string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

test('TCG with -cpu max, KVM with -cpu host; the root disk is the NBD export as virtio-blk', () => {
  const tcg = guestCommand(base);
  assert.deepEqual(after(tcg, '-cpu'), ['max']);
  assert.deepEqual(after(guestCommand({ ...base, accel: 'kvm' }), '-cpu'), ['host']);
  assert.ok(after(tcg, '-drive')[0].startsWith('file=nbd+unix:///root?socket=/run/x/root.nbd,format=raw'));
  assert.match(after(tcg, '-append')[0], /console=ttyS0 root=\/dev\/vda panic=-1/);
  assert.ok(tcg.includes('-no-reboot'));
  assert.deepEqual(after(tcg, '-netdev'), [], 'no metadata socket, no network');
});

test('the network is restricted and forwards only 169.254.169.254:80 to the metadata socket', () => {
  const [netdev] = after(guestCommand({ ...base, metadataSocket: '/run/x/imds.sock' }), '-netdev');
  assert.match(netdev, /restrict=on/);
  assert.match(netdev, /net=169\.254\.0\.0\/16,host=169\.254\.0\.2/);
  assert.match(netdev, /guestfwd=tcp:169\.254\.169\.254:80-cmd:socat STDIO UNIX-CONNECT:\/run\/x\/imds\.sock$/);
});

test('paths QEMU would split are refused; AMIFORGE_QEMU_ACCEL skips the probe', async () => {
  assert.throws(() => guestCommand({ ...base, root: { socket: '/run/a,b/root.nbd', exportName: 'root' } }), /commas/);
  assert.throws(() => guestCommand({ ...base, metadataSocket: '/run/a b/imds' }));
  process.env.AMIFORGE_QEMU_ACCEL = 'tcg';
  try {
    assert.equal(await detectAccelerator('/nonexistent', '/nonexistent'), 'tcg');
  } finally {
    delete process.env.AMIFORGE_QEMU_ACCEL;
  }
});

test('TCG keeps its translation cache at 256 MiB; KVM has none', () => {
  assert.deepEqual(after(guestCommand(base), '-accel'), ['tcg,tb-size=256']);
  assert.deepEqual(after(guestCommand({ ...base, tbSizeMiB: 128 }), '-accel'), ['tcg,tb-size=128']);
  assert.deepEqual(after(guestCommand({ ...base, accel: 'kvm' }), '-accel'), ['kvm']);
});

test('firmware boot: no kernel from outside, the root disk is the only boot device, the guest may reset itself', () => {
  const bios = guestCommand({ ...base, firmware: { kind: 'bios' }, disks: [{ socket: '/run/x/d1.nbd', exportName: 'disk', id: 'd01' }] });
  for (const flag of ['-kernel', '-initrd', '-append', '-no-reboot']) assert.ok(!bios.includes(flag), `${flag} is not there`);
  assert.deepEqual(after(bios, '-boot'), ['strict=on']);
  const devices = after(bios, '-device');
  assert.match(devices[0], /^virtio-blk-pci,drive=root,bootindex=0$/);
  assert.equal(devices[1], 'virtio-blk-pci,drive=disk0,id=d01', 'data disks do not boot');
  assert.match(after(bios, '-M')[0], /graphics=off/, 'SeaBIOS prints to the serial console');
  assert.equal(after(bios, '-drive').filter((d) => d.startsWith('if=pflash')).length, 0);

  const uefi = guestCommand({ ...base, firmware: { kind: 'uefi', code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/run/x/ovmf-vars.fd' } });
  assert.deepEqual(after(uefi, '-drive').filter((d) => d.startsWith('if=pflash')), [
    'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
    'if=pflash,format=raw,unit=1,file=/run/x/ovmf-vars.fd',
  ]);
  assert.throws(() => guestCommand({ ...base, kernel: undefined }), /either a kernel or its firmware/);
});

test('the NIC has no option ROM; SMBIOS values and the console socket are passed through', () => {
  const args = guestCommand({
    ...base, metadataSocket: '/run/x/imds.sock', serialLog: undefined, serialSocket: '/run/x/console.sock',
    smbios: ['type=1,manufacturer=Amazon EC2,product=t3.micro'],
  });
  assert.ok(after(args, '-device').includes('virtio-net-pci,netdev=net0,romfile='));
  const withMac = guestCommand({ ...base, metadataSocket: '/run/x/imds.sock', mac: '0e:01:02:03:04:05' });
  assert.ok(after(withMac, '-device').includes('virtio-net-pci,netdev=net0,romfile=,mac=0e:01:02:03:04:05'), 'the MAC instance metadata lists');
  assert.ok(after(guestCommand({ ...base, metadataSocket: '/run/x/imds.sock', mac: '0e:01,bad' }), '-device').includes('virtio-net-pci,netdev=net0,romfile='));
  assert.deepEqual(after(args, '-smbios'), ['type=1,manufacturer=Amazon EC2,product=t3.micro']);
  assert.deepEqual(after(args, '-chardev'), ['socket,id=serial0,path=/run/x/console.sock']);
  assert.throws(() => guestCommand({ ...base, serialSocket: '/run/x/console.sock' }), /exactly one/);
});
