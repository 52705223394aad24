// This process as one node among several `amiforge serve` processes on one store: its
// heartbeat in the node registry (every third of the lease), the instance ownership rules the
// EC2 dispatch and the lifecycle use, and what GET /_amiforge/nodes shows.
import { writeFileSync } from 'node:fs';
import type { ServerConfig } from '../config/config.ts';
import { GUEST_STATES, InstanceOwnership } from '../domain/instances/instance-ownership.ts';
import type { InstanceNetwork } from '../domain/network/instance-network.ts';
import type { Clock } from '../ports/clock.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import { isLive, type NodeInfo } from '../ports/node-registry.ts';
import type { Logger } from './logger.ts';

/**
 * The background-work leases a node holds, shown by /_amiforge/nodes (app.ts reads them from
 * store.leases; docs/cluster.md); without it, nodes are shown without leases.
 */
export type HeldLeases = (nodeId: string) => Promise<{ name: string; expiresAt: string }[]>;

export interface NodeView {
  nodeId: string;
  url: string;
  startedAt: string;
  lastHeartbeat: string;
  hypervisor: string;
  version?: string;
  self: boolean;
  instances: { count: number; ids: string[] };
  leases?: { name: string; expiresAt: string }[];
}

export interface ClusterNodeDeps {
  config: ServerConfig;
  store: MetadataStore;
  clock: Clock;
  log: Logger;
  hypervisorName: string;
  heldLeases?: HeldLeases;
}

export class ClusterNode {
  readonly ownership: InstanceOwnership;
  private readonly deps: ClusterNodeDeps;
  private readonly startedAt: string;
  private info?: NodeInfo;
  private timer?: NodeJS.Timeout;
  private network?: InstanceNetwork;

  constructor(deps: ClusterNodeDeps) {
    this.deps = deps;
    this.startedAt = deps.clock.now().toISOString();
    this.ownership = new InstanceOwnership({ nodes: deps.store.nodes, nodeId: deps.config.nodeId, leaseMs: deps.config.leaseMs, clock: deps.clock });
  }

  get nodeId(): string {
    return this.deps.config.nodeId;
  }

  /** The instance network whose forwards the heartbeat reconciles (built after this node). */
  useNetwork(network: InstanceNetwork): void {
    this.network = network;
  }

  /**
   * Registers the node at `listenUrl` (or its --advertise-url) and keeps its heartbeat; each beat
   * also hands this node's guests the ports of rules changed on other nodes. Called once the
   * server listens, before it says so: a node is never asked to forward to one not yet known.
   */
  async announce(listenUrl: string, version: string): Promise<void> {
    const { config, store, clock, log } = this.deps;
    this.info = {
      nodeId: config.nodeId, url: config.advertiseUrl ?? listenUrl, startedAt: this.startedAt,
      hypervisor: this.deps.hypervisorName, version,
    };
    await store.nodes.heartbeat(this.info, clock.now());
    log.info({ nodeId: config.nodeId, url: this.info.url, leaseMs: config.leaseMs }, 'node registered');
    let beating = false;
    this.timer = setInterval(() => {
      // A slow store must not pile up beats.
      if (beating) return;
      beating = true;
      this.beat().catch((err) => log.error({ err }, 'node heartbeat failed')).finally(() => { beating = false; });
    }, Math.max(100, Math.floor(config.leaseMs / 3)));
    this.timer.unref();
  }

  /**
   * A default node id is kept in the data directory at the first start, so later starts are the
   * same node. Never overwritten: a node id kept there by another process first stays.
   */
  keepNodeId(): void {
    const file = this.deps.config.nodeIdFile;
    if (!file) return;
    try {
      writeFileSync(file, `${this.deps.config.nodeId}\n`, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }

  /**
   * Another live process with this node id (two nodes on one data directory without --node-id)
   * would take this one's instances for its own: refused at start. A record left by this node's
   * previous life (a crash within the lease) does not answer as a live node, and is taken over.
   * Called before this node recovers its instances, and before it listens (so it never asks itself).
   */
  async refuseDuplicate(): Promise<void> {
    const { store, clock, config } = this.deps;
    const previous = await store.nodes.get(config.nodeId);
    if (!isLive(previous, clock.now(), config.leaseMs)) return;
    let answer: { nodeId?: string } | undefined;
    try {
      // Health names its node and is open in strict mode too (/_amiforge/nodes is for operators);
      // a node whose stores fail answers 503 but is still alive.
      const res = await fetch(new URL('/_amiforge/health', previous.url), { signal: AbortSignal.timeout(2000) });
      answer = res.status === 200 || res.status === 503 ? await res.json() as { nodeId?: string } : undefined;
    } catch {
      return;
    }
    if (answer?.nodeId === config.nodeId) {
      throw new Error(`node id ${config.nodeId} is in use by a live node at ${previous.url}; give each node its own --node-id`);
    }
  }

  private async beat(): Promise<void> {
    await this.deps.store.nodes.heartbeat(this.info!, this.deps.clock.now());
    if (this.network) {
      const mine = await this.deps.store.instances.onNode(this.nodeId, ['pending', 'running']);
      const changed = await this.network.reconcile(mine);
      if (changed.length) this.deps.log.info({ instances: changed }, 'port forwards updated after security group changes on other nodes');
    }
  }

  /** The live nodes, with the instances whose guests each runs and the leases each holds. */
  async nodes(): Promise<NodeView[]> {
    const { store, clock, config } = this.deps;
    const out: NodeView[] = [];
    for (const n of await store.nodes.live(clock.now(), config.leaseMs)) {
      const ids = (await store.instances.onNode(n.nodeId, [...GUEST_STATES])).map((r) => r.instanceId);
      out.push({
        nodeId: n.nodeId, url: n.url, startedAt: n.startedAt, lastHeartbeat: n.lastHeartbeat, hypervisor: n.hypervisor, version: n.version,
        self: n.nodeId === config.nodeId, instances: { count: ids.length, ids },
        ...(this.deps.heldLeases ? { leases: await this.deps.heldLeases(n.nodeId) } : {}),
      });
    }
    return out;
  }

  /** A clean shutdown: the heartbeat stops and the node leaves the registry at once. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.info) await this.deps.store.nodes.remove(this.nodeId).catch((err) => this.deps.log.error({ err }, 'leaving the node registry failed'));
  }
}
