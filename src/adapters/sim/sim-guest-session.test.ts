// The simulator's session reads scripts line by line: echo prints, exit N and false end the script,
// sleep waits (and times out), everything else succeeds silently; reboots succeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simGuestAccess, SimGuestSession } from './sim-guest-session.ts';

const opts = { timeoutMs: 10_000 };

test('echo prints, other lines succeed silently, the script ends with status 0', async () => {
  const s = new SimGuestSession();
  assert.deepEqual(await s.run('apt-get install -y nginx\necho hello world\n  echo "quoted"\necho\ncp a b', opts), { exitCode: 0, stdout: 'hello world\nquoted\n\n', stderr: '' });
  assert.deepEqual(s.scripts, ['apt-get install -y nginx\necho hello world\n  echo "quoted"\necho\ncp a b']);
});

test('exit N and false end the script with their status; nothing after them counts', async () => {
  const s = new SimGuestSession();
  assert.deepEqual(await s.run('echo before\nexit 3\necho after', opts), { exitCode: 3, stdout: 'before\n', stderr: '' });
  assert.equal((await s.run('false\necho after', opts)).exitCode, 1);
  assert.equal((await s.run('exit', opts)).exitCode, 0);
  assert.equal((await s.run('if true; then exit 194; fi', opts)).exitCode, 0, 'only a line that is exactly `exit N` counts');
});

test('sleep waits, and a sleep past the timeout answers 124 with timedOut', async () => {
  const s = new SimGuestSession();
  assert.equal((await s.run('sleep 0.05\necho done', opts)).stdout, 'done\n');
  assert.deepEqual(await s.run('echo start\nsleep 5', { timeoutMs: 50 }), { exitCode: 124, stdout: 'start\n', stderr: 'timed out after 50 ms\n', timedOut: true });
});

test('an abort stops a sleep; reboots succeed; access opens at once', async () => {
  const controller = new AbortController();
  const s = (await simGuestAccess().open({ account: '111111111111', region: 'us-east-1', instanceId: 'i-0123' }, { timeoutMs: 1000 })) as SimGuestSession;
  assert.equal(s.description, 'simulator i-0123');
  const run = s.run('sleep 30', { timeoutMs: 60_000, signal: controller.signal });
  controller.abort();
  await assert.rejects(run, { name: 'AbortError' });
  await s.reboot({ timeoutMs: 1000 });
  assert.equal(s.reboots, 1);
  await s.close();
});
