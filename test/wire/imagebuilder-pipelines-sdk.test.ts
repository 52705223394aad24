// Image pipelines through @aws-sdk/client-imagebuilder, the aws CLI and boto3, against a real
// server in strict mode on the simulator hypervisor: create, get, list (filters, pages), update,
// delete and their errors; a manual start refused while DISABLED; a schedule that comes due on the
// server's test clock (POST /_amiforge/clock/advance) and builds an image listed under the
// pipeline; a schedule that survives a restart of the server.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateComponentCommand, CreateImagePipelineCommand, CreateImageRecipeCommand, CreateInfrastructureConfigurationCommand,
  DeleteImagePipelineCommand, GetImageCommand, GetImagePipelineCommand, ImagebuilderClient, ListImagePipelineImagesCommand,
  ListImagePipelinesCommand, StartImagePipelineExecutionCommand, UpdateImagePipelineCommand, type CreateImagePipelineCommandInput,
} from '@aws-sdk/client-imagebuilder';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, credentialsOf, type Credentials } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { CATALOGUE_AMI } from '../support/instances.ts';

const ibClient = (endpoint: string, credentials: Credentials) => new ImagebuilderClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

const COMPONENT = `name: hello
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Hello
        action: ExecuteBash
        inputs:
          commands:
            - echo hello
`;

let server: RunningServer;
let alice: ImagebuilderClient;
let bob: ImagebuilderClient;

interface Resources { recipeArn: string; infraArn: string }

async function resources(client: ImagebuilderClient): Promise<Resources> {
  const component = await client.send(new CreateComponentCommand({
    name: 'hello', semanticVersion: '1.0.0', platform: 'Linux', data: COMPONENT, clientToken: `c-${Math.random()}`,
  }));
  const recipe = await client.send(new CreateImageRecipeCommand({
    name: 'golden', semanticVersion: '1.0.0', parentImage: CATALOGUE_AMI, clientToken: `r-${Math.random()}`,
    components: [{ componentArn: component.componentBuildVersionArn!.replace(/\/1\.0\.0\/1$/, '/1.x.x') }],
  }));
  const infra = await client.send(new CreateInfrastructureConfigurationCommand({
    name: 'small', instanceProfileName: 'EC2InstanceProfileForImageBuilder', instanceTypes: ['t3.micro'], clientToken: `i-${Math.random()}`,
  }));
  return { recipeArn: recipe.imageRecipeArn!, infraArn: infra.infrastructureConfigurationArn! };
}

function pipelineInput(r: Resources, extra: Partial<CreateImagePipelineCommandInput> = {}): CreateImagePipelineCommandInput {
  return { name: 'nightly', imageRecipeArn: r.recipeArn, infrastructureConfigurationArn: r.infraArn, clientToken: `p-${Math.random()}`, ...extra };
}

/** Moves the server's clock forward; returns the server's time after the move. */
async function advance(seconds: number): Promise<Date> {
  const res = await server.ops(`/_amiforge/clock/advance/${seconds}`, { method: 'POST' });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return new Date((JSON.parse(text) as { now: string }).now);
}

/** Moves the server's clock a few seconds past `iso` (a pipeline's dateNextRun). */
async function advancePast(iso: string): Promise<void> {
  const now = await advance(0);
  await advance(Math.max(0, Math.ceil((new Date(iso).getTime() - now.getTime()) / 1000)) + 5);
}

/** The pipeline's images, oldest first. */
async function imagesOf(imagePipelineArn: string) {
  return (await alice.send(new ListImagePipelineImagesCommand({ imagePipelineArn }))).imageSummaryList ?? [];
}

/** Waits for the image to be AVAILABLE (a FAILED build fails the test with its reason). */
async function available(imageBuildVersionArn: string) {
  return eventually('the image to be AVAILABLE', async () => {
    const { image: img } = await alice.send(new GetImageCommand({ imageBuildVersionArn }));
    assert.notEqual(img?.state?.status, 'FAILED', img?.state?.reason);
    return img?.state?.status === 'AVAILABLE' ? img : undefined;
  });
}

const createPipeline = async (input: CreateImagePipelineCommandInput): Promise<string> =>
  (await alice.send(new CreateImagePipelineCommand(input))).imagePipelineArn!;

const nextRunOf = async (imagePipelineArn: string) =>
  (await alice.send(new GetImagePipelineCommand({ imagePipelineArn }))).imagePipeline!.dateNextRun!;

