// --console-session-hours: how long a web console sign-in lasts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseServeOptions } from './config.ts';

const parse = (o: Record<string, unknown>) => parseServeOptions({ dataDir: '/nonexistent-amiforge-dir', nodeId: 'n', ...o }, {});

test('console sessions last 12 hours unless --console-session-hours says otherwise', () => {
  assert.equal(parse({}).consoleSessionMs, 12 * 3_600_000);
  assert.equal(parse({ consoleSessionHours: '0.5' }).consoleSessionMs, 1_800_000);
  assert.equal(parse({ consoleSessionHours: 720 }).consoleSessionMs, 720 * 3_600_000);
  for (const bad of ['0', '-1', 'soon', '721']) {
    assert.throws(() => parse({ consoleSessionHours: bad }), (e: Error) => e instanceof ConfigError && /--console-session-hours/.test(e.message), bad);
  }
});
