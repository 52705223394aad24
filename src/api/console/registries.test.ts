// The console's view and stream registries with entries registered for the test. Views: the
// session, CSRF token and region come first, the view gets the caller and its params or body.
// Streams (Server-Sent Events): checked the same way before anything is sent, events framed one
// per `event:`/`data:` pair, an `end` event last, and a browser going away reaches onClose.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { devAuthenticator } from '../../identity/authenticator.ts';
import { AdvanceableClock } from '../../ports/clock.ts';
import type { App } from '../../server/app.ts';
import { createHttpServer } from '../../server/http-server.ts';
import type { Logger } from '../../server/logger.ts';
import { consoleStreams } from './streams/index.ts';
import { consoleViews } from './views/index.ts';

const store = new SqliteMetadataStore(':memory:');
const app = {
  store, authenticator: devAuthenticator(), clock: new AdvanceableClock(),
  config: { consoleSessionMs: 3_600_000 }, authorizer: { forRequest: () => undefined }, metrics: { observeRequest: () => {} },
} as unknown as App;
const log = { info: () => {}, error: () => {} } as unknown as Logger;
let server: Server;
let base: string;
let closed: Promise<void>;

before(async () => {
  let markClosed!: () => void;
  closed = new Promise((resolve) => { markClosed = resolve; });
  consoleStreams['test-count'] = async (_app, ctx, params, sink) => {
    for (let i = 1; i <= Number(params.get('n')); i++) sink.send('data', { i, account: ctx.caller.account, region: ctx.caller.region });
  };
  consoleStreams['test-forever'] = async (_app, _ctx, _params, sink) => {
    sink.send('state', { open: true });
    await new Promise<void>((resolve) => sink.onClose(() => { markClosed(); resolve(); }));
  };
  consoleViews['test-echo'] = { method: 'POST', handle: async (_app, ctx, params, body) => ({ account: ctx.caller.account, region: ctx.caller.region, q: params.get('q'), body }) };
  server = createHttpServer(app, log);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  delete consoleStreams['test-count'];
  delete consoleStreams['test-forever'];
  delete consoleViews['test-echo'];
  await new Promise((resolve) => server.close(resolve));
  await store.close();
});

async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${base}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"account":"444444444444"}' });
  assert.equal(res.status, 200);
  return { cookie: res.headers.get('set-cookie')!.split(';', 1)[0], csrf: (await res.json()).csrfToken };
}
const cookie = async () => (await signIn()).cookie;

test('a view answers with the caller, its params and JSON body; CSRF, region and method are checked first', async () => {
  const { cookie: c, csrf } = await signIn();
  const post = (headers: Record<string, string>, path = '/console/data/test-echo?q=x', method = 'POST') =>
    fetch(`${base}${path}`, { method, headers: { cookie: c, 'content-type': 'application/json', ...headers }, body: method === 'POST' ? '{"a":[1]}' : undefined });
  const ok = await post({ 'x-csrf-token': csrf, 'x-amiforge-region': 'ap-south-1' });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { account: '444444444444', region: 'ap-south-1', q: 'x', body: { a: [1] } });
  assert.equal((await post({ 'x-amiforge-region': 'ap-south-1' })).status, 403);
  assert.equal((await post({ 'x-csrf-token': csrf })).status, 400);
  const wrongMethod = await post({ 'x-amiforge-region': 'ap-south-1' }, '/console/data/test-echo', 'GET');
  assert.equal(wrongMethod.status, 400);
  const unknown = await post({ 'x-csrf-token': csrf, 'x-amiforge-region': 'ap-south-1' }, '/console/data/toString');
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).error.code, 'NotFound');
});

test('a stream sends its events in order, then end', async () => {
  const res = await fetch(`${base}/console/stream/test-count?n=3&region=eu-west-1`, { headers: { cookie: await cookie() } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = (await res.text()).trim().split('\n\n').map((block) => {
    const [event, data] = block.split('\n');
    return { event: event.replace('event: ', ''), data: JSON.parse(data.replace('data: ', '')) };
  });
  assert.deepEqual(events, [
    { event: 'data', data: { i: 1, account: '444444444444', region: 'eu-west-1' } },
    { event: 'data', data: { i: 2, account: '444444444444', region: 'eu-west-1' } },
    { event: 'data', data: { i: 3, account: '444444444444', region: 'eu-west-1' } },
    { event: 'end', data: {} },
  ]);
});

test('no session, an unknown region or an unknown stream is answered in JSON before any event', async () => {
  const none = await fetch(`${base}/console/stream/test-count?n=1&region=us-east-1`);
  assert.equal(none.status, 401);
  assert.equal((await none.json()).error.code, 'SignInRequired');
  const c = await cookie();
  const region = await fetch(`${base}/console/stream/test-count?n=1&region=nowhere-1`, { headers: { cookie: c } });
  assert.equal(region.status, 400);
  assert.equal((await region.json()).error.code, 'InvalidRegion');
  const unknown = await fetch(`${base}/console/stream/nothing?region=us-east-1`, { headers: { cookie: c } });
  assert.equal(unknown.status, 404);
});

test('the browser going away reaches the stream\'s onClose', async () => {
  const controller = new AbortController();
  const res = await fetch(`${base}/console/stream/test-forever?region=us-east-1`, { headers: { cookie: await cookie() }, signal: controller.signal });
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /^event: state\ndata: \{"open":true\}\n\n/);
  controller.abort();
  await closed;
});
