// Several amiforge nodes on one metadata store and one block store, for the multi-node wire and
// fault tests. The stores are chosen in one place (`sharedStoreArgs`): today one data directory
// that every node opens (SQLite in WAL mode and the filesystem block store both work across
// processes of one machine).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type TestAccount } from './server.ts';

export interface ClusterOptions {
  nodes: number;
  /** Arguments every node gets (after the shared stores' and its identity's). */
  extraArgs?: string[];
  /** Strict mode with these accounts; dev mode when absent. */
  accounts?: TestAccount[];
  env?: Record<string, string>;
  /** How long a node's work lease lasts unrenewed (--lease-seconds); short in tests. */
  leaseSeconds?: number;
}

export interface RunningCluster {
  /** Node i is `node-${i + 1}`; a restarted node replaces its entry. */
  nodes: RunningServer[];
  /** Each node's --node-id, by position. */
  nodeIds: string[];
  /** Starts node i again (after kill or stop) on the same stores and with the same id. */
  restart(i: number): Promise<RunningServer>;
  /** Stops the nodes still running and removes the shared stores. */
  stop(): Promise<void>;
}

/** The stores every node opens, and what removes them at the end. */
function sharedStoreArgs(): { dataDir: string; cleanup(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-cluster-'));
  return { dataDir, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const stores = sharedStoreArgs();
  const nodeIds = Array.from({ length: options.nodes }, (_, i) => `node-${i + 1}`);
  const start = (i: number) => startServer({
    dataDir: stores.dataDir,
    accounts: options.accounts,
    env: options.env,
    extraArgs: ['--node-id', nodeIds[i], '--lease-seconds', String(options.leaseSeconds ?? 3), ...(options.extraArgs ?? [])],
  });
  const nodes: RunningServer[] = [];
  const stopped = new Set<number>();
  try {
    // One after another: the first creates the schema, the KMS root key and the catalogue.
    for (let i = 0; i < options.nodes; i++) nodes.push(await start(i));
  } catch (err) {
    for (const n of nodes) await n.kill();
    stores.cleanup();
    throw err;
  }
  for (const [i, n] of nodes.entries()) n.process.once('exit', () => stopped.add(i));
  return {
    nodes,
    nodeIds,
    async restart(i) {
      if (!stopped.has(i)) await nodes[i].kill();
      stopped.delete(i);
      nodes[i] = await start(i);
      nodes[i].process.once('exit', () => stopped.add(i));
      return nodes[i];
    },
    async stop() {
      for (const [i, n] of nodes.entries()) if (!stopped.has(i)) await n.stop();
      stores.cleanup();
    },
  };
}
