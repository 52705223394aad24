import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ibArn } from '../arns.ts';
import type { Schedule } from '../../../protocol/imagebuilder/types.generated.ts';
import { ALICE, addComponent, record, world, type World } from './test-fixtures.ts';

const HOURLY = 'cron(0 * * * ? *)';

async function pipeline(w: World, schedule: Schedule): Promise<string> {
  return w.service.create(ALICE, { name: 'nightly', imageRecipeArn: w.recipeArn, infrastructureConfigurationArn: w.infraArn, clientToken: 't', schedule });
}

describe('scheduled runs and start conditions', () => {
  test('EXPRESSION_MATCH_ONLY builds every time the expression matches', async () => {
    const w = await world();
    const arn = await pipeline(w, { scheduleExpression: HOURLY, pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' });
    assert.deepEqual(await w.service.runs.runScheduled(arn, new Date('2026-03-01T00:30:00Z')), { outcome: 'not-due' });
    w.clock.set('2026-03-01T01:00:00Z');
    const first = await w.service.runs.runScheduled(arn, w.clock.now());
    assert.equal(first.outcome, 'started');
    assert.equal(w.builds.started[0].req.buildType, 'SCHEDULED');
    // The same due time is claimed once.
    assert.deepEqual(await w.service.runs.runScheduled(arn, w.clock.now()), { outcome: 'not-due' });
    w.clock.set('2026-03-01T02:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
    assert.equal(w.builds.started.length, 2);
    const p = await w.service.get(ALICE, arn);
    assert.equal(p.dateLastRun, '2026-03-01T02:00:00.000Z');
    assert.equal(p.dateNextRun, '2026-03-01T03:00:00.000Z');
  });

  test('runs missed several times over are made up once, and the next run is after now', async () => {
    const w = await world();
    const arn = await pipeline(w, { scheduleExpression: HOURLY, pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' });
    w.clock.set('2026-03-01T05:10:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
    assert.deepEqual(await w.service.runs.runScheduled(arn, w.clock.now()), { outcome: 'not-due' });
    assert.equal(w.builds.started.length, 1);
    assert.equal((await w.service.get(ALICE, arn)).dateNextRun, '2026-03-01T06:00:00.000Z');
  });

  test('the default condition builds first, then only when a component has a newer version', async () => {
    const w = await world();
    const arn = await pipeline(w, { scheduleExpression: HOURLY });
    w.clock.set('2026-03-01T01:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
    w.clock.set('2026-03-01T02:00:00Z');
    const skipped = await w.service.runs.runScheduled(arn, w.clock.now());
    assert.equal(skipped.outcome, 'skipped');
    assert.match((skipped as { reason: string }).reason, /no newer parent image or component/);
    // A version that does not match the recipe's filter (harden 1.x.x) changes nothing.
    await addComponent(w.store, ALICE, 'harden', '2.0.0');
    // Neither does a new version of a component the recipe pins (audit 2.0.0 has no new build).
    await addComponent(w.store, ALICE, 'audit', '2.0.1');
    w.clock.set('2026-03-01T03:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'skipped');
    // harden 1.1.0 matches 1.x.x.
    await addComponent(w.store, ALICE, 'harden', '1.1.0');
    w.clock.set('2026-03-01T04:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
    // A new build of the pinned version counts: audit 2.0.0 resolves to its newest build.
    await addComponent(w.store, ALICE, 'audit', '2.0.0', 2);
    w.clock.set('2026-03-01T05:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
    w.clock.set('2026-03-01T06:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'skipped');
    assert.equal(w.builds.started.length, 3);
  });

  test('a manual run counts as the last build', async () => {
    const w = await world();
    const arn = await pipeline(w, { scheduleExpression: HOURLY });
    await w.service.startExecution(ALICE, { imagePipelineArn: arn, clientToken: 'c' });
    w.clock.set('2026-03-01T01:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'skipped');
  });

  test('after a failed or deleted last build there is nothing to compare with: it builds', async () => {
    const w = await world();
    const arn = await pipeline(w, { scheduleExpression: HOURLY });
    w.clock.set('2026-03-01T01:00:00Z');
    await w.service.runs.runScheduled(arn, w.clock.now());
    await w.builds.finish(w.builds.started[0].arn, 'FAILED');
    w.clock.set('2026-03-01T02:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
    await w.store.delete(w.builds.started[1].arn);
    w.clock.set('2026-03-01T03:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
  });

  test('a parent image ARN with x wildcards: a newer AVAILABLE image is an update', async () => {
    const parent = ibArn({ region: ALICE.region, owner: ALICE.account, type: 'image', name: 'base', version: '1.x.x' });
    const w = await world('2026-03-01T00:00:00Z', parent);
    const baseImage = async (version: string, build: number, state: string) => {
      const arn = ibArn({ region: ALICE.region, owner: ALICE.account, type: 'image', name: 'base', version, build });
      await w.store.insert(record(ALICE, 'image', arn, { name: 'base' }, { name: 'base', version, build, state }));
    };
    await baseImage('1.0.0', 1, 'AVAILABLE');
    const arn = await pipeline(w, { scheduleExpression: HOURLY });
    w.clock.set('2026-03-01T01:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
    // Still building, or another line of versions: no update.
    await baseImage('1.0.0', 2, 'BUILDING');
    await baseImage('2.0.0', 1, 'AVAILABLE');
    w.clock.set('2026-03-01T02:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'skipped');
    await w.store.update(ibArn({ region: ALICE.region, owner: ALICE.account, type: 'image', name: 'base', version: '1.0.0', build: 2 }), (r) => ({ ...r, state: 'AVAILABLE' }));
    w.clock.set('2026-03-01T03:00:00Z');
    assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
  });

  test('a schedule whose recipe is gone is skipped, not failed', async () => {
    const w = await world();
    const arn = await pipeline(w, { scheduleExpression: HOURLY, pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' });
    await w.store.delete(w.recipeArn);
    w.clock.set('2026-03-01T01:00:00Z');
    const result = await w.service.runs.runScheduled(arn, w.clock.now());
    assert.equal(result.outcome, 'skipped');
    assert.equal(w.builds.started.length, 0);
  });
});

describe('outcomes of builds on the pipeline', () => {
  test('lastRunStatus follows the build; consecutive scheduled failures disable the pipeline per its policy', async () => {
    const w = await world();
    const arn = await pipeline(w, { scheduleExpression: HOURLY, pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY', autoDisablePolicy: { failureCount: 2 } });
    const runAndFail = async (hour: number, status: 'FAILED' | 'AVAILABLE') => {
      w.clock.set(`2026-03-01T0${hour}:00:00Z`);
      assert.equal((await w.service.runs.runScheduled(arn, w.clock.now())).outcome, 'started');
      assert.equal((await w.service.get(ALICE, arn)).lastRunStatus, 'BUILDING');
      await w.builds.finish(w.builds.started.at(-1)!.arn, status);
      assert.equal(await w.service.runs.settle(arn), true);
      assert.equal(await w.service.runs.settle(arn), false);
      return w.service.get(ALICE, arn);
    };
    let p = await runAndFail(1, 'FAILED');
    assert.equal(p.lastRunStatus, 'FAILED');
    assert.equal(p.consecutiveFailures, 1);
    p = await runAndFail(2, 'AVAILABLE');
    assert.equal(p.consecutiveFailures, 0);
    await runAndFail(3, 'FAILED');
    p = await runAndFail(4, 'FAILED');
    assert.equal(p.consecutiveFailures, 2);
    assert.equal(p.status, 'DISABLED');
    assert.equal(p.dateNextRun, undefined);
    w.clock.set('2026-03-01T05:00:00Z');
    assert.deepEqual(await w.service.runs.runScheduled(arn, w.clock.now()), { outcome: 'not-due' });
    // Enabled again by hand: the count starts over and the schedule runs.
    await w.service.update(ALICE, { imagePipelineArn: arn, imageRecipeArn: w.recipeArn, infrastructureConfigurationArn: w.infraArn, clientToken: 'u',
      status: 'ENABLED', schedule: { scheduleExpression: HOURLY, pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY', autoDisablePolicy: { failureCount: 2 } } });
    p = await w.service.get(ALICE, arn);
    assert.equal(p.consecutiveFailures, 0);
    assert.equal(p.dateNextRun, '2026-03-01T06:00:00.000Z');
  });

  test('manual builds do not count towards the auto-disable policy', async () => {
    const w = await world();
    const arn = await pipeline(w, { scheduleExpression: HOURLY, autoDisablePolicy: { failureCount: 1 } });
    const image = await w.service.startExecution(ALICE, { imagePipelineArn: arn, clientToken: 'c' });
    await w.builds.finish(image, 'FAILED');
    await w.service.runs.settle(arn);
    const p = await w.service.get(ALICE, arn);
    assert.equal(p.lastRunStatus, 'FAILED');
    assert.equal(p.status, 'ENABLED');
  });
});
