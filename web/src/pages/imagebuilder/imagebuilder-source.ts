// Image Builder through its own REST API: pipelines and their builds, a build's workflows and
// step logs (docs/imagebuilder-builds.md), and the read-only resource lists.
import { imagebuilder } from '../../api.ts';

export interface Ami { region?: string; image?: string; name?: string; accountId?: string }
export interface BuildState { status?: string; reason?: string }

export interface Pipeline {
  arn: string;
  name: string;
  description?: string;
  status?: string;
  schedule?: { scheduleExpression?: string; pipelineExecutionStartCondition?: string; timezone?: string };
  dateLastRun?: string;
  dateNextRun?: string;
  imageRecipeArn?: string;
  infrastructureConfigurationArn?: string;
  distributionConfigurationArn?: string;
  imageTestsConfiguration?: { imageTestsEnabled?: boolean; timeoutMinutes?: number };
}

export interface BuildSummary {
  arn: string;
  name?: string;
  version?: string;
  state?: BuildState;
  dateCreated?: string;
  outputResources?: { amis?: Ami[] };
}

export interface Build extends BuildSummary {
  sourcePipelineArn?: string;
  imageRecipe?: { arn?: string; name?: string; parentImage?: string };
}

export interface WorkflowExecution {
  workflowExecutionId: string;
  type?: string;
  status?: string;
  message?: string;
  totalStepCount?: number;
  totalStepsSucceeded?: number;
  totalStepsFailed?: number;
  totalStepsSkipped?: number;
  startTime?: string;
  endTime?: string;
}

export interface StepExecution {
  stepExecutionId: string;
  name?: string;
  action?: string;
  status?: string;
  message?: string;
  outputs?: string;
  startTime?: string;
  endTime?: string;
}

/** Every page of a nextToken-paged list operation (POST /<Operation>). */
async function allPages<T>(operation: string, input: Record<string, unknown>, items: string): Promise<T[]> {
  const out: T[] = [];
  let nextToken: string | undefined;
  do {
    const page = await imagebuilder<Record<string, unknown> & { nextToken?: string }>('POST', `/${operation}`, { ...input, nextToken });
    out.push(...((page[items] as T[] | undefined) ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

const query = (name: string, value: string) => `?${new URLSearchParams({ [name]: value })}`;

export const listPipelines = () => allPages<Pipeline>('ListImagePipelines', {}, 'imagePipelineList');

export async function getPipeline(arn: string): Promise<Pipeline> {
  return (await imagebuilder<{ imagePipeline: Pipeline }>('GET', `/GetImagePipeline${query('imagePipelineArn', arn)}`)).imagePipeline;
}

export const listPipelineBuilds = (arn: string) => allPages<BuildSummary>('ListImagePipelineImages', { imagePipelineArn: arn }, 'imageSummaryList');

/** A fresh idempotency token (crypto.randomUUID needs a secure context; a console over plain http on a LAN is not one). */
function clientToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function startPipeline(arn: string): Promise<string> {
  const out = await imagebuilder<{ imageBuildVersionArn: string }>('PUT', '/StartImagePipelineExecution', { imagePipelineArn: arn, clientToken: clientToken() });
  return out.imageBuildVersionArn;
}

export async function getBuild(arn: string): Promise<Build> {
  return (await imagebuilder<{ image: Build }>('GET', `/GetImage${query('imageBuildVersionArn', arn)}`)).image;
}

/** The build's workflows (build, test, distribution), each with its steps. */
export async function buildWorkflows(arn: string): Promise<{ workflow: WorkflowExecution; steps: StepExecution[] }[]> {
  const workflows = await allPages<WorkflowExecution>('ListWorkflowExecutions', { imageBuildVersionArn: arn }, 'workflowExecutions');
  return Promise.all(workflows.map(async (workflow) => ({
    workflow,
    steps: await allPages<StepExecution>('ListWorkflowStepExecutions', { workflowExecutionId: workflow.workflowExecutionId }, 'steps'),
  })));
}

/** A step's log: `log` in its outputs (JSON). */
export function stepLog(step: StepExecution): string {
  if (!step.outputs) return '';
  try {
    const log = (JSON.parse(step.outputs) as { log?: unknown }).log;
    return typeof log === 'string' ? log : '';
  } catch {
    return '';
  }
}

export const TERMINAL = new Set(['AVAILABLE', 'FAILED', 'CANCELLED', 'DEPRECATED', 'DISABLED', 'DELETED']);

/** How far a build has come, by its status in the workflow's order. */
const PROGRESS: Record<string, number> = { PENDING: 0, CREATING: 5, BUILDING: 20, TESTING: 60, DISTRIBUTING: 80, INTEGRATING: 95, AVAILABLE: 100 };
export const buildProgress = (status?: string): number | undefined => (status ? PROGRESS[status] : undefined);

export interface ResourceSummary { arn: string; name?: string; version?: string; platform?: string; description?: string; dateCreated?: string; detail?: string }

/** The read-only lists: recipes, components, infrastructure and distribution configurations. */
export async function listResources(kind: 'recipes' | 'components' | 'infrastructure' | 'distribution'): Promise<ResourceSummary[]> {
  type Raw = ResourceSummary & { parentImage?: string; instanceTypes?: string[]; regions?: string[]; type?: string };
  const [operation, items, detail] = {
    recipes: ['ListImageRecipes', 'imageRecipeSummaryList', (r: Raw) => `parent ${r.parentImage ?? ''}`],
    components: ['ListComponents', 'componentVersionList', (r: Raw) => r.type ?? ''],
    infrastructure: ['ListInfrastructureConfigurations', 'infrastructureConfigurationSummaryList', (r: Raw) => (r.instanceTypes ?? []).join(', ')],
    distribution: ['ListDistributionConfigurations', 'distributionConfigurationSummaryList', (r: Raw) => (r.regions ?? []).join(', ')],
  }[kind] as [string, string, (r: Raw) => string];
  return (await allPages<Raw>(operation, {}, items)).map((r) => ({ ...r, detail: detail(r) }));
}

export const pipelineHref = (arn: string) => `#/imagebuilder/pipelines/${encodeURIComponent(arn)}`;
export const buildHref = (arn: string) => `#/imagebuilder/builds/${encodeURIComponent(arn)}`;
