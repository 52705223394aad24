// Copy schedules on two nodes sharing one state store and one lease table: a run due is made once,
// by the node that claims it; the other reads the shared state and does not repeat it; a run left
// marked running by a dead node is made again by the node that claims it next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { LeaseKeeper } from '../cluster/lease-keeper.ts';
import type { RunReport } from './copy-run.ts';
import { CopyScheduler } from './copy-scheduler.ts';
import type { CopyScheduleSpec } from './schedule-spec.ts';

const silent = { info() {}, error() {}, warn() {} };
const spec: CopyScheduleSpec = {
  name: 'dr', account: '111111111111', sourceRegion: 'us-east-1', destinationRegions: ['us-west-2'],
  source: { imageId: 'ami-0123456789abcdef0' }, keep: 1, everyMs: 3600_000,
};

function node(store: SqliteMetadataStore, id: string, runs: string[]) {
  const keeper = new LeaseKeeper({ leases: store.leases, holder: id, ttlMs: 60_000, clock: { now: () => new Date() }, log: silent });
  const scheduler = new CopyScheduler({
    specs: [spec], state: store.copyScheduleState, now: () => new Date(), log: silent, retryMs: 3600_000,
    claim: async (name) => {
      const lost = await keeper.acquire(`copy-schedule:${name}`);
      return lost && { lost, release: () => keeper.release(`copy-schedule:${name}`) };
    },
    run: async (sp, trigger): Promise<RunReport> => {
      runs.push(`${id} ${trigger}`);
      const startedAt = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 20));
      return { schedule: sp.name, trigger, startedAt, finishedAt: new Date().toISOString(), outcome: 'copied', regions: [] };
    },
  });
  return { keeper, scheduler };
}

test('a run that is due is made once across nodes, and a dead node\'s run is taken over', async () => {
  const store = new SqliteMetadataStore(':memory:');
  const longAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
  await store.copyScheduleState.save('dr', { firstSeenAt: longAgo });
  const runs: string[] = [];
  const a = node(store, 'node-a', runs);
  const b = node(store, 'node-b', runs);
  // Both start while the run is overdue: both try it at once.
  await Promise.all([a.scheduler.start(), b.scheduler.start()]);
  await eventually(async () => (await store.copyScheduleState.load()).get('dr')?.lastRun !== undefined);
  await a.scheduler.close();
  await b.scheduler.close();
  assert.equal(runs.length, 1, `one run: ${runs.join(', ')}`);

  // A node died mid-run: the state says running, and its lease is gone (expired).
  const state = (await store.copyScheduleState.load()).get('dr')!;
  await store.copyScheduleState.save('dr', { ...state, runningSince: new Date().toISOString() });
  runs.length = 0;
  const c = node(store, 'node-c', runs);
  await c.scheduler.start();
  await eventually(async () => !(await store.copyScheduleState.load()).get('dr')?.runningSince);
  await c.scheduler.close();
  assert.deepEqual(runs, ['node-c missed']);
  for (const n of [a, b, c]) await n.keeper.close();
});

async function eventually(probe: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 30_000;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error('not reached in 30 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
