// Image pipelines: CreateImagePipeline, UpdateImagePipeline, GetImagePipeline, ListImagePipelines,
// DeleteImagePipeline, StartImagePipelineExecution and ListImagePipelineImages. A pipeline is a
// record of kind `image-pipeline` whose document is the wire ImagePipeline; its schedule's next run
// (dateNextRun) is kept in the record, so the scheduler (pipeline-scheduler.ts) finds it again after
// a restart.
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type {
  Component, CreateImagePipelineRequest, Image, ImagePipeline, ImageSummary, ListImagePipelineImagesRequest,
  ListImagePipelinesRequest, StartImagePipelineExecutionRequest, UpdateImagePipelineRequest,
} from '../../../protocol/imagebuilder/types.generated.ts';
import { ibArn, requireIbArn } from '../arns.ts';
import { applyFilters, type FilterRule } from '../resources/records.ts';
import { DependencyResolver } from './dependency-versions.ts';
import { page } from './list-pages.ts';
import type { PipelineBuildStarter } from './pipeline-builds.ts';
import { nextRun, pipelineSettings, stored, type PipelineDoc } from './pipeline-document.ts';
import { pipelineToWire } from '../resources/wire-mappers.ts';
import { PipelineRuns } from './pipeline-runs.ts';

export interface PipelineServiceDeps {
  store: ImageBuilderRepository;
  builds: PipelineBuildStarter;
  /** The service's clock (the test clock behind --enable-reset). */
  clock: Clock;
  amazonComponents?: (region: string) => Component[];
}

const PIPELINE_FILTERS: FilterRule<IbRecord> = {
  name: (r) => r.name,
  description: (r) => (r.doc as PipelineDoc).description,
  status: (r) => (r.doc as PipelineDoc).status,
  imageRecipeArn: (r) => (r.doc as PipelineDoc).imageRecipeArn,
  infrastructureConfigurationArn: (r) => (r.doc as PipelineDoc).infrastructureConfigurationArn,
  distributionConfigurationArn: (r) => (r.doc as PipelineDoc).distributionConfigurationArn,
};

const IMAGE_FILTERS: FilterRule<IbRecord> = {
  name: (r) => (r.doc as Image).name ?? r.name,
  version: (r) => (r.doc as Image).version ?? r.version,
};

export class PipelineService {
  private readonly deps: PipelineServiceDeps;
  readonly runs: PipelineRuns;

  constructor(deps: PipelineServiceDeps) {
    this.deps = deps;
    const resolver = new DependencyResolver({ store: deps.store, amazonComponents: deps.amazonComponents });
    this.runs = new PipelineRuns({ store: deps.store, builds: deps.builds, clock: deps.clock, resolver });
  }

  async create(caller: Caller, req: CreateImagePipelineRequest): Promise<string> {
    const arn = ibArn({ region: caller.region, owner: caller.account, type: 'image-pipeline', name: req.name });
    const settings = await pipelineSettings(this.deps.store, caller, req);
    const now = this.deps.clock.now();
    const doc: PipelineDoc = {
      arn, name: req.name, ...settings,
      dateCreated: now.toISOString(), dateUpdated: now.toISOString(),
      ...(req.tags ? { tags: req.tags } : {}),
      scheduleAnchor: now.toISOString(),
    };
    const next = nextRun(doc, now);
    if (next) doc.dateNextRun = next;
    const inserted = await this.deps.store.insert({
      arn, kind: 'image-pipeline', account: caller.account, region: caller.region, name: req.name,
      state: doc.status, doc: stored(doc), createdAt: now.toISOString(), updatedAt: now.toISOString(),
    });
    if (!inserted) throw Errors.ibAlreadyExists(`The resource ARN '${arn}' already exists.`);
    return arn;
  }

  /** Replaces every setting, as Image Builder's update does (members left out go back to their defaults). */
  async update(caller: Caller, req: UpdateImagePipelineRequest): Promise<string> {
    const existing = await this.own(caller, req.imagePipelineArn);
    const settings = await pipelineSettings(this.deps.store, caller, req);
    const now = this.deps.clock.now();
    const written = await this.deps.store.update(existing.arn, (current) => {
      const before = current.doc as PipelineDoc;
      const scheduleChanged = JSON.stringify(before.schedule ?? null) !== JSON.stringify(settings.schedule ?? null);
      const doc: PipelineDoc = {
        arn: before.arn, name: before.name, ...settings,
        dateCreated: before.dateCreated, dateUpdated: now.toISOString(),
        ...pick(before, ['tags', 'dateLastRun', 'lastRunStatus', 'consecutiveFailures', 'lastBuild']),
        scheduleAnchor: scheduleChanged ? now.toISOString() : before.scheduleAnchor,
      };
      // An unchanged schedule keeps its next run (a run already due stays due).
      const next = !scheduleChanged && before.status === 'ENABLED' && doc.status === 'ENABLED' && before.dateNextRun
        ? before.dateNextRun : nextRun(doc, now);
      if (next) doc.dateNextRun = next;
      // Re-enabled by hand: the failures that disabled it no longer count.
      if (before.status === 'DISABLED' && doc.status === 'ENABLED') doc.consecutiveFailures = 0;
      return { ...current, doc: stored(doc), state: doc.status, updatedAt: now.toISOString() };
    });
    if (!written) throw Errors.ibNotFound(`The resource ARN '${existing.arn}' does not exist.`);
    return existing.arn;
  }

