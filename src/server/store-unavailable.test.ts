// A metadata database that cannot be reached (StoreUnavailableError) is answered with a
// retryable error in each service's own envelope: EC2's documented ServiceUnavailable (503),
// and the JSON services' internal error, which their SDKs retry too. Never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { StoreUnavailableError } from '../ports/metadata-store.ts';
import type { App } from './app.ts';
import { createHttpServer } from './http-server.ts';
import type { Logger } from './logger.ts';

const logged: unknown[] = [];
const log = { info: () => {}, error: (entry: unknown) => { logged.push(entry); } } as unknown as Logger;
// Authentication is the first thing to touch the store; here it finds the database gone.
const app = {
  authenticator: { authenticate: () => { throw new StoreUnavailableError('the metadata database is unavailable: connection refused'); } },
  metrics: { observeRequest: () => {} },
} as unknown as App;

test('an unreachable store is a retryable error in the service\'s own envelope', async () => {
  const server = createHttpServer(app, log);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const ec2 = await fetch(`${base}/`, { method: 'POST', body: 'Action=DescribeImages&Version=2016-11-15',
      headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(ec2.status, 503);
    const xml = await ec2.text();
    assert.match(xml, /<Code>ServiceUnavailable<\/Code>/);
    assert.match(xml, /<Message>The request has failed due to a temporary failure of the server\.<\/Message>/);
    assert.doesNotMatch(xml, /connection refused/, 'the cause stays in the log');

    const ebs = await fetch(`${base}/snapshots/snap-0123456789abcdef0/blocks`);
    assert.equal(ebs.status, 500);
    assert.equal(ebs.headers.get('x-amzn-errortype')?.split(':')[0], 'InternalServerException');
    assert.equal(logged.length, 2, 'both failures are logged with their cause');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
