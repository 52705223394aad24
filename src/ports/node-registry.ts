// The registry of API nodes sharing one store: each `amiforge serve` process records a heartbeat
// here every third of its lease, and a node whose last heartbeat is older than the lease is gone.
// Other nodes read it to forward requests about a node's instances to it (only ever to a URL
// taken from here) and to report those instances impaired once the node is gone.

export interface NodeInfo {
  nodeId: string;
  /** Where other nodes reach it: its --advertise-url, or http://host:port as it listens. */
  url: string;
  /** When this process started (ISO time); a node restarted with the same id has a new one. */
  startedAt: string;
  /** Its hypervisor driver (`sim`, `qemu`). */
  hypervisor: string;
  /** The amiforge version it runs. */
  version?: string;
}

export interface NodeRecord extends NodeInfo {
  /** Its last heartbeat (ISO time). */
  lastHeartbeat: string;
}

export interface NodeRegistry {
  /** Inserts the node or replaces its record (url, start, ...), with `now` as its last heartbeat. */
  heartbeat(node: NodeInfo, now: Date): Promise<void>;
  /** Nodes whose last heartbeat is younger than `ttlMs` at `now`, by node id. */
  live(now: Date, ttlMs: number): Promise<NodeRecord[]>;
  get(nodeId: string): Promise<NodeRecord | undefined>;
  /** A node leaving cleanly; false when it was not registered. */
  remove(nodeId: string): Promise<boolean>;
}

/** Whether the node's last heartbeat is within the lease at `now`. */
export function isLive(node: NodeRecord | undefined, now: Date, ttlMs: number): node is NodeRecord {
  return !!node && Date.parse(node.lastHeartbeat) + ttlMs > now.getTime();
}
