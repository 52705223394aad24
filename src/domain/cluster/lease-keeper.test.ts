// The lease keeper over a real (in-memory SQLite) store, on a clock the test moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { LeaseKeeper, LeaseLostError } from './lease-keeper.ts';

function world() {
  const store = new SqliteMetadataStore(':memory:');
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => new Date(now) };
  const warnings: string[] = [];
  const log = { info: () => {}, warn: (_o: object, msg: string) => { warnings.push(msg); } };
  const keeper = (holder: string) => new LeaseKeeper({ leases: store.leases, holder, ttlMs: 3000, clock, log });
  return { store, keeper, warnings, advance: (ms: number) => { now += ms; } };
}

test('one node holds a lease; renewing keeps it; another takes it over only after expiry', async () => {
  const w = world();
  const a = w.keeper('node-a');
  const b = w.keeper('node-b');
  const signal = await a.acquire('gc');
  assert.ok(signal);
  assert.equal(await b.acquire('gc'), undefined);
  w.advance(2000);
  await a.renewNow();
  w.advance(2000);
  assert.equal(await b.acquire('gc'), undefined, 'renewed at 2 s: held until 5 s');
  assert.ok(a.holds('gc'));
  w.advance(1500);
  assert.equal(a.holds('gc'), false, 'past its deadline node a no longer counts on it');
  assert.ok(await b.acquire('gc'), 'expired: node b takes it');
  await a.renewNow();
  assert.ok(signal.aborted, 'node a is told its work must stop');
  assert.ok(signal.reason instanceof LeaseLostError);
  assert.match(w.warnings.join('\n'), /gc lost: taken over by another node/);
  await a.close();
  await b.close();
  assert.deepEqual(await w.store.leases.held(), [], 'closing frees what a node held');
});

test('a lease released is free at once; a store that does not answer loses leases only at their deadline', async () => {
  const w = world();
  const a = w.keeper('node-a');
  const b = w.keeper('node-b');
  await a.acquire('copy');
  await a.release('copy');
  assert.ok(await b.acquire('copy'));
  const signal = (await a.acquire('sweep'))!;
  const renew = w.store.leases.renew.bind(w.store.leases);
  w.store.leases.renew = async () => { throw new Error('database unavailable'); };
  w.advance(1000);
  await a.renewNow();
  assert.equal(signal.aborted, false, 'kept while it may still be renewed');
  w.advance(2500);
  await a.renewNow();
  assert.ok(signal.aborted);
  assert.match(w.warnings.join('\n'), /sweep lost: could not be renewed \(database unavailable\)/);
  w.store.leases.renew = renew;
  await a.close();
  await b.close();
});
