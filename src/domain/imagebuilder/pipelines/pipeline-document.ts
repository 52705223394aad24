// The stored pipeline: its wire shape (GetImagePipeline's ImagePipeline) plus the private state the
// scheduler keeps beside it, and the rules that turn a Create/Update request into that shape.
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type {
  CreateImagePipelineRequest, ImagePipeline, ImageScanningConfiguration, ImageTestsConfiguration, PipelineLoggingConfiguration, Schedule,
  WorkflowConfiguration,
} from '../../../protocol/imagebuilder/types.generated.ts';
import { requireIbArn, type IbResourceType } from '../arns.ts';
import type { ResolvedDependencies } from './dependency-versions.ts';
import { DEFAULT_TIMEZONE, parseScheduleExpression, type ScheduleTiming } from './schedule-expression.ts';

export const DEFAULT_START_CONDITION = 'EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE';
/** Image Builder's defaults for a pipeline's image tests. */
export const DEFAULT_IMAGE_TESTS = { imageTestsEnabled: true, timeoutMinutes: 720 };

/** The last build a pipeline started, and what its recipe resolved to then. */
export interface LastBuild {
  imageBuildVersionArn: string;
  buildType: 'USER_INITIATED' | 'SCHEDULED';
  dependencies: ResolvedDependencies;
  /** Set once the build has ended and lastRunStatus / consecutiveFailures count it. */
  settled?: boolean;
}

/**
 * A pipeline's record: Image Builder's members amiforge keeps (under the API's names; nested
 * values in the API's shapes), and its own: the schedule's anchor and the last build it started.
 * pipelineToWire (resources/wire-mappers.ts) maps it to ImagePipeline.
 */
export interface PipelineDoc {
  arn?: string;
  name?: string;
  description?: string;
  platform?: 'Windows' | 'Linux' | 'macOS';
  enhancedImageMetadataEnabled?: boolean;
  imageRecipeArn?: string;
  infrastructureConfigurationArn?: string;
  distributionConfigurationArn?: string;
  imageTestsConfiguration?: ImageTestsConfiguration;
  schedule?: Schedule;
  status?: 'DISABLED' | 'ENABLED';
  /** ISO 8601, as are the other dates. */
  dateCreated?: string;
  dateUpdated?: string;
  dateLastRun?: string;
  lastRunStatus?: ImagePipeline['lastRunStatus'];
  /** The next scheduled run, kept so the scheduler finds it again after a restart. */
  dateNextRun?: string;
  tags?: Record<string, string>;
  imageScanningConfiguration?: ImageScanningConfiguration;
  imageTags?: Record<string, string>;
  executionRole?: string;
  workflows?: WorkflowConfiguration[];
  loggingConfiguration?: PipelineLoggingConfiguration;
  consecutiveFailures?: number;
  /** Where a rate() schedule counts from: the last create or update of the schedule. */
  scheduleAnchor?: string;
  lastBuild?: LastBuild;
}

/** The members Create and Update share (Update has no name or tags). */
export type PipelineSettings = Omit<CreateImagePipelineRequest, 'name' | 'tags' | 'clientToken'>;

/** The schedule's timing, or undefined for a pipeline run by hand only. */
export function scheduleTiming(doc: PipelineDoc): ScheduleTiming | undefined {
  const s = doc.schedule;
  if (!s?.scheduleExpression) return undefined;
  return parseScheduleExpression(s.scheduleExpression, s.timezone ?? DEFAULT_TIMEZONE, new Date(doc.scheduleAnchor ?? doc.dateCreated ?? 0));
}

/** The next run after `after` of an ENABLED pipeline with a schedule. */
export function nextRun(doc: PipelineDoc, after: Date): string | undefined {
  if (doc.status !== 'ENABLED') return undefined;
  return scheduleTiming(doc)?.next(after)?.toISOString();
}

/** The request's schedule with Image Builder's default start condition; the expression is checked. */
function normalizedSchedule(schedule: Schedule | undefined): Schedule | undefined {
  if (!schedule || schedule.scheduleExpression === undefined) {
    if (schedule?.timezone || schedule?.pipelineExecutionStartCondition || schedule?.autoDisablePolicy) {
      throw Errors.ibInvalidParameterValue("The value supplied for parameter 'schedule.scheduleExpression' is not valid. A schedule needs an expression, e.g. cron(0 10 * * ? *).");
    }
    return undefined;
  }
  parseScheduleExpression(schedule.scheduleExpression, schedule.timezone ?? DEFAULT_TIMEZONE);
  return { ...schedule, pipelineExecutionStartCondition: schedule.pipelineExecutionStartCondition ?? DEFAULT_START_CONDITION };
}

/** The caller's record of `type` under `arn` in the caller's region; ResourceNotFoundException otherwise. */
export async function requireOwnResource(store: ImageBuilderRepository, caller: Caller, arn: string, type: IbResourceType, parameter: string): Promise<IbRecord> {
  requireIbArn(arn, type, parameter);
  const record = await store.get(arn);
  if (!record || record.kind !== type || record.account !== caller.account || record.region !== caller.region) {
    throw Errors.ibNotFound(`The resource ARN '${arn}' does not exist.`);
  }
  return record;
}

/**
 * The pipeline's settings from a Create or Update request: the recipe and configurations must be
 * the caller's, container recipes are not built by amiforge, defaults as Image Builder's.
 */
export async function pipelineSettings(store: ImageBuilderRepository, caller: Caller, req: PipelineSettings): Promise<PipelineDoc> {
  if (req.containerRecipeArn) {
    throw Errors.ibInvalidRequest('Container recipes are not supported: amiforge builds AMIs only. Use imageRecipeArn.');
  }
  if (!req.imageRecipeArn) {
    throw Errors.ibInvalidRequest("The request must name an image recipe: the parameter 'imageRecipeArn' is missing.");
  }
  const recipe = await requireOwnResource(store, caller, req.imageRecipeArn, 'image-recipe', 'imageRecipeArn');
  await requireOwnResource(store, caller, req.infrastructureConfigurationArn, 'infrastructure-configuration', 'infrastructureConfigurationArn');
  if (req.distributionConfigurationArn) {
    await requireOwnResource(store, caller, req.distributionConfigurationArn, 'distribution-configuration', 'distributionConfigurationArn');
  }
  const doc: PipelineDoc = {
    description: req.description,
    platform: (recipe.doc.platform as ImagePipeline['platform']) ?? 'Linux',
    enhancedImageMetadataEnabled: req.enhancedImageMetadataEnabled ?? true,
    imageRecipeArn: req.imageRecipeArn,
    infrastructureConfigurationArn: req.infrastructureConfigurationArn,
    distributionConfigurationArn: req.distributionConfigurationArn,
    imageTestsConfiguration: { ...DEFAULT_IMAGE_TESTS, ...req.imageTestsConfiguration },
    schedule: normalizedSchedule(req.schedule),
    status: req.status ?? 'ENABLED',
    imageTags: req.imageTags,
    imageScanningConfiguration: req.imageScanningConfiguration,
    workflows: req.workflows,
    executionRole: req.executionRole,
    loggingConfiguration: req.loggingConfiguration,
  };
  for (const key of Object.keys(doc) as (keyof PipelineDoc)[]) if (doc[key] === undefined) delete doc[key];
  return doc;
}

/** The document as the record store keeps it. */
export const stored = (doc: PipelineDoc): Record<string, unknown> => doc as Record<string, unknown>;
