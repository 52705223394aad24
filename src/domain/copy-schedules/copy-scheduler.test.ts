import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CopyScheduleState, CopyScheduleStateStore } from '../../ports/copy-schedule-state.ts';
import type { RunReport } from './copy-run.ts';
import { CopyScheduler } from './copy-scheduler.ts';
import type { CopyScheduleSpec } from './schedule-spec.ts';
import { parseCron } from './schedule-timing.ts';

const spec = (over: Partial<CopyScheduleSpec> = {}): CopyScheduleSpec => ({
  name: 'dr', account: '111111111111', sourceRegion: 'us-east-1', destinationRegions: ['us-west-2'],
  source: { imageId: 'ami-0123456789abcdef0' }, keep: 1, ...over,
});

function memoryState(initial: Record<string, CopyScheduleState> = {}): CopyScheduleStateStore & { saved: Map<string, CopyScheduleState> } {
  const saved = new Map(Object.entries(initial));
  return { saved, load: async () => new Map(saved), save: async (name, s) => { saved.set(name, structuredClone(s)); } };
}

const silent = { info() {}, error() {} };

function scheduler(specs: CopyScheduleSpec[], state: CopyScheduleStateStore, run?: (trigger: RunReport['trigger'], signal: AbortSignal) => Promise<void>) {
  const runs: RunReport['trigger'][] = [];
  let resolveRun: () => void = () => {};
  const ran = () => new Promise<void>((r) => { resolveRun = r; });
  const s = new CopyScheduler({
    specs, state, now: () => new Date(), log: silent,
    run: async (sp, trigger, signal) => {
      const startedAt = new Date().toISOString();
      runs.push(trigger);
      await run?.(trigger, signal);
      resolveRun();
      return { schedule: sp.name, trigger, startedAt, finishedAt: new Date().toISOString(), outcome: signal.aborted ? 'interrupted' : 'up-to-date', regions: [] };
    },
  });
  return { s, runs, ran };
}

test('a new schedule waits for its first interval, then runs on its timer', async () => {
  const state = memoryState();
  const { s, runs, ran } = scheduler([spec({ everyMs: 30 })], state);
  const first = ran();
  await s.start();
  assert.deepEqual(runs, [], 'nothing is due at the first start');
  assert.ok(s.status()[0].nextRunAt);
  await first;
  assert.deepEqual(runs, ['schedule']);
  await s.close();
  assert.equal(state.saved.get('dr')!.lastRun!.trigger, 'schedule');
});

test('what fell due while the server was down runs once at start-up', async () => {
  const longAgo = '2020-01-01T00:00:00.000Z';
  const state = memoryState({ dr: { firstSeenAt: longAgo, lastRun: { schedule: 'dr', trigger: 'schedule', startedAt: longAgo, finishedAt: longAgo, outcome: 'copied', regions: [] } } });
  const { s, runs, ran } = scheduler([spec({ cron: parseCron('0 2 * * *') })], state);
  const done = ran();
  await s.start();
  await done;
  assert.deepEqual(runs, ['missed'], 'one run, not one per missed day');
  // Then the next is the cron's next match, in the future.
  await new Promise((r) => setImmediate(r));
  assert.ok(Date.parse(s.status()[0].nextRunAt!) > Date.now());
  await s.close();
});

test('a run the server stopped in is interrupted, and runs again at the next start', async () => {
  const state = memoryState();
  const first = scheduler([spec({ everyMs: 3_600_000 })], state, (_t, signal) => new Promise((r) => signal.addEventListener('abort', () => r())));
  await first.s.start();
  const t = await first.s.trigger('dr');
  assert.equal(t!.started, true);
  const second = await first.s.trigger('dr');
  assert.equal(second!.started, false, 'one run at a time');
  assert.equal(first.s.status()[0].running, true);
  await first.s.close();
  assert.equal((await t!.finished)!.outcome, 'interrupted');
  assert.ok(state.saved.get('dr')!.runningSince, 'still marked running');

  const again = scheduler([spec({ everyMs: 3_600_000 })], state);
  const done = again.ran();
  await again.s.start();
  await done;
  assert.deepEqual(again.runs, ['missed']);
  await again.s.close();
  assert.equal(state.saved.get('dr')!.runningSince, undefined);
  assert.equal(state.saved.get('dr')!.lastRun!.outcome, 'up-to-date');
});

test('unknown names are not triggered', async () => {
  const { s } = scheduler([spec({ everyMs: 3_600_000 })], memoryState());
  await s.start();
  assert.equal(await s.trigger('nope'), undefined);
  assert.deepEqual(s.names(), ['dr']);
  await s.close();
});
