import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineService } from './pipeline-service.ts';
import { PipelineScheduler } from './pipeline-scheduler.ts';
import { ALICE, BOB, world, type World } from './test-fixtures.ts';

function quietLog() {
  const lines: { level: string; obj: object; msg: string }[] = [];
  return {
    lines,
    info: (obj: object, msg: string) => void lines.push({ level: 'info', obj, msg }),
    error: (obj: object, msg: string) => void lines.push({ level: 'error', obj, msg }),
  };
}

async function daily(w: World, name: string, extra: { timezone?: string; status?: 'ENABLED' | 'DISABLED' } = {}): Promise<string> {
  return w.service.create(ALICE, {
    name, imageRecipeArn: w.recipeArn, infrastructureConfigurationArn: w.infraArn, clientToken: name, status: extra.status,
    schedule: { scheduleExpression: 'cron(0 10 * * ? *)', timezone: extra.timezone, pipelineExecutionStartCondition: 'EXPRESSION_MATCH_ONLY' },
  });
}

test('the scheduler runs what the clock has reached, and nothing before', async () => {
  const w = await world('2026-03-01T00:00:00Z');
  const utc = await daily(w, 'utc');
  const tokyo = await daily(w, 'tokyo', { timezone: 'Asia/Tokyo' });
  await daily(w, 'off', { status: 'DISABLED' });
  const log = quietLog();
  const scheduler = new PipelineScheduler({ pipelines: w.service, clock: w.clock, log, pollMs: 60_000 });
  await scheduler.tick();
  assert.equal(w.builds.started.length, 0);
  // 10:00 Tokyo is 01:00 UTC.
  w.clock.set('2026-03-01T01:00:00Z');
  await scheduler.tick();
  assert.deepEqual(w.builds.started.map((b) => b.req.imagePipelineArn), [tokyo]);
  w.clock.set('2026-03-01T10:00:30Z');
  await scheduler.tick();
  await scheduler.tick();
  assert.deepEqual(w.builds.started.map((b) => b.req.imagePipelineArn), [tokyo, utc]);
  assert.equal((await w.service.get(ALICE, utc)).dateNextRun, '2026-03-02T10:00:00.000Z');
  assert.ok(log.lines.some((l) => l.msg === 'image pipeline: scheduled build started'));
  await scheduler.close();
});

test('a jump of several days makes up each schedule once', async () => {
  const w = await world('2026-03-01T00:00:00Z');
  await daily(w, 'utc');
  const scheduler = new PipelineScheduler({ pipelines: w.service, clock: w.clock, log: quietLog(), pollMs: 60_000 });
  w.clock.set('2026-03-05T12:00:00Z');
  await scheduler.tick();
  await scheduler.tick();
  assert.equal(w.builds.started.length, 1);
  await scheduler.close();
});

test('the schedule lives in the store: a new scheduler over the same store (a restart) finds it', async () => {
  const w = await world('2026-03-01T00:00:00Z');
  const arn = await daily(w, 'utc');
  const first = new PipelineScheduler({ pipelines: w.service, clock: w.clock, log: quietLog(), pollMs: 60_000 });
  await first.tick();
  await first.close();
  // After the restart: a new service and scheduler over the same records.
  const service = new PipelineService({ store: w.store, builds: w.builds, clock: w.clock });
  assert.equal((await service.get(ALICE, arn)).dateNextRun, '2026-03-01T10:00:00.000Z');
  const second = new PipelineScheduler({ pipelines: service, clock: w.clock, log: quietLog(), pollMs: 60_000 });
  w.clock.set('2026-03-01T10:00:00Z');
  await second.tick();
  assert.equal(w.builds.started.length, 1);
  await second.close();
});

test('a build that fails to start is logged; the other schedules still run', async () => {
  const w = await world('2026-03-01T00:00:00Z');
  await daily(w, 'a');
  await daily(w, 'b');
  let calls = 0;
  const flaky = {
    startBuild: async (...args: Parameters<typeof w.builds.startBuild>) => {
      if (calls++ === 0) throw new Error('no capacity');
      return w.builds.startBuild(...args);
    },
  };
  const service = new PipelineService({ store: w.store, builds: flaky, clock: w.clock });
  const log = quietLog();
  const scheduler = new PipelineScheduler({ pipelines: service, clock: w.clock, log, pollMs: 60_000 });
  w.clock.set('2026-03-01T10:00:00Z');
  await scheduler.tick();
  assert.equal(w.builds.started.length, 1);
  assert.ok(log.lines.some((l) => l.level === 'error' && /failed to start/.test(l.msg)));
  await scheduler.close();
});

test('builds that ended are counted on the pipeline by the next tick', async () => {
  const w = await world('2026-03-01T00:00:00Z');
  const arn = await daily(w, 'utc');
  const scheduler = new PipelineScheduler({ pipelines: w.service, clock: w.clock, log: quietLog(), pollMs: 60_000 });
  w.clock.set('2026-03-01T10:00:00Z');
  await scheduler.tick();
  await w.builds.finish(w.builds.started[0].arn, 'AVAILABLE');
  await scheduler.tick();
  const doc = (await w.store.get(arn))!.doc as { lastRunStatus?: string; consecutiveFailures?: number };
  assert.equal(doc.lastRunStatus, 'AVAILABLE');
  assert.equal(doc.consecutiveFailures, 0);
  assert.equal((await w.service.list(BOB, {})).imagePipelineList.length, 0);
  await scheduler.close();
});

test('start polls on its own timer and close stops it', async () => {
  const w = await world('2026-03-01T10:00:00Z');
  await daily(w, 'utc');
  w.clock.set('2026-03-02T10:00:00Z');
  const scheduler = new PipelineScheduler({ pipelines: w.service, clock: w.clock, log: quietLog(), pollMs: 5 });
  scheduler.start();
  for (let i = 0; i < 200 && w.builds.started.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  await scheduler.close();
  assert.equal(w.builds.started.length, 1);
  w.clock.set('2026-03-03T10:00:00Z');
  await scheduler.tick();
  assert.equal(w.builds.started.length, 1);
});
