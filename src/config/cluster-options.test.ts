// --node-id, --advertise-url and --lease-seconds: a node's identity among the serve processes
// sharing one store, where the others reach it, and how long it stays live without a heartbeat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseServeOptions } from './config.ts';

const parse = (o: Record<string, unknown>) => parseServeOptions({ dataDir: '/nonexistent-amiforge-dir', ...o }, {});

test('defaults: a node id kept in DATA_DIR/node-id (new and random before the first start), no advertised URL, a 30-second lease', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-node-id-'));
  try {
    const first = parse({ dataDir });
    assert.match(first.nodeId, /^node-[0-9a-f]{8}$/);
    assert.equal(first.nodeIdFile, join(dataDir, 'node-id'));
    assert.equal(first.advertiseUrl, undefined);
    assert.equal(first.leaseMs, 30_000);
    // The server keeps it there at start (ClusterNode.keepNodeId); every later start reads it.
    writeFileSync(first.nodeIdFile!, `${first.nodeId}\n`);
    assert.equal(parse({ dataDir }).nodeId, first.nodeId);
    writeFileSync(first.nodeIdFile!, 'not an id!\n');
    assert.throws(() => parse({ dataDir }), (e: Error) => e instanceof ConfigError && /node-id/.test(e.message));
    assert.equal(parse({ dataDir, nodeId: 'given' }).nodeIdFile, undefined, 'a given id is not kept');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
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
