// Image Builder's images: CreateImage starts a build (answering at once with the build version's
// ARN; the workflow runs in the background, build-workflow.ts), GetImage and the lists read the
// image records, CancelImageCreation stops a build, DeleteImage removes a build version (its AMIs
// stay, as AWS documents: deregister them with EC2), and at start-up a build a previous process
// left in progress is failed and what it made is removed.
//
// An image record (kind `image`) is named after the recipe; its version is the recipe's, and
// build numbers count up per name and version: arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/1.0.0/3.
import type {
  Component, DistributionConfiguration, Image, ImageRecipe, ListImageBuildVersionsRequest, ListImagesRequest, ImageTestsConfiguration, InfrastructureConfiguration,
} from '../../../protocol/imagebuilder/types.generated.ts';
import type { IbRecord } from '../../../ports/imagebuilder-repository.ts';
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import { AMAZON_OWNER, ibArn, parseIbArn, requireIbArn, type IbResourceType } from '../arns.ts';
import { compareSemVer, newestMatching } from '../versions.ts';
import type { ComponentToRun } from '../components/executor.ts';
import { BuildStopped, BuildWorkflow, cleanUp } from './build-workflow.ts';
import { RUNNING_STATES, type BuildServiceDeps, type ImageDoc, type StartBuildRequest } from './build-types.ts';
import { listImageBuildVersions, listImages } from './image-lists.ts';
import { componentToWire, imageToWire, recordToWire, type ComponentRecord } from '../resources/wire-mappers.ts';
import { workflowArn } from './workflow-records.ts';
import { getWorkflowExecution, getWorkflowStepExecution, listWorkflowExecutions, listWorkflowStepExecutions } from './workflow-queries.ts';

const DEFAULT_TEST_TIMEOUT_MINUTES = 720;
/** The lease under which one node runs a build. */
const buildLease = (arn: string) => `image-build:${arn}`;
export const INTERRUPTED_REASON = 'The build was interrupted by a restart of the service.';

export class BuildService {
  private readonly deps: BuildServiceDeps;
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();

  constructor(deps: BuildServiceDeps) {
    this.deps = deps;
  }

  /** Starts a build; resolves with its build version ARN while the workflow runs on. */
  async startBuild(caller: Caller, req: StartBuildRequest): Promise<{ imageBuildVersionArn: string }> {
    const recipe = await this.owned<ImageRecipe>(caller, req.imageRecipeArn, 'image-recipe', 'imageRecipeArn');
    const infra = await this.owned<InfrastructureConfiguration>(caller, req.infrastructureConfigurationArn, 'infrastructure-configuration', 'infrastructureConfigurationArn');
    const dist = req.distributionConfigurationArn
      ? await this.owned<DistributionConfiguration>(caller, req.distributionConfigurationArn, 'distribution-configuration', 'distributionConfigurationArn')
      : undefined;
    const tests = testsOf(req.imageTestsConfiguration);
    const components = await this.componentsOf(caller, recipe);
    const parentImageId = await this.parentImageOf(caller, recipe);
    const pipeline = req.imagePipelineArn ? await this.deps.records.get(req.imagePipelineArn) : undefined;

    const now = this.deps.clock.now();
    const name = recipe.name!;
    const version = recipe.version!;
    for (;;) {
      const builds = await this.deps.records.list({ kind: 'image', account: caller.account, region: caller.region, name, version });
      const build = Math.max(0, ...builds.map((b) => b.build ?? 0)) + 1;
      const arn = ibArn({ region: caller.region, owner: caller.account, type: 'image', name, version, build });
      const doc: ImageDoc = {
        arn, type: 'AMI', name, version: `${version}/${build}`, platform: recipe.platform ?? 'Linux',
        enhancedImageMetadataEnabled: req.enhancedImageMetadataEnabled ?? true, state: { status: 'PENDING' },
        imageRecipe: recipe, sourcePipelineArn: req.imagePipelineArn, sourcePipelineName: (pipeline?.doc as { name?: string } | undefined)?.name,
        infrastructureConfiguration: infra, distributionConfiguration: dist, imageTestsConfiguration: tests,
        dateCreated: now.toISOString(), tags: req.tags ?? {}, buildType: req.buildType ?? 'USER_INITIATED', imageSource: 'CUSTOM',
        workflows: (['BUILD', 'TEST', 'DISTRIBUTION'] as const).filter((w) => w !== 'TEST' || tests.imageTestsEnabled).map((w) => ({ workflowArn: workflowArn(caller.region, w) })),
      };
      const record: IbRecord = {
        arn, kind: 'image', account: caller.account, region: caller.region, name, version, build, parent: req.imagePipelineArn,
        state: 'PENDING', doc: doc as Record<string, unknown>, createdAt: now.toISOString(), updatedAt: now.toISOString(),
      };
      // Taken before the record exists, so no node's recover() ever sees the build without its lease.
      const lease = buildLease(arn);
      const lost = await this.deps.leases?.acquire(lease);
      // Two builds of one version at once: the later insert finds its number taken and takes the next.
      if (!(await this.deps.records.insert(record))) {
        await this.deps.leases?.release(lease);
        continue;
      }
      const controller = new AbortController();
      lost?.addEventListener('abort', () => controller.abort(new BuildStopped('The build was stopped: its node lost its work lease.', false)));
      const workflow = new BuildWorkflow(this.deps, {
        caller, imageArn: arn, version, build, recipe, infra, dist, components, parentImageId,
        tests: { enabled: tests.imageTestsEnabled!, timeoutMinutes: tests.timeoutMinutes! }, buildDate: now, signal: controller.signal,
      });
      const done = workflow.run()
        .catch((err) => this.deps.onError?.(`build ${arn}`, err))
        .finally(() => this.deps.leases?.release(lease))
        .catch((err) => this.deps.onError?.(`build ${arn}: releasing its lease`, err))
        .finally(() => this.running.delete(arn));
      this.running.set(arn, { controller, done });
      return { imageBuildVersionArn: arn };
    }
  }

