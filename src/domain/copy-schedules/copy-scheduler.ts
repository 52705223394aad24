// Runs copy schedules inside the server: one timer per schedule, one run at a time per schedule,
// state saved before and after each run. At start-up a schedule whose time passed while the
// server was down (or whose run the server stopped in) runs once, whatever number of runs it
// missed: a DR copy wants the newest image now, not a backlog.
// With several nodes on one store every node keeps the timers, and a run first claims the
// schedule's lease (`claim`): the node that gets it reads the shared state again (another node may
// have made this very run already) and runs; the others look again a lease period later, which is
// also how a run cut short by a dead node is taken over (its state still says running).
import type { CopyScheduleState, CopyScheduleStateStore } from '../../ports/copy-schedule-state.ts';
import type { RunReport } from './copy-run.ts';
import type { CopyScheduleSpec } from './schedule-spec.ts';
import { nextRunAfter } from './schedule-timing.ts';

export interface ScheduleLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CopySchedulerDeps {
  specs: readonly CopyScheduleSpec[];
  run: (spec: CopyScheduleSpec, trigger: RunReport['trigger'], signal: AbortSignal) => Promise<RunReport>;
  state: CopyScheduleStateStore;
  now: () => Date;
  log: ScheduleLog;
  /**
   * Takes the schedule's lease for one run (several nodes on one store); undefined when another
   * node holds it. `lost` aborts when the lease goes elsewhere mid-run. Absent: runs are all this process's.
   */
  claim?: (name: string) => Promise<{ lost: AbortSignal; release(): Promise<void> } | undefined>;
  /** How soon a node that found a run under way elsewhere looks again (a lease period). */
  retryMs?: number;
}

export interface ScheduleStatus {
  name: string;
  account: string;
  sourceRegion: string;
  image: CopyScheduleSpec['source'];
  destinationRegions: readonly string[];
  cron?: string;
  everyMs?: number;
  keep: number;
  running: boolean;
  nextRunAt?: string;
  lastRun?: RunReport;
}

/** setTimeout's longest delay; a later run is re-armed when this fires. */
const MAX_DELAY = 2 ** 31 - 1;

interface Entry {
  spec: CopyScheduleSpec;
  state: CopyScheduleState;
  nextRunAt?: Date;
  timer?: NodeJS.Timeout;
  running?: { promise: Promise<RunReport>; abort: AbortController };
}

export class CopyScheduler {
  private readonly deps: CopySchedulerDeps;
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(deps: CopySchedulerDeps) {
    this.deps = deps;
  }

