// Requests the HTTP layer refuses before any handler sees them, on raw sockets: the client gets
// the refusal in EC2's error envelope even while it is still sending, never a reset connection.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startServer, type RunningServer } from '../support/server.ts';

let server: RunningServer;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

interface Exchange { answer: string; error?: string }

/** Writes `request` on a fresh connection and reads until the server closes it. */
function exchange(request: string): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const socket = connect(server.port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => { error = e.code; });
    socket.on('close', () => resolve({ answer: Buffer.concat(chunks).toString('latin1'), error }));
  });
}

test('a query string far over the header limit is answered 431 in full, and the connection closed cleanly', async () => {
  // About 900 KB: refused after its first 16 KiB, while most of it is still to be sent. Closing
  // with those bytes unread reset the connection, and the client lost the answer or saw
  // ECONNRESET; several at once, as a reset came most of the time but not always.
  const target = `/?Action=DescribeImages&${'Owner.1=ami-0dd4dbe59a8675ce3&'.repeat(30_000)}`;
  const request = `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
  const results = await Promise.all(Array.from({ length: 8 }, () => exchange(request)));
  for (const { answer, error } of results) {
    assert.equal(error, undefined, `the connection failed (${error}) after ${answer.length} bytes of answer`);
    assert.match(answer, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(answer, /\r\n\r\n<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>InvalidQueryParameter<\/Code>/);
  }
  const health = await fetch(`${server.endpoint}/_amiforge/health`);
  assert.equal(health.status, 200);
});

test('a CONNECT is answered 400 and its connection closed once the client is done', async () => {
  const { answer, error } = await exchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  assert.equal(error, undefined);
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*<Code>InvalidQueryParameter<\/Code>/);
});
