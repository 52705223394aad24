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

// What cloud-init's EC2 datasource (22.4, Debian 12) asks, in its order: a token, the newest API
// version it knows, user data, the meta-data tree crawled listing by listing, the identity document.
test('cloud-init\'s EC2 crawl: dated versions, listings, public keys as 0=NAME, the identity document', async () => {
  const md = {
    'instance-id': 'i-0123456789abcdef0',
    'local-hostname': 'ip-172-31-1-2.ec2.internal',
    'placement/availability-zone': 'us-east-1a',
    'placement/region': 'us-east-1',
    'public-keys/': '0=my-key',
    'public-keys/0/openssh-key': 'ssh-ed25519 AAAA my-key',
    'network/interfaces/macs/0e:01:02:03:04:05/device-number': '0',
    'network/interfaces/macs/0e:01:02:03:04:05/mac': '0e:01:02:03:04:05',
  };
  const document = JSON.stringify({ region: 'us-east-1', instanceId: 'i-0123456789abcdef0', accountId: '111111111111' });
  await withResponder({ metadata: md, dynamic: { 'instance-identity/document': document }, userData: Buffer.from('#cloud-config\n') }, async (sock) => {
    const put = await call(sock, 'PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' });
    const auth = { 'X-aws-ec2-metadata-token': put.body };
    const get = async (path: string) => call(sock, 'GET', path, auth);
    assert.equal((await call(sock, 'GET', '/2021-03-23/meta-data/instance-id')).status, 401, 'tokens are required under every version');
    for (const v of ['2021-03-23', '2018-09-24', '2016-09-02', '2009-04-04', 'latest']) {
      assert.deepEqual(await get(`/${v}/meta-data/instance-id`), { status: 200, body: 'i-0123456789abcdef0' }, v);
    }
    assert.equal((await get('/2000-01-01/meta-data/instance-id')).status, 404);
    const root = (await get('/')).body.split('\n');
    assert.ok(root.includes('2009-04-04') && root.includes('2021-03-23') && root.at(-1) === 'latest');
    assert.equal((await get('/2021-03-23/')).body, 'dynamic\nmeta-data\nuser-data');
    assert.equal((await get('/2021-03-23/user-data')).body, '#cloud-config\n');
    assert.equal((await get('/2021-03-23/meta-data/')).body, 'instance-id\nlocal-hostname\nnetwork/\nplacement/\npublic-keys/');
    assert.equal((await get('/2021-03-23/meta-data/placement/')).body, 'availability-zone\nregion');
    assert.equal((await get('/2021-03-23/meta-data/placement/region')).body, 'us-east-1');
    assert.equal((await get('/2021-03-23/meta-data/public-keys/')).body, '0=my-key');
    assert.equal((await get('/2021-03-23/meta-data/public-keys')).body, '0=my-key');
    assert.equal((await get('/2021-03-23/meta-data/public-keys/0/')).body, 'openssh-key');
    assert.equal((await get('/2021-03-23/meta-data/public-keys/0/openssh-key')).body, 'ssh-ed25519 AAAA my-key');
    assert.equal((await get('/2021-03-23/meta-data/network/interfaces/macs/')).body, '0e:01:02:03:04:05/');
    assert.equal((await get('/2021-03-23/meta-data/network/interfaces/macs/0e:01:02:03:04:05/')).body, 'device-number\nmac');
    assert.equal((await get('/2021-03-23/dynamic/')).body, 'instance-identity/');
    assert.equal((await get('/2021-03-23/dynamic/instance-identity/')).body, 'document');
    assert.deepEqual(JSON.parse((await get('/2021-03-23/dynamic/instance-identity/document')).body).accountId, '111111111111');
    assert.equal((await get('/2021-03-23/meta-data/public-keys/1/openssh-key')).status, 404);
    assert.equal((await get('/2021-03-23/user-data/')).status, 404);
    assert.equal((await get('/2021-03-23/nothing')).status, 404);
    assert.equal((await call(sock, 'PUT', '/2021-03-23/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' })).status, 405);
  });
});

test('without dynamic data or user data, the version listing names meta-data only', async () => {
  await withResponder({ metadata, httpTokens: 'optional' }, async (sock) => {
    assert.equal((await call(sock, 'GET', '/latest/')).body, 'meta-data');
    assert.equal((await call(sock, 'GET', '/latest/dynamic/instance-identity/document')).status, 404);
  });
});

test('guestfwdCommand refuses paths QEMU would split', () => {
  assert.equal(guestfwdCommand('/tmp/a/imds.sock'), 'socat STDIO UNIX-CONNECT:/tmp/a/imds.sock');
  assert.throws(() => guestfwdCommand('/tmp/a,b/imds.sock'));
});
