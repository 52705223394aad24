// Image Builder through its own REST API: pipelines and their builds, a build's workflows and
// step logs (docs/imagebuilder-builds.md), and the read-only resource lists.
import { imagebuilder } from '../../api.ts';
import type {
  ComponentVersion, DistributionConfigurationSummary, IbAmi, IbImage, ImagePipeline, ImageRecipeSummary, ImageSummary,
  InfrastructureConfigurationSummary, WorkflowExecution, WorkflowStep,
} from '../../wire.ts';

export type { IbAmi as Ami, IbImage as Build, ImagePipeline as Pipeline, ImageSummary as BuildSummary, WorkflowExecution, WorkflowStep as StepExecution };

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

export const listPipelines = () => allPages<ImagePipeline>('ListImagePipelines', {}, 'imagePipelineList');

export async function getPipeline(arn: string): Promise<ImagePipeline> {
  return (await imagebuilder<{ imagePipeline: ImagePipeline }>('GET', `/GetImagePipeline${query('imagePipelineArn', arn)}`)).imagePipeline;
}

export const listPipelineBuilds = (arn: string) => allPages<ImageSummary>('ListImagePipelineImages', { imagePipelineArn: arn }, 'imageSummaryList');

/** A fresh idempotency token (crypto.randomUUID needs a secure context; a console over plain http on a LAN is not one). */
function clientToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function startPipeline(arn: string): Promise<string> {
  const out = await imagebuilder<{ imageBuildVersionArn: string }>('PUT', '/StartImagePipelineExecution', { imagePipelineArn: arn, clientToken: clientToken() });
  return out.imageBuildVersionArn;
}

export async function getBuild(arn: string): Promise<IbImage> {
  return (await imagebuilder<{ image: IbImage }>('GET', `/GetImage${query('imageBuildVersionArn', arn)}`)).image;
}

/** The build's workflows (build, test, distribution), each with its steps. */
export async function buildWorkflows(arn: string): Promise<{ workflow: WorkflowExecution; steps: WorkflowStep[] }[]> {
  const workflows = await allPages<WorkflowExecution>('ListWorkflowExecutions', { imageBuildVersionArn: arn }, 'workflowExecutions');
  return Promise.all(workflows.map(async (workflow) => ({
    workflow,
    steps: await allPages<WorkflowStep>('ListWorkflowStepExecutions', { workflowExecutionId: workflow.workflowExecutionId }, 'steps'),
  })));
}

/** A step's log: `log` in its outputs (JSON). */
export function stepLog(step: WorkflowStep): string {
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

export interface ResourceSummary { arn: string; name?: string; version?: string; description?: string; dateCreated?: string; detail: string }

type Summary = ImageRecipeSummary | ComponentVersion | InfrastructureConfigurationSummary | DistributionConfigurationSummary;

/** The read-only lists: recipes, components, infrastructure and distribution configurations. */
export async function listResources(kind: 'recipes' | 'components' | 'infrastructure' | 'distribution'): Promise<ResourceSummary[]> {
  const row = (r: Summary, detail: string): ResourceSummary => ({
    arn: r.arn ?? '', name: r.name, version: 'version' in r ? r.version : undefined, description: 'description' in r ? r.description : undefined,
    dateCreated: r.dateCreated, detail,
  });
  switch (kind) {
    case 'recipes':
      return (await allPages<ImageRecipeSummary>('ListImageRecipes', {}, 'imageRecipeSummaryList')).map((r) => row(r, `parent ${r.parentImage ?? ''}`));
    case 'components':
      return (await allPages<ComponentVersion>('ListComponents', {}, 'componentVersionList')).map((r) => row(r, r.type ?? ''));
    case 'infrastructure':
      return (await allPages<InfrastructureConfigurationSummary>('ListInfrastructureConfigurations', {}, 'infrastructureConfigurationSummaryList'))
        .map((r) => row(r, (r.instanceTypes ?? []).join(', ')));
    case 'distribution':
      return (await allPages<DistributionConfigurationSummary>('ListDistributionConfigurations', {}, 'distributionConfigurationSummaryList'))
        .map((r) => row(r, (r.regions ?? []).join(', ')));
  }
}

export const pipelineHref = (arn: string) => `#/imagebuilder/pipelines/${encodeURIComponent(arn)}`;
export const buildHref = (arn: string) => `#/imagebuilder/builds/${encodeURIComponent(arn)}`;
