// The console view copy-schedules: a session sees the copy schedules acting as its own account,
// with their last run, and nothing of another account's; an IAM-style user needs
// ec2:DescribeImages, as the schedules copy the account's images.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount, type TestUser } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { registerEbs } from '../support/sdk.ts';
import { consoleFetch, consoleSignIn, type ConsoleSession } from '../support/console.ts';

const IMAGE_READER: TestUser = {
  name: 'image-reader', accessKeyId: 'AKIAIMAGEREADER00001', secretAccessKey: 'image-reader-secret-0000000000000000000',
  policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeImages', Resource: '*' }] }],
};
const KMS_ONLY: TestUser = {
  name: 'kms-only', accessKeyId: 'AKIAKMSONLY000000001', secretAccessKey: 'kms-only-secret-00000000000000000000000',
  policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] }],
};
const ALICE_WITH_USERS: TestAccount = { ...ALICE, users: [IMAGE_READER, KMS_ONLY] };

interface Status { name: string; account: string; lastRun?: { outcome: string; sourceImageId?: string; regions: { region: string; imageId?: string }[] } }

describe('console view copy-schedules', () => {
  let server: RunningServer;
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-console-schedules-'));
  let golden: string;

  before(async () => {
    const file = join(dir, 'copy-schedules.json');
    const schedule = { sourceRegion: 'us-east-1', image: { owners: ['self'], filters: [{ Name: 'name', Values: ['golden-*'] }] }, destinationRegions: ['eu-west-1'], every: '24h', keep: 1 };
    writeFileSync(file, JSON.stringify({ schedules: [{ name: 'alice-dr', account: ALICE.id, ...schedule }, { name: 'bob-dr', account: BOB.id, ...schedule }] }));
    server = await startServer({ accounts: [ALICE_WITH_USERS, BOB], extraArgs: ['--copy-schedules', file] });
    golden = await registerEbs(ec2Client(server.endpoint, credentialsOf(ALICE)), 'golden-1');
    // The operator runs alice's schedule once, so it has a last run to show.
    assert.equal((await server.ops(`/_amiforge/copy-schedules/alice-dr/run`, { method: 'POST' })).status, 202);
    for (let i = 0; i < 300; i++) {
      const { schedules } = await (await server.ops(`/_amiforge/copy-schedules`)).json() as { schedules: (Status & { running: boolean })[] };
      if (schedules.find((s) => s.name === 'alice-dr')?.lastRun?.outcome && !schedules.find((s) => s.name === 'alice-dr')!.running) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function session(keys: { accessKeyId: string; secretAccessKey: string }): Promise<ConsoleSession> {
    const { session: s } = await consoleSignIn(server.endpoint, { accessKeyId: keys.accessKeyId, secretAccessKey: keys.secretAccessKey });
    assert.ok(s);
    return s;
  }
  const schedulesOf = async (s: ConsoleSession) => consoleFetch(server.endpoint, s, 'GET', '/console/data/copy-schedules');

  test("an account's session sees its own schedules with their last run, none of another account's", async () => {
    const alice = await schedulesOf(await session(ALICE));
    assert.equal(alice.status, 200, JSON.stringify(alice.body));
    const schedules = alice.body.schedules as Status[];
    assert.deepEqual(schedules.map((s) => [s.name, s.account]), [['alice-dr', ALICE.id]]);
    assert.equal(schedules[0].lastRun?.outcome, 'copied');
    assert.equal(schedules[0].lastRun?.sourceImageId, golden);
    assert.match(schedules[0].lastRun?.regions[0].imageId ?? '', /^ami-/);

    const bob = await schedulesOf(await session(BOB));
    assert.equal(bob.status, 200);
    assert.deepEqual((bob.body.schedules as Status[]).map((s) => [s.name, s.lastRun]), [['bob-dr', undefined]]);
    assert.doesNotMatch(JSON.stringify(bob.body), /alice|111111111111/);
  });

  test('an IAM-style user needs ec2:DescribeImages', async () => {
    const reader = await schedulesOf(await session(IMAGE_READER));
    assert.equal(reader.status, 200);
    assert.deepEqual((reader.body.schedules as Status[]).map((s) => s.name), ['alice-dr']);
    const refused = await schedulesOf(await session(KMS_ONLY));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'UnauthorizedOperation');
  });
});
