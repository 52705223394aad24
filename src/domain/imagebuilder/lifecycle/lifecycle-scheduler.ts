// Image Builder runs each enabled lifecycle policy once a day at a time of its choosing. amiforge
// runs a policy 24 hours after its previous execution started (its creation, before the first),
// on the service's clock: a check every minute, and at once whenever the test clock is moved
// forward. A server that was down runs each overdue policy once, not once per missed day. The
// same check starts manual state updates whose `updateAt` has come.
import type { Clock } from '../../../ports/clock.ts';
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type { LifecyclePolicyRecord } from '../resources/resource-records.ts';

export const DAY_MS = 24 * 3600_000;
const CHECK_EVERY_MS = 60_000;

export interface SchedulerDeps {
  repo: ImageBuilderRepository;
  clock: Clock & { onAdvance?(listener: () => void): () => void };
  start(policy: IbRecord): Promise<unknown>;
  /** Starts manual state updates whose updateAt has come. */
  startDue?(): Promise<void>;
  log?: { error(obj: object, msg: string): void };
  /**
   * Several nodes on one store: true on the one node that runs the schedule (it holds the
   * lifecycle lease). Absent: this process runs it.
   */
  leading?: () => Promise<boolean>;
  /** With `leading`: called when this node starts leading (at start, or taking over from a dead node), to resume executions left mid-way. */
  onLeading?: () => Promise<void>;
}

/** When the policy is next due: a day after its last execution started, or after its creation. */
export function nextRunAt(policy: IbRecord): Date {
  const doc = policy.doc as LifecyclePolicyRecord;
  const anchor = doc.dateLastRun ?? doc.dateCreated ?? policy.createdAt;
  return new Date(new Date(anchor).getTime() + DAY_MS);
}

export class LifecycleScheduler {
  private readonly deps: SchedulerDeps;
  private timer?: NodeJS.Timeout;
  private stopListening?: () => void;
  private checking?: Promise<void>;
  private again = false;
  private leader = false;

  constructor(deps: SchedulerDeps) {
    this.deps = deps;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), CHECK_EVERY_MS);
    this.timer.unref();
    this.stopListening = this.deps.clock.onAdvance?.(() => void this.check());
    void this.check();
  }

  /** Starts every enabled policy that is due; one check at a time (a request during one repeats it). */
  check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = this.runDue()
      .catch((err) => this.deps.log?.error({ err }, 'lifecycle schedule check failed'))
      .finally(() => {
        this.checking = undefined;
        if (this.again) {
          this.again = false;
          void this.check();
        }
      });
    return this.checking;
  }

  private async runDue(): Promise<void> {
    if (this.deps.leading && !(await this.deps.leading())) {
      this.leader = false;
      return;
    }
    if (this.deps.leading && !this.leader) {
      this.leader = true;
      await this.deps.onLeading?.();
    }
    const now = this.deps.clock.now();
    for (const policy of await this.deps.repo.list({ kind: 'lifecycle-policy', states: ['ENABLED'] })) {
      if (nextRunAt(policy) <= now) await this.deps.start(policy);
    }
    await this.deps.startDue?.();
  }

  close(): void {
    clearInterval(this.timer);
    this.stopListening?.();
  }
}
