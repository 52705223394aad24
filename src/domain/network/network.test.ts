// Security groups and the hypervisor, in process: the ports an instance's groups allow from the
// host are handed to the driver at start (StartGuestOptions.forwards) and again through
// setForwards whenever a rule or the instance's groups change; the host address is released at
// stop. A recording driver (the simulator plus forwarding) shows what the driver was told.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimHypervisor } from '../../adapters/sim/sim-hypervisor.ts';
import type { ForwardsResult, GuestForwards, StartGuestOptions } from '../../ports/hypervisor.ts';
import type { Caller } from '../context.ts';
import { forwardedPorts, WELL_KNOWN_PORTS } from './host-ports.ts';
import type { SecurityGroupRecord } from '../../ports/network-repository.ts';
import { instanceWorld } from '../../../test/support/instance-world.ts';

const caller: Caller = { account: '123456789012', region: 'us-east-1' };
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'amiforge-network-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The simulator, able to forward: it records each start's forwards and each setForwards call; port 8443 is refused. */
class RecordingHypervisor extends SimHypervisor {
  override readonly capabilities = { hotplug: true, simDialect: true, forwarding: true };
  readonly calls: { instanceId: string; forwards?: GuestForwards; via: 'start' | 'setForwards' }[] = [];
  override async start(o: StartGuestOptions): Promise<void> {
    this.calls.push({ instanceId: o.instanceId, forwards: o.forwards, via: 'start' });
    return super.start(o);
  }
  override async setForwards(instanceId: string, forwards: GuestForwards): Promise<ForwardsResult> {
    this.calls.push({ instanceId, forwards, via: 'setForwards' });
    return { forwarded: forwards.ports.filter((p) => p !== 8443), refused: forwards.ports.includes(8443) ? [{ port: 8443, reason: 'in use' }] : [] };
  }
  last(instanceId: string) {
    return this.calls.filter((c) => c.instanceId === instanceId).at(-1);
  }
}

async function world() {
  const hypervisor = new RecordingHypervisor({ bootMs: 1 });
  return { ...await instanceWorld({ dir, caller, hypervisor }), hypervisor };
}

const tcp = (from: number, to: number, cidr = '0.0.0.0/0') => ({ IpProtocol: 'tcp', FromPort: from, ToPort: to, IpRanges: [{ CidrIp: cidr }] });

