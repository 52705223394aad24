// The test-only clock endpoint: it moves the domain's clock only behind --enable-reset.
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdvanceableClock } from '../ports/clock.ts';
import type { App } from './app.ts';
import { handleOps as handle } from './ops.ts';

const handleOps = (app: App, method: string, path: string) => handle(app, { method, headers: {} } as IncomingMessage, path, '');

// Advancing also runs the Recycle Bin's sweep, which has nothing to delete here.
const appWith = (enableReset: boolean) => ({
  config: { enableReset }, authenticator: { mode: 'dev' }, clock: new AdvanceableClock(), ec2: { recycleBin: { purgeExpired: async () => 0 } },
}) as unknown as App;

test('POST /_amiforge/clock/advance/SECONDS moves the clock forward, only with --enable-reset', async () => {
  const closed = appWith(false);
  const refused = await handleOps(closed, 'POST', '/_amiforge/clock/advance/3600');
  assert.equal(refused?.status, 403);
  assert.ok(Math.abs(closed.clock.now().getTime() - Date.now()) < 60_000, 'the clock did not move');

  const open = appWith(true);
  const moved = await handleOps(open, 'POST', '/_amiforge/clock/advance/86400');
  assert.equal(moved?.status, 200);
  const now = Date.parse(JSON.parse(moved!.body).now);
  assert.ok(now - Date.now() > 86_000_000, 'a day ahead');
  open.clock.rewind();
  assert.ok(Math.abs(open.clock.now().getTime() - Date.now()) < 60_000, 'rewound to the system time');
});

test('only whole, non-negative seconds are an advance', async () => {
  const open = appWith(true);
  for (const path of ['/_amiforge/clock/advance/-5', '/_amiforge/clock/advance/1.5']) {
    assert.equal((await handleOps(open, 'POST', path))?.status, 400, path);
  }
  assert.equal((await handleOps(open, 'POST', '/_amiforge/clock/advance/'))?.status, 404);
  assert.equal((await handleOps(open, 'GET', '/_amiforge/clock/advance/5'))?.status, 404);
});
