// Which node an instance's guest belongs to, when several API nodes share one store. A guest
// runs under the hypervisor of the node that launched or last started it (InstanceRecord.nodeId);
// a request that needs the guest is handled there. A node is gone once its heartbeat is older
// than the lease: its guests went with it, so its instances are reported as EC2 reports
// instances of a failed host, and any node may stop or terminate them (or start them, which
// moves them to that node).
import type { Clock } from '../../ports/clock.ts';
import type { InstanceRecord, InstanceStateName } from '../../ports/instance-repository.ts';
import { isLive, type NodeRecord, type NodeRegistry } from '../../ports/node-registry.ts';
import { Errors } from '../errors.ts';

/** States in which an instance has (or is getting, or is losing) a guest on its node. */
export const GUEST_STATES: readonly InstanceStateName[] = ['pending', 'running', 'stopping', 'shutting-down'];

export type InstanceRoute =
  /** Handle here: the guests are this node's, or none of them has a guest on a live node. */
  | { kind: 'local' }
  /** Every guest concerned runs on this other, live node: send it the request. */
  | { kind: 'forward'; nodeId: string; url: string };

export interface OwnershipDeps {
  nodes: NodeRegistry;
  /** This node's id (--node-id). */
  nodeId: string;
  leaseMs: number;
  clock: Clock;
}

export class InstanceOwnership {
  private readonly deps: OwnershipDeps;
  constructor(deps: OwnershipDeps) {
    this.deps = deps;
  }

  get nodeId(): string {
    return this.deps.nodeId;
  }

  /**
   * The node the instance's guest runs on, when that is another node: live or gone. Undefined
   * when the guest (if any) is this node's, or the instance has no guest (stopped, terminated),
   * or the record is from before nodes were recorded.
   */
  async otherOwner(r: InstanceRecord): Promise<{ node?: NodeRecord; nodeId: string; live: boolean } | undefined> {
    if (!r.nodeId || r.nodeId === this.deps.nodeId || !GUEST_STATES.includes(r.state)) return undefined;
    const node = await this.deps.nodes.get(r.nodeId);
    return { node, nodeId: r.nodeId, live: isLive(node, this.deps.clock.now(), this.deps.leaseMs) };
  }

  /** True when the instance's guest was on another node that is gone (no heartbeat within the lease). */
  async ownerGone(r: InstanceRecord): Promise<boolean> {
    const other = await this.otherOwner(r);
    return !!other && !other.live;
  }

  /** When the gone owner's lease ran out: EC2's ImpairedSince for the failed host. */
  async ownerGoneSince(r: InstanceRecord): Promise<Date | undefined> {
    const other = await this.otherOwner(r);
    if (!other || other.live) return undefined;
    return other.node ? new Date(Date.parse(other.node.lastHeartbeat) + this.deps.leaseMs) : this.deps.clock.now();
  }

  /**
   * Where a request about these instances (the caller's own, already found) is handled. Several
   * instances whose guests run on different nodes cannot be served by one node: the caller is
   * asked to send one request per node (a limit of amiforge, documented).
   */
  async route(records: InstanceRecord[]): Promise<InstanceRoute> {
    const remote = new Map<string, NodeRecord>();
    let local = false;
    for (const r of records) {
      const other = await this.otherOwner(r);
      if (other?.live) remote.set(other.nodeId, other.node!);
      else if (r.nodeId === this.deps.nodeId && GUEST_STATES.includes(r.state)) local = true;
    }
    if (!remote.size) return { kind: 'local' };
    if (remote.size > 1 || local) {
      throw Errors.invalidParameterCombination(
        `The instances ${records.map((r) => r.instanceId).join(', ')} run on different amiforge nodes (${[...remote.keys(), ...(local ? [this.deps.nodeId] : [])].join(', ')}); send one request per node.`);
    }
    const [node] = remote.values();
    return { kind: 'forward', nodeId: node.nodeId, url: node.url };
  }
}