/** Polls `check` until it returns a value (the scheduler looks at the clock about once a second). */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ibClient(server.endpoint, credentialsOf(ALICE));
  bob = ibClient(server.endpoint, credentialsOf(BOB));
});
after(async () => {
  await server?.stop();
});
beforeEach(async () => {
  await server.reset();
});

describe('pipeline CRUD through the SDK', () => {
  test('create, get, list, update, delete', async () => {
    const r = await resources(alice);
    const created = await alice.send(new CreateImagePipelineCommand(pipelineInput(r, {
      description: 'nightly golden image', tags: { team: 'platform' }, imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 90 },
      schedule: { scheduleExpression: 'cron(0 10 * * ? *)', timezone: 'America/Los_Angeles' },
    })));
    const arn = created.imagePipelineArn!;
    assert.equal(arn, `arn:aws:imagebuilder:us-east-1:${ALICE.id}:image-pipeline/nightly`);
    const { imagePipeline: p } = await alice.send(new GetImagePipelineCommand({ imagePipelineArn: arn }));
    assert.equal(p?.name, 'nightly');
    assert.equal(p?.status, 'ENABLED');
    assert.equal(p?.imageRecipeArn, r.recipeArn);
    assert.deepEqual(p?.imageTestsConfiguration, { imageTestsEnabled: true, timeoutMinutes: 90 });
    assert.equal(p?.schedule?.pipelineExecutionStartCondition, 'EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE');
    assert.equal(p?.schedule?.timezone, 'America/Los_Angeles');
    assert.deepEqual(p?.tags, { team: 'platform' });
    // 10:00 in Los Angeles is 17:00 or 18:00 UTC.
    assert.match(p?.dateNextRun ?? '', /T1[78]:00:00\.000Z$/);

    await alice.send(new CreateImagePipelineCommand(pipelineInput(r, { name: 'weekly', status: 'DISABLED' })));
    const all = await alice.send(new ListImagePipelinesCommand({}));
    assert.deepEqual(all.imagePipelineList?.map((x) => x.name), ['nightly', 'weekly']);
    const disabled = await alice.send(new ListImagePipelinesCommand({ filters: [{ name: 'status', values: ['DISABLED'] }] }));
    assert.deepEqual(disabled.imagePipelineList?.map((x) => x.name), ['weekly']);
    const page1 = await alice.send(new ListImagePipelinesCommand({ maxResults: 1 }));
    const page2 = await alice.send(new ListImagePipelinesCommand({ maxResults: 1, nextToken: page1.nextToken }));
    assert.deepEqual([...page1.imagePipelineList!, ...page2.imagePipelineList!].map((x) => x.name), ['nightly', 'weekly']);
    assert.equal(page2.nextToken, undefined);
    assert.deepEqual((await bob.send(new ListImagePipelinesCommand({}))).imagePipelineList, []);

    await alice.send(new UpdateImagePipelineCommand({
      imagePipelineArn: arn, imageRecipeArn: r.recipeArn, infrastructureConfigurationArn: r.infraArn, clientToken: 'u1',
      schedule: { scheduleExpression: 'cron(30 6 ? * MON#1 *)', pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' },
    }));
    const { imagePipeline: updated } = await alice.send(new GetImagePipelineCommand({ imagePipelineArn: arn }));
    assert.equal(updated?.description, undefined);
    assert.equal(updated?.schedule?.scheduleExpression, 'cron(30 6 ? * MON#1 *)');
    assert.match(updated?.dateNextRun ?? '', /T06:30:00\.000Z$/);
    assert.equal(new Date(updated!.dateNextRun!).getUTCDay(), 1);

    assert.equal((await alice.send(new DeleteImagePipelineCommand({ imagePipelineArn: arn }))).imagePipelineArn, arn);
    await expectAwsError(alice.send(new GetImagePipelineCommand({ imagePipelineArn: arn })), { name: 'ResourceNotFoundException', status: 404 });
  });

  test('errors', async () => {
    const r = await resources(alice);
    await expectAwsError(alice.send(new CreateImagePipelineCommand(pipelineInput(r, { schedule: { scheduleExpression: 'cron(0 10 * * * *)' } }))),
      { name: 'InvalidParameterValueException', status: 400, message: /day-of-month.*day-of-week/ });
    await expectAwsError(alice.send(new CreateImagePipelineCommand(pipelineInput(r, { schedule: { scheduleExpression: 'cron(0 10 * * ? *)', timezone: 'Mars/Olympus' } }))),
      { name: 'InvalidParameterValueException', status: 400, message: /timezone/ });
    await expectAwsError(alice.send(new CreateImagePipelineCommand(pipelineInput(r, { imageRecipeArn: r.recipeArn.replace('golden', 'nothing') }))),
      { name: 'ResourceNotFoundException', status: 404 });
    // Bob cannot build from Alice's recipe.
    await expectAwsError(bob.send(new CreateImagePipelineCommand(pipelineInput(r))), { name: 'ResourceNotFoundException', status: 404 });
    const { imagePipelineArn } = await alice.send(new CreateImagePipelineCommand(pipelineInput(r, { status: 'DISABLED' })));
    await expectAwsError(alice.send(new CreateImagePipelineCommand(pipelineInput(r))), { name: 'ResourceAlreadyExistsException', status: 400 });
    await expectAwsError(alice.send(new StartImagePipelineExecutionCommand({ imagePipelineArn, clientToken: 's1' })),
      { name: 'InvalidRequestException', status: 400, message: /DISABLED/ });
    await expectAwsError(bob.send(new GetImagePipelineCommand({ imagePipelineArn })), { name: 'ForbiddenException', status: 403 });
    await expectAwsError(alice.send(new ListImagePipelinesCommand({ nextToken: 'garbage' })), { name: 'InvalidPaginationTokenException', status: 400 });
  });
});