  async get(caller: Caller, arn: string): Promise<ImagePipeline> {
    return this.view(await this.own(caller, arn));
  }

  async list(caller: Caller, req: ListImagePipelinesRequest): Promise<{ imagePipelineList: ImagePipeline[]; nextToken?: string }> {
    const records = await this.deps.store.list({ kind: 'image-pipeline', account: caller.account, region: caller.region });
    const { items, nextToken } = page(applyFilters(records, req.filters, PIPELINE_FILTERS), req.nextToken, req.maxResults);
    return { imagePipelineList: await Promise.all(items.map((r) => this.view(r))), nextToken };
  }

  /** Deletes the pipeline; its images stay (they keep sourcePipelineArn), as in Image Builder. */
  async delete(caller: Caller, arn: string): Promise<string> {
    const record = await this.own(caller, arn);
    await this.deps.store.delete(record.arn);
    return record.arn;
  }

  async startExecution(caller: Caller, req: StartImagePipelineExecutionRequest): Promise<string> {
    const record = await this.own(caller, req.imagePipelineArn);
    const doc = record.doc as PipelineDoc;
    if (doc.status === 'DISABLED') {
      throw Errors.ibInvalidRequest(`The image pipeline ${record.arn} is DISABLED: enable it (UpdateImagePipeline with status ENABLED) to start an execution.`);
    }
    const recipe = doc.imageRecipeArn ? await this.deps.store.get(doc.imageRecipeArn) : undefined;
    if (!recipe) throw Errors.ibNotFound(`The resource ARN '${doc.imageRecipeArn}' does not exist: the pipeline's image recipe was deleted.`);
    return this.runs.start(record, 'USER_INITIATED', { tags: req.tags });
  }

  async listImages(caller: Caller, req: ListImagePipelineImagesRequest): Promise<{ imageSummaryList: ImageSummary[]; nextToken?: string }> {
    const pipeline = await this.own(caller, req.imagePipelineArn);
    const images = await this.deps.store.list({ kind: 'image', parent: pipeline.arn, account: caller.account, region: caller.region });
    const { items, nextToken } = page(applyFilters(images, req.filters, IMAGE_FILTERS), req.nextToken, req.maxResults);
    return { imageSummaryList: items.map(imageSummary), nextToken };
  }

  /** ENABLED pipelines of every account, for the scheduler. */
  async enabledPipelines(): Promise<IbRecord[]> {
    return this.deps.store.list({ kind: 'image-pipeline', states: ['ENABLED'] });
  }

  private async own(caller: Caller, arn: string): Promise<IbRecord> {
    const parsed = requireIbArn(arn, 'image-pipeline', 'imagePipelineArn');
    if (parsed.owner !== caller.account) throw Errors.ibForbidden(`You are not authorized to access ${arn}.`);
    const record = await this.deps.store.get(arn);
    if (!record || record.kind !== 'image-pipeline' || record.account !== caller.account || record.region !== caller.region) {
      throw Errors.ibNotFound(`The resource ARN '${arn}' does not exist.`);
    }
    return record;
  }

  private async view(record: IbRecord): Promise<ImagePipeline> {
    const doc = record.doc as PipelineDoc;
    const out = pipelineToWire(doc);
    const status = await this.runs.currentStatus(doc);
    if (status) out.lastRunStatus = status;
    return out;
  }
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

function imageSummary(r: IbRecord): ImageSummary {
  const img = r.doc as Image;
  const summary: ImageSummary = {
    arn: img.arn ?? r.arn, name: img.name ?? r.name, type: img.type ?? 'AMI', version: img.version ?? r.version,
    platform: img.platform, osVersion: img.osVersion, state: img.state, owner: r.account, dateCreated: img.dateCreated,
    outputResources: img.outputResources, tags: img.tags, buildType: img.buildType, imageSource: img.imageSource,
    deprecationTime: img.deprecationTime, lifecycleExecutionId: img.lifecycleExecutionId, loggingConfiguration: img.loggingConfiguration,
  };
  for (const key of Object.keys(summary) as (keyof ImageSummary)[]) if (summary[key] === undefined) delete summary[key];
  return summary;
}
