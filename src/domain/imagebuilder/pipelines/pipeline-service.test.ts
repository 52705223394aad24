import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceError } from '../../errors.ts';
import type { CreateImagePipelineRequest } from '../../../protocol/imagebuilder/types.generated.ts';
import { ALICE, BOB, world, type World } from './test-fixtures.ts';

const code = (c: string) => (err: unknown) => err instanceof ServiceError && err.code === c;

function request(w: World, extra: Partial<CreateImagePipelineRequest> = {}): CreateImagePipelineRequest {
  return { name: 'golden-pipeline', imageRecipeArn: w.recipeArn, infrastructureConfigurationArn: w.infraArn, clientToken: 't1', ...extra };
}

describe('CreateImagePipeline and GetImagePipeline', () => {
  test('a pipeline with Image Builder defaults', async () => {
    const w = await world();
    const arn = await w.service.create(ALICE, request(w, { tags: { team: 'ops' } }));
    assert.equal(arn, 'arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/golden-pipeline');
    const p = await w.service.get(ALICE, arn);
    assert.equal(p.name, 'golden-pipeline');
    assert.equal(p.status, 'ENABLED');
    assert.equal(p.platform, 'Linux');
    assert.equal(p.enhancedImageMetadataEnabled, true);
    assert.deepEqual(p.imageTestsConfiguration, { imageTestsEnabled: true, timeoutMinutes: 720 });
    assert.deepEqual(p.tags, { team: 'ops' });
    assert.equal(p.dateCreated, '2026-03-01T00:00:00.000Z');
    assert.equal(p.schedule, undefined);
    assert.equal(p.dateNextRun, undefined);
    assert.ok(!('scheduleAnchor' in p) && !('lastBuild' in p), 'the record\'s own members are not on the wire');
  });

  test('a schedule gets the default start condition and its next run in its time zone', async () => {
    const w = await world();
    const arn = await w.service.create(ALICE, request(w, {
      schedule: { scheduleExpression: 'cron(0 10 * * ? *)', timezone: 'America/Los_Angeles' },
    }));
    const p = await w.service.get(ALICE, arn);
    assert.equal(p.schedule?.pipelineExecutionStartCondition, 'EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE');
    assert.equal(p.dateNextRun, '2026-03-01T18:00:00.000Z');
  });

  test('a DISABLED pipeline has no next run', async () => {
    const w = await world();
    const arn = await w.service.create(ALICE, request(w, { status: 'DISABLED', schedule: { scheduleExpression: 'cron(0 10 * * ? *)' } }));
    assert.equal((await w.service.get(ALICE, arn)).dateNextRun, undefined);
  });

  test('bad input: nothing is created', async () => {
    const w = await world();
    await assert.rejects(w.service.create(ALICE, request(w, { schedule: { scheduleExpression: 'cron(0 10 * * * *)' } })), code('InvalidParameterValueException'));
    await assert.rejects(w.service.create(ALICE, request(w, { schedule: { scheduleExpression: 'cron(0 10 * * ? *)', timezone: 'Nowhere/Land' } })), code('InvalidParameterValueException'));
    await assert.rejects(w.service.create(ALICE, request(w, { imageRecipeArn: w.recipeArn.replace('golden', 'missing') })), code('ResourceNotFoundException'));
    await assert.rejects(w.service.create(ALICE, request(w, { infrastructureConfigurationArn: w.infraArn.replace('small', 'large') })), code('ResourceNotFoundException'));
    await assert.rejects(w.service.create(ALICE, request(w, { distributionConfigurationArn: w.distArn.replace('two', 'three') })), code('ResourceNotFoundException'));
    await assert.rejects(w.service.create(ALICE, request(w, { imageRecipeArn: 'ami-123' })), code('InvalidParameterValueException'));
    await assert.rejects(w.service.create(ALICE, request(w, { imageRecipeArn: undefined, containerRecipeArn: 'arn:aws:imagebuilder:us-east-1:111111111111:container-recipe/x/1.0.0' })), code('InvalidRequestException'));
    assert.deepEqual((await w.service.list(ALICE, {})).imagePipelineList, []);
  });

  test("another account's recipe is not found", async () => {
    const w = await world();
    await assert.rejects(w.service.create(BOB, request(w)), code('ResourceNotFoundException'));
  });

  test('a second pipeline of the same name', async () => {
    const w = await world();
    await w.service.create(ALICE, request(w));
    await assert.rejects(w.service.create(ALICE, request(w)), code('ResourceAlreadyExistsException'));
  });

  test("Get of a missing pipeline, of another account's", async () => {
    const w = await world();
    const arn = await w.service.create(ALICE, request(w));
    await assert.rejects(w.service.get(ALICE, `${arn}-x`), code('ResourceNotFoundException'));
    await assert.rejects(w.service.get(BOB, arn), code('ForbiddenException'));
    await assert.rejects(w.service.get(ALICE, 'arn:aws:imagebuilder:us-east-1:111111111111:image-recipe/golden/1.0.0'), code('InvalidParameterValueException'));
  });
});

