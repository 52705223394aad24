// Workflow and step executions as Image Builder reports them (ListWorkflowExecutions,
// GetWorkflowStepExecution, ...): a workflow execution record (kind `workflow-execution`, parent
// the image's ARN) per workflow a build runs, and a step execution record (kind
// `workflow-step-execution`, parent the workflow execution's id) per step, written when the step
// starts and again when it ends. A step's log lines are kept in the record and shown in its
// `outputs` (a JSON object, `log` beside the step's own outputs), where Image Builder's users
// read a step's result; a failed step's `message` is its failure.
import { randomUUID } from 'node:crypto';
import type { GetWorkflowExecutionResponse, GetWorkflowStepExecutionResponse } from '../../../protocol/imagebuilder/types.generated.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { IdGenerator } from '../../../ports/ids.ts';
import type { ImageBuilderRepository, IbRecord } from '../../../ports/imagebuilder-repository.ts';
import type { Caller } from '../../context.ts';

/** A workflow execution's record (GetWorkflowExecution's members; workflowExecutionToWire maps it). */
export interface WorkflowDoc {
  workflowBuildVersionArn?: string;
  workflowExecutionId?: string;
  imageBuildVersionArn?: string;
  type?: GetWorkflowExecutionResponse['type'];
  status?: GetWorkflowExecutionResponse['status'];
  message?: string;
  totalStepCount?: number;
  totalStepsSucceeded?: number;
  totalStepsFailed?: number;
  totalStepsSkipped?: number;
  /** ISO 8601, as endTime. */
  startTime?: string;
  endTime?: string;
}

/** A step execution's record: GetWorkflowStepExecution's members, and the step's own (workflowStepToWire drops them). */
export interface StepDoc {
  stepExecutionId?: string;
  workflowBuildVersionArn?: string;
  workflowExecutionId?: string;
  imageBuildVersionArn?: string;
  name?: string;
  description?: string;
  action?: string;
  status?: GetWorkflowStepExecutionResponse['status'];
  rollbackStatus?: GetWorkflowStepExecutionResponse['rollbackStatus'];
  message?: string;
  /** JSON objects, as the API has them. */
  inputs?: string;
  outputs?: string;
  startTime?: string;
  endTime?: string;
  onFailure?: string;
  timeoutSeconds?: number;
  /** The step's place in its workflow (steps may start within one millisecond). */
  sequence?: number;
  /** The step's log lines so far (shown inside `outputs` once it ends). */
  logLines?: string[];
}
export type WorkflowType = 'BUILD' | 'TEST' | 'DISTRIBUTION';
type StepStatus = NonNullable<StepDoc['status']>;

/** Image Builder's Amazon-managed workflows a build runs, by type (the documented defaults). */
export const DEFAULT_WORKFLOWS: Record<WorkflowType, string> = {
  BUILD: 'build/build-image/1.0.0/1',
  TEST: 'test/test-image/1.0.0/1',
  DISTRIBUTION: 'distribution/distribute-image/1.0.0/1',
};

export const workflowArn = (region: string, type: WorkflowType): string =>
  `arn:aws:imagebuilder:${region}:aws:workflow/${DEFAULT_WORKFLOWS[type]}`;

/** What a step's body reports: the step's outputs, and lines for its log as it goes. */
export interface StepContext {
  log(line: string): void;
}

/** Thrown by a step that ends without failing the build (a check the recipe opted out of). */
export class StepSkipped extends Error {}

/** Lines kept per step; a longer log keeps its start and its end. */
const MAX_LOG_LINES = 2000;
/** A running step's log is written at most this often, so GetWorkflowStepExecution shows progress. */
const LOG_FLUSH_MS = 2000;

export interface RecorderDeps {
  records: ImageBuilderRepository;
  clock: Clock;
  ids: IdGenerator;
}

/** The steps of one workflow execution of one build. */
export class WorkflowExecution {
  private readonly deps: RecorderDeps;
  readonly id: string;
  private readonly caller: Caller;
  private readonly imageArn: string;
  private readonly workflowBuildVersionArn: string;
  private counts = { total: 0, ok: 0, failed: 0, skipped: 0 };

  private constructor(deps: RecorderDeps, caller: Caller, imageArn: string, id: string, workflowBuildVersionArn: string) {
    this.deps = deps;
    this.caller = caller;
    this.imageArn = imageArn;
    this.id = id;
    this.workflowBuildVersionArn = workflowBuildVersionArn;
  }

