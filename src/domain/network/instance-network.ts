// An instance's place in the network: at launch its subnet (from SubnetId, the simple form of
// NetworkInterfaces, or the default subnet of the zone) and security groups (ids, names, or the
// VPC's default group); while it runs its own address on the host (PublicIpAddress) and the TCP
// ports its groups let the host reach, handed to the hypervisor at start and again whenever the
// groups or their rules change.
import type { RunInstancesRequest } from '../../protocol/ec2/types.generated.ts';
import { GuestNotRunningError, type ForwardsResult, type GuestForwards, type Hypervisor } from '../../ports/hypervisor.ts';
import type { InstanceNetworkRecord, InstanceRecord } from '../../ports/instance-repository.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SecurityGroupRecord, SubnetRecord } from '../../ports/network-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { isResourceId } from '../resource-ids.ts';
import { instanceMacAddress } from '../instances/guest-spec.ts';
import { intToIpv4, ipv4BlockSize, parseIpv4Cidr } from './cidr.ts';
import { DEFAULT_GROUP_NAME, derivedId, ensureDefaultNetwork } from './default-network.ts';
import { forwardedPorts } from './host-ports.ts';

/** EC2's limit of security groups on one network interface. */
export const GROUPS_PER_INTERFACE = 5;

export interface HostAddressRange {
  /** First and last usable addresses, as 32-bit integers. */
  first: number;
  last: number;
}

export interface InstanceNetworkDeps {
  store: MetadataStore;
  hypervisor: Hypervisor;
  hostAddresses: HostAddressRange;
  /** Ports the hypervisor could not forward, with why (logged). */
  onRefused: (instanceId: string, refused: ForwardsResult['refused']) => void;
  onError: (what: string, err: unknown) => void;
  /**
   * This node's id when several API nodes share the store: only guests it runs are handed their
   * forwards here; a rule changed on another node reaches them through reconcile().
   */
  nodeId?: string;
}

export interface LaunchNetwork {
  zone: string;
  subnet: SubnetRecord;
  groups: { groupId: string; groupName: string }[];
  publicAddress: boolean;
}

/** The usable private addresses of a subnet: AWS reserves the first four and the last. */
export function subnetAddressRange(subnet: SubnetRecord): { first: number; last: number } {
  const block = parseIpv4Cidr(subnet.cidrBlock)!;
  return { first: block.base + 4, last: block.base + ipv4BlockSize(block) - 2 };
}

export class InstanceNetwork {
  private readonly deps: InstanceNetworkDeps;
  /** The ports last handed to each running guest of this node, to tell when its groups' rules changed. */
  private readonly handed = new Map<string, string>();
  constructor(deps: InstanceNetworkDeps) {
    this.deps = deps;
  }

