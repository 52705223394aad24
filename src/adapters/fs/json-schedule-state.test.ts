import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonScheduleStateStore } from './json-schedule-state.ts';

test('schedule state survives a reopen, and saves leave no temporary files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-schedule-state-'));
  try {
    const file = join(dir, 'copy-schedules-state.json');
    const first = new JsonScheduleStateStore(file);
    assert.deepEqual(await first.load(), new Map());
    await Promise.all([
      first.save('a', { firstSeenAt: '2026-01-01T00:00:00.000Z', runningSince: '2026-01-02T00:00:00.000Z' }),
      first.save('b', { firstSeenAt: '2026-01-03T00:00:00.000Z' }),
    ]);
    const again = await new JsonScheduleStateStore(file).load();
    assert.deepEqual(again.get('a'), { firstSeenAt: '2026-01-01T00:00:00.000Z', runningSince: '2026-01-02T00:00:00.000Z' });
    assert.deepEqual(again.get('b'), { firstSeenAt: '2026-01-03T00:00:00.000Z' });
    assert.deepEqual(readdirSync(dir), ['copy-schedules-state.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