  /** GetImage: a build version ARN, or a version ARN (wildcards allowed) for its newest build. */
  async get(caller: Caller, arn: string): Promise<Image> {
    return imageToWire((await this.findImage(caller, arn)).doc as ImageDoc);
  }

  async cancel(caller: Caller, arn: string): Promise<void> {
    const record = await this.findImage(caller, arn);
    if (!RUNNING_STATES.includes(record.state ?? '')) {
      throw Errors.ibInvalidRequest(`The image '${record.arn}' is ${record.state}: only an image being built can be cancelled.`);
    }
    const run = this.running.get(record.arn);
    if (run) {
      run.controller.abort(new BuildStopped('The image build was cancelled by CancelImageCreation.', true));
      return;
    }
    await this.deps.records.update(record.arn, (r) => ({ ...r, state: 'CANCELLED', doc: { ...r.doc, state: { status: 'CANCELLED', reason: 'The image build was cancelled by CancelImageCreation.' } } }));
  }

  /** DeleteImage: the build version and its workflow records go; its AMIs are left in EC2. */
  async delete(caller: Caller, arn: string): Promise<void> {
    const record = await this.findImage(caller, arn, { exact: true });
    if (RUNNING_STATES.includes(record.state ?? '')) {
      throw Errors.ibInUse(`The image '${record.arn}' is ${record.state}; cancel its build (CancelImageCreation) before deleting it.`);
    }
    for (const wf of await this.deps.records.list({ kind: 'workflow-execution', parent: record.arn })) {
      for (const step of await this.deps.records.list({ kind: 'workflow-step-execution', parent: wf.arn })) await this.deps.records.delete(step.arn);
      await this.deps.records.delete(wf.arn);
    }
    await this.deps.records.delete(record.arn);
  }

