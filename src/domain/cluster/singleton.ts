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
 * Runs `task` every `everyMs` on whichever node holds `lease`. A tick still running when the
 * next comes is not doubled. Answers the stop function.
 */
export function everyOnOneNode(o: {
  keeper: LeaseKeeper;
  lease: string;
  everyMs: number;
  task: () => Promise<void>;
  log: SingletonLog;
}): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      if (await leading(o.keeper, o.lease, o.log)) await o.task();
    })().catch((err) => o.log.error({ lease: o.lease, err }, `${o.lease} failed`)).finally(() => { running = false; });
  }, o.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A gate for schedulers that poll: true on the node holding `lease`. */
export function singletonGate(keeper: LeaseKeeper, lease: string, log: SingletonLog): () => Promise<boolean> {
  return () => leading(keeper, lease, log);
}
