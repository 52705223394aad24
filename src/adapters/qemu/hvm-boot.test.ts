// The QEMU driver's boot modes on real guests, one at a time (each boots Linux under TCG):
// - BIOS: SeaBIOS -> GRUB on the disk -> the disk's own kernel (scripts/build-hvm-test-disk.sh:
//   the base image on a disk made by scripts/make-boot-disk.sh). On that guest: the DMI values
//   cloud-init looks for, a forwarded port that answers only while it is in the set, a volume
//   hot-plugged (the guest sees /dev/vdb appear, writes to it, sees it vanish; the bytes reach the
//   volume) and the guest's own reboot, which restarts it in place (no exit).
// - UEFI: OVMF -> GRUB's EFI image on the disk's ESP -> the same kernel; the instance's own
//   OVMF variable store is kept across a stop and removed at termination.
// - PV: a "catalogue" kernel and ramdisk image (kernelFiles) with the root volume as /dev/vda; the
//   guest's own reboot ends its QEMU and a new one boots it, with the same forwarded ports; a disk
//   given at start unplugs.
// - Boots that fail: no boot loader under UEFI (OVMF's shell), a root filesystem GRUB cannot find
//   (its prompt): an `unreachable` event each, and the guest runs on.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileDisk, memoryDisk } from '../../../test/contracts/hypervisor.contract.ts';
import { buildHvmTestDisk } from '../../../test/support/qemu.ts';
import type { GuestDisk, GuestEvent, StartGuestOptions } from '../../ports/hypervisor.ts';
import { QemuHypervisor, type QemuHypervisorOptions } from './qemu-hypervisor.ts';
import { consoleWhen, httpGet, nextEvent } from '../../../test/support/guest-probes.ts';

const repo = resolve(import.meta.dirname, '../../..');
const imageDir = join(repo, '.amiforge-build', 'base-image');
const hvmDisk = join(repo, '.amiforge-build', 'hvm-test-disk', 'disk.raw');
const VOLUME = 'vol-0f11ed15c0000000b';

before(async () => {
  await buildHvmTestDisk();
}, { timeout: 600_000 });