  /** The caller's image record for an ARN; ResourceNotFound for another account's or none. */
  async findImage(caller: Caller, arn: string, o: { exact?: boolean } = {}): Promise<IbRecord> {
    const parsed = requireIbArn(arn, 'image', 'imageBuildVersionArn');
    if (o.exact && parsed.build === undefined) {
      throw Errors.ibInvalidParameterValue(`The value supplied for parameter 'imageBuildVersionArn' must be an image build version ARN: ${arn}`);
    }
    let record: IbRecord | undefined;
    if (parsed.build !== undefined) {
      record = await this.deps.records.get(arn);
    } else if (parsed.owner === caller.account && parsed.region === caller.region) {
      const all = (await this.deps.records.list({ kind: 'image', account: caller.account, region: caller.region })).filter((r) => parseIbArn(r.arn)?.name === parsed.name);
      const newest = newestMatching(parsed.version ?? 'x.x.x', [...new Set(all.map((r) => r.version!))]);
      record = all.filter((r) => r.version === newest).sort((a, b) => (b.build ?? 0) - (a.build ?? 0))[0];
    }
    if (!record || record.kind !== 'image' || record.account !== caller.account || record.region !== caller.region) {
      throw Errors.ibNotFound(`The image '${arn}' does not exist.`);
    }
    return record;
  }

  listImages(caller: Caller, req: ListImagesRequest) {
    return listImages(this.deps.records, caller, req);
  }

  listBuildVersions(caller: Caller, req: ListImageBuildVersionsRequest) {
    return listImageBuildVersions(this.deps.records, caller, req);
  }

  listWorkflowExecutions(caller: Caller, imageArn: string, page: { maxResults?: number; nextToken?: string }) {
    return listWorkflowExecutions(this.deps.records, caller, imageArn, page);
  }

  getWorkflowExecution(caller: Caller, id: string) {
    return getWorkflowExecution(this.deps.records, caller, id);
  }

  listWorkflowStepExecutions(caller: Caller, workflowExecutionId: string, page: { maxResults?: number; nextToken?: string }) {
    return listWorkflowStepExecutions(this.deps.records, caller, workflowExecutionId, page);
  }

  getWorkflowStepExecution(caller: Caller, id: string) {
    return getWorkflowStepExecution(this.deps.records, caller, id);
  }

  /**
   * Builds a previous process (or a dead node: its lease expired) left in progress are failed,
   * and what they made removed. Builds another live node runs are left alone.
   */
  async recover(): Promise<number> {
    const candidates = await this.deps.records.list({ kind: 'image', states: RUNNING_STATES });
    let failed = 0;
    for (const r of candidates) {
      if (this.running.has(r.arn)) continue;
      if (this.deps.leases && !(await this.deps.leases.acquire(buildLease(r.arn)))) continue;
      try {
        await this.failInterrupted(r);
        failed++;
      } finally {
        await this.deps.leases?.release(buildLease(r.arn));
      }
    }
    return failed;
  }

  private async failInterrupted(r: IbRecord): Promise<void> {
    const caller = { account: r.account, region: r.region };
    const res = (r.doc as ImageDoc).buildResources ?? { instances: [], images: [] };
    const notes: string[] = [];
    await cleanUp(this.deps, caller, res, { keepInstances: false, notes });
    const reason = INTERRUPTED_REASON + (notes.length ? ` Clean-up: ${notes.join('; ')}` : '');
    const at = this.deps.clock.now().toISOString();
    for (const wf of await this.deps.records.list({ kind: 'workflow-execution', parent: r.arn, states: ['RUNNING', 'PENDING'] })) {
      for (const s of await this.deps.records.list({ kind: 'workflow-step-execution', parent: wf.arn, states: ['RUNNING', 'PENDING'] })) {
        await this.deps.records.update(s.arn, (x) => ({ ...x, state: 'FAILED', updatedAt: at, doc: { ...x.doc, status: 'FAILED', message: INTERRUPTED_REASON, endTime: at } }));
      }
      await this.deps.records.update(wf.arn, (x) => ({ ...x, state: 'FAILED', updatedAt: at, doc: { ...x.doc, status: 'FAILED', message: INTERRUPTED_REASON, endTime: at } }));
    }
    await this.deps.records.update(r.arn, (x) => ({ ...x, state: 'FAILED', updatedAt: at, doc: { ...x.doc, state: { status: 'FAILED', reason }, buildResources: undefined } }));
  }

  /** Shutdown: running builds stop (failed, their instances ended) before the stores close. */
  async close(): Promise<void> {
    const runs = [...this.running.values()];
    for (const r of runs) r.controller.abort(new BuildStopped('The build was interrupted by a shutdown of the service.', false));
    await Promise.all(runs.map((r) => r.done));
  }

