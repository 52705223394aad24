// The Hypervisor contract: every driver (the simulator now, QEMU next) registers this suite from
// its own test file. It talks to the port only. A real driver boots real guests, so every wait is
// bounded by generous, configurable timeouts rather than by what the simulator needs.
//
// What a driver may skip, and why (pass them in `skip` with your own reason):
//   - 'user-data', 'stop-timeout', 'guest-poweroff': need a guest that runs the `#!amiforge-sim`
//     dialect (capabilities.simDialect); skipped automatically otherwise. A QEMU driver covers
//     user data with its own image-specific tests (cloud-init).
//   - 'hotplug': drivers without capabilities.hotplug; they must then reject attachDisk with
//     HypervisorUnsupportedError (checked instead).
//   - 'forwards': drivers without capabilities.forwarding (skipped automatically).
//   - 'no-boot': drivers without 'firmware' in capabilities.bootModes (skipped automatically).
// Everything else is required.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GuestAlreadyRunningError, GuestNotRunningError, HypervisorUnsupportedError, type GuestDisk, type GuestEvent, type Hypervisor,
  type HypervisorCapabilities, type StartGuestOptions,
} from '../../src/ports/hypervisor.ts';

export interface HypervisorFixture {
  hypervisor: Hypervisor;
  /** A bootable root disk (a fresh copy each call). */
  rootDisk(device: string): Promise<GuestDisk>;
  /** An empty data disk. */
  dataDisk(device: string, sizeBytes: number): Promise<GuestDisk>;
  cleanup(): Promise<void>;
}

export type HypervisorCase =
  | 'boot' | 'console' | 'stop-graceful' | 'stop-force' | 'stop-timeout' | 'restart' | 'reboot' | 'terminate'
  | 'idempotent' | 'already-running' | 'hotplug' | 'user-data' | 'guest-poweroff' | 'concurrent' | 'forwards' | 'no-boot'
  | 'console-watch';

export interface HypervisorContractOptions {
  /** Cases this driver skips, each with the reason. */
  skip?: Partial<Record<HypervisorCase, string>>;
  /** Upper bounds for a boot and a graceful stop (defaults: 120 s and 60 s, for real guests). */
  bootTimeoutMs?: number;
  stopTimeoutMs?: number;
}

/** An in-memory disk (sparse), for fixtures that need no real block store. */
export function memoryDisk(device: string, sizeBytes: number, content?: Buffer, volumeId = 'vol-0000000000000000a'): GuestDisk {
  const PAGE = 64 * 1024;
  const pages = new Map<number, Buffer>();
  const check = (offset: number, length: number) => {
    if (offset < 0 || offset + length > sizeBytes) throw new RangeError(`${offset}+${length} is outside ${device}`);
  };
  /** Calls fn(page, offset within page, offset within the range, length) for each page touched. */
  const each = (offset: number, length: number, create: boolean, fn: (page: Buffer | undefined, at: number, done: number, n: number) => void) => {
    for (let done = 0; done < length;) {
      const index = Math.floor((offset + done) / PAGE);
      const at = (offset + done) % PAGE;
      const n = Math.min(PAGE - at, length - done);
      let page = pages.get(index);
      if (!page && create) pages.set(index, (page = Buffer.alloc(PAGE)));
      fn(page, at, done, n);
      done += n;
    }
  };
  const disk: GuestDisk = {
    device, volumeId, sizeBytes,
    async read(offset, length) {
      check(offset, length);
      const out = Buffer.alloc(length);
      each(offset, length, false, (page, at, done, n) => page?.copy(out, done, at, at + n));
      return out;
    },
    async write(offset, data) {
      check(offset, data.length);
      each(offset, data.length, true, (page, at, done, n) => data.copy(page!, at, done, done + n));
    },
  };
  if (content) void disk.write(0, content);
  return disk;
}