async function withDriver(extra: Partial<QemuHypervisorOptions>, fn: (hv: QemuHypervisor, dir: string, runtimeDir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-hvm-'));
  const runtimeDir = join(dir, 'run');
  const hv = await QemuHypervisor.create({ imageDir, runtimeDir, onError: (what, err) => console.error(what, err), ...extra });
  try {
    await fn(hv, dir, runtimeDir);
  } finally {
    await hv.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const count = (text: string, s: string) => text.split(s).length - 1;

const guest = (instanceId: string, root: GuestDisk, extra: Partial<StartGuestOptions>): StartGuestOptions => ({
  instanceId, machine: { instanceType: 't3.micro', vcpus: 1, memoryMiB: 1024, architecture: 'x86_64' },
  rootDevice: '/dev/xvda', disks: [root], instanceStore: [], firstBoot: true,
  metadata: { 'instance-id': instanceId, 'instance-type': 't3.micro', 'local-hostname': 'ip-172-31-0-7.ec2.internal' }, ...extra,
});

// The guest's user data: DMI values, a web server (with a CGI that reboots the guest at once),
// and a watcher that writes to /dev/vdb when it appears and says when it is gone.
const userData = Buffer.from([
  '#!/bin/sh',
  'echo "ud: dmi $(cat /sys/class/dmi/id/sys_vendor) / $(cat /sys/class/dmi/id/product_name) / $(cat /sys/class/dmi/id/product_uuid)"',
  'mkdir -p /tmp/www/cgi-bin && echo hello-from-the-guest >/tmp/www/index.html',
  "printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho rebooting\\n(sleep 1; sync; reboot -f) </dev/null >/dev/null 2>&1 &\\n' >/tmp/www/cgi-bin/reboot",
  'chmod 0755 /tmp/www/cgi-bin/reboot',
  'httpd -p 8080 -h /tmp/www',
  '( while [ ! -e /sys/block/vdb ]; do sleep 0.2; done',
  '  echo "ud: vdb appeared, $(cat /sys/block/vdb/size) sectors"',
  '  printf written-by-the-guest | dd of=/dev/vdb conv=fsync 2>/dev/null && echo "ud: vdb written"',
  '  while [ -e /sys/block/vdb ]; do sleep 0.2; done; echo "ud: vdb gone" ) </dev/null >/dev/console 2>&1 &',
  'echo "ud: ready"',
  '',
].join('\n'));

describe('QEMU boot modes on real guests', { concurrency: 1 }, () => {
  test('BIOS: GRUB boots the disk\'s kernel; EC2 DMI values, a forwarded port, a hot-plugged volume, the guest\'s own reboot', { timeout: 900_000 }, async () => {
    await withDriver({}, async (hv, dir) => {
      const id = 'i-0b105b0000000b0b1';
      const root = await fileDisk(dir, hvmDisk, '/dev/xvda', VOLUME);
      try {
        const up = nextEvent(hv, 'running', id);
        const unreachable: GuestEvent[] = [];
        hv.onEvent((e) => { if (e.kind === 'unreachable') unreachable.push(e); });
        await hv.start(guest(id, root, { boot: { kind: 'firmware', firmware: 'bios' }, userData }));
        await up;
        const booted = await consoleWhen(hv, id, (t) => t.includes('ud: ready'), 'user data');
        assert.match(booted, /SeaBIOS/);
        assert.match(booted, /ud: dmi Amazon EC2 \/ t3\.micro \/ ec2[0-9a-f]{5}-/);

        const hostAddress = '127.66.0.10';
        assert.deepEqual(await hv.setForwards(id, { hostAddress, ports: [8080] }), { forwarded: [8080], refused: [] });
        assert.equal((await httpGet(`http://${hostAddress}:8080/index.html`)).trim(), 'hello-from-the-guest');
        assert.deepEqual(await hv.setForwards(id, { hostAddress, ports: [] }), { forwarded: [], refused: [] });
        await assert.rejects(httpGet(`http://${hostAddress}:8080/index.html`), { code: 'ECONNREFUSED' });

        const data = memoryDisk('/dev/sdf', 64 * 1024 * 1024, undefined, 'vol-0da7a00000000000f');
        await hv.attachDisk(id, data);
        await consoleWhen(hv, id, (t) => t.includes('ud: vdb written'), 'the hot-plugged disk');
        assert.match((await hv.consoleOutput(id))!.text, /ud: vdb appeared, 131072 sectors/);
        await hv.detachDisk(id, '/dev/sdf');
        await consoleWhen(hv, id, (t) => t.includes('ud: vdb gone'), 'the disk gone');
        assert.equal((await data.read(0, 20)).toString(), 'written-by-the-guest', 'the guest\'s write reached the volume');

        // The guest reboots itself: a reset in the same QEMU, not an exit.
        const exits: GuestEvent[] = [];
        hv.onEvent((e) => { if (e.kind === 'exited') exits.push(e); });
        assert.deepEqual(await hv.setForwards(id, { hostAddress, ports: [8080] }), { forwarded: [8080], refused: [] });
        assert.equal((await httpGet(`http://${hostAddress}:8080/cgi-bin/reboot`)).trim(), 'rebooting');
        const again = await consoleWhen(hv, id, (t) => count(t, 'amiforge: boot finished') === 2, 'a second boot');
        assert.equal(count(again, 'SeaBIOS ('), 2, 'the firmware ran again');
        assert.match(again, new RegExp(`user-data already ran for ${id}`));
        assert.deepEqual(exits, []);
        assert.deepEqual(unreachable, []);
        assert.ok((await hv.guests()).includes(id));
        await hv.stop(id, { timeoutMs: 120_000 });
      } finally {
        await root.close();
      }
    });
  });

  test('UEFI: OVMF boots GRUB from the ESP; the variable store is the instance\'s, kept across a stop', { timeout: 900_000 }, async () => {
    await withDriver({}, async (hv, dir, runtimeDir) => {
      const id = 'i-0ef10000000000b0b';
      const root = await fileDisk(dir, hvmDisk, '/dev/xvda', VOLUME);
      try {
        await hv.start(guest(id, root, { boot: { kind: 'firmware', firmware: 'uefi' } }));
        const out = await consoleWhen(hv, id, (t) => t.includes('amiforge: boot finished'), 'a UEFI boot');
        assert.match(out, /BdsDxe: (loading|starting) Boot/);
        await hv.stop(id, { timeoutMs: 120_000 });
        assert.deepEqual((await readdir(join(runtimeDir, id))).sort(), ['console.log', 'ovmf-vars.fd']);
        await hv.terminate(id);
        assert.deepEqual(await readdir(runtimeDir), []);
      } finally {
        await root.close();
      }
    });
  });

  test('PV: the kernel and ramdisk images boot with the root volume; the guest\'s own reboot is a new QEMU, not an exit', { timeout: 900_000 }, async () => {
    const files: Record<string, string> = { 'aki-0123456789abcdef0': join(imageDir, 'vmlinux'), 'ari-0123456789abcdef0': join(imageDir, 'initramfs.cpio') };
    await withDriver({ kernelFiles: (imageId) => files[imageId] }, async (hv, dir) => {
      assert.deepEqual(hv.capabilities.bootModes, ['firmware', 'kernel']);
      const id = 'i-0b1a00000000b0b1';
      const root = await fileDisk(dir, join(imageDir, 'rootfs.raw'), '/dev/xvda', VOLUME);
      try {
        const exits: GuestEvent[] = [];
        hv.onEvent((e) => { if (e.kind === 'exited') exits.push(e); });
        await hv.start(guest(id, root, {
          boot: { kind: 'kernel', kernelImageId: 'aki-0123456789abcdef0', ramdiskImageId: 'ari-0123456789abcdef0' },
          disks: [root, memoryDisk('/dev/sdf', 32 * 1024 * 1024)],
          forwards: { hostAddress: '127.66.0.11', ports: [18080] },
          userData: Buffer.from('#!/bin/sh\necho "ud: pv $(uname -r), vdb $(cat /sys/block/vdb/size)"\n(sleep 2; sync; reboot -f) </dev/null >/dev/null 2>&1 &\n'),
        }));
        await consoleWhen(hv, id, (t) => count(t, 'amiforge: boot finished') === 2, 'a boot after the guest\'s reboot');
        assert.match((await hv.consoleOutput(id))!.text, /ud: pv \d.*, vdb 65536/);
        assert.deepEqual(exits, []);
        assert.ok((await hv.guests()).includes(id));
        // The port forwarded at the start is forwarded by the new QEMU too (QEMU itself accepts).
        await new Promise<void>((resolve, reject) => {
          const socket = connect(18080, '127.66.0.11', () => { socket.destroy(); resolve(); });
          socket.on('error', reject);
        });
        // A disk the guest had from the start unplugs too (its -drive goes with the device).
        assert.equal(hv.diskStats(id).length, 2);
        await hv.detachDisk(id, '/dev/sdf');
        assert.equal(hv.diskStats(id).length, 1);
        await assert.rejects(hv.start(guest('i-0b1a00000000b0b2', root, { boot: { kind: 'kernel', kernelImageId: 'aki-0000000000000000f' } })), /aki-0000000000000000f has no kernel file/);
        await hv.stop(id, { timeoutMs: 120_000 });
      } finally {
        await root.close();
      }
    });
  });

  test('UEFI with no boot loader on the disk: OVMF\'s shell, unreachable once, the guest keeps running', { timeout: 600_000 }, async () => {
    await withDriver({}, async (hv) => {
      const id = 'i-0e000000000000b0b';
      const events: GuestEvent[] = [];
      hv.onEvent((e) => { if (e.kind === 'unreachable') events.push(e); });
      const unreachable = nextEvent(hv, 'unreachable', id);
      await hv.start(guest(id, memoryDisk('/dev/xvda', 64 * 1024 * 1024), { boot: { kind: 'firmware', firmware: 'uefi' } }));
      const e = await unreachable;
      assert.match(e.kind === 'unreachable' ? e.detail : '', /UEFI firmware found no boot loader/);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(events.length, 1);
      assert.ok((await hv.guests()).includes(id));
      await hv.stop(id, { timeoutMs: 3000 });
    });
  });

  test('BIOS with the root filesystem gone: GRUB stops at its prompt, unreachable', { timeout: 600_000 }, async () => {
    await withDriver({}, async (hv, dir) => {
      const id = 'i-0e000000000000b0c';
      const root = await fileDisk(dir, hvmDisk, '/dev/xvda', VOLUME);
      try {
        // Wipe the start of the root partition (the second MBR entry): GRUB's search finds nothing.
        const start = (await root.read(446 + 16 + 8, 4)).readUInt32LE(0) * 512;
        await root.write(start, Buffer.alloc(2 * 1024 * 1024));
        const unreachable = nextEvent(hv, 'unreachable', id);
        await hv.start(guest(id, root, { boot: { kind: 'firmware', firmware: 'bios' } }));
        const e = await unreachable;
        assert.match(e.kind === 'unreachable' ? e.detail : '', /GRUB found no configuration/);
        assert.match((await hv.consoleOutput(id))!.text, /GRUB/);
        await hv.stop(id, { timeoutMs: 3000 });
      } finally {
        await root.close();
      }
    });
  });
});
