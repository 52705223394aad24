// A critical section across nodes: what one process did with an in-memory lock (one ClientToken
// acting once, one execution started per policy) holds across nodes on one store when the
// section also holds a work lease. A node that finds the lease held waits: the holder finishes
// and releases it, or dies and its lease expires, so the wait is bounded.
import type { LeaseKeeper } from './lease-keeper.ts';

const POLL_MS = 100;

export async function exclusively<T>(
  leases: Pick<LeaseKeeper, 'acquire' | 'release'> | undefined,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!leases) return fn();
  while (!(await leases.acquire(name))) await new Promise((r) => setTimeout(r, POLL_MS));
  try {
    return await fn();
  } finally {
    await leases.release(name);
  }
}
