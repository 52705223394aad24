// `amiforge serve --copy-schedules FILE` checks the file at start-up and refuses to start with a
// message naming the schedule and field; the ops endpoints and `amiforge copy-schedules` answer
// clearly for schedules that do not exist. (The schedule's runs: test/fault/disaster-recovery.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ALICE, OPERATOR_ENV, startServer, type RunningServer } from '../support/server.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'amiforge-copy-schedules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const schedule = { name: 'nightly', account: ALICE.id, sourceRegion: 'us-east-1', destinationRegions: ['us-west-2'], image: { imageId: 'ami-0123456789abcdef0' }, cron: '0 2 * * *', keep: 3 };
function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function refused(args: string[], accounts = false): Promise<string> {
  const err = await startServer({ extraArgs: args, accounts: accounts ? [ALICE] : undefined }).then(
    async (s) => { await s.stop(); return undefined; },
    (e: Error) => e,
  );
  assert.ok(err, 'the server should refuse to start');
  assert.match(err.message, /exited with 2 before listening/);
  return err.message;
}

describe('the schedules file is checked at start-up', () => {
  test('a missing file, bad JSON and each bad field are refused with the schedule and field named', async () => {
    assert.match(await refused(['--copy-schedules', join(dir, 'nope.json')]), /--copy-schedules .*nope\.json: cannot read it/);
    assert.match(await refused(['--copy-schedules', file('bad.json', '{"schedules": [')]), /not valid JSON/);
    assert.match(await refused(['--copy-schedules', file('keep.json', { schedules: [{ ...schedule, keep: 0 }] })]),
      /schedule "nightly": keep: required, a whole number from 1 to 1000/);
    assert.match(await refused(['--copy-schedules', file('cron.json', { schedules: [{ ...schedule, cron: '0 25 * * *' }] })]),
      /schedule "nightly": cron: "0 25 \* \* \*" is not a cron expression/);
  });

  test('in strict mode the schedule\'s account must be one of the accounts file\'s', async () => {
    assert.match(await refused(['--copy-schedules', file('acct.json', { schedules: [{ ...schedule, account: '999999999999' }] })], true),
      /schedule "nightly": account: 999999999999 is not in the accounts file/);
  });
});

describe('ops endpoints and the CLI', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer({ accounts: [ALICE], extraArgs: ['--copy-schedules', file('ok.json', { schedules: [schedule] })] });
  });
  after(async () => server?.stop());

  test('GET /_amiforge/copy-schedules lists the schedule with its next run', async () => {
    const res = await server.ops(`/_amiforge/copy-schedules`);
    assert.equal(res.status, 200);
    const [s] = ((await res.json()) as { schedules: any[] }).schedules;
    assert.equal(s.name, 'nightly');
    assert.equal(s.cron, '0 2 * * *');
    assert.equal(s.running, false);
    assert.match(s.nextRunAt, /T02:00:00\.000Z$/);
    assert.equal(s.lastRun, undefined);
  });

  test('running an unknown schedule is a 404 naming the configured ones; the CLI says so', async () => {
    const res = await server.ops(`/_amiforge/copy-schedules/weekly/run`, { method: 'POST' });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: string }).error, /No copy schedule named "weekly" \(configured: nightly\)/);
    await assert.rejects(run(join(ROOT, 'bin/amiforge'), ['copy-schedules', 'run', 'weekly', '--endpoint-url', server.endpoint], { env: OPERATOR_ENV }),
      (err: { code: number; stderr: string }) => err.code === 2 && /No copy schedule named "weekly"/.test(err.stderr));
  });

  test('a run whose source image does not exist fails, and the CLI exits 1 with the reason', async () => {
    const err = await run(join(ROOT, 'bin/amiforge'), ['copy-schedules', 'run', 'nightly', '--endpoint-url', server.endpoint], { env: OPERATOR_ENV }).then(() => undefined, (e) => e);
    assert.equal(err?.code, 1);
    assert.match(err.stdout, /nightly: failed \(manual run.*source image in us-east-1: The image id '\[ami-0123456789abcdef0\]' does not exist/);
    const { stdout } = await run(join(ROOT, 'bin/amiforge'), ['copy-schedules', 'list', '--endpoint-url', server.endpoint], { env: OPERATOR_ENV });
    assert.match(stdout, /nightly: 111111111111 us-east-1 -> us-west-2, keep 3, cron "0 2 \* \* \*"/);
    assert.match(stdout, /last run: failed/);
  });
});
