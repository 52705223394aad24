// The metadata responder over its unix socket: IMDSv2 tokens, listings, user data, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guestfwdCommand, MetadataResponder } from './metadata-responder.ts';

function call(socketPath: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withResponder(opts: ConstructorParameters<typeof MetadataResponder>[0], fn: (sock: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'amiforge-imds-'));
  const responder = new MetadataResponder(opts);
  const sock = join(dir, 'imds.sock');
  await responder.listen(sock);
  try {
    await fn(sock);
  } finally {
    await responder.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const metadata = { 'instance-id': 'i-0123456789abcdef0', 'placement/availability-zone': 'us-east-1a', 'local-hostname': 'ip-169-254-0-15' };

test('IMDSv2: a token from PUT opens GETs; no token, a wrong one or an expired one is 401', async () => {
  let now = 1_000_000;
  await withResponder({ metadata, userData: Buffer.from('#!/bin/sh\necho hi\n'), now: () => now }, async (sock) => {
    assert.equal((await stat(sock)).mode & 0o777, 0o600);
    assert.equal((await call(sock, 'GET', '/latest/meta-data/instance-id')).status, 401);
    const put = await call(sock, 'PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' });
    assert.equal(put.status, 200);
    const auth = { 'X-aws-ec2-metadata-token': put.body };
    assert.deepEqual(await call(sock, 'GET', '/latest/meta-data/instance-id', auth), { status: 200, body: 'i-0123456789abcdef0' });
    assert.deepEqual(await call(sock, 'GET', '/latest/meta-data/', auth), { status: 200, body: 'instance-id\nlocal-hostname\nplacement/' });
    assert.deepEqual(await call(sock, 'GET', '/latest/meta-data/placement', auth), { status: 200, body: 'availability-zone' });
    assert.deepEqual(await call(sock, 'GET', '/latest/meta-data/placement/availability-zone', auth), { status: 200, body: 'us-east-1a' });
    assert.equal((await call(sock, 'GET', '/latest/user-data', auth)).body, '#!/bin/sh\necho hi\n');
    assert.equal((await call(sock, 'GET', '/latest/meta-data/nothing-here', auth)).status, 404);
    assert.equal((await call(sock, 'GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': 'forged' })).status, 401);
    now += 61_000;
    assert.equal((await call(sock, 'GET', '/latest/meta-data/instance-id', auth)).status, 401);
  });
});

test('token requests: TTL 1 to 21600 seconds, never through a proxy, only by PUT', async () => {
  await withResponder({ metadata }, async (sock) => {
    for (const ttl of ['0', '21601', 'x']) {
      assert.equal((await call(sock, 'PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': ttl })).status, 400);
    }
    assert.equal((await call(sock, 'PUT', '/latest/api/token')).status, 400);
    assert.equal((await call(sock, 'PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60', 'X-Forwarded-For': '1.2.3.4' })).status, 403);
    assert.equal((await call(sock, 'GET', '/latest/api/token')).status, 405);
  });
});

test('httpTokens optional serves IMDSv1 GETs; no user data is 404', async () => {
  await withResponder({ metadata, httpTokens: 'optional' }, async (sock) => {
    assert.deepEqual(await call(sock, 'GET', '/latest/meta-data/instance-id'), { status: 200, body: 'i-0123456789abcdef0' });
    assert.equal((await call(sock, 'GET', '/latest/user-data')).status, 404);
  });
});

test('guestfwdCommand refuses paths QEMU would split', () => {
  assert.equal(guestfwdCommand('/tmp/a/imds.sock'), 'socat STDIO UNIX-CONNECT:/tmp/a/imds.sock');
  assert.throws(() => guestfwdCommand('/tmp/a,b/imds.sock'));
});
