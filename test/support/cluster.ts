// Several amiforge serve processes on one store, for multi-node wire tests, as a cluster is
// deployed: one PostgreSQL database and one bucket on the RADOS Gateway (test/support/postgres.ts,
// test/support/object-store.ts) shared by every node, each node with a data directory of its
// own (nothing shared through the filesystem), the same KMS root key, and an explicit node id.
// Each cluster gets a fresh database and a fresh bucket; the PostgreSQL server is started once
// per test file, the gateway once per machine.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type TestAccount } from './server.ts';
import { startPostgres, type TestPostgres } from './postgres.ts';
import { createTestBucket, deleteTestBucket, objectStore, type ObjectStoreEndpoint } from './object-store.ts';

export interface ClusterOptions {
  nodes: number;
  /** Given to every node, after the cluster's own arguments. */
  extraArgs?: string[];
  /** Strict mode with these accounts; dev mode when absent. */
  accounts?: TestAccount[];
  env?: Record<string, string>;
  /** --lease-seconds of every node (default 3: a killed node is gone within seconds). */
  leaseSeconds?: number;
  /**
   * The catalogue's images (the `images` of a catalogue file). Empty by default: loading the
   * shipped catalogue puts every region's root snapshots in the bucket, minutes of uploads.
   */
  catalog?: unknown[];
  /** Start the nodes all at once rather than one after another (migrations and catalogue racing). */
  concurrentStart?: boolean;
  /** Another object store than the shared gateway (a private one a fault test can stop). */
  objectStore?: ObjectStoreEndpoint;
  /** Another PostgreSQL server than this file's (one a fault test restarts). */
  postgres?: TestPostgres;
}

export interface RunningCluster {
  /** Node i is `--node-id node-<i+1>`. */
  nodes: RunningServer[];
  nodeIds: string[];
  /** The shared database's URL. */
  databaseUrl: string;
  /** The shared bucket. */
  bucket: string;
  /** Starts one more node process on the cluster's stores (its own data directory), not tracked by `nodes`. */
  startNode(nodeId: string): Promise<RunningServer>;
  /** Starts node i again (killing it first if it still runs), on the same stores with the same id. */
  restart(i: number): Promise<RunningServer>;
  /** Stops the nodes still running (SIGTERM) and removes their data directories, the database and the bucket. */
  stop(): Promise<void>;
}

let filePostgres: Promise<TestPostgres> | undefined;
let clustersOnIt = 0;

/** This test file's PostgreSQL server: started with its first cluster, stopped with its last. */
function acquirePostgres(): Promise<TestPostgres> {
  clustersOnIt++;
  filePostgres ??= startPostgres();
  return filePostgres;
}

async function releasePostgres(): Promise<void> {
  if (--clustersOnIt > 0 || !filePostgres) return;
  const server = filePostgres;
  filePostgres = undefined;
  await (await server).stop();
}

export async function startCluster(o: ClusterOptions): Promise<RunningCluster> {
  const ownPostgres = !o.postgres;
  const [postgres, s3] = await Promise.all([o.postgres ?? acquirePostgres(), o.objectStore ?? objectStore()]);
  const [databaseUrl, bucket] = await Promise.all([postgres.createDatabase(), createTestBucket(undefined, s3)]);
  const shared = mkdtempSync(join(tmpdir(), 'amiforge-cluster-'));
  const rootKeyFile = join(shared, 'kms-root-key');
  writeFileSync(rootKeyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  const catalogFile = join(shared, 'catalog.json');
  writeFileSync(catalogFile, JSON.stringify({ images: o.catalog ?? [] }));
  const env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region, ...o.env };
  const leaseSeconds = o.leaseSeconds ?? 3;
  const nodes: RunningServer[] = [];
  const nodeIds = Array.from({ length: o.nodes }, (_, i) => `node-${i + 1}`);
  const dataDirs = new Map<string, string>();
  const alive = (n: RunningServer) => n.process.exitCode === null && n.process.signalCode === null;
  const startNode = (nodeId: string) => {
    // A node keeps its data directory across restarts, as a host would.
    let dataDir = dataDirs.get(nodeId);
    if (!dataDir) dataDirs.set(nodeId, dataDir = mkdtempSync(join(shared, `${nodeId}-`)));
    return startServer({
      dataDir, accounts: o.accounts, env,
      extraArgs: [
        '--database', databaseUrl, '--blocks', `s3://${bucket}/cluster`, '--s3-endpoint', s3.endpoint,
        '--kms-root-key-file', rootKeyFile, '--catalog', catalogFile,
        '--node-id', nodeId, '--lease-seconds', String(leaseSeconds), ...(o.extraArgs ?? []),
      ],
    });
  };
  const started: RunningServer[] = [];
  const track = async (p: Promise<RunningServer>) => {
    const n = await p;
    started.push(n);
    return n;
  };
  const stop = async () => {
    for (const n of started) if (alive(n)) await n.stop();
    await deleteTestBucket(bucket, s3).catch(() => {});
    if (ownPostgres) await releasePostgres();
    else await postgres.dropDatabase(databaseUrl).catch(() => {});
    rmSync(shared, { recursive: true, force: true });
  };
  try {
    if (o.concurrentStart) {
      const all = await Promise.allSettled(nodeIds.map((id) => track(startNode(id))));
      const failed = all.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      nodes.push(...all.map((r) => (r as PromiseFulfilledResult<RunningServer>).value));
    } else {
      for (const id of nodeIds) nodes.push(await track(startNode(id)));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const restart = async (i: number) => {
    if (alive(nodes[i])) await nodes[i].kill();
    nodes[i] = await track(startNode(nodeIds[i]));
    return nodes[i];
  };
  return { nodes, nodeIds, databaseUrl, bucket, startNode: (id) => track(startNode(id)), restart, stop };
}