/** A disk backed by a copy of `source` in `dir` (a fresh, writable root disk for a real guest). */
export async function fileDisk(dir: string, source: string, device: string, volumeId = 'vol-0f11ed15c0000000a'): Promise<GuestDisk & { close(): Promise<void> }> {
  const file = join(dir, `${device.replaceAll('/', '_')}-${Math.random().toString(36).slice(2)}.raw`);
  await copyFile(source, file);
  const fh = await open(file, 'r+');
  const { size } = await fh.stat();
  return {
    device, volumeId, sizeBytes: size,
    async read(offset, length) {
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, offset);
      return buf;
    },
    async write(offset, data) {
      await fh.write(data, 0, data.length, offset);
    },
    close: () => fh.close(),
  };
}

let seq = 0;
const newInstanceId = () => `i-0${(Date.now() * 1000 + ++seq).toString(16).padStart(16, '0').slice(-16)}`;

/** Resolves with the first event matching `match`, or rejects after `timeoutMs`. */
function nextEvent(hv: Hypervisor, match: (e: GuestEvent) => boolean, timeoutMs: number, what: string): Promise<GuestEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = hv.onEvent((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function hypervisorContract(name: string, make: () => Promise<HypervisorFixture>, options: HypervisorContractOptions = {}): void {
  const bootMs = options.bootTimeoutMs ?? 120_000;
  const stopMs = options.stopTimeoutMs ?? 60_000;

  const guestOptions = async (f: HypervisorFixture, extra: Partial<StartGuestOptions> = {}): Promise<StartGuestOptions> => {
    const instanceId = extra.instanceId ?? newInstanceId();
    return {
      instanceId,
      machine: { instanceType: 't3.micro', vcpus: 2, memoryMiB: 1024, architecture: 'x86_64' },
      rootDevice: '/dev/xvda',
      disks: [await f.rootDisk('/dev/xvda')],
      instanceStore: [],
      firstBoot: true,
      metadata: { 'instance-id': instanceId, 'local-hostname': 'ip-172-31-0-10.ec2.internal', 'local-ipv4': '172.31.0.10' },
      ...extra,
    };
  };

  /** Starts a guest and waits for it to be up. */
  const boot = async (f: HypervisorFixture, extra: Partial<StartGuestOptions> = {}): Promise<StartGuestOptions> => {
    const opts = await guestOptions(f, extra);
    const up = nextEvent(f.hypervisor, (e) => e.kind === 'running' && e.instanceId === opts.instanceId, bootMs, `running event for ${opts.instanceId}`);
    await f.hypervisor.start(opts);
    await up;
    return opts;
  };

  const consoleText = async (hv: Hypervisor, id: string) => (await hv.consoleOutput(id))?.text ?? '';

  const caseTest = (id: HypervisorCase, title: string, fn: (f: HypervisorFixture) => Promise<void>, needsSim = false,
    needs?: { what: string; has: (c: HypervisorCapabilities) => boolean }) => {
    const reason = options.skip?.[id];
    if (reason) return test(`${title} (skipped: ${reason})`, { skip: reason }, () => {});
    return test(title, { timeout: bootMs * 3 + stopMs * 3 }, async (t) => {
      const f = await make();
      try {
        if (needsSim && !f.hypervisor.capabilities.simDialect) {
          t.skip('needs a guest that runs the #!amiforge-sim dialect (capabilities.simDialect)');
          return;
        }
        if (needs && !needs.has(f.hypervisor.capabilities)) {
          t.skip(`needs ${needs.what}`);
          return;
        }
        await fn(f);
      } finally {
        await f.hypervisor.close();
        await f.cleanup();
      }
    });
  };

  describe(`Hypervisor contract: ${name}`, () => {
    caseTest('boot', 'a started guest reports running and is listed among the guests', async (f) => {
      const opts = await boot(f);
      assert.ok((await f.hypervisor.guests()).includes(opts.instanceId));
      assert.equal(typeof f.hypervisor.name, 'string');
    });

    caseTest('console', 'the console output holds the boot log, with a timestamp', async (f) => {
      const before = new Date(Date.now() - 1000);
      const opts = await boot(f);
      await until(async () => (await consoleText(f.hypervisor, opts.instanceId)).length > 0, bootMs, 'console output');
      const out = await f.hypervisor.consoleOutput(opts.instanceId);
      assert.ok(out!.timestamp >= before, 'timestamp is recent');
      assert.ok(out!.text.length <= 64 * 1024, 'at most the last 64 KiB');
    });

    caseTest('console-watch', 'console followers get the text kept so far, then every later piece in order, nothing lost or repeated', async (f) => {
      const opts = await guestOptions(f);
      // One follower from before the guest exists, one that joins while it runs, one that leaves at once.
      const early: string[] = [];
      const offEarly = f.hypervisor.watchConsole(opts.instanceId, (t) => early.push(t));
      const up = nextEvent(f.hypervisor, (e) => e.kind === 'running' && e.instanceId === opts.instanceId, bootMs, 'running event');
      await f.hypervisor.start(opts);
      await up;
      await until(async () => early.join('').length > 0, bootMs, 'console output reaching the early follower');
      assert.equal(early[0], '', 'the first call is the text kept before the guest started: none');
      const late: string[] = [];
      const offLate = f.hypervisor.watchConsole(opts.instanceId, (t) => late.push(t));
      const gone: string[] = [];
      f.hypervisor.watchConsole(opts.instanceId, (t) => gone.push(t))();
      await f.hypervisor.stop(opts.instanceId, { timeoutMs: stopMs });
      const kept = await consoleText(f.hypervisor, opts.instanceId);
      await until(async () => early.join('').endsWith(kept) && late.join('').endsWith(kept), stopMs, 'the followers catching up with the console');
      // Under 64 KiB the console keeps everything, and each follower saw exactly that.
      if (early.join('').length < 64 * 1024) assert.equal(early.join(''), kept);
      if (late.join('').length < 64 * 1024) assert.equal(late.join(''), kept);
      assert.ok(late.length >= 1 && kept.startsWith(late[0]), 'the late follower started from the text kept when it joined');
      assert.ok(gone.length <= 1, 'a follower that left gets nothing after its first call');
      offEarly();
      offLate();
    });

    caseTest('stop-graceful', 'stop shuts the guest down, reports a host-initiated exit, and keeps the console', async (f) => {
      const opts = await boot(f);
      const exited = nextEvent(f.hypervisor, (e) => e.kind === 'exited' && e.instanceId === opts.instanceId, stopMs, 'exited event');
      await f.hypervisor.stop(opts.instanceId, { timeoutMs: stopMs });
      const e = await exited;
      assert.equal(e.kind === 'exited' && e.initiatedBy, 'host');
      assert.ok(!(await f.hypervisor.guests()).includes(opts.instanceId));
      assert.ok((await consoleText(f.hypervisor, opts.instanceId)).length > 0, 'the console outlives the guest');
    });

    caseTest('stop-force', 'a forced stop ends the guest at once and says it was forced', async (f) => {
      const opts = await boot(f);
      const exited = nextEvent(f.hypervisor, (e) => e.kind === 'exited' && e.instanceId === opts.instanceId, stopMs, 'exited event');
      await f.hypervisor.stop(opts.instanceId, { timeoutMs: stopMs, force: true });
      const e = await exited;
      assert.equal(e.kind === 'exited' && e.forced, true);
      assert.ok(!(await f.hypervisor.guests()).includes(opts.instanceId));
    });

    caseTest('stop-timeout', 'a guest that does not shut down in time is killed after the timeout', async (f) => {
      const userData = Buffer.from('#!amiforge-sim\nsleep 600000\n');
      const opts = await boot(f, { userData });
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      const exited = nextEvent(f.hypervisor, (e) => e.kind === 'exited' && e.instanceId === opts.instanceId, stopMs, 'exited event');
      await f.hypervisor.stop(opts.instanceId, { timeoutMs: 300 });
      const e = await exited;
      assert.equal(e.kind === 'exited' && e.forced, true);
      assert.ok(Date.now() - started < 300 + stopMs, 'the timeout bounded the stop');
    }, true);

    caseTest('restart', 'a stopped instance starts again on the same disks, not as a first boot', async (f) => {
      const opts = await boot(f);
      await f.hypervisor.stop(opts.instanceId, { timeoutMs: stopMs });
      const up = nextEvent(f.hypervisor, (e) => e.kind === 'running' && e.instanceId === opts.instanceId, bootMs, 'running again');
      await f.hypervisor.start({ ...opts, firstBoot: false });
      await up;
      assert.ok((await f.hypervisor.guests()).includes(opts.instanceId));
    });

    caseTest('reboot', 'reboot restarts the guest, which reports running again; a missing guest is an error', async (f) => {
      const opts = await boot(f);
      const again = nextEvent(f.hypervisor, (e) => e.kind === 'running' && e.instanceId === opts.instanceId, bootMs + stopMs, 'running after reboot');
      const exits: GuestEvent[] = [];
      const off = f.hypervisor.onEvent((e) => { if (e.kind === 'exited' && e.instanceId === opts.instanceId) exits.push(e); });
      await f.hypervisor.reboot(opts.instanceId);
      await again;
      off();
      assert.deepEqual(exits, [], 'a reboot is not an exit');
      assert.ok((await f.hypervisor.guests()).includes(opts.instanceId));
      await assert.rejects(f.hypervisor.reboot(newInstanceId()), GuestNotRunningError);
    });

    caseTest('terminate', 'terminate kills the guest and forgets the instance, console included', async (f) => {
      const opts = await boot(f);
      await f.hypervisor.terminate(opts.instanceId);
      assert.ok(!(await f.hypervisor.guests()).includes(opts.instanceId));
      assert.equal(await f.hypervisor.consoleOutput(opts.instanceId), undefined);
    });

    caseTest('idempotent', 'stop and terminate of an instance without a guest succeed and change nothing', async (f) => {
      const id = newInstanceId();
      await f.hypervisor.stop(id, { timeoutMs: 1000 });
      await f.hypervisor.terminate(id);
      assert.ok(!(await f.hypervisor.guests()).includes(id));
    });

    caseTest('already-running', 'starting an instance that already has a guest is GuestAlreadyRunningError', async (f) => {
      const opts = await boot(f);
      await assert.rejects(f.hypervisor.start(opts), GuestAlreadyRunningError);
    });

    caseTest('hotplug', 'volumes attach to and detach from a running guest', async (f) => {
      const opts = await boot(f);
      const disk = await f.dataDisk('/dev/sdf', 1024 ** 3);
      if (!f.hypervisor.capabilities.hotplug) {
        await assert.rejects(f.hypervisor.attachDisk(opts.instanceId, disk), HypervisorUnsupportedError);
        return;
      }
      await f.hypervisor.attachDisk(opts.instanceId, disk);
      await f.hypervisor.detachDisk(opts.instanceId, '/dev/sdf');
      await assert.rejects(f.hypervisor.attachDisk(newInstanceId(), disk), GuestNotRunningError);
    });

    caseTest('forwards', 'forwarded ports follow each call; every port is forwarded or refused with a reason', async (f) => {
      const opts = await boot(f);
      const hostAddress = '127.77.0.9';
      const ports = [40022, 40080];
      const first = await f.hypervisor.setForwards!(opts.instanceId, { hostAddress, ports });
      assert.deepEqual([...first.forwarded, ...first.refused.map((r) => r.port)].sort(), ports);
      for (const r of first.refused) assert.ok(r.reason.length > 10, 'a refusal says why');
      const second = await f.hypervisor.setForwards!(opts.instanceId, { hostAddress, ports: [40022] });
      assert.deepEqual([...second.forwarded, ...second.refused.map((r) => r.port)], [40022]);
      const none = await f.hypervisor.setForwards!(opts.instanceId, { hostAddress, ports: [] });
      assert.deepEqual(none, { forwarded: [], refused: [] });
      await assert.rejects(f.hypervisor.setForwards!(newInstanceId(), { hostAddress, ports }), GuestNotRunningError);
    }, false, { what: 'capabilities.forwarding', has: (c) => !!c.forwarding });

    caseTest('no-boot', 'a firmware boot of a disk without a boot loader runs, unreachable, and stops cleanly', async (f) => {
      const garbage = Buffer.alloc(4096, 0);
      garbage.write('this disk has no boot loader and no partition table', 0);
      const opts = await guestOptions(f, { boot: { kind: 'firmware', firmware: 'bios' }, disks: [memoryDisk('/dev/xvda', 64 * 1024 * 1024, garbage)] });
      const unreachable = nextEvent(f.hypervisor, (e) => e.kind === 'unreachable' && e.instanceId === opts.instanceId, bootMs, 'unreachable event');
      await f.hypervisor.start(opts);
      const e = await unreachable;
      assert.match(e.kind === 'unreachable' ? e.detail : '', /No bootable device/);
      assert.ok((await f.hypervisor.guests()).includes(opts.instanceId), 'the guest still runs');
      assert.match(await consoleText(f.hypervisor, opts.instanceId), /No bootable device/);
      await f.hypervisor.stop(opts.instanceId, { timeoutMs: 2000 });
      assert.ok(!(await f.hypervisor.guests()).includes(opts.instanceId));
    }, false, { what: "'firmware' in capabilities.bootModes", has: (c) => !!c.bootModes?.includes('firmware') });

    caseTest('user-data', 'user data runs on the first boot only and reaches the disks', async (f) => {
      const userData = Buffer.from('#!amiforge-sim\nwrite /dev/xvda 1048576 hello from user data\necho wrote it\n');
      const opts = await boot(f, { userData });
      const root = opts.disks[0];
      await until(async () => (await consoleText(f.hypervisor, opts.instanceId)).includes('wrote it'), bootMs, 'user data output');
      assert.equal((await root.read(1048576, 21)).toString(), 'hello from user data\0', 'the text, verbatim, and nothing after it');
      await root.write(1048576, Buffer.from('overwritten!'));
      await f.hypervisor.stop(opts.instanceId, { timeoutMs: stopMs });
      await f.hypervisor.start({ ...opts, firstBoot: false });
      await until(async () => (await consoleText(f.hypervisor, opts.instanceId)).split('login:').length > 2, bootMs, 'second boot');
      assert.equal((await root.read(1048576, 12)).toString(), 'overwritten!', 'not run again on the second boot');
    }, true);

    caseTest('guest-poweroff', 'a guest that powers itself off reports a guest-initiated exit', async (f) => {
      const opts = await guestOptions(f, { userData: Buffer.from('#!amiforge-sim\npoweroff\n') });
      const exited = nextEvent(f.hypervisor, (e) => e.kind === 'exited' && e.instanceId === opts.instanceId, bootMs, 'exited event');
      await f.hypervisor.start(opts);
      const e = await exited;
      assert.equal(e.kind === 'exited' && e.initiatedBy, 'guest');
      assert.ok(!(await f.hypervisor.guests()).includes(opts.instanceId));
    }, true);

    caseTest('concurrent', 'several guests run at once and stop independently', async (f) => {
      const guests = await Promise.all([0, 1, 2].map(() => boot(f)));
      await f.hypervisor.stop(guests[1].instanceId, { timeoutMs: stopMs });
      const listed = await f.hypervisor.guests();
      assert.ok(listed.includes(guests[0].instanceId) && listed.includes(guests[2].instanceId));
      assert.ok(!listed.includes(guests[1].instanceId));
    });
  });
}
