// Periodic work that must run on one node only (garbage collection, the Recycle Bin's sweep,
// schedulers): each tick first takes the work's lease, which the holding node keeps renewed, so
// the same node goes on running it while it lives and another takes over once its lease expires.
import type { LeaseKeeper } from './lease-keeper.ts';

export interface SingletonLog {
  error(obj: object, msg: string): void;
}

/** Whether this node may run the work named `lease` now (it holds, or just took, the lease). */
export async function leading(keeper: LeaseKeeper, lease: string, log: SingletonLog): Promise<boolean> {
  try {
    return !!(await keeper.acquire(lease));
  } catch (err) {
    log.error({ lease, err }, `work lease ${lease}: the store did not answer; the work waits for the next tick`);
    return false;
  }
}

/**
 * Runs `task` every `everyMs` on whichever node holds `lease`. The lease itself is sought every
 * lease period, apart from the task's own rhythm: a dead node's role moves within a lease period
 * even for hourly work, and the work keeps its rhythm. A tick still running when the next comes
 * is not doubled. Answers the stop function.
 */
export function everyOnOneNode(o: {
  keeper: LeaseKeeper;
  lease: string;
  everyMs: number;
  task: () => Promise<void>;
  log: SingletonLog;
}): () => void {
  let running = false;
  const claim = () => void leading(o.keeper, o.lease, o.log);
  claim();
  const claimTimer = setInterval(claim, o.keeper.ttlMs);
  claimTimer.unref();
  const timer = setInterval(() => {
    if (running || !o.keeper.holds(o.lease)) return;
    running = true;
    o.task()
      .catch((err) => o.log.error({ lease: o.lease, err }, `${o.lease} failed`))
      .finally(() => { running = false; });
  }, o.everyMs);
  timer.unref();
  return () => {
    clearInterval(claimTimer);
    clearInterval(timer);
  };
}

/**
 * A gate for schedulers that poll on their own rhythm: true on the node holding `lease`. The
 * lease is also sought every lease period (until the keeper closes), so the role moves to a live
 * node within a lease period even when the scheduler polls rarely.
 */
export function singletonGate(keeper: LeaseKeeper, lease: string, log: SingletonLog): () => Promise<boolean> {
  const timer = setInterval(() => void leading(keeper, lease, log), keeper.ttlMs);
  timer.unref();
  return () => leading(keeper, lease, log);
}
