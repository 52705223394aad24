// The simulator runs the Hypervisor contract in full (it skips nothing), plus what only it does:
// the boot log names the catalogue image on the root volume, and the user-data dialect.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hypervisorContract, memoryDisk } from '../../../test/contracts/hypervisor.contract.ts';
import type { GuestEvent } from '../../ports/hypervisor.ts';
import { SimHypervisor } from './sim-hypervisor.ts';
import { fillBlock, parseSimScript, printable, SimScriptError } from './sim-user-data.ts';

const catalogueHead = Buffer.from('amiforge catalogue image\nname: al2023-test\narchitecture: x86_64\n');

hypervisorContract('sim', async () => ({
  hypervisor: new SimHypervisor({ bootMs: 20, shutdownMs: 5 }),
  rootDisk: async (device) => memoryDisk(device, 8 * 1024 ** 3, catalogueHead),
  dataDisk: async (device, size) => memoryDisk(device, size),
  cleanup: async () => {},
}), { bootTimeoutMs: 5000, stopTimeoutMs: 5000 });

function waitFor(hv: SimHypervisor, kind: GuestEvent['kind'], id: string): Promise<GuestEvent> {
  return new Promise((resolve) => {
    const off = hv.onEvent((e) => {
      if (e.kind === kind && e.instanceId === id) {
        off();
        resolve(e);
      }
    });
  });
}

async function consoleWhen(hv: SimHypervisor, id: string, text: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const out = (await hv.consoleOutput(id))?.text ?? '';
    if (out.includes(text)) return out;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`console of ${id} never showed ${text}: ${(await hv.consoleOutput(id))?.text}`);
}

describe('SimHypervisor', () => {
  const start = async (hv: SimHypervisor, userData?: string, head = catalogueHead) => {
    const root = memoryDisk('/dev/xvda', 8 * 1024 ** 3, head);
    const data = memoryDisk('/dev/sdb', 1024 ** 3);
    const instanceId = 'i-0123456789abcdef0';
    const up = waitFor(hv, 'running', instanceId);
    await hv.start({
      instanceId, rootDevice: '/dev/xvda', disks: [root], instanceStore: [data], firstBoot: true,
      machine: { instanceType: 't3.small', vcpus: 2, memoryMiB: 2048, architecture: 'x86_64' },
      userData: userData === undefined ? undefined : Buffer.from(userData),
      metadata: { 'instance-id': instanceId, 'local-hostname': 'ip-172-31-1-2.ec2.internal' },
    });
    await up;
    return { instanceId, root, data };
  };

  test('the boot log has a kernel line, the catalogue image name and cloud-init finishing', async () => {
    const hv = new SimHypervisor({ bootMs: 1 });
    const { instanceId } = await start(hv);
    const out = await consoleWhen(hv, instanceId, 'login:');
    assert.match(out, /Linux version 6\.1\.0-amiforge-sim/);
    assert.match(out, /catalogue image al2023-test \(x86_64\)/);
    assert.match(out, /DMI: Amazon EC2 t3\.small/);
    assert.match(out, /Cloud-init v\. [\d.]+ finished at .*Datasource DataSourceEc2Local/);
    assert.match(out, /ip-172-31-1-2\.ec2\.internal login:/);
    await hv.close();
  });

  test('with no boot time, start() returns once the guest has reported running', async () => {
    const hv = new SimHypervisor({ bootMs: 0 });
    const seen: string[] = [];
    hv.onEvent((e) => seen.push(e.kind));
    await hv.start({
      instanceId: 'i-0123456789abcdef1', rootDevice: '/dev/xvda', disks: [memoryDisk('/dev/xvda', 1024 ** 3, catalogueHead)], instanceStore: [], firstBoot: true,
      machine: { instanceType: 't3.micro', vcpus: 2, memoryMiB: 1024, architecture: 'x86_64' }, metadata: {},
    });
    assert.deepEqual(seen, ['running']);
    await hv.close();
  });

  test('an empty root volume still boots, and says so', async () => {
    const hv = new SimHypervisor({ bootMs: 1 });
    const { instanceId } = await start(hv, undefined, Buffer.alloc(0));
    assert.match(await consoleWhen(hv, instanceId, 'login:'), /starts with zeros/);
    await hv.close();
  });

  test('the dialect writes, reads, fills and prints metadata; errors stop the script', async () => {
    const hv = new SimHypervisor({ bootMs: 1 });
    const script = [
      '#!amiforge-sim', '# a comment', '', 'echo hello world', 'write /dev/xvda 1M text with  spaces',
      'read xvda 1M 18', 'fill /dev/sdb 0 1M seed', 'metadata instance-id', 'read /dev/sdc 0 1', 'echo never',
    ].join('\n');
    const { instanceId, root, data } = await start(hv, script);
    const out = await consoleWhen(hv, instanceId, 'login:');
    assert.match(out, /^hello world$/m);
    assert.match(out, /^text with  spaces\.$/m);
    assert.match(out, /^i-0123456789abcdef0$/m);
    assert.match(out, /user data failed: line 9: no volume is attached at \/dev\/sdc/);
    assert.doesNotMatch(out, /never/);
    assert.equal((await root.read(1024 * 1024, 17)).toString(), 'text with  spaces');
    assert.deepEqual(await data.read(512 * 1024, 32), fillBlock('seed', 1).subarray(0, 32));
    assert.notDeepEqual(fillBlock('seed', 0).subarray(0, 32), fillBlock('seed', 1).subarray(0, 32));
    await hv.close();
  });

  test('user data that is not in the dialect is reported, not run', async () => {
    const hv = new SimHypervisor({ bootMs: 1 });
    const { instanceId } = await start(hv, '#!/bin/bash\necho hi\n');
    assert.match(await consoleWhen(hv, instanceId, 'login:'), /not in the #!amiforge-sim dialect/);
    await hv.close();
  });

  test('reboot keeps the disks and prints a second boot', async () => {
    const hv = new SimHypervisor({ bootMs: 1, shutdownMs: 1 });
    const { instanceId } = await start(hv);
    await consoleWhen(hv, instanceId, 'login:');
    const again = waitFor(hv, 'running', instanceId);
    await hv.reboot(instanceId);
    await again;
    const out = await consoleWhen(hv, instanceId, 'Restarting system');
    assert.equal(out.split('Linux version').length, 3);
    await hv.close();
  });

  test('parse errors name the line; numbers take K, M and G suffixes', () => {
    assert.throws(() => parseSimScript('echo no shebang'), SimScriptError);
    assert.throws(() => parseSimScript('#!amiforge-sim\nfrobnicate'), /line 2: unknown command 'frobnicate'/);
    assert.throws(() => parseSimScript('#!amiforge-sim\nwrite /dev/xvda x y'), /line 2: OFFSET must be a number/);
    assert.throws(() => parseSimScript('#!amiforge-sim\nread /dev/xvda 0 5000'), /at most 4096/);
    assert.deepEqual(parseSimScript('#!amiforge-sim\nfill xvdb 2K 3M s'), [{ op: 'fill', line: 2, device: 'xvdb', offset: 2048, length: 3 * 1024 ** 2, seed: 's' }]);
    assert.equal(printable(Buffer.from([0x41, 0, 0x0a, 0x42])), 'A. B');
  });
});
