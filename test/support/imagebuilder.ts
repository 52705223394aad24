// Helpers for the Image Builder tests through @aws-sdk/client-imagebuilder: a client, the
// resources a build needs (component, recipe, infrastructure and distribution configurations)
// created through the API, a wait for a build's status, and lifecycle executions (started by the
// operator's endpoint, waited for through the API).
import assert from 'node:assert/strict';
import {
  CreateComponentCommand, CreateDistributionConfigurationCommand, CreateImageRecipeCommand, CreateInfrastructureConfigurationCommand,
  GetImageCommand, GetLifecycleExecutionCommand, ImagebuilderClient, ListWorkflowExecutionsCommand, ListWorkflowStepExecutionsCommand, type Distribution, type Image,
  type LifecycleExecution,
} from '@aws-sdk/client-imagebuilder';
import type { Credentials } from './clients.ts';
import type { RunningServer } from './server.ts';

export function ibClient(endpoint: string, credentials: Credentials, region = 'us-east-1'): ImagebuilderClient {
  return new ImagebuilderClient({ endpoint, region, credentials, maxAttempts: 1 });
}

/** A component document with a build phase and a test phase, each one ExecuteBash step. */
export function componentDocument(o: { build: string[]; test?: string[] }): string {
  const phase = (name: string, step: string, commands: string[]) => [
    `  - name: ${name}`, '    steps:', `      - name: ${step}`, '        action: ExecuteBash', '        inputs:', '          commands:',
    ...commands.map((c) => `            - ${JSON.stringify(c)}`),
  ];
  return [
    'name: amiforge-test-component', 'description: written by the Image Builder tests', 'schemaVersion: 1.0', 'phases:',
    ...phase('build', 'Build', o.build), ...(o.test ? phase('test', 'Test', o.test) : []),
  ].join('\n') + '\n';
}

export interface BuildSetup {
  recipeArn: string;
  infrastructureArn: string;
  distributionArn?: string;
  componentArn: string;
}

/** Creates a component, a recipe on `parentImage`, an infrastructure and (if asked) a distribution configuration. */
export async function createBuildSetup(ib: ImagebuilderClient, o: {
  name: string; parentImage: string; build: string[]; test?: string[]; instanceType?: string; distributions?: Distribution[];
  recipeTags?: Record<string, string>; terminateInstanceOnFailure?: boolean;
}): Promise<BuildSetup> {
  const { componentBuildVersionArn } = await ib.send(new CreateComponentCommand({
    name: o.name, semanticVersion: '1.0.0', platform: 'Linux', data: componentDocument(o),
  }));
  const { imageRecipeArn } = await ib.send(new CreateImageRecipeCommand({
    name: o.name, semanticVersion: '1.0.0', parentImage: o.parentImage, components: [{ componentArn: componentBuildVersionArn! }], tags: o.recipeTags,
  }));
  const { infrastructureConfigurationArn } = await ib.send(new CreateInfrastructureConfigurationCommand({
    name: o.name, instanceProfileName: 'EC2InstanceProfileForImageBuilder', instanceTypes: [o.instanceType ?? 't3.micro'],
    terminateInstanceOnFailure: o.terminateInstanceOnFailure,
  }));
  let distributionArn: string | undefined;
  if (o.distributions) {
    ({ distributionConfigurationArn: distributionArn } = await ib.send(new CreateDistributionConfigurationCommand({ name: o.name, distributions: o.distributions })));
  }
  return { recipeArn: imageRecipeArn!, infrastructureArn: infrastructureConfigurationArn!, distributionArn, componentArn: componentBuildVersionArn! };
}

/** Polls GetImage until the build is in one of `statuses`; fails naming the last status after `timeoutMs`. */
export async function waitForImage(ib: ImagebuilderClient, arn: string, statuses: string[], timeoutMs = 120_000, pollMs = 250): Promise<Image> {
  const deadline = Date.now() + timeoutMs;
  let last: Image | undefined;
  while (Date.now() < deadline) {
    last = (await ib.send(new GetImageCommand({ imageBuildVersionArn: arn }))).image;
    if (statuses.includes(last?.state?.status ?? '')) return last!;
    if (['FAILED', 'CANCELLED', 'AVAILABLE'].includes(last?.state?.status ?? '')) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  assert.fail(`${arn} did not reach ${statuses.join('/')}: ${last?.state?.status} ${last?.state?.reason ?? ''}\n${await stepSummary(ib, arn)}`);
}

/** `TYPE step STATUS message` per step of a build, for failure messages and diagnostics. */
export async function stepSummary(ib: ImagebuilderClient, arn: string): Promise<string> {
  const lines: string[] = [];
  const { workflowExecutions } = await ib.send(new ListWorkflowExecutionsCommand({ imageBuildVersionArn: arn }));
  for (const wf of workflowExecutions ?? []) {
    const { steps } = await ib.send(new ListWorkflowStepExecutionsCommand({ workflowExecutionId: wf.workflowExecutionId! }));
    for (const s of steps ?? []) lines.push(`${wf.type} ${s.name} ${s.status}${s.message ? ` ${s.message}` : ''}`);
  }
  return lines.join('\n');
}

/** Starts a lifecycle policy's run (or preview) now, through the operator's endpoint, which must accept it. */
export async function startLifecycleRun(server: Pick<RunningServer, 'ops'>, arn: string, what: 'run' | 'preview' = 'run'): Promise<{ lifecycleExecutionId: string; started: boolean }> {
  const res = await server.ops(`/_amiforge/lifecycle-policies/${encodeURIComponent(arn)}/${what}`, { method: 'POST' });
  const body = await res.json();
  assert.equal(res.status, 202, JSON.stringify(body));
  return body as { lifecycleExecutionId: string; started: boolean };
}

/** Polls GetLifecycleExecution until the execution has ended (neither pending, in progress nor cancelling). */
export async function waitForLifecycleExecution(ib: ImagebuilderClient, id: string): Promise<LifecycleExecution> {
  for (let i = 0; i < 400; i++) {
    const { lifecycleExecution } = await ib.send(new GetLifecycleExecutionCommand({ lifecycleExecutionId: id }));
    if (!['IN_PROGRESS', 'PENDING', 'CANCELLING'].includes(lifecycleExecution!.state!.status!)) return lifecycleExecution!;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`lifecycle execution ${id} did not finish`);
}