  /** Resolves once no build runs (tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  private async owned<T>(caller: Caller, arn: string, type: IbResourceType, parameter: string): Promise<T> {
    if (!arn) throw Errors.ibInvalidParameterValue(`The value supplied for parameter '${parameter}' is required.`);
    const parsed = requireIbArn(arn, type, parameter);
    const record = await this.deps.records.get(arn);
    if (!record || record.kind !== type || record.account !== caller.account || parsed.region !== caller.region) {
      throw Errors.ibNotFound(`The resource '${arn}' does not exist.`);
    }
    return recordToWire(record) as T;
  }

  /** The recipe's components with their documents: the caller's own, or Amazon-managed ones. */
  private async componentsOf(caller: Caller, recipe: ImageRecipe): Promise<ComponentToRun[]> {
    const out: ComponentToRun[] = [];
    for (const c of recipe.components ?? []) {
      const found = await this.component(caller, c.componentArn);
      if (!found?.data) throw Errors.ibNotFound(`The component '${c.componentArn}' does not exist.`);
      out.push({
        arn: found.arn ?? c.componentArn, name: found.name ?? parseIbArn(c.componentArn)?.name ?? c.componentArn, data: found.data,
        parameters: c.parameters?.map((p) => ({ name: p.name, value: p.value })),
      });
    }
    return out;
  }

  private async component(caller: Caller, arn: string): Promise<Component | undefined> {
    const parsed = parseIbArn(arn);
    if (!parsed || parsed.type !== 'component') throw Errors.ibInvalidParameterValue(`The value supplied for parameter 'componentArn' is not a valid component ARN: ${arn}`);
    if (parsed.owner === AMAZON_OWNER) {
      const managed = this.deps.managedComponents?.(caller.region) ?? [];
      const named = managed.filter((m) => parseIbArn(m.arn ?? '')?.name === parsed.name);
      if (parsed.build !== undefined) return named.find((m) => m.arn === arn);
      const newest = newestMatching(parsed.version ?? 'x.x.x', named.map((m) => m.version!.split('/')[0]));
      return named.filter((m) => m.version!.split('/')[0] === newest).sort((a, b) => compareSemVer(b.version!, a.version!))[0];
    }
    if (parsed.owner !== caller.account) return undefined;
    if (parsed.build !== undefined) {
      const r = await this.deps.records.get(arn);
      return r?.kind === 'component' ? componentToWire(r.doc as unknown as ComponentRecord) : undefined;
    }
    const all = (await this.deps.records.list({ kind: 'component', account: caller.account, region: caller.region })).filter((r) => parseIbArn(r.arn)?.name === parsed.name);
    const newest = newestMatching(parsed.version ?? 'x.x.x', [...new Set(all.map((r) => r.version!))]);
    const r = all.filter((x) => x.version === newest).sort((a, b) => (b.build ?? 0) - (a.build ?? 0))[0];
    return r ? componentToWire(r.doc as unknown as ComponentRecord) : undefined;
  }

  /** The parent image as an AMI id in the caller's region: given as one, or an Image Builder image's output. */
  private async parentImageOf(caller: Caller, recipe: ImageRecipe): Promise<string> {
    const parent = recipe.parentImage ?? '';
    if (/^ami-[0-9a-f]+$/.test(parent)) return parent;
    const record = await this.findImage(caller, parent).catch(() => undefined);
    const ami = (record?.doc as ImageDoc | undefined)?.outputResources?.amis?.find((a) => a.region === caller.region && (!a.accountId || a.accountId === caller.account));
    if (!record || record.state !== 'AVAILABLE' || !ami?.image) {
      throw Errors.ibInvalidParameterValue(`The parent image '${parent}' has no available AMI in ${caller.region}.`);
    }
    return ami.image;
  }
}

function testsOf(t: ImageTestsConfiguration | undefined): ImageTestsConfiguration {
  const timeoutMinutes = t?.timeoutMinutes ?? DEFAULT_TEST_TIMEOUT_MINUTES;
  if (timeoutMinutes < 60 || timeoutMinutes > 1440) {
    throw Errors.ibInvalidParameterValue(`The value supplied for parameter 'timeoutMinutes' must be between 60 and 1440.`);
  }
  return { imageTestsEnabled: t?.imageTestsEnabled ?? true, timeoutMinutes };
}
