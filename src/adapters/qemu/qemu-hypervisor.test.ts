// The QEMU driver runs the Hypervisor contract on real guests (the base image, built here if it
// is not yet: scripts/build-base-image.sh is idempotent), skipping only the cases that need the
// simulator's user-data dialect (skipped by the suite itself: capabilities.simDialect is false).
// Hot-plug, forwarded ports and a firmware boot of a disk without a boot loader run in the suite
// too (hvm-boot.test.ts boots real HVM disks and PV kernels).
// Then what only a real guest shows: instance metadata over IMDSv2 (tokens required), user data
// run once, a data disk, a reboot in the same process, and nothing left behind.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileDisk, hypervisorContract, memoryDisk } from '../../../test/contracts/hypervisor.contract.ts';
import type { GuestEvent } from '../../ports/hypervisor.ts';
import { QemuHypervisor } from './qemu-hypervisor.ts';
import { consoleWhen, nextEvent } from '../../../test/support/guest-probes.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');
const imageDir = join(repo, '.amiforge-build', 'base-image');
const BOOT_MS = 240_000;

let built: Promise<unknown> | undefined;
const buildImage = () => (built ??= run('bash', [join(repo, 'scripts', 'build-base-image.sh')], { maxBuffer: 16 * 1024 * 1024 }));

async function fixture() {
  await buildImage();
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-qhv-'));
  const runtimeDir = join(dir, 'run');
  const disks: { close(): Promise<void> }[] = [];
  const hypervisor = await QemuHypervisor.create({ imageDir, runtimeDir, onError: (what, err) => console.error(what, err) });
  return {
    dir, runtimeDir, hypervisor,
    rootDisk: async (device: string) => {
      const d = await fileDisk(dir, join(imageDir, 'rootfs.raw'), device);
      disks.push(d);
      return d;
    },
    dataDisk: async (device: string, size: number) => memoryDisk(device, size),
    cleanup: async () => {
      await hypervisor.close();
      for (const d of disks) await d.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

hypervisorContract('qemu', fixture, { bootTimeoutMs: BOOT_MS, stopTimeoutMs: 120_000 });

const qemuProcesses = async (runtimeDir: string): Promise<number[]> => {
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${p}/cmdline`, 'utf8')).catch(() => '');
    if (cmd.startsWith('qemu-system') && cmd.includes(runtimeDir)) pids.push(Number(p));
  }
  return pids;
};

describe('QemuHypervisor with the base image', () => {
  test('metadata over IMDSv2, user data once, a data disk, a reboot in place; nothing left behind', { timeout: 900_000 }, async () => {
    const f = await fixture();
    try {
      const hv = f.hypervisor;
      const instanceId = 'i-0a11ce0000000b0b1';
      const userData = Buffer.from([
        '#!/bin/sh',
        '. /etc/amiforge/imds && imds_token && echo "ud: type $(imds_get meta-data/instance-type)"',
        // Without a token: IMDSv2 is required for this instance, so 401.
        "printf 'GET /latest/meta-data/instance-id HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc 169.254.169.254 80 | head -n 1 | sed 's/^/ud: tokenless /'",
        'echo "ud: vdb $(cat /sys/block/vdb/size) sectors"',
        'echo "ud: marker-4711"',
        '',
      ].join('\n'));
      const up = nextEvent(hv, 'running', instanceId);
      await hv.start({
        instanceId, machine: { instanceType: 't3.micro', vcpus: 2, memoryMiB: 1024, architecture: 'x86_64' },
        rootDevice: '/dev/xvda', disks: [await f.rootDisk('/dev/xvda')], instanceStore: [memoryDisk('/dev/sdb', 256 * 1024 * 1024)],
        userData, firstBoot: true, imdsTokens: 'required',
        metadata: { 'instance-id': instanceId, 'instance-type': 't3.micro', 'local-hostname': 'ip-172-31-0-9.ec2.internal' },
      });
      await up;
      const out = await consoleWhen(hv, instanceId, (t) => t.includes('amiforge: boot finished'), 'first boot', BOOT_MS);
      assert.match(out, new RegExp(`amiforge: instance-id ${instanceId}`));
      assert.match(out, /ud: type t3\.micro/);
      assert.match(out, /ud: tokenless HTTP\/1\.1 401/);
      assert.match(out, /ud: vdb 524288 sectors/);
      assert.match(out, /ud: marker-4711/);
      assert.match(out, /amiforge: user-data done \(exit 0\)/);

      const again = nextEvent(hv, 'running', instanceId);
      const exits: GuestEvent[] = [];
      const off = hv.onEvent((e) => { if (e.kind === 'exited') exits.push(e); });
      await hv.reboot(instanceId);
      await again;
      const second = await consoleWhen(hv, instanceId, (t) => t.split('amiforge: boot finished').length === 3, 'second boot', BOOT_MS);
      off();
      assert.deepEqual(exits, []);
      assert.match(second, /amiforge: shutting down/, 'the reboot was a clean shutdown first');
      assert.match(second, new RegExp(`user-data already ran for ${instanceId}`));

      await hv.stop(instanceId, { timeoutMs: 120_000 });
      assert.deepEqual(await readdir(join(f.runtimeDir, instanceId)), ['console.log'], 'only the console outlives the guest');
      await hv.terminate(instanceId);
      assert.deepEqual(await readdir(f.runtimeDir), []);
      assert.deepEqual(await qemuProcesses(f.runtimeDir), []);
    } finally {
      await f.cleanup();
    }
  });

  test('QEMU a crashed amiforge left running is killed when the next one starts', { timeout: 600_000 }, async () => {
    const f = await fixture();
    try {
      const instanceId = 'i-0dead0000000b0b1';
      const up = nextEvent(f.hypervisor, 'running', instanceId);
      await f.hypervisor.start({
        instanceId, machine: { instanceType: 't3.micro', vcpus: 1, memoryMiB: 512, architecture: 'x86_64' },
        rootDevice: '/dev/xvda', disks: [await f.rootDisk('/dev/xvda')], instanceStore: [], firstBoot: true, metadata: { 'instance-id': instanceId },
      });
      await up;
      const [pid] = await qemuProcesses(f.runtimeDir);
      assert.ok(pid, 'QEMU runs');
      // A second driver on the same runtime directory (as after a crash) ends the first one's QEMU.
      const next = await QemuHypervisor.create({ imageDir, runtimeDir: f.runtimeDir });
      const deadline = Date.now() + 30_000;
      while ((await qemuProcesses(f.runtimeDir)).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await qemuProcesses(f.runtimeDir), []);
      await next.close();
    } finally {
      await f.cleanup();
    }
  });
});