  static async start(deps: RecorderDeps, caller: Caller, imageArn: string, type: WorkflowType): Promise<WorkflowExecution> {
    const id = `wf-${randomUUID()}`;
    const now = deps.clock.now().toISOString();
    const doc: WorkflowDoc = {
      workflowBuildVersionArn: workflowArn(caller.region, type), workflowExecutionId: id, imageBuildVersionArn: imageArn,
      type, status: 'RUNNING', totalStepCount: 0, totalStepsSucceeded: 0, totalStepsFailed: 0, totalStepsSkipped: 0, startTime: now,
    };
    await deps.records.insert({
      arn: id, kind: 'workflow-execution', account: caller.account, region: caller.region, name: id, parent: imageArn,
      state: 'RUNNING', doc: doc as Record<string, unknown>, createdAt: now, updatedAt: now,
    });
    return new WorkflowExecution(deps, caller, imageArn, id, doc.workflowBuildVersionArn!);
  }

  /** A workflow the build did not run (tests disabled): recorded as SKIPPED, as Image Builder lists it. */
  static async skipped(deps: RecorderDeps, caller: Caller, imageArn: string, type: WorkflowType, message: string): Promise<void> {
    const wf = await WorkflowExecution.start(deps, caller, imageArn, type);
    await wf.finish('SKIPPED', message);
  }

  /**
   * Runs one step: its record is RUNNING while `body` runs, then COMPLETED with the outputs body
   * returns, FAILED with the error's message (which the build then fails with), CANCELLED when the
   * build's signal aborted it, or SKIPPED when body throws StepSkipped.
   */
  async step<T extends Record<string, unknown> | void>(
    name: string, action: string, inputs: Record<string, unknown>, body: (ctx: StepContext) => Promise<T>, signal?: AbortSignal,
  ): Promise<T> {
    const stepId = `step-${randomUUID()}`;
    const started = this.deps.clock.now().toISOString();
    const base: StepDoc = {
      stepExecutionId: stepId, workflowBuildVersionArn: this.workflowBuildVersionArn, workflowExecutionId: this.id, imageBuildVersionArn: this.imageArn,
      name, action, status: 'RUNNING', inputs: JSON.stringify(inputs), startTime: started, onFailure: 'Abort', timeoutSeconds: 7200,
    };
    const log: string[] = [];
    base.sequence = this.counts.total;
    const write = (doc: StepDoc, state: StepStatus) => this.deps.records.put(this.record(stepId, started, state, { ...doc, logLines: trimmed(log) }));
    await write(base, 'RUNNING');
    this.counts.total++;
    let lastFlush = Date.now();
    let flushing: Promise<void> | undefined;
    const ctx: StepContext = {
      log: (line) => {
        log.push(line);
        if (Date.now() - lastFlush > LOG_FLUSH_MS && !flushing) {
          lastFlush = Date.now();
          flushing = write(base, 'RUNNING').catch(() => {}).finally(() => { flushing = undefined; });
        }
      },
    };
    try {
      const outputs = await body(ctx);
      await flushing;
      this.counts.ok++;
      await write({ ...base, status: 'COMPLETED', endTime: this.now(), outputs: JSON.stringify({ ...(outputs ?? {}), log: trimmed(log).join('\n') }) }, 'COMPLETED');
      return outputs;
    } catch (err) {
      await flushing;
      const skipped = err instanceof StepSkipped;
      const status: StepStatus = skipped ? 'SKIPPED' : signal?.aborted ? 'CANCELLED' : 'FAILED';
      if (skipped) this.counts.skipped++;
      else this.counts.failed++;
      const message = skipped || !signal?.aborted ? messageOf(err) : 'The image build was cancelled.';
      await write({ ...base, status, endTime: this.now(), message, outputs: JSON.stringify({ log: trimmed(log).join('\n') }) }, status);
      if (skipped) return undefined as T;
      throw err;
    }
  }

  async finish(status: NonNullable<WorkflowDoc['status']>, message?: string): Promise<void> {
    await this.deps.records.update(this.id, (r) => ({
      ...r, state: status, updatedAt: this.now(),
      doc: {
        ...r.doc, status, message, endTime: this.now(), totalStepCount: this.counts.total, totalStepsSucceeded: this.counts.ok,
        totalStepsFailed: this.counts.failed, totalStepsSkipped: this.counts.skipped,
      },
    }));
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  private record(stepId: string, createdAt: string, state: StepStatus, doc: StepDoc): IbRecord {
    return {
      arn: stepId, kind: 'workflow-step-execution', account: this.caller.account, region: this.caller.region, name: doc.name ?? stepId,
      parent: this.id, state, doc: doc as Record<string, unknown>, createdAt, updatedAt: this.now(),
    };
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function trimmed(log: string[]): string[] {
  if (log.length <= MAX_LOG_LINES) return log;
  const half = MAX_LOG_LINES / 2;
  return [...log.slice(0, half), `... ${log.length - MAX_LOG_LINES} lines left out ...`, ...log.slice(-half)];
}