describe('forwarded host ports', () => {
  test('which rules count: IPv4 blocks holding 127.0.0.1, tcp or all; wide ranges give the well-known ports', () => {
    const g = (rules: Partial<SecurityGroupRecord['rules'][number]>[]): SecurityGroupRecord => ({
      account: '1', region: 'r', groupId: 'sg-1', groupName: 'g', description: '', vpcId: 'vpc-1',
      rules: rules.map((r, i) => ({ ruleId: `sgr-${i}`, egress: false, protocol: 'tcp', fromPort: 22, toPort: 22, ...r })),
    });
    assert.deepEqual(forwardedPorts([g([{ cidrIpv4: '0.0.0.0/0' }])]), [22]);
    assert.deepEqual(forwardedPorts([g([{ cidrIpv4: '127.0.0.0/8' }])]), [22]);
    assert.deepEqual(forwardedPorts([g([{ cidrIpv4: '10.0.0.0/8' }])]), [], 'the host is not in 10.0.0.0/8');
    assert.deepEqual(forwardedPorts([g([{ cidrIpv6: '::/0' }])]), [], 'nor an IPv6 block');
    assert.deepEqual(forwardedPorts([g([{ referencedGroupId: 'sg-2' }])]), [], 'nor a group');
    assert.deepEqual(forwardedPorts([g([{ cidrIpv4: '0.0.0.0/0', protocol: 'udp' }])]), [], 'udp is not forwarded');
    assert.deepEqual(forwardedPorts([g([{ cidrIpv4: '0.0.0.0/0', egress: true }])]), [], 'egress rules do not open ports');
    assert.deepEqual(forwardedPorts([g([{ cidrIpv4: '0.0.0.0/0', fromPort: 8000, toPort: 8003 }])]), [8000, 8001, 8002, 8003]);
    assert.deepEqual(forwardedPorts([g([{ cidrIpv4: '0.0.0.0/0', protocol: '-1', fromPort: -1, toPort: -1 }])]), [...WELL_KNOWN_PORTS]);
    assert.deepEqual(forwardedPorts([g([{ cidrIpv4: '0.0.0.0/0', fromPort: 0, toPort: 1000 }, { cidrIpv4: '0.0.0.0/0', fromPort: 9999, toPort: 9999 }])]), [22, 80, 443, 9999]);
  });

  test('forwards at start, again when rules or groups change, and none once stopped', async () => {
    const w = await world();
    try {
      const web = (await w.s.securityGroups.create(caller, { GroupName: 'web', Description: 'web' })).GroupId!;
      const other = (await w.s.securityGroups.create(caller, { GroupName: 'other', Description: 'other' })).GroupId!;
      await w.s.securityGroups.authorize(caller, { GroupId: web, IpPermissions: [tcp(22, 22)] }, false);
      const res = await w.s.launcher.run(caller, { ImageId: w.imageId, MinCount: 1, MaxCount: 1, SecurityGroupIds: [web] });
      const id = res.Instances![0].InstanceId!;
      await w.settle();
      const started = w.hypervisor.last(id)!;
      assert.equal(started.via, 'start');
      assert.match(started.forwards!.hostAddress, /^127\.100\.\d+\.\d+$/);
      assert.deepEqual(started.forwards!.ports, [22]);
      const host = started.forwards!.hostAddress;
      const described = (await w.s.instances.describe(caller, { InstanceIds: [id] })).Reservations![0].Instances![0];
      assert.equal(described.PublicIpAddress, host);

      await w.s.securityGroups.authorize(caller, { GroupId: web, IpPermissions: [tcp(80, 80, '127.0.0.1/32'), tcp(8443, 8443)] }, false);
      assert.deepEqual(w.hypervisor.last(id), { instanceId: id, via: 'setForwards', forwards: { hostAddress: host, ports: [22, 80, 8443] } });
      await w.s.securityGroups.revoke(caller, { GroupId: web, IpPermissions: [tcp(22, 22)] }, false);
      assert.deepEqual(w.hypervisor.last(id)!.forwards!.ports, [80, 8443], 'revoking port 22 closes it on the running guest');
      const calls = w.hypervisor.calls.length;
      await w.s.securityGroups.authorize(caller, { GroupId: other, IpPermissions: [tcp(3000, 3000)] }, false);
      assert.equal(w.hypervisor.calls.length, calls, 'a group the instance does not use changes nothing');
      await w.s.instances.modifyAttribute(caller, { InstanceId: id, Groups: [other] });
      assert.deepEqual(w.hypervisor.last(id)!.forwards!.ports, [3000], 'new groups, new ports');
      const [rule] = (await w.s.securityGroups.describeRules(caller, { Filters: [{ Name: 'group-id', Values: [other] }] })).SecurityGroupRules!
        .filter((r) => !r.IsEgress);
      await w.s.securityGroups.modifyRules(caller, { GroupId: other, SecurityGroupRules: [{ SecurityGroupRuleId: rule.SecurityGroupRuleId!, SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 3001, ToPort: 3001, CidrIpv4: '0.0.0.0/0' } }] });
      assert.deepEqual(w.hypervisor.last(id)!.forwards!.ports, [3001]);

      await w.s.lifecycle.stop(caller, [id]);
      await w.settle();
      assert.equal((await w.store.instances.get(caller.region, id))!.publicIpAddress, undefined, 'released at stop');
      const stoppedCalls = w.hypervisor.calls.length;
      await w.s.securityGroups.authorize(caller, { GroupId: other, IpPermissions: [tcp(22, 22)] }, false);
      assert.equal(w.hypervisor.calls.length, stoppedCalls, 'a stopped instance has nothing forwarded');
      await w.s.lifecycle.start(caller, [id]);
      await w.settle();
      assert.deepEqual(w.hypervisor.last(id)!.forwards!.ports, [22, 3001], 'the start hands the current rules');
    } finally {
      await w.close();
    }
  });

  test('instances running at once get distinct host addresses (the store keeps them unique across accounts and regions)', async () => {
    const w = await world();
    try {
      const a = await w.s.launcher.run(caller, { ImageId: w.imageId, MinCount: 3, MaxCount: 3 });
      await w.settle();
      const hosts = new Set(a.Instances!.map((i) => w.hypervisor.last(i.InstanceId!)!.forwards!.hostAddress));
      assert.equal(hosts.size, 3);
      for (const i of a.Instances!) assert.deepEqual(w.hypervisor.last(i.InstanceId!)!.forwards!.ports, [], 'the default group opens nothing to the host');
    } finally {
      await w.close();
    }
  });
});
