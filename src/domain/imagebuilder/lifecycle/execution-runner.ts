// Runs lifecycle executions: plans once (every resource record written before any action), then
// works through the resources in order, saving each outcome as it goes. One unfinished execution
// per policy. Cancelling is seen between resources: the one under way finishes, the rest are
// SKIPPED and nothing is rolled back. A restart resumes unfinished executions where they stopped:
// actions are safe to repeat (see actions.ts), and a plan cut short is made again.
import type { LeaseKeeper } from '../../cluster/lease-keeper.ts';
import { exclusively } from '../../cluster/exclusive.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type { LifecyclePolicyRecord } from '../resources/resource-records.ts';
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import { applyToAmi, applyToImage } from './actions.ts';
import {
  asGeneric, asTyped, executionRecord, resourceRecord, UNFINISHED, type ExecutionDoc, type ExecutionRecord, type ExecutionStatus, type ManualUpdate, type ResourceDoc, type ResourceRecord,
} from './execution-records.ts';
import type { LifecycleEc2 } from './lifecycle-ec2.ts';
import { plan, planManual } from './planner.ts';

export interface RunnerDeps {
  repo: ImageBuilderRepository;
  ec2: LifecycleEc2;
  clock: Clock;
  log?: { error(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Several nodes on one store: starting an execution holds lifecycle-start:POLICY, so one starts per policy across nodes. */
  leases?: Pick<LeaseKeeper, 'acquire' | 'release'>;
}

const CANCELLED_BEFORE = 'The execution was cancelled before this resource was processed.';

function previewed(doc: ResourceDoc): ResourceDoc {
  if (doc.state?.status !== 'IN_PROGRESS') return doc;
  const would = `Preview: the execution would ${doc.plannedAction} this resource; nothing was changed.`;
  return {
    ...doc, state: { status: 'SKIPPED', reason: would },
    snapshots: doc.snapshots?.map((s) => ({ ...s, state: { status: 'SKIPPED', reason: 'Preview: would be deleted with its AMI.' } })),
  };
}

export class ExecutionRunner {
  private readonly deps: RunnerDeps;
  private readonly active = new Map<string, Promise<void>>();
  private readonly starting = new Map<string, Promise<unknown>>();

  constructor(deps: RunnerDeps) {
    this.deps = deps;
  }

  /** The policy's unfinished execution, if any. */
  async unfinishedOf(policyArn: string): Promise<ExecutionRecord | undefined> {
    return (await this.deps.repo.list({ kind: 'lifecycle-execution', parent: policyArn, states: UNFINISHED }))[0] as ExecutionRecord | undefined;
  }

  /** Starts an execution unless the policy has an unfinished one (then that one's id, started false). */
  async start(policy: IbRecord, preview: boolean): Promise<{ lifecycleExecutionId: string; started: boolean }> {
    // The schedule and an operator may ask at the same moment: one check-and-insert at a time per policy.
    const before = this.starting.get(policy.arn) ?? Promise.resolve();
    const attempt = before.catch(() => undefined)
      .then(() => exclusively(this.deps.leases, `lifecycle-start:${policy.arn}`, () => this.startOnce(policy, preview)));
    this.starting.set(policy.arn, attempt);
    try {
      return await attempt;
    } finally {
      if (this.starting.get(policy.arn) === attempt) this.starting.delete(policy.arn);
    }
  }

  private async startOnce(policy: IbRecord, preview: boolean): Promise<{ lifecycleExecutionId: string; started: boolean }> {
    const unfinished = await this.unfinishedOf(policy.arn);
    if (unfinished) return { lifecycleExecutionId: unfinished.arn, started: false };
    const exec = executionRecord({ account: policy.account, region: policy.region, policyArn: policy.arn, now: this.deps.clock.now(), preview });
    await this.deps.repo.insert(asGeneric(exec));
    this.launch(exec.arn);
    return { lifecycleExecutionId: exec.arn, started: true };
  }

  /** Starts a manual state update of one image, at once or PENDING until its `updateAt`. */
  async startManual(image: IbRecord, update: ManualUpdate): Promise<string> {
    const exec = executionRecord({ account: image.account, region: image.region, now: this.deps.clock.now(), manual: { imageArn: image.arn, update } });
    await this.deps.repo.insert(asGeneric(exec));
    if (exec.state === 'IN_PROGRESS') this.launch(exec.arn);
    return exec.arn;
  }

  /** Starts the PENDING manual updates whose time has come (the scheduler's check). */
  async startDue(): Promise<void> {
    for (const e of await this.deps.repo.list({ kind: 'lifecycle-execution', states: ['PENDING'] })) this.launch(e.arn);
  }

  /** Resumes every unfinished execution (server start). */
  async recover(): Promise<number> {
    const unfinished = await this.deps.repo.list({ kind: 'lifecycle-execution', states: UNFINISHED });
    for (const e of unfinished) this.launch(e.arn);
    return unfinished.length;
  }

  async cancel(caller: Caller, id: string): Promise<void> {
    let refusal: string | undefined;
    const changed = await this.deps.repo.update(id, (r) => {
      if (r.kind !== 'lifecycle-execution' || r.account !== caller.account || r.region !== caller.region) return undefined;
      if (r.state === 'CANCELLING') return undefined;
      if (r.state !== 'IN_PROGRESS' && r.state !== 'PENDING') {
        refusal = `The lifecycle execution ${id} is ${r.state}; only a PENDING or IN_PROGRESS execution can be cancelled.`;
        return undefined;
      }
      return { ...r, state: 'CANCELLING', doc: { ...r.doc, state: { status: 'CANCELLING' } } };
    });
    if (refusal) throw Errors.ibInvalidRequest(refusal);
    if (!changed) {
      const r = await this.deps.repo.get(id);
      if (!r || r.kind !== 'lifecycle-execution' || r.account !== caller.account || r.region !== caller.region) {
        throw Errors.ibNotFound(`The lifecycle execution ${id} does not exist.`);
      }
    }
    // An execution no run is working on (one resumed later, say) is finished here.
    this.launch(id);
  }

  /** Resolves once no execution is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.active.size) await Promise.allSettled([...this.active.values()]);
  }

  private launch(id: string): void {
    if (this.active.has(id)) return;
    const run = this.run(id)
      .catch((err) => this.deps.log?.error({ lifecycleExecutionId: id, err }, 'lifecycle execution failed'))
      .finally(() => this.active.delete(id));
    this.active.set(id, run);
  }

  private async setExecution(id: string, status: ExecutionStatus | undefined, patch: Partial<ExecutionDoc>): Promise<ExecutionRecord> {
    const r = await this.deps.repo.update(id, (cur) => ({
      ...cur, state: status ?? cur.state, updatedAt: this.deps.clock.now().toISOString(),
      doc: { ...cur.doc, ...patch, ...(status ? { state: { status, ...(patch.state?.reason ? { reason: patch.state.reason } : {}) } } : {}) },
    }));
    return r as ExecutionRecord;
  }

  private async resources(id: string): Promise<ResourceRecord[]> {
    return (await this.deps.repo.list({ kind: 'lifecycle-execution-resource', parent: id })).map((r) => asTyped<ResourceDoc>(r));
  }

  private async run(id: string): Promise<void> {
    let exec = (await this.deps.repo.get(id)) as ExecutionRecord | undefined;
    if (!exec || !UNFINISHED.includes(exec.state as ExecutionStatus)) return;
    if (exec.state === 'PENDING') {
      const at = exec.doc.manualUpdate?.updateAt;
      if (at && at > this.deps.clock.now().toISOString()) return;
      exec = await this.setExecution(id, 'IN_PROGRESS', { startTime: this.deps.clock.now() });
    }
    try {
      if (!exec.doc.planned && exec.state !== 'CANCELLING') exec = await this.planExecution(exec);
      if (exec.doc.preview) {
        await this.finish(exec, 'SUCCESS', 'Preview: nothing was changed; the resources show what an execution would do.');
        return;
      }
      await this.process(exec);
    } catch (err) {
      await this.setExecution(id, 'FAILED', { state: { reason: (err as Error).message }, endTime: this.deps.clock.now() });
    }
  }

  private async planExecution(exec: ExecutionRecord): Promise<ExecutionRecord> {
    const parent = await this.deps.repo.get(exec.parent!);
    const manual = exec.doc.manualUpdate;
    if (!parent) throw new Error(manual ? 'The image no longer exists.' : 'The lifecycle policy was deleted before the execution could plan.');
    // Records a planning cut short by a restart left behind.
    for (const r of await this.resources(exec.arn)) await this.deps.repo.delete(r.arn);
    const now = this.deps.clock.now();
    const docs = manual
      ? await planManual(this.deps, parent, manual, now)
      : await plan(this.deps, parent.doc as LifecyclePolicyRecord, exec.account, exec.region, now);
    let seq = 0;
    for (const doc of docs) await this.deps.repo.insert(asGeneric(resourceRecord(exec, seq++, exec.doc.preview ? previewed(doc) : doc, now)));
    return this.setExecution(exec.arn, undefined, { planned: true });
  }

  private async cancelling(id: string): Promise<boolean> {
    return (await this.deps.repo.get(id))?.state === 'CANCELLING';
  }

  private async process(exec: ExecutionRecord): Promise<void> {
    const children = new Map<string, ResourceDoc[]>();
    let cancelled = false;
    // An image and its AMIs are one unit: a cancellation waits for the unit under way to finish.
    let unit: string | undefined;
    for (const r of await this.resources(exec.arn)) {
      let doc = r.doc;
      if (doc.state?.status === 'IN_PROGRESS') {
        const same = unit === (doc.parentImageArn ?? doc.resourceId);
        unit = doc.parentImageArn ?? doc.resourceId;
        if (cancelled || (!same && (cancelled = await this.cancelling(exec.arn)))) {
          doc = { ...doc, state: { status: 'SKIPPED', reason: CANCELLED_BEFORE }, snapshots: doc.snapshots?.map((s) => ({ ...s, state: { status: 'SKIPPED', reason: CANCELLED_BEFORE } })) };
        } else {
          const startTime = this.deps.clock.now();
          const outcome = doc.resourceKind === 'ami'
            ? await applyToAmi(this.deps.ec2, exec.account, doc)
            : await applyToImage(this.deps.repo, doc, children.get(doc.resourceId!) ?? [], exec.arn, startTime);
          doc = { ...doc, state: outcome.state, snapshots: outcome.snapshots ?? doc.snapshots, startTime, endTime: this.deps.clock.now() };
        }
        await this.deps.repo.put(asGeneric({ ...r, state: doc.state?.status, doc, updatedAt: this.deps.clock.now().toISOString() }));
      }
      if (doc.parentImageArn) children.set(doc.parentImageArn, [...(children.get(doc.parentImageArn) ?? []), doc]);
    }
    if (cancelled || (await this.cancelling(exec.arn))) {
      await this.finish(exec, 'CANCELLED', 'Cancelled: resources processed before the cancellation keep their new state.');
      return;
    }
    const failed = (await this.resources(exec.arn)).filter((r) => r.doc.state?.status === 'FAILED').length;
    await this.finish(exec, failed ? 'FAILED' : 'SUCCESS', failed ? `${failed} resource action(s) failed; ListLifecycleExecutionResources gives each reason.` : undefined);
  }

  private async finish(exec: ExecutionRecord, status: ExecutionStatus, reason?: string): Promise<void> {
    const resources = await this.resources(exec.arn);
    const impacted = resources.some((r) => r.doc.state?.status === 'SUCCESS');
    const endTime = this.deps.clock.now();
    await this.setExecution(exec.arn, status, { state: { reason }, endTime, resourcesImpactedSummary: { hasImpactedResources: impacted } });
    if (exec.doc.preview || exec.doc.manualUpdate) return;
    await this.deps.repo.update(exec.parent!, (p) => ({ ...p, doc: { ...p.doc, dateLastRun: exec.doc.startTime } }));
  }
}
