// The ownership rules on their own: which node serves a request about some instances, and when
// an owner counts as gone. The registry is the SQLite adapter in memory; the clock is moved by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import type { InstanceRecord, InstanceStateName } from '../../ports/instance-repository.ts';
import { ServiceError } from '../errors.ts';
import { InstanceOwnership } from './instance-ownership.ts';

const LEASE = 3000;
const t0 = new Date('2026-01-01T00:00:00.000Z');

function instance(instanceId: string, nodeId: string | undefined, state: InstanceStateName = 'running'): InstanceRecord {
  return { instanceId, nodeId, state } as InstanceRecord;
}

async function setup() {
  const store = new SqliteMetadataStore(':memory:');
  let now = t0;
  const clock = { now: () => now };
  const ownership = new InstanceOwnership({ nodes: store.nodes, nodeId: 'me', leaseMs: LEASE, clock });
  const node = (nodeId: string) => ({ nodeId, url: `http://${nodeId}.example:4566`, startedAt: t0.toISOString(), hypervisor: 'sim' });
  await store.nodes.heartbeat(node('me'), t0);
  await store.nodes.heartbeat(node('other'), t0);
  await store.nodes.heartbeat(node('third'), t0);
  return { store, ownership, later: (ms: number) => { now = new Date(t0.getTime() + ms); }, beat: (id: string) => store.nodes.heartbeat(node(id), now) };
}

test('guests on this node, records without a node and instances without a guest are served here', async () => {
  const { ownership } = await setup();
  for (const r of [instance('i-1', 'me'), instance('i-2', undefined), instance('i-3', 'other', 'stopped'), instance('i-4', 'other', 'terminated')]) {
    assert.deepEqual(await ownership.route([r]), { kind: 'local' }, r.instanceId);
  }
});

test('guests of another live node are forwarded to its registered URL', async () => {
  const { ownership } = await setup();
  for (const state of ['pending', 'running', 'stopping', 'shutting-down'] as const) {
    assert.deepEqual(await ownership.route([instance('i-1', 'other', state), instance('i-2', 'other', 'stopped')]),
      { kind: 'forward', nodeId: 'other', url: 'http://other.example:4566' });
  }
});

test('guests on two different nodes in one request: refused, one request per node', async () => {
  const { ownership } = await setup();
  for (const pair of [[instance('i-1', 'other'), instance('i-2', 'third')], [instance('i-1', 'other'), instance('i-2', 'me')]]) {
    await assert.rejects(ownership.route(pair), (e: ServiceError) => e.code === 'InvalidParameterCombination');
  }
});

test('an owner past its lease is gone: its instances are served here, impaired since the lease ran out', async () => {
  const { ownership, later, beat } = await setup();
  const r = instance('i-1', 'other');
  later(LEASE - 1);
  assert.equal(await ownership.ownerGone(r), false);
  await beat('me');
  later(LEASE + 500);
  assert.equal(await ownership.ownerGone(r), true);
  assert.deepEqual(await ownership.ownerGoneSince(r), new Date(t0.getTime() + LEASE));
  assert.deepEqual(await ownership.route([r]), { kind: 'local' });
  assert.equal(await ownership.ownerGone(instance('i-2', 'me')), false, 'this node is never gone to itself');
  assert.equal(await ownership.ownerGone(instance('i-3', 'never-registered')), true);
  // A heartbeat again (the node came back with the same id): no longer gone.
  await beat('other');
  assert.equal(await ownership.ownerGone(r), false);
});
