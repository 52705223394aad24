// The guest command line: what must be on it (restricted network, metadata forward, NBD root,
// the accelerator's CPU model) and the paths QEMU's option syntax would misread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectAccelerator, ec2GuestArgs, guestCommand, type GuestCommandOptions } from './qemu-command.ts';

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

test('ec2GuestArgs: SMBIOS as cloud-init recognises EC2 (uuid = serial, starting ec2) and the metadata\'s MAC on the NIC', () => {
  const args = ec2GuestArgs({ 'instance-id': 'i-0123456789abcdef0', 'instance-type': 't3.micro', mac: '0e:01:02:03:04:05' });
  const type1 = args[args.indexOf('-smbios') + 1];
  const uuid = /uuid=([^,]+)/.exec(type1)?.[1] ?? '';
  assert.match(uuid, /^ec2[0-9a-f]{5}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.match(type1, new RegExp(`serial=${uuid}`));
  assert.match(type1, /manufacturer=Amazon EC2,product=t3\.micro/);
  assert.ok(args.includes('type=3,manufacturer=Amazon EC2,asset=i-0123456789abcdef0'));
  assert.deepEqual(args.slice(-2), ['-global', 'virtio-net-pci.mac=0e:01:02:03:04:05']);
  // Fixed per instance, different between instances.
  assert.deepEqual(ec2GuestArgs({ 'instance-id': 'i-0123456789abcdef0', 'instance-type': 't3.micro', mac: '0e:01:02:03:04:05' }), args);
  assert.notEqual(ec2GuestArgs({ 'instance-id': 'i-0123456789abcdef1' })[1], type1);
});
