// Running a pipeline: by hand (StartImagePipelineExecution) or when its schedule comes due, with
// the start condition deciding whether a due schedule builds; and, once a build has ended, its
// outcome counted on the pipeline (lastRunStatus, consecutiveFailures, the auto-disable policy).
import type { Caller } from '../../context.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type { ImagePipeline, ImageRecipe } from '../../../protocol/imagebuilder/types.generated.ts';
import { DependencyResolver, dependenciesChanged, type ResolvedDependencies } from './dependency-versions.ts';
import type { PipelineBuildStarter } from './pipeline-builds.ts';
import { DEFAULT_START_CONDITION, nextRun, stored, type LastBuild, type PipelineDoc } from './pipeline-document.ts';

/** Build states after which nothing more happens to the build. */
const ENDED = new Set(['AVAILABLE', 'FAILED', 'CANCELLED', 'DEPRECATED', 'DISABLED', 'DELETED']);
/** A last build in one of these does not count as "what the pipeline last built". */
const UNSUCCESSFUL = new Set(['FAILED', 'CANCELLED', 'DELETED']);

export type ScheduledOutcome =
  | { outcome: 'started'; imageBuildVersionArn: string }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'not-due' };

export interface PipelineRunsDeps {
  store: ImageBuilderRepository;
  builds: PipelineBuildStarter;
  clock: Clock;
  resolver: DependencyResolver;
}

export class PipelineRuns {
  private readonly deps: PipelineRunsDeps;

  constructor(deps: PipelineRunsDeps) {
    this.deps = deps;
  }

  /** Starts a build of the pipeline now and records it as the pipeline's last. */
  async start(record: IbRecord, buildType: LastBuild['buildType'], extra: { tags?: Record<string, string> } = {}): Promise<string> {
    const doc = record.doc as PipelineDoc;
    const dependencies = await this.resolve(doc);
    return this.startResolved(record, buildType, dependencies ?? { parentImage: '', components: [] }, extra);
  }

  /**
   * Runs a schedule that came due at or before `now`: claims the run (moves dateNextRun past now,
   * so a run missed several times over is made up once), then builds unless the start condition
   * says nothing changed since the last build.
   */
  async runScheduled(arn: string, now: Date): Promise<ScheduledOutcome> {
    let claimed = false;
    const record = await this.deps.store.update(arn, (current) => {
      const doc = current.doc as PipelineDoc;
      if (doc.status !== 'ENABLED' || !doc.dateNextRun || new Date(doc.dateNextRun) > now) return undefined;
      claimed = true;
      const next = nextRun(doc, now);
      const updated: PipelineDoc = { ...doc };
      if (next) updated.dateNextRun = next;
      else delete updated.dateNextRun;
      return { ...current, doc: stored(updated), updatedAt: now.toISOString() };
    });
    if (!record || !claimed) return { outcome: 'not-due' };
    const doc = record.doc as PipelineDoc;
    const dependencies = await this.resolve(doc);
    if (!dependencies) return { outcome: 'skipped', reason: `its image recipe ${doc.imageRecipeArn} no longer exists` };
    const condition = doc.schedule?.pipelineExecutionStartCondition ?? DEFAULT_START_CONDITION;
    if (condition === 'EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE') {
      const last = await this.lastSuccessfulBuild(doc);
      if (last && !dependenciesChanged(last.dependencies, dependencies)) {
        return { outcome: 'skipped', reason: `no newer parent image or component since ${last.imageBuildVersionArn}` };
      }
    }
    const imageBuildVersionArn = await this.startResolved(record, 'SCHEDULED', dependencies, {});
    return { outcome: 'started', imageBuildVersionArn };
  }