describe('schedules', () => {
  test('a schedule that comes due on the test clock builds an image listed under the pipeline', async () => {
    const r = await resources(alice);
    const imagePipelineArn = await createPipeline(pipelineInput(r, {
      schedule: { scheduleExpression: 'cron(0 0 * * ? *)', pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' },
      imageTestsConfiguration: { imageTestsEnabled: false },
    }));
    const due = await nextRunOf(imagePipelineArn);
    assert.deepEqual(await imagesOf(imagePipelineArn), []);
    await advancePast(due);
    const image = await eventually('the scheduled build', async () => (await imagesOf(imagePipelineArn))[0]);
    assert.equal(image.buildType, 'SCHEDULED');
    const built = await available(image.arn!);
    assert.equal(built.sourcePipelineArn, imagePipelineArn);
    assert.match(built.outputResources?.amis?.[0]?.image ?? '', /^ami-/);
    const { imagePipeline: after } = await alice.send(new GetImagePipelineCommand({ imagePipelineArn }));
    assert.ok(after?.dateLastRun);
    assert.ok(new Date(after!.dateNextRun!) > new Date(due));
    assert.equal(after?.lastRunStatus, 'AVAILABLE');
  });

  test('a manual start builds an image listed under the pipeline', async () => {
    const r = await resources(alice);
    const imagePipelineArn = await createPipeline(pipelineInput(r, { imageTestsConfiguration: { imageTestsEnabled: false }, imageTags: { source: 'pipeline' } }));
    const started = await alice.send(new StartImagePipelineExecutionCommand({ imagePipelineArn, clientToken: 'manual-1', tags: { run: 'manual' } }));
    assert.equal(started.clientToken, 'manual-1');
    const image = await available(started.imageBuildVersionArn!);
    assert.equal(image.buildType, 'USER_INITIATED');
    assert.deepEqual(image.tags, { source: 'pipeline', run: 'manual' });
    assert.deepEqual((await imagesOf(imagePipelineArn)).map((i) => i.arn), [started.imageBuildVersionArn]);
    const { imagePipeline } = await alice.send(new GetImagePipelineCommand({ imagePipelineArn }));
    assert.equal(imagePipeline?.lastRunStatus, 'AVAILABLE');
  });

  test('the default start condition builds again only when a component has a newer version', async () => {
    const r = await resources(alice);
    const imagePipelineArn = await createPipeline(pipelineInput(r, {
      schedule: { scheduleExpression: 'cron(0 0 * * ? *)' }, imageTestsConfiguration: { imageTestsEnabled: false },
    }));
    await advancePast(await nextRunOf(imagePipelineArn));
    const first = await eventually('the first scheduled build', async () => (await imagesOf(imagePipelineArn))[0]);
    await available(first.arn!);
    // The next day nothing changed: the run is skipped (the server logs why).
    const skippedBefore = server.logs.filter((l) => l.imagePipelineArn === imagePipelineArn && /skipped/.test(String(l.msg))).length;
    await advancePast(await nextRunOf(imagePipelineArn));
    await eventually('the skipped run', async () =>
      server.logs.filter((l) => l.imagePipelineArn === imagePipelineArn && /skipped/.test(String(l.msg))).length > skippedBefore || undefined);
    assert.equal((await imagesOf(imagePipelineArn)).length, 1);
    // hello 1.0.1 matches the recipe's 1.x.x: the next run builds.
    await alice.send(new CreateComponentCommand({ name: 'hello', semanticVersion: '1.0.1', platform: 'Linux', data: COMPONENT, clientToken: 'c-101' }));
    await advancePast(await nextRunOf(imagePipelineArn));
    const second = await eventually('the second scheduled build', async () => (await imagesOf(imagePipelineArn))[1]);
    await available(second.arn!);
    assert.equal((await imagesOf(imagePipelineArn)).length, 2);
  });

  test('the schedule and its next run survive a restart', async () => {
    // A server of its own over a data directory that outlives it.
    const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-pipelines-'));
    let own = await startServer({ accounts: [ALICE], dataDir });
    try {
      let client = ibClient(own.endpoint, credentialsOf(ALICE));
      const r = await resources(client);
      const { imagePipelineArn } = await client.send(new CreateImagePipelineCommand(pipelineInput(r, {
        schedule: { scheduleExpression: 'cron(15 4 ? * SUN *)', timezone: 'Europe/Berlin' },
      })));
      const before = (await client.send(new GetImagePipelineCommand({ imagePipelineArn }))).imagePipeline!;
      await own.stop();
      own = await startServer({ accounts: [ALICE], dataDir });
      client = ibClient(own.endpoint, credentialsOf(ALICE));
      const afterRestart = (await client.send(new GetImagePipelineCommand({ imagePipelineArn }))).imagePipeline!;
      assert.deepEqual(afterRestart.schedule, before.schedule);
      assert.equal(afterRestart.dateNextRun, before.dateNextRun);
      assert.equal(afterRestart.status, 'ENABLED');
    } finally {
      await own.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the aws CLI and boto3', () => {
  test('create, get and list', async () => {
    const r = await resources(alice);
    const creds = credentialsOf(ALICE);
    const created = await awsCli(server.endpoint, creds, ['imagebuilder', 'create-image-pipeline', '--name', 'from-cli',
      '--image-recipe-arn', r.recipeArn, '--infrastructure-configuration-arn', r.infraArn,
      '--schedule', 'scheduleExpression=cron(0 3 ? * SAT *),timezone=Asia/Tokyo,pipelineExecutionStartCondition=EXPRESSION_MATCH_ONLY']);
    assert.equal(created.code, 0, created.stderr);
    const arn = created.json.imagePipelineArn as string;
    const got = await awsCli(server.endpoint, creds, ['imagebuilder', 'get-image-pipeline', '--image-pipeline-arn', arn]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.json.imagePipeline.schedule.timezone, 'Asia/Tokyo');
    // 03:00 on Saturday in Tokyo is 18:00 on Friday UTC.
    assert.match(got.json.imagePipeline.dateNextRun, /T18:00:00\.000Z$/);
    assert.equal(new Date(got.json.imagePipeline.dateNextRun).getUTCDay(), 5);
    const bad = await awsCli(server.endpoint, creds, ['imagebuilder', 'create-image-pipeline', '--name', 'bad',
      '--image-recipe-arn', r.recipeArn, '--infrastructure-configuration-arn', r.infraArn, '--schedule', 'scheduleExpression=cron(0 3 * * *)']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /InvalidParameterValueException.*six fields/);

    const listed = await boto3(server.endpoint, creds, [
      'ib = boto3.client("imagebuilder", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}))',
      `ib.create_image_pipeline(name="from-boto3", imageRecipeArn=${JSON.stringify(r.recipeArn)}, infrastructureConfigurationArn=${JSON.stringify(r.infraArn)}, status="DISABLED", clientToken="b1")`,
      'names = [p["name"] for p in ib.list_image_pipelines()["imagePipelineList"]]',
      `one = ib.get_image_pipeline(imagePipelineArn=${JSON.stringify(arn)})["imagePipeline"]`,
      'print(json.dumps({"names": names, "status": one["status"]}))',
    ].join('\n'));
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.json, { names: ['from-cli', 'from-boto3'], status: 'ENABLED' });
  });
});