describe('ListImagePipelines', () => {
  test('filters and pages', async () => {
    const w = await world();
    for (let i = 0; i < 5; i++) {
      w.clock.set(`2026-03-01T00:0${i}:00Z`);
      await w.service.create(ALICE, request(w, { name: `p${i}`, status: i % 2 ? 'DISABLED' : 'ENABLED', description: i === 3 ? 'special' : undefined }));
    }
    const names = async (req: Parameters<World['service']['list']>[1]) => (await w.service.list(ALICE, req)).imagePipelineList.map((p) => p.name);
    assert.deepEqual(await names({}), ['p0', 'p1', 'p2', 'p3', 'p4']);
    assert.deepEqual(await names({ filters: [{ name: 'status', values: ['DISABLED'] }] }), ['p1', 'p3']);
    assert.deepEqual(await names({ filters: [{ name: 'name', values: ['p2', 'p4'] }] }), ['p2', 'p4']);
    assert.deepEqual(await names({ filters: [{ name: 'description', values: ['special'] }] }), ['p3']);
    assert.deepEqual(await names({ filters: [{ name: 'imageRecipeArn', values: [w.recipeArn] }, { name: 'status', values: ['ENABLED'] }] }), ['p0', 'p2', 'p4']);
    await assert.rejects(w.service.list(ALICE, { filters: [{ name: 'owner', values: ['Self'] }] }), code('InvalidParameterValueException'));
    const first = await w.service.list(ALICE, { maxResults: 2 });
    assert.deepEqual(first.imagePipelineList.map((p) => p.name), ['p0', 'p1']);
    const second = await w.service.list(ALICE, { maxResults: 2, nextToken: first.nextToken });
    assert.deepEqual(second.imagePipelineList.map((p) => p.name), ['p2', 'p3']);
    const third = await w.service.list(ALICE, { maxResults: 2, nextToken: second.nextToken });
    assert.deepEqual(third.imagePipelineList.map((p) => p.name), ['p4']);
    assert.equal(third.nextToken, undefined);
    await assert.rejects(w.service.list(ALICE, { nextToken: 'not-a-token' }), code('InvalidPaginationTokenException'));
    assert.deepEqual((await w.service.list(BOB, {})).imagePipelineList, []);
  });
});

