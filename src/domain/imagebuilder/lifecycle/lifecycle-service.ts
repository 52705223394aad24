// Lifecycle policies for AMIs: their CRUD, their executions (scheduled daily, started on demand
// by an operator, previewed as dry runs), manual state updates of one image, and what those
// executions did, per account and region.
import type { Clock } from '../../../ports/clock.ts';
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type {
  CreateLifecyclePolicyRequest, LifecycleExecution, LifecycleExecutionResource, LifecycleExecutionState, LifecyclePolicy,
  LifecyclePolicySummary, ListLifecyclePoliciesRequest, StartResourceStateUpdateRequest, UpdateLifecyclePolicyRequest,
} from '../../../protocol/imagebuilder/types.generated.ts';
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import { ibArn, requireIbArn } from '../arns.ts';
import { asTyped, toWireExecution, toWireResource, UNFINISHED, type ExecutionRecord, type ResourceAction, type ResourceDoc } from './execution-records.ts';
import { BUILDING } from './rules.ts';
import { ExecutionRunner, type RunnerDeps } from './execution-runner.ts';
import type { LifecycleEc2 } from './lifecycle-ec2.ts';
import { LifecycleScheduler } from './lifecycle-scheduler.ts';
import { page } from './paging.ts';
import { validatePolicy } from './policy-validation.ts';
import { lifecyclePolicyToWire, type LifecyclePolicyRecord } from '../resources/wire-mappers.ts';

