// The proxy on its own: which instance ids a request names, that the owner receives the
// original request byte for byte (Host and Authorization included) with the hop header, that its
// answer is relayed, and that an owner that does not answer is a retryable Unavailable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceError } from '../domain/errors.ts';
import { FORWARDED_BY, forwardRequest, instanceIdsOf } from './instance-forwarding.ts';

test('instance ids of a Query request: InstanceId, InstanceId.N, InstanceSpecification.InstanceId, once each', () => {
  assert.deepEqual(instanceIdsOf([['Action', 'StopInstances'], ['InstanceId.1', 'i-1'], ['InstanceId.2', 'i-2'], ['InstanceId.3', 'i-1']]), ['i-1', 'i-2']);
  assert.deepEqual(instanceIdsOf([['InstanceId', 'i-9'], ['VolumeId', 'vol-1']]), ['i-9']);
  assert.deepEqual(instanceIdsOf([['InstanceSpecification.InstanceId', 'i-5'], ['InstanceSpecification.ExcludeBootVolume', 'true']]), ['i-5']);
  assert.deepEqual(instanceIdsOf([['Filter.1.Name', 'instance-id'], ['Filter.1.Value.1', 'i-7']]), []);
});

/** A server that records what it received and answers as an owner node would. */
async function owner() {
  const seen: { method?: string; url?: string; rawHeaders: string[]; body: Buffer }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': 'owner-request-id' });
      res.end('<StopInstancesResponse/>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { seen, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** An incoming request as the receiving node has it: the message and its body, already read. */
async function incoming(body: string, headers: Record<string, string>): Promise<{ req: IncomingMessage; body: Buffer; close(): void }> {
  let resolveReq!: (v: { req: IncomingMessage; body: Buffer }) => void;
  const got = new Promise<{ req: IncomingMessage; body: Buffer }>((r) => { resolveReq = r; });
  const front = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { resolveReq({ req, body: Buffer.concat(chunks) }); res.end(); });
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const port = (front.address() as AddressInfo).port;
  const client = request({ port, host: '127.0.0.1', method: 'POST', path: '/?x=1', headers });
  client.on('response', (res) => res.resume());
  client.end(body);
  const { req, body: read } = await got;
  return { req, body: read, close: () => front.close() };
}

test('the owner receives the original request with the hop header, and its answer comes back', async () => {
  const o = await owner();
  const body = 'Action=StopInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0';
  const { req, body: read, close } = await incoming(body, {
    'Host': 'ec2.example:4566', 'Authorization': 'AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
    'X-Amz-Date': '20260101T000000Z', 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', [FORWARDED_BY]: 'forged',
  });
  try {
    const answer = await forwardRequest(req, read, { nodeId: 'node-9', url: o.url }, 'node-1');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), '<StopInstancesResponse/>');
    assert.equal(answer.headers['x-amzn-requestid'], 'owner-request-id');
    const [seen] = o.seen;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/?x=1');
    assert.equal(seen.body.toString(), body);
    const headers = new Map<string, string[]>();
    for (let i = 0; i < seen.rawHeaders.length; i += 2) headers.set(seen.rawHeaders[i], [...(headers.get(seen.rawHeaders[i]) ?? []), seen.rawHeaders[i + 1]]);
    assert.deepEqual(headers.get('Host'), ['ec2.example:4566'], 'the signed Host, not the owner\'s address');
    assert.deepEqual(headers.get('Authorization'), [req.headers.authorization]);
    assert.deepEqual(headers.get('X-Amz-Date'), ['20260101T000000Z']);
    assert.deepEqual(headers.get(FORWARDED_BY), ['node-1'], 'one hop header, this node\'s: a client\'s own is dropped');
  } finally {
    close();
    o.server.close();
  }
});

test('an owner that does not answer is a retryable Unavailable (503)', async () => {
  const o = await owner();
  const url = o.url;
  await new Promise<void>((r) => o.server.close(() => r()));
  const { req, body, close } = await incoming('Action=RebootInstances', { 'Content-Type': 'application/x-www-form-urlencoded' });
  try {
    await assert.rejects(forwardRequest(req, body, { nodeId: 'node-9', url }, 'node-1'),
      (e: ServiceError) => e.code === 'Unavailable' && e.status === 503 && /node-9/.test(e.message));
  } finally {
    close();
  }
});
