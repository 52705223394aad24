// Several amiforge serve processes on one store, for multi-node wire tests. The stores are this
// file's one decision: today the nodes share one data directory (SQLite in WAL mode and the
// filesystem block store both work across processes on one machine); a cluster on a database
// and an object store is started here alone, by changing the arguments each node gets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type TestAccount } from './server.ts';

export interface ClusterOptions {
  nodes: number;
  /** Given to every node, after the cluster's own arguments. */
  extraArgs?: string[];
  /** Strict mode with these accounts; dev mode when absent. */
  accounts?: TestAccount[];
  env?: Record<string, string>;
  /** --lease-seconds of every node (default 3: a killed node is gone within seconds). */
  leaseSeconds?: number;
}

export interface RunningCluster {
  /** Node i is `--node-id node-<i+1>`. */
  nodes: RunningServer[];
  nodeIds: string[];
  /** The shared data directory. */
  dataDir: string;
  /** Starts node i again (killing it first if it still runs), on the same store with the same id. */
  restart(i: number): Promise<RunningServer>;
  /** Stops the nodes still running (SIGTERM) and removes the shared store. */
  stop(): Promise<void>;
}

export async function startCluster(o: ClusterOptions): Promise<RunningCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-cluster-'));
  const leaseSeconds = o.leaseSeconds ?? 3;
  const nodes: RunningServer[] = [];
  const nodeIds: string[] = [];
  const alive = (n: RunningServer) => n.process.exitCode === null && n.process.signalCode === null;
  const start = (nodeId: string) => startServer({
    dataDir, accounts: o.accounts, env: o.env,
    extraArgs: ['--node-id', nodeId, '--lease-seconds', String(leaseSeconds), ...(o.extraArgs ?? [])],
  });
  const stop = async () => {
    for (const n of nodes) if (alive(n)) await n.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // One after another: the first creates the schema and loads the catalogue, the others find them.
    for (let i = 0; i < o.nodes; i++) {
      const nodeId = `node-${i + 1}`;
      nodeIds.push(nodeId);
      nodes.push(await start(nodeId));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const restart = async (i: number) => {
    if (alive(nodes[i])) await nodes[i].kill();
    nodes[i] = await start(nodeIds[i]);
    return nodes[i];
  };
  return { nodes, nodeIds, dataDir, restart, stop };
}