  /**
   * Counts the last build once it has ended: lastRunStatus, consecutive failures of scheduled
   * builds, and the schedule's auto-disable policy. True when the pipeline changed.
   */
  async settle(arn: string): Promise<boolean> {
    const record = await this.deps.store.get(arn);
    const last = (record?.doc as PipelineDoc | undefined)?.lastBuild;
    if (!record || !last || last.settled) return false;
    const image = await this.deps.store.get(last.imageBuildVersionArn);
    const status = image ? (image.state ?? '') : 'DELETED';
    if (!ENDED.has(status)) return false;
    const now = this.deps.clock.now().toISOString();
    const written = await this.deps.store.update(arn, (current) => {
      const doc = current.doc as PipelineDoc;
      if (doc.lastBuild?.imageBuildVersionArn !== last.imageBuildVersionArn || doc.lastBuild.settled) return undefined;
      const updated: PipelineDoc = { ...doc, lastRunStatus: status as ImagePipeline['lastRunStatus'], lastBuild: { ...doc.lastBuild, settled: true } };
      if (last.buildType === 'SCHEDULED') {
        if (status === 'FAILED') updated.consecutiveFailures = (doc.consecutiveFailures ?? 0) + 1;
        else if (status === 'AVAILABLE') updated.consecutiveFailures = 0;
        const limit = doc.schedule?.autoDisablePolicy?.failureCount;
        if (limit !== undefined && (updated.consecutiveFailures ?? 0) >= limit && updated.status === 'ENABLED') {
          updated.status = 'DISABLED';
          delete updated.dateNextRun;
        }
      }
      return { ...current, doc: stored(updated), state: updated.status, updatedAt: now };
    });
    return !!written;
  }

  /** The last build's state as lastRunStatus reports it while the build is still going. */
  async currentStatus(doc: PipelineDoc): Promise<ImagePipeline['lastRunStatus']> {
    const last = doc.lastBuild;
    if (!last || last.settled) return doc.lastRunStatus;
    const image = await this.deps.store.get(last.imageBuildVersionArn);
    return (image?.state ?? 'PENDING') as ImagePipeline['lastRunStatus'];
  }

  private async startResolved(record: IbRecord, buildType: LastBuild['buildType'], dependencies: ResolvedDependencies,
    extra: { tags?: Record<string, string> }): Promise<string> {
    const doc = record.doc as PipelineDoc;
    const caller: Caller = { account: record.account, region: record.region };
    const tags = doc.imageTags || extra.tags ? { ...doc.imageTags, ...extra.tags } : undefined;
    const { imageBuildVersionArn } = await this.deps.builds.startBuild(caller, {
      imageRecipeArn: doc.imageRecipeArn!,
      infrastructureConfigurationArn: doc.infrastructureConfigurationArn!,
      distributionConfigurationArn: doc.distributionConfigurationArn,
      imageTestsConfiguration: doc.imageTestsConfiguration,
      imagePipelineArn: record.arn,
      enhancedImageMetadataEnabled: doc.enhancedImageMetadataEnabled,
      tags,
      buildType,
    });
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.update(record.arn, (current) => ({
      ...current,
      doc: { ...current.doc, dateLastRun: now, lastBuild: { imageBuildVersionArn, buildType, dependencies } satisfies LastBuild },
      updatedAt: now,
    }));
    return imageBuildVersionArn;
  }

  /** What the recipe resolves to now; undefined when the recipe is gone. */
  private async resolve(doc: PipelineDoc): Promise<ResolvedDependencies | undefined> {
    const recipe = doc.imageRecipeArn ? await this.deps.store.get(doc.imageRecipeArn) : undefined;
    if (!recipe) return undefined;
    return this.deps.resolver.resolve(recipe.doc as ImageRecipe);
  }

  /** The last build, unless it failed, was cancelled or its image is gone: then there is nothing to compare with. */
  private async lastSuccessfulBuild(doc: PipelineDoc): Promise<LastBuild | undefined> {
    const last = doc.lastBuild;
    if (!last) return undefined;
    const image = await this.deps.store.get(last.imageBuildVersionArn);
    if (!image || UNSUCCESSFUL.has(image.state ?? '')) return undefined;
    return last;
  }
}
