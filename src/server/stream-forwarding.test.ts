// forwardStream between two plain HTTP servers: the owner sees the browser's request (cookie and
// all) with the hop header, the browser gets the owner's events as they are sent, and leaving
// ends the owner's stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ServiceError } from '../domain/errors.ts';
import { FORWARDED_BY } from './instance-forwarding.ts';
import { forwardStream } from './stream-forwarding.ts';

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

test('a stream is relayed from the owner as it is written, and ends there when the browser leaves', async () => {
  let seen: IncomingMessage | undefined;
  let ownerClosed!: () => void;
  const ownerGone = new Promise<void>((r) => { ownerClosed = r; });
  let sendMore!: () => void;
  const owner = createServer((req, res) => {
    seen = req;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write('event: output\ndata: {"text":"first"}\n\n');
    sendMore = () => res.write('event: output\ndata: {"text":"second"}\n\n');
    res.on('close', () => ownerClosed());
  });
  const ownerUrl = await listen(owner);
  const front = createServer((req, res) => void forwardStream(req, res, { nodeId: 'node-2', url: ownerUrl }, 'node-1'));
  const frontUrl = await listen(front);
  try {
    const received: string[] = [];
    const browser = request(`${frontUrl}/console/stream/console?instanceId=i-0123456789abcdef0`, { headers: { cookie: 'amiforge_console=abc' } });
    const response = await new Promise<IncomingMessage>((resolve) => { browser.on('response', resolve); browser.end(); });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['content-type'], 'text/event-stream');
    const next = () => new Promise<string>((r) => response.once('data', (c: Buffer) => r(c.toString())));
    received.push(await next());
    sendMore();
    received.push(await next());
    assert.deepEqual(received, ['event: output\ndata: {"text":"first"}\n\n', 'event: output\ndata: {"text":"second"}\n\n']);
    assert.equal(seen!.url, '/console/stream/console?instanceId=i-0123456789abcdef0');
    assert.equal(seen!.headers.cookie, 'amiforge_console=abc');
    assert.equal(seen!.headers[FORWARDED_BY], 'node-1');
    browser.destroy();
    await ownerGone;
  } finally {
    owner.closeAllConnections();
    front.closeAllConnections();
    owner.close();
    front.close();
  }
});

test('an owner that cannot be reached is a retryable Unavailable, before anything is written', async () => {
  const closed = createServer();
  const url = await listen(closed);
  closed.close();
  let refusal: unknown;
  const front = createServer((req, res) => {
    forwardStream(req, res, { nodeId: 'node-9', url }, 'node-1').catch((err) => {
      refusal = err;
      res.writeHead(503).end();
    });
  });
  const frontUrl = await listen(front);
  try {
    const status = await new Promise<number | undefined>((resolve) => request(`${frontUrl}/console/stream/console`, (res) => { res.resume(); resolve(res.statusCode); }).end());
    assert.equal(status, 503);
    assert.ok(refusal instanceof ServiceError && refusal.code === 'Unavailable' && /node-9/.test(refusal.message));
  } finally {
    front.close();
  }
});
