// GET /_amiforge/health: 200 when both stores answer, 503 naming the one that does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { App } from './app.ts';
import { handleOps } from './ops.ts';

const GET = { method: 'GET', headers: {} } as IncomingMessage;

function appWith(o: { metadata: () => Promise<unknown>; blocks: () => Promise<boolean> }): App {
  return {
    config: { nodeId: 'node-test', hypervisor: { driver: 'sim' } },
    store: { leases: { held: o.metadata } },
    blocks: { has: o.blocks },
    hypervisor: { name: 'simulator' },
    leases: { names: () => ['gc'] },
  } as unknown as App;
}

test('healthy: both stores read, with their latency, the node and its hypervisor', async () => {
  const res = await handleOps(appWith({ metadata: async () => [], blocks: async () => false }), GET, '/_amiforge/health', '');
  assert.equal(res?.status, 200);
  const body = JSON.parse(res!.body);
  assert.equal(body.status, 'ok');
  assert.equal(body.nodeId, 'node-test');
  assert.equal(body.metadataStore.status, 'ok');
  assert.equal(typeof body.metadataStore.latencyMs, 'number');
  assert.equal(body.blockStore.status, 'ok');
  assert.deepEqual(body.hypervisor, { driver: 'sim', name: 'simulator' });
});

test('a store that fails makes the node unavailable (503), with the error', async () => {
  const res = await handleOps(appWith({
    metadata: async () => { throw new Error('connection refused'); },
    blocks: async () => false,
  }), GET, '/_amiforge/health', '');
  assert.equal(res?.status, 503);
  const body = JSON.parse(res!.body);
  assert.equal(body.status, 'unavailable');
  assert.deepEqual({ ...body.metadataStore, latencyMs: 0 }, { status: 'unavailable', latencyMs: 0, error: 'connection refused' });
  assert.equal(body.blockStore.status, 'ok');
});
