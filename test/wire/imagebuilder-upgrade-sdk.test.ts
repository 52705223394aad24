// A data directory the release at schema version 4 wrote through the Image Builder API
// (test/fixtures/sqlite-metadata-v4-imagebuilder.sql), served by this release: the server upgrades
// it in place and answers @aws-sdk/client-imagebuilder as that release did.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  GetImageCommand, GetImagePipelineCommand, GetLifecycleExecutionCommand, ListImagePipelineImagesCommand, ListLifecycleExecutionResourcesCommand,
  ListWorkflowExecutionsCommand, ListWorkflowStepExecutionsCommand, type ImagebuilderClient,
} from '@aws-sdk/client-imagebuilder';
import { devCredentials } from '../support/clients.ts';
import { ibClient } from '../support/imagebuilder.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const ARN = 'arn:aws:imagebuilder:us-east-1:111111111111';
const PIPELINE = `${ARN}:image-pipeline/golden-nightly`;
const OLDER = `${ARN}:image/golden/1.0.0/1`;
const NEWER = `${ARN}:image/golden/1.0.0/2`;
const PREVIEW = 'lce-7578970d-07eb-40a2-8ce6-4a69e55cb296';
const MANUAL = 'lce-10ab883b-9412-4c9b-b99c-a23f34f6d831';

let dataDir: string;
let server: RunningServer;
let ib: ImagebuilderClient;

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'amiforge-ib-upgrade-'));
  const db = new DatabaseSync(join(dataDir, 'metadata.sqlite'));
  db.exec(readFileSync(join(import.meta.dirname, '../fixtures/sqlite-metadata-v4-imagebuilder.sql'), 'utf8'));
  db.close();
  server = await startServer({ dataDir, extraArgs: ['--sim-boot-ms', '50'] });
  ib = ibClient(server.endpoint, devCredentials('111111111111'));
});
after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the pipeline and its builds read back as the previous release wrote them, with nothing private on the wire', async () => {
  const { imagePipeline } = await ib.send(new GetImagePipelineCommand({ imagePipelineArn: PIPELINE }));
  assert.equal(imagePipeline?.name, 'golden-nightly');
  assert.deepEqual(imagePipeline?.schedule, { scheduleExpression: 'cron(0 3 * * ? *)', timezone: 'Europe/Paris', pipelineExecutionStartCondition: 'EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE' });
  assert.equal(imagePipeline?.lastRunStatus, 'AVAILABLE');
  assert.ok(imagePipeline?.dateNextRun, 'the schedule still counts from its anchor');
  const raw = imagePipeline as Record<string, unknown>;
  for (const k of ['scheduleAnchor', 'lastBuild', '_scheduleAnchor', '_lastBuild']) assert.ok(!(k in raw), k);

  const images = (await ib.send(new ListImagePipelineImagesCommand({ imagePipelineArn: PIPELINE }))).imageSummaryList!;
  assert.deepEqual(images.map((i) => [i.arn, i.state?.status]).sort(), [[OLDER, 'AVAILABLE'], [NEWER, 'AVAILABLE']]);
  const { image } = await ib.send(new GetImageCommand({ imageBuildVersionArn: NEWER }));
  assert.equal(image?.outputResources?.amis?.length, 1);

  const workflows = (await ib.send(new ListWorkflowExecutionsCommand({ imageBuildVersionArn: NEWER }))).workflowExecutions!;
  assert.deepEqual(workflows.map((w) => [w.type, w.status]), [['BUILD', 'COMPLETED'], ['TEST', 'COMPLETED'], ['DISTRIBUTION', 'COMPLETED']]);
  const steps = (await ib.send(new ListWorkflowStepExecutionsCommand({ workflowExecutionId: workflows[0].workflowExecutionId }))).steps!;
  assert.equal(steps[0].name, 'LaunchBuildInstance', 'steps in the order they ran');
  assert.match(JSON.parse(steps[0].outputs!).log, /RunInstances: i-/, 'the step\'s log lines are still shown in its outputs');
});

test('the lifecycle preview\'s resources and the waiting state update read back', async () => {
  const top = (await ib.send(new ListLifecycleExecutionResourcesCommand({ lifecycleExecutionId: PREVIEW }))).resources!;
  assert.deepEqual(top.map((r) => [r.resourceId, r.action?.name, r.state?.status]), [[OLDER, 'DELETE', 'SKIPPED']]);
  const amis = (await ib.send(new ListLifecycleExecutionResourcesCommand({ lifecycleExecutionId: PREVIEW, parentResourceId: OLDER }))).resources!;
  assert.equal(amis.length, 1);
  assert.match(amis[0].resourceId!, /^ami-/);
  const { lifecycleExecution } = await ib.send(new GetLifecycleExecutionCommand({ lifecycleExecutionId: MANUAL }));
  assert.equal(lifecycleExecution?.state?.status, 'PENDING');
});
