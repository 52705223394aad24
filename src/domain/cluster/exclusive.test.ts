// A section under a lease runs on one node at a time; the other node waits, then runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { exclusively } from './exclusive.ts';

test('two nodes entering one section: one after the other, never together', async () => {
  const store = new SqliteMetadataStore(':memory:');
  const log = { info: () => {}, warn: () => {} };
  const keeper = (holder: string) => new LeaseKeeper({ leases: store.leases, holder, ttlMs: 10_000, clock: { now: () => new Date() }, log });
  const a = keeper('node-a');
  const b = keeper('node-b');
  const events: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const first = exclusively(a, 'client-token:x', async () => { events.push('a in'); await gate; events.push('a out'); });
  await new Promise((r) => setTimeout(r, 20));
  const second = exclusively(b, 'client-token:x', async () => { events.push('b in'); });
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(events, ['a in'], 'node b waits while node a holds the section');
  release();
  await Promise.all([first, second]);
  assert.deepEqual(events, ['a in', 'a out', 'b in']);
  assert.deepEqual(await store.leases.held(), []);
  await a.close();
  await b.close();
});