describe('UpdateImagePipeline', () => {
  test('replaces the settings, keeps name, tags and creation date; a new schedule gets a new next run', async () => {
    const w = await world();
    const arn = await w.service.create(ALICE, request(w, { description: 'first', tags: { a: 'b' }, distributionConfigurationArn: w.distArn, schedule: { scheduleExpression: 'cron(0 10 * * ? *)' } }));
    w.clock.set('2026-03-02T12:00:00Z');
    await w.service.update(ALICE, { imagePipelineArn: arn, imageRecipeArn: w.recipeArn, infrastructureConfigurationArn: w.infraArn, clientToken: 't2',
      schedule: { scheduleExpression: 'cron(30 6 ? * MON *)', pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' }, imageTestsConfiguration: { imageTestsEnabled: false } });
    const p = await w.service.get(ALICE, arn);
    assert.equal(p.description, undefined);
    assert.equal(p.distributionConfigurationArn, undefined);
    assert.deepEqual(p.tags, { a: 'b' });
    assert.equal(p.dateCreated, '2026-03-01T00:00:00.000Z');
    assert.equal(p.dateUpdated, '2026-03-02T12:00:00.000Z');
    assert.equal(p.schedule?.pipelineExecutionStartCondition, 'EXPRESSION_MATCH_ONLY');
    assert.deepEqual(p.imageTestsConfiguration, { imageTestsEnabled: false, timeoutMinutes: 720 });
    assert.equal(p.dateNextRun, '2026-03-09T06:30:00.000Z');
  });

  test('disabling drops the next run, enabling brings it back', async () => {
    const w = await world();
    const base = { imageRecipeArn: w.recipeArn, infrastructureConfigurationArn: w.infraArn, clientToken: 't', schedule: { scheduleExpression: 'cron(0 10 * * ? *)' } };
    const arn = await w.service.create(ALICE, request(w, { schedule: base.schedule }));
    await w.service.update(ALICE, { imagePipelineArn: arn, ...base, status: 'DISABLED' });
    assert.equal((await w.service.get(ALICE, arn)).dateNextRun, undefined);
    w.clock.set('2026-03-01T11:00:00Z');
    await w.service.update(ALICE, { imagePipelineArn: arn, ...base, status: 'ENABLED' });
    assert.equal((await w.service.get(ALICE, arn)).dateNextRun, '2026-03-02T10:00:00.000Z');
  });

  test('a missing pipeline or recipe', async () => {
    const w = await world();
    const arn = await w.service.create(ALICE, request(w));
    await assert.rejects(w.service.update(ALICE, { imagePipelineArn: `${arn}x`, imageRecipeArn: w.recipeArn, infrastructureConfigurationArn: w.infraArn, clientToken: 't' }), code('ResourceNotFoundException'));
    await assert.rejects(w.service.update(ALICE, { imagePipelineArn: arn, imageRecipeArn: `${w.recipeArn}x`, infrastructureConfigurationArn: w.infraArn, clientToken: 't' }), code('InvalidParameterValueException'));
  });
});

describe('StartImagePipelineExecution, ListImagePipelineImages, DeleteImagePipeline', () => {
  test('a manual run starts a build of the pipeline and is listed as its image', async () => {
    const w = await world();
    const arn = await w.service.create(ALICE, request(w, { distributionConfigurationArn: w.distArn, imageTags: { built: 'by-pipeline' } }));
    w.clock.set('2026-03-01T08:00:00Z');
    const image = await w.service.startExecution(ALICE, { imagePipelineArn: arn, clientToken: 'c1', tags: { run: 'manual' } });
    assert.equal(w.builds.started.length, 1);
    const { req, caller } = w.builds.started[0];
    assert.deepEqual(caller, { account: ALICE.account, region: ALICE.region });
    assert.equal(req.imagePipelineArn, arn);
    assert.equal(req.imageRecipeArn, w.recipeArn);
    assert.equal(req.distributionConfigurationArn, w.distArn);
    assert.equal(req.buildType, 'USER_INITIATED');
    assert.deepEqual(req.tags, { built: 'by-pipeline', run: 'manual' });
    const p = await w.service.get(ALICE, arn);
    assert.equal(p.dateLastRun, '2026-03-01T08:00:00.000Z');
    assert.equal(p.lastRunStatus, 'BUILDING');
    const images = await w.service.listImages(ALICE, { imagePipelineArn: arn });
    assert.deepEqual(images.imageSummaryList.map((i) => i.arn), [image]);
    assert.equal(images.imageSummaryList[0].owner, ALICE.account);
    assert.deepEqual((await w.service.listImages(ALICE, { imagePipelineArn: arn, filters: [{ name: 'version', values: ['9.9.9'] }] })).imageSummaryList, []);
    await assert.rejects(w.service.listImages(BOB, { imagePipelineArn: arn }), code('ForbiddenException'));
  });

  test('a DISABLED pipeline cannot be started by hand', async () => {
    const w = await world();
    const arn = await w.service.create(ALICE, request(w, { status: 'DISABLED' }));
    await assert.rejects(w.service.startExecution(ALICE, { imagePipelineArn: arn, clientToken: 'c' }), (err: unknown) =>
      err instanceof ServiceError && err.code === 'InvalidRequestException' && /DISABLED/.test(err.message));
    assert.equal(w.builds.started.length, 0);
  });

  test('delete: gone, its images stay', async () => {
    const w = await world();
    const arn = await w.service.create(ALICE, request(w));
    const image = await w.service.startExecution(ALICE, { imagePipelineArn: arn, clientToken: 'c' });
    assert.equal(await w.service.delete(ALICE, arn), arn);
    await assert.rejects(w.service.get(ALICE, arn), code('ResourceNotFoundException'));
    await assert.rejects(w.service.delete(ALICE, arn), code('ResourceNotFoundException'));
    assert.ok(await w.store.get(image));
  });
});