  async start(): Promise<void> {
    const saved = await this.deps.state.load();
    const now = this.deps.now();
    for (const spec of this.deps.specs) {
      let state = saved.get(spec.name);
      if (!state) {
        state = { firstSeenAt: now.toISOString() };
        await this.deps.state.save(spec.name, state);
      }
      const entry: Entry = { spec, state };
      this.entries.set(spec.name, entry);
      const anchor = new Date(state.lastRun?.startedAt ?? state.firstSeenAt);
      const due = nextRunAfter(spec, anchor);
      if (state.runningSince || (due && due <= now)) {
        this.deps.log.info({ copySchedule: spec.name, dueAt: due?.toISOString(), interruptedRunStartedAt: state.runningSince }, `copy schedule ${spec.name}: due while the server was down; running it now`);
        void this.trigger(spec.name, 'missed');
      } else {
        this.arm(entry, due);
        this.deps.log.info({ copySchedule: spec.name, nextRunAt: due?.toISOString(), lastRunAt: state.lastRun?.startedAt }, `copy schedule ${spec.name}: next run ${due?.toISOString() ?? 'never'}`);
      }
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Starts a run now unless one is under way (then that one is returned). Resolves once the run
   * has started; `finished` resolves with its report.
   */
  async trigger(name: string, trigger: RunReport['trigger'] = 'manual'): Promise<{ started: boolean; elsewhere?: boolean; finished: Promise<RunReport | undefined> } | undefined> {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    if (entry.running) return { started: false, finished: entry.running.promise };
    if (this.closed) throw new Error('the server is shutting down');
    let claimed: Awaited<ReturnType<NonNullable<CopySchedulerDeps['claim']>>>;
    if (this.deps.claim) {
      claimed = await this.deps.claim(name);
      // A run may have started here while the claim was awaited.
      const started = entry.running as Entry['running'];
      if (started) {
        await claimed?.release();
        return { started: false, finished: started.promise };
      }
      if (!claimed) {
        // Running on another node: look again later (it may die mid-run), unless asked by hand.
        if (trigger !== 'manual') this.arm(entry, new Date(this.deps.now().getTime() + (this.deps.retryMs ?? 30_000)));
        return { started: false, elsewhere: true, finished: Promise.resolve(undefined) };
      }
      // Another node may have made this run already: decide on the shared state.
      const fresh = (await this.deps.state.load()).get(name);
      if (fresh) entry.state = fresh;
      if (trigger !== 'manual' && !entry.state.runningSince) {
        const due = nextRunAfter(entry.spec, new Date(entry.state.lastRun?.startedAt ?? entry.state.firstSeenAt));
        if (!due || due > this.deps.now()) {
          await claimed.release();
          this.arm(entry, due);
          return { started: false, finished: Promise.resolve(entry.state.lastRun) };
        }
      }
      // A run the state still calls running was cut short (by this node's or another's death).
      if (trigger === 'schedule' && entry.state.runningSince) trigger = 'missed';
    }
    clearTimeout(entry.timer);
    entry.nextRunAt = undefined;
    const abort = new AbortController();
    const signal = claimed ? AbortSignal.any([abort.signal, claimed.lost]) : abort.signal;
    const promise = this.runEntry(entry, trigger, signal).finally(() => claimed?.release());
    entry.running = { promise, abort };
    return { started: true, finished: promise };
  }

  /** Reads the shared state again (runs other nodes made) for the schedules not running here. */
  async refresh(): Promise<void> {
    const saved = await this.deps.state.load();
    for (const [name, entry] of this.entries) {
      const state = saved.get(name);
      if (state && !entry.running) entry.state = state;
    }
  }

  private async runEntry(entry: Entry, trigger: RunReport['trigger'], signal: AbortSignal): Promise<RunReport> {
    const { spec } = entry;
    entry.state = { ...entry.state, runningSince: this.deps.now().toISOString() };
    await this.deps.state.save(spec.name, entry.state);
    let report: RunReport;
    try {
      report = await this.deps.run(spec, trigger, signal);
    } catch (err) {
      const at = this.deps.now().toISOString();
      report = { schedule: spec.name, trigger, startedAt: entry.state.runningSince!, finishedAt: at, outcome: 'failed', regions: [], error: (err as Error).message };
    }
    // An interrupted run stays marked running, so the next start finishes it.
    entry.state = report.outcome === 'interrupted'
      ? { ...entry.state, lastRun: report }
      : { firstSeenAt: entry.state.firstSeenAt, lastRun: report };
    try {
      await this.deps.state.save(spec.name, entry.state);
    } catch (err) {
      this.deps.log.error({ copySchedule: spec.name, err }, `copy schedule ${spec.name}: could not save its state`);
    }
    const log = report.outcome === 'failed' ? this.deps.log.error.bind(this.deps.log) : this.deps.log.info.bind(this.deps.log);
    log({ copySchedule: spec.name, run: report }, `copy schedule ${spec.name}: ${report.outcome}`);
    entry.running = undefined;
    if (!this.closed) {
      const now = this.deps.now();
      let next = nextRunAfter(spec, new Date(report.startedAt));
      // Runs missed while this one lasted are not made up: the next is the next after now.
      if (next && next <= now) next = nextRunAfter(spec, now);
      this.arm(entry, next);
    }
    return report;
  }

  private arm(entry: Entry, at: Date | undefined): void {
    clearTimeout(entry.timer);
    entry.nextRunAt = at;
    if (!at || this.closed) return;
    const delay = Math.min(MAX_DELAY, Math.max(0, at.getTime() - this.deps.now().getTime()));
    entry.timer = setTimeout(() => {
      if (this.deps.now() < at) this.arm(entry, at);
      else void this.trigger(entry.spec.name, 'schedule');
    }, delay);
    entry.timer.unref();
  }

  status(): ScheduleStatus[] {
    return [...this.entries.values()].map(({ spec, state, nextRunAt, running }) => ({
      name: spec.name,
      account: spec.account,
      sourceRegion: spec.sourceRegion,
      image: spec.source,
      destinationRegions: spec.destinationRegions,
      cron: spec.cron?.expression,
      everyMs: spec.everyMs,
      keep: spec.keep,
      running: !!running,
      nextRunAt: nextRunAt?.toISOString(),
      lastRun: state.lastRun,
    }));
  }

  /** Stops the timers and the runs' waits (copies under way go on as CopyImage jobs). */
  async close(): Promise<void> {
    this.closed = true;
    const running: Promise<RunReport>[] = [];
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      if (entry.running) {
        entry.running.abort.abort();
        running.push(entry.running.promise);
      }
    }
    await Promise.allSettled(running);
  }
}
