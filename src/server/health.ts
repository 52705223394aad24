// GET /_amiforge/health: this node's view of its stores, for a load balancer's health check and
// for operators. Each store is read trivially (no account's data: the node's own leases, one
// block's existence) and timed; the node is healthy (200) only when both answered, 503 otherwise.
// Unauthenticated, so it says nothing about accounts or resources.
import type { App } from './app.ts';

/** A store slower than this to answer a trivial read counts as unavailable. */
const CHECK_TIMEOUT_MS = 5000;
/** A hash no block has (all zeros): `has` on it is a single lookup. */
const PROBE_HASH = '0'.repeat(64);

/** Periodic roles' leases are plain names (garbage-collection); per-item ones name their item after a colon. */
const isRole = (lease: string) => /^[a-z-]+$/.test(lease);

export interface StoreCheck {
  status: 'ok' | 'unavailable';
  latencyMs: number;
  error?: string;
}

async function check(read: () => Promise<unknown>): Promise<StoreCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      read(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS); }),
    ]);
    return { status: 'ok', latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  } catch (err) {
    return { status: 'unavailable', latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export async function healthReport(app: App): Promise<{ status: number; body: unknown }> {
  const [metadataStore, blockStore] = await Promise.all([
    check(() => app.store.leases.held(app.config.nodeId)),
    check(() => app.blocks.has('us-east-1', PROBE_HASH)),
  ]);
  const ok = metadataStore.status === 'ok' && blockStore.status === 'ok';
  return {
    status: ok ? 200 : 503,
    body: {
      status: ok ? 'ok' : 'unavailable',
      nodeId: app.config.nodeId,
      metadataStore,
      blockStore,
      hypervisor: { driver: app.config.hypervisor.driver, name: app.hypervisor.name },
      // Periodic work this node runs for the cluster (GC, sweeps, schedulers), and how many
      // per-item jobs it holds; the items' own names (snapshot ids, ARNs) are not shown here.
      roles: app.leases.names().filter(isRole).sort(),
      jobs: app.leases.names().filter((n) => !isRole(n)).length,
    },
  };
}