  /**
   * Where RunInstances puts its instances: `zone` is the one Placement asked for, if any. A subnet
   * in another zone is EC2's InvalidParameterCombination.
   */
  async placement(caller: Caller, req: RunInstancesRequest, zone: string | undefined, defaultZone: string): Promise<LaunchNetwork> {
    const nics = req.NetworkInterfaces ?? [];
    if (nics.length > 1 || nics.some((n) => (n.DeviceIndex ?? 0) !== 0)) {
      throw Errors.unsupportedOperation('amiforge gives an instance one network interface: NetworkInterfaces may hold only DeviceIndex 0.');
    }
    const nic = nics[0];
    if (nic) {
      const unsupported = (['NetworkInterfaceId', 'PrivateIpAddresses', 'SecondaryPrivateIpAddressCount', 'Ipv6Addresses', 'Ipv6AddressCount', 'PrivateIpAddress'] as const)
        .find((k) => nic[k] !== undefined);
      if (unsupported) throw Errors.unsupportedOperation(`The parameter NetworkInterface.${unsupported} is not supported by amiforge's RunInstances.`);
      if (req.SubnetId || req.SecurityGroupIds?.length || req.SecurityGroups?.length) {
        throw Errors.invalidParameterCombination('Network interfaces and an instance-level subnet ID or security groups may not be specified on the same request');
      }
    }
    const network = await ensureDefaultNetwork(this.deps.store.network, caller);
    // An empty SubnetId is no subnet, as EC2 takes it (Packer sends one when no subnet_id is set).
    const subnetId = (nic?.SubnetId ?? req.SubnetId) || undefined;
    let subnet: SubnetRecord;
    if (subnetId !== undefined) {
      if (!isResourceId('subnet', subnetId)) throw Errors.subnetMalformed(subnetId);
      const found = (await this.deps.store.network.subnets(caller.account, caller.region)).find((s) => s.subnetId === subnetId);
      if (!found) throw Errors.subnetNotFound(subnetId);
      if (zone !== undefined && zone !== found.availabilityZone) {
        throw Errors.invalidParameterCombination(`The subnet ${subnetId} is in ${found.availabilityZone}, not in the requested availability zone ${zone}.`);
      }
      subnet = found;
    } else {
      subnet = network.subnets.find((s) => s.availabilityZone === (zone ?? defaultZone))!;
    }
    const groups = await this.resolveGroups(caller, subnet.vpcId, nic ? nic.Groups : req.SecurityGroupIds, nic ? undefined : req.SecurityGroups);
    return { zone: subnet.availabilityZone, subnet, groups, publicAddress: nic?.AssociatePublicIpAddress ?? subnet.mapPublicIpOnLaunch };
  }

  /** Groups named by id or name in the VPC, or its default group when none is named. */
  async resolveGroups(caller: Caller, vpcId: string, ids: string[] | undefined, names?: string[]): Promise<{ groupId: string; groupName: string }[]> {
    const out = new Map<string, SecurityGroupRecord>();
    for (const id of ids ?? []) {
      if (!isResourceId('sg', id)) throw Errors.groupIdMalformed(id);
      const g = await this.deps.store.network.group(caller.account, caller.region, id);
      if (!g) throw Errors.groupNotFound(id);
      if (g.vpcId !== vpcId) throw Errors.groupVpcMismatch(id, vpcId);
      out.set(g.groupId, g);
    }
    for (const name of names ?? []) {
      const g = await this.deps.store.network.groupByName(caller.account, caller.region, vpcId, name);
      if (!g) throw Errors.groupNameNotFound(name, vpcId);
      out.set(g.groupId, g);
    }
    if (!out.size) {
      const g = await this.deps.store.network.groupByName(caller.account, caller.region, vpcId, DEFAULT_GROUP_NAME);
      if (g) out.set(g.groupId, g);
    }
    if (out.size > GROUPS_PER_INTERFACE) throw Errors.groupsPerInterfaceExceeded(GROUPS_PER_INTERFACE);
    return [...out.values()].map((g) => ({ groupId: g.groupId, groupName: g.groupName }));
  }

  /** The interface record of a launched instance. */
  interfaceOf(instanceId: string, launch: LaunchNetwork): InstanceNetworkRecord {
    return {
      vpcId: launch.subnet.vpcId, subnetId: launch.subnet.subnetId, networkInterfaceId: derivedId('eni', instanceId),
      macAddress: instanceMacAddress(instanceId), groups: launch.groups, publicAddress: launch.publicAddress,
    };
  }

  /**
   * At every start: the instance's host address (kept in `r.publicIpAddress`, the caller stores
   * the record) and the ports to forward to it. None without a public address, or when every
   * host address is taken (logged; the instance runs unreachable, as one without a public IP).
   */
  async onStart(r: InstanceRecord): Promise<GuestForwards | undefined> {
    if (!r.network?.publicAddress) return undefined;
    const { first, last } = this.deps.hostAddresses;
    const address = await this.deps.store.network.allocateHostAddress({ instanceId: r.instanceId, account: r.ownerId, region: r.region }, first, last);
    if (address === undefined) {
      this.deps.onError(`host address for ${r.instanceId}`, new Error('every address of the host address range is taken; widen --public-address-range'));
      return undefined;
    }
    r.publicIpAddress = intToIpv4(address);
    const ports = await this.portsOf(r);
    this.handed.set(r.instanceId, ports.join(','));
    return { hostAddress: r.publicIpAddress, ports };
  }

