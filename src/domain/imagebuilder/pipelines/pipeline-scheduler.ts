// Runs pipeline schedules on the service's clock. Each pipeline's next run (dateNextRun) lives in
// its record; a tick reads the ENABLED pipelines, counts the outcome of builds that have ended, and
// runs each schedule that is due. Polling, rather than one timer per pipeline, follows the clock
// wherever it goes: the test clock jumps forward (POST /_amiforge/clock/advance) and the next tick,
// within `pollMs`, sees what came due.
//
// Runs missed while the server was down: the first tick after a start finds them due and runs each
// schedule once, however many times it was missed (then dateNextRun moves past now). With the
// default start condition that run builds only if the recipe's parent image or a component has a
// newer version, so a catch-up never rebuilds an image that would be the same.
import type { Clock } from '../../../ports/clock.ts';
import type { PipelineDoc } from './pipeline-document.ts';
import type { PipelineService } from './pipeline-service.ts';

export interface SchedulerLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface PipelineSchedulerDeps {
  pipelines: PipelineService;
  clock: Clock;
  log: SchedulerLog;
  /** How often the schedules are looked at (ms); Image Builder itself starts builds within a minute. */
  pollMs?: number;
  /** Several nodes on one store: true on the one node that runs the schedules (it holds their lease). */
  leading?: () => Promise<boolean>;
}

export const DEFAULT_POLL_MS = 1000;

export class PipelineScheduler {
  private readonly deps: PipelineSchedulerDeps;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private closed = false;

  constructor(deps: PipelineSchedulerDeps) {
    this.deps = deps;
  }

  start(): void {
    if (this.timer || this.closed) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.deps.pollMs ?? DEFAULT_POLL_MS);
    this.timer.unref();
  }

  /** One look at every schedule; a tick already under way is waited for, not doubled. */
  tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.ticking ??= this.runTick().finally(() => { this.ticking = undefined; });
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    const { pipelines, clock, log } = this.deps;
    if (this.deps.leading && !(await this.deps.leading())) return;
    let records;
    try {
      records = await pipelines.enabledPipelines();
    } catch (err) {
      log.error({ err }, 'image pipelines: could not read the schedules');
      return;
    }
    for (const record of records) {
      if (this.closed) return;
      const doc = record.doc as PipelineDoc;
      try {
        if (doc.lastBuild && !doc.lastBuild.settled) await pipelines.runs.settle(record.arn);
        const now = clock.now();
        if (!doc.dateNextRun || new Date(doc.dateNextRun) > now) continue;
        const result = await pipelines.runs.runScheduled(record.arn, now);
        if (result.outcome === 'started') {
          log.info({ imagePipelineArn: record.arn, imageBuildVersionArn: result.imageBuildVersionArn, dueAt: doc.dateNextRun }, 'image pipeline: scheduled build started');
        } else if (result.outcome === 'skipped') {
          log.info({ imagePipelineArn: record.arn, dueAt: doc.dateNextRun, reason: result.reason }, `image pipeline: scheduled run skipped (${result.reason})`);
        }
      } catch (err) {
        log.error({ imagePipelineArn: record.arn, err }, 'image pipeline: scheduled run failed to start');
      }
    }
  }

  /** Stops the polling; a tick under way finishes (a build it started goes on in the build service). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }
}
