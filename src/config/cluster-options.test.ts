// --node-id, --advertise-url and --lease-seconds: a node's identity among the serve processes
// sharing one store, where the others reach it, and how long it stays live without a heartbeat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, defaultNodeId, parseServeOptions } from './config.ts';

const parse = (o: Record<string, unknown>) => parseServeOptions({ dataDir: '/d', ...o }, {});

test('defaults: a node id stable for this host and data directory, no advertised URL, a 30-second lease', () => {
  const c = parse({});
  assert.match(c.nodeId, /^node-[0-9a-f]{8}$/);
  assert.equal(c.nodeId, parse({}).nodeId, 'the same at every start');
  assert.equal(c.nodeId, defaultNodeId('/d'));
  assert.notEqual(parse({ dataDir: '/e' }).nodeId, c.nodeId);
  assert.equal(c.advertiseUrl, undefined);
  assert.equal(c.leaseMs, 30_000);
});

test('given values', () => {
  const c = parse({ nodeId: 'api-2.eu', advertiseUrl: 'http://10.0.0.7:4566/', leaseSeconds: '3' });
  assert.deepEqual([c.nodeId, c.advertiseUrl, c.leaseMs], ['api-2.eu', 'http://10.0.0.7:4566', 3000]);
  assert.equal(parse({ advertiseUrl: 'https://api.example.com' }).advertiseUrl, 'https://api.example.com');
});

test('malformed values are refused', () => {
  for (const nodeId of ['', '-x', 'a b', 'x'.repeat(64), 'a/b']) assert.throws(() => parse({ nodeId }), ConfigError, nodeId);
  for (const advertiseUrl of ['10.0.0.7:4566', 'ftp://x', 'http://x/path', 'http://u:p@x', 'http://x/?q=1']) {
    assert.throws(() => parse({ advertiseUrl }), ConfigError, advertiseUrl);
  }
  for (const leaseSeconds of ['0', '1.5', 'x', '3601']) assert.throws(() => parse({ leaseSeconds }), ConfigError, leaseSeconds);
});