export interface LifecycleDeps {
  repo: ImageBuilderRepository;
  ec2: LifecycleEc2;
  clock: Clock & { onAdvance?(listener: () => void): () => void };
  log?: { error(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Several nodes on one store: true on the node that runs the daily schedule (src/domain/cluster/singleton.ts). */
  leading?: () => Promise<boolean>;
  /** Several nodes on one store: executions start under a per-policy lease (execution-runner.ts). */
  leases?: RunnerDeps['leases'];
}

const POLICY_FILTERS = new Set(['name', 'status']);
const STATE_ACTIONS: Record<string, ResourceAction> = { AVAILABLE: 'AVAILABLE', DEPRECATED: 'DEPRECATE', DISABLED: 'DISABLE', DELETED: 'DELETE' };


export class LifecycleService {
  private readonly deps: LifecycleDeps;
  readonly runner: ExecutionRunner;
  readonly scheduler: LifecycleScheduler;

  constructor(deps: LifecycleDeps) {
    this.deps = deps;
    this.runner = new ExecutionRunner(deps);
    this.scheduler = new LifecycleScheduler({
      ...deps, start: (p) => this.runner.start(p, false), startDue: () => this.runner.startDue(),
      onLeading: () => this.resume(),
    });
  }

  /** Resumes executions a stop interrupted, then keeps the daily schedule. */
  async start(): Promise<void> {
    // Several nodes: the node that leads the schedule resumes them (the scheduler's onLeading).
    if (!this.deps.leading) await this.resume();
    this.scheduler.start();
  }

  /** Resumes executions a stop (or a dead node) left mid-way: done by the node that leads the schedule. */
  private async resume(): Promise<void> {
    const resumed = await this.runner.recover();
    if (resumed) this.deps.log?.info({ resumed }, 'lifecycle executions resumed after a restart');
  }

  async close(): Promise<void> {
    this.scheduler.close();
    await this.runner.idle();
  }

  /** The caller's policy, or ResourceNotFoundException (another account's is never revealed). */
  async findPolicy(caller: Caller, arn: string): Promise<IbRecord> {
    requireIbArn(arn, 'lifecycle-policy', 'lifecyclePolicyArn');
    const r = await this.deps.repo.get(arn);
    if (!r || r.kind !== 'lifecycle-policy' || r.account !== caller.account || r.region !== caller.region) {
      throw Errors.ibNotFound(`The lifecycle policy ${arn} does not exist.`);
    }
    return r;
  }

  async create(caller: Caller, req: CreateLifecyclePolicyRequest): Promise<string> {
    validatePolicy(req);
    const arn = ibArn({ region: caller.region, owner: caller.account, type: 'lifecycle-policy', name: req.name });
    const now = this.deps.clock.now();
    const doc: LifecyclePolicyRecord = {
      arn, name: req.name, description: req.description, status: req.status ?? 'ENABLED', executionRole: req.executionRole,
      resourceType: req.resourceType, policyDetails: req.policyDetails, resourceSelection: req.resourceSelection,
      dateCreated: now, tags: req.tags,
    };
    const inserted = await this.deps.repo.insert({
      arn, kind: 'lifecycle-policy', account: caller.account, region: caller.region, name: req.name, state: doc.status,
      doc: doc as Record<string, unknown>, createdAt: now.toISOString(), updatedAt: now.toISOString(),
    });
    if (!inserted) throw Errors.ibAlreadyExists(`The lifecycle policy ${req.name} already exists (${arn}).`);
    return arn;
  }

  async get(caller: Caller, arn: string): Promise<LifecyclePolicy> {
    return lifecyclePolicyToWire((await this.findPolicy(caller, arn)).doc as LifecyclePolicyRecord);
  }

  async update(caller: Caller, req: UpdateLifecyclePolicyRequest): Promise<string> {
    await this.findPolicy(caller, req.lifecyclePolicyArn);
    validatePolicy(req);
    const running = await this.runner.unfinishedOf(req.lifecyclePolicyArn);
    if (running) throw Errors.ibInUse(`The lifecycle policy has an execution under way (${running.arn}); update it once that ends or is cancelled.`);
    const now = this.deps.clock.now();
    await this.deps.repo.update(req.lifecyclePolicyArn, (r) => {
      const cur = r.doc as LifecyclePolicyRecord;
      const doc: LifecyclePolicyRecord = {
        ...cur, description: req.description ?? cur.description, status: req.status ?? cur.status, executionRole: req.executionRole,
        resourceType: req.resourceType, policyDetails: req.policyDetails, resourceSelection: req.resourceSelection, dateUpdated: now,
      };
      return { ...r, state: doc.status, doc: doc as Record<string, unknown>, updatedAt: now.toISOString() };
    });
    return req.lifecyclePolicyArn;
  }

  /** Removes the policy with its executions' records; refused while an execution is under way. */
  async delete(caller: Caller, arn: string): Promise<string> {
    await this.findPolicy(caller, arn);
    const running = await this.runner.unfinishedOf(arn);
    if (running) throw Errors.ibDependency(`The lifecycle policy has an execution under way (${running.arn}); cancel it or wait for it to end.`);
    for (const e of await this.deps.repo.list({ kind: 'lifecycle-execution', parent: arn })) {
      for (const r of await this.deps.repo.list({ kind: 'lifecycle-execution-resource', parent: e.arn })) await this.deps.repo.delete(r.arn);
      await this.deps.repo.delete(e.arn);
    }
    await this.deps.repo.delete(arn);
    return arn;
  }

  async list(caller: Caller, req: ListLifecyclePoliciesRequest): Promise<{ lifecyclePolicySummaryList: LifecyclePolicySummary[]; nextToken?: string }> {
    for (const f of req.filters ?? []) {
      if (!POLICY_FILTERS.has(f.name ?? '')) throw Errors.ibInvalidRequest(`The filter '${f.name}' is not supported; ListLifecyclePolicies filters by name and status.`);
    }
    const all = await this.deps.repo.list({ kind: 'lifecycle-policy', account: caller.account, region: caller.region });
    const matching = all.filter((r) => (req.filters ?? []).every((f) => (f.values ?? []).includes(String(f.name === 'name' ? r.name : r.state))));
    const { items, nextToken } = page(matching, req.maxResults, req.nextToken);
    return {
      lifecyclePolicySummaryList: items.map((r) => {
        const { policyDetails, resourceSelection, ...summary } = lifecyclePolicyToWire(r.doc as LifecyclePolicyRecord);
        return summary;
      }),
      nextToken,
    };
  }

  /** Starts an execution now (an operator's request); a preview changes nothing. */
  async startNow(caller: Caller, arn: string, preview: boolean): Promise<{ lifecycleExecutionId: string; started: boolean }> {
    const policy = await this.findPolicy(caller, arn);
    if (!preview && policy.state !== 'ENABLED') {
      throw Errors.ibInvalidRequest(`The lifecycle policy ${arn} is DISABLED; enable it to run it, or ask for a preview.`);
    }
    return this.runner.start(policy, preview);
  }

  /** Executions of a policy (or of an image's manual state updates), newest first. */
  async listExecutions(caller: Caller, resourceArn: string, maxResults?: number, nextToken?: string): Promise<{ lifecycleExecutions: LifecycleExecution[]; nextToken?: string }> {
    if (resourceArn.includes(':lifecycle-policy/')) await this.findPolicy(caller, resourceArn);
    const all = (await this.deps.repo.list({ kind: 'lifecycle-execution', account: caller.account, region: caller.region, parent: resourceArn })).reverse();
    const { items, nextToken: next } = page(all, maxResults, nextToken);
    return { lifecycleExecutions: items.map((r) => toWireExecution((r as ExecutionRecord).doc)), nextToken: next };
  }

  async findExecution(caller: Caller, id: string): Promise<ExecutionRecord> {
    const r = await this.deps.repo.get(id);
    if (!r || r.kind !== 'lifecycle-execution' || r.account !== caller.account || r.region !== caller.region) {
      throw Errors.ibNotFound(`The lifecycle execution ${id} does not exist.`);
    }
    return r as ExecutionRecord;
  }

  async getExecution(caller: Caller, id: string): Promise<LifecycleExecution> {
    return toWireExecution((await this.findExecution(caller, id)).doc);
  }

  /** The execution's image resources, or, given a parent image ARN, that image's AMIs. */
  async listResources(caller: Caller, id: string, parentResourceId?: string, maxResults?: number, nextToken?: string): Promise<{
    lifecycleExecutionState?: LifecycleExecutionState; resources: LifecycleExecutionResource[]; nextToken?: string;
  }> {
    const exec = await this.findExecution(caller, id);
    const all = (await this.deps.repo.list({ kind: 'lifecycle-execution-resource', parent: id })).map((r) => asTyped<ResourceDoc>(r));
    const wanted = all.filter((r) => r.doc.parentImageArn === parentResourceId);
    const { items, nextToken: next } = page(wanted, maxResults, nextToken);
    return { lifecycleExecutionState: exec.doc.state, resources: items.map((r) => toWireResource(r.doc)), nextToken: next };
  }

  /**
   * StartResourceStateUpdate: one Image Builder image (a build version) to DEPRECATED, DISABLED,
   * DELETED or back to AVAILABLE, with its AMIs when asked, now or at `updateAt`, as an execution.
   */
  async startResourceStateUpdate(caller: Caller, req: StartResourceStateUpdateRequest): Promise<string> {
    const parsed = requireIbArn(req.resourceArn, 'image', 'resourceArn');
    if (parsed.build === undefined) throw Errors.ibInvalidRequest(`resourceArn must be an image build version ARN (ending /VERSION/BUILD): ${req.resourceArn}`);
    const image = await this.deps.repo.get(req.resourceArn);
    if (!image || image.kind !== 'image' || image.account !== caller.account || image.region !== caller.region) {
      throw Errors.ibNotFound(`The image ${req.resourceArn} does not exist.`);
    }
    if (BUILDING.has(image.state ?? '')) throw Errors.ibInUse(`The image ${req.resourceArn} is ${image.state}: its state changes once its build ends.`);
    const include = req.includeResources ?? {};
    if (include.containers) throw Errors.ibInvalidRequest('includeResources.containers: amiforge images have no containers.');
    const action = STATE_ACTIONS[req.state.status ?? ''];
    if (!action) throw Errors.ibInvalidRequest(`state.status must be AVAILABLE, DEPRECATED, DISABLED or DELETED, not ${req.state.status}.`);
    if (action === 'DELETE' && !include.amis && !include.snapshots) {
      throw Errors.ibInvalidRequest('A state update to DELETED needs at least one associated resource type in includeResources (amis, snapshots).');
    }
    if (include.snapshots && action !== 'DELETE') throw Errors.ibInvalidRequest('includeResources.snapshots applies to a state update to DELETED only.');
    const unfinished = (await this.deps.repo.list({ kind: 'lifecycle-execution', parent: image.arn, states: UNFINISHED }))[0];
    if (unfinished) throw Errors.ibInUse(`A state update of ${image.arn} is under way (${unfinished.arn}).`);
    return this.runner.startManual(image, {
      action, includeResources: { amis: include.amis, snapshots: include.snapshots }, exclusionRules: req.exclusionRules,
      updateAt: req.updateAt ? new Date(req.updateAt).toISOString() : undefined,
    });
  }

  async cancel(caller: Caller, id: string): Promise<string> {
    await this.runner.cancel(caller, id);
    return id;
  }
}