  /**
   * Once the guest is started: a rule that changed while it was starting found no guest to tell,
   * so the ports are compared with those it started with and handed over again if they differ.
   */
  async afterStart(r: InstanceRecord, started: GuestForwards | undefined): Promise<void> {
    if (!started) return;
    const now = await this.portsOf(r);
    if (now.length !== started.ports.length || now.some((p, i) => p !== started.ports[i])) await this.refreshInstance(r);
  }

  /** When the instance stops or terminates: EC2 releases its public address. */
  async onStop(r: InstanceRecord): Promise<void> {
    this.handed.delete(r.instanceId);
    if (r.publicIpAddress === undefined) return;
    await this.deps.store.network.releaseHostAddress(r.instanceId);
    delete r.publicIpAddress;
  }

  private async portsOf(r: InstanceRecord): Promise<number[]> {
    const groups: SecurityGroupRecord[] = [];
    for (const { groupId } of r.network?.groups ?? []) {
      const g = await this.deps.store.network.group(r.ownerId, r.region, groupId);
      if (g) groups.push(g);
    }
    return forwardedPorts(groups);
  }

  /** Hands a running instance's forwards to the hypervisor again (its groups or their rules changed). */
  async refreshInstance(r: InstanceRecord): Promise<void> {
    const hv = this.deps.hypervisor;
    if (!r.publicIpAddress || !hv.capabilities.forwarding || !hv.setForwards) return;
    if (r.state !== 'pending' && r.state !== 'running') return;
    try {
      const ports = await this.portsOf(r);
      this.handed.set(r.instanceId, ports.join(','));
      const result = await hv.setForwards(r.instanceId, { hostAddress: r.publicIpAddress, ports });
      if (result.refused.length) this.deps.onRefused(r.instanceId, result.refused);
    } catch (err) {
      if (!(err instanceof GuestNotRunningError)) this.deps.onError(`port forwards of ${r.instanceId}`, err);
    }
  }

  /** After a group's rules changed: every live instance of the account that uses it. */
  async refreshGroup(caller: Caller, groupId: string): Promise<void> {
    for await (const r of this.deps.store.instances.scan({ region: caller.region, ownerId: caller.account })) {
      if (!this.runsHere(r)) continue;
      if (r.network?.groups.some((g) => g.groupId === groupId)) await this.refreshInstance(r);
    }
  }

  private runsHere(r: InstanceRecord): boolean {
    return !this.deps.nodeId || !r.nodeId || r.nodeId === this.deps.nodeId;
  }

  /**
   * This node's running guests (given) whose groups' rules changed since their ports were last
   * handed over -- by a request another node served -- get them again. Called periodically (with
   * the node's heartbeat), so a rule change on any node takes effect within that period.
   */
  async reconcile(running: InstanceRecord[]): Promise<string[]> {
    const changed: string[] = [];
    for (const r of running) {
      if (!r.publicIpAddress || !this.runsHere(r) || (r.state !== 'running' && r.state !== 'pending')) continue;
      if ((await this.portsOf(r)).join(',') === this.handed.get(r.instanceId)) continue;
      await this.refreshInstance(r);
      changed.push(r.instanceId);
    }
    return changed;
  }

  /** Whether a live (not terminated) instance of the account uses the group. */
  async groupInUse(caller: Caller, groupId: string): Promise<boolean> {
    for await (const r of this.deps.store.instances.scan({ region: caller.region, ownerId: caller.account })) {
      if (r.state !== 'terminated' && r.network?.groups.some((g) => g.groupId === groupId)) return true;
    }
    return false;
  }
}
