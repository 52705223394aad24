// The web console's session layer with plain fetch: sign-in in both modes, the cookie's flags,
// CSRF, expiry, sign-out, and that a session can do exactly what its keys could through the API
// (the same per-account visibility, the same identity policies, the same errors).
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { CreateTagsCommand, DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount, type TestUser } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { expectAwsError, registerEbs } from '../support/sdk.ts';
import { consoleEc2, consoleFetch, consoleSignIn } from '../support/console.ts';

const READER: TestUser = {
  name: 'reader', accessKeyId: 'AKIAREADER0000000001', secretAccessKey: 'reader-secret-000000000000000000000000',
  policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] }],
};
const ALICE_WITH_READER: TestAccount = { ...ALICE, users: [READER] };

describe('console sessions in strict mode', () => {
  let server: RunningServer;
  let endpoint: string;
  let bobImage: string;
  before(async () => {
    server = await startServer({ accounts: [ALICE_WITH_READER, BOB], extraArgs: ['--console-session-hours', '2'] });
    endpoint = server.endpoint;
    bobImage = await registerEbs(ec2Client(endpoint, credentialsOf(BOB)), 'bob-private-image');
  });
  after(() => server.stop());

  test('signing in with keys sets an HttpOnly, SameSite=Strict cookie for /console and answers the session', async () => {
    const r = await consoleSignIn(endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey });
    assert.equal(r.status, 200);
    const s = r.session!;
    assert.match(s.setCookie, /^amiforge_console=[\w-]{40,};/);
    assert.match(s.setCookie, /; HttpOnly/);
    assert.match(s.setCookie, /; SameSite=Strict/);
    assert.match(s.setCookie, /; Path=\/console/);
    assert.doesNotMatch(s.setCookie, /Secure/, 'plain http: no Secure flag');
    assert.equal(s.body.account, ALICE.id);
    assert.equal(s.body.mode, 'strict');
    assert.equal(s.body.user, undefined);
    assert.ok(s.csrfToken.length >= 20);
    const current = await consoleFetch(endpoint, s, 'GET', '/console/session');
    assert.equal(current.status, 200);
    assert.deepEqual(current.body, s.body);
  });

  test('a wrong secret and an unknown key are refused alike, with no hint which part was wrong', async () => {
    const wrongSecret = await consoleSignIn(endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-the-secret' });
    const unknownKey = await consoleSignIn(endpoint, { accessKeyId: 'AKIANOBODY0000000000', secretAccessKey: ALICE.secretAccessKey });
    const empty = await consoleSignIn(endpoint, {});
    for (const r of [wrongSecret, unknownKey, empty]) {
      assert.equal(r.status, 401);
      assert.equal(r.headers.get('set-cookie'), null);
    }
    assert.deepEqual(wrongSecret.body, unknownKey.body);
    assert.deepEqual(wrongSecret.body, empty.body);
    assert.equal(wrongSecret.body.error.code, 'AuthFailure');
  });

  test('a form post cannot sign in: the body must be JSON', async () => {
    const res = await fetch(`${endpoint}/console/session`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey }).toString(),
    });
    assert.equal(res.status, 400);
  });

  test('requests without a session, or that change anything without its CSRF token, are refused', async () => {
    const { session } = await consoleSignIn(endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey });
    const none = await consoleEc2(endpoint, undefined as never, { Action: 'DescribeImages' });
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'SignInRequired');
    assert.equal(none.body.mode, 'strict');
    for (const csrf of [null, 'wrong-token', '']) {
      const r = await consoleEc2(endpoint, session!, { Action: 'DescribeImages', 'Owner.1': 'self' }, { csrf });
      assert.equal(r.status, 403, `csrf ${csrf}`);
      assert.equal(r.body.error.code, 'InvalidCsrfToken');
    }
    const stream = await consoleFetch(endpoint, undefined, 'GET', '/console/stream/serial?region=us-east-1', undefined, { region: '' });
    assert.equal(stream.status, 401, 'streams need a session too');
    assert.equal(stream.body.error.code, 'SignInRequired');
    const signOut = await consoleFetch(endpoint, session, 'DELETE', '/console/session', undefined, { csrf: null });
    assert.equal(signOut.status, 403, 'sign-out needs the token too');
    const ok = await consoleEc2(endpoint, session!, { Action: 'DescribeImages', 'Owner.1': 'self' });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.Images, []);
  });

  test('the region header is required and checked as the SigV4 region is', async () => {
    const { session } = await consoleSignIn(endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey });
    for (const region of ['', 'mars-north-1']) {
      const r = await consoleEc2(endpoint, session!, { Action: 'DescribeRegions' }, { region });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'InvalidRegion');
    }
    const r = await consoleEc2(endpoint, session!, { Action: 'DescribeAvailabilityZones' }, { region: 'eu-west-1' });
    assert.equal(r.status, 200);
    assert.ok(r.body.AvailabilityZones.every((z: { RegionName: string }) => z.RegionName === 'eu-west-1'));
  });

  test("alice's session cannot see bob's private image, as her keys cannot", async () => {
    const { session } = await consoleSignIn(endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey });
    const byId = await consoleEc2(endpoint, session!, { Action: 'DescribeImages', 'ImageId.1': bobImage });
    assert.equal(byId.status, 400);
    assert.equal(byId.body.error.code, 'InvalidAMIID.NotFound');
    const byOwner = await consoleEc2(endpoint, session!, { Action: 'DescribeImages', 'Owner.1': BOB.id });
    assert.equal(byOwner.status, 200);
    assert.deepEqual(byOwner.body.Images, []);
    const bob = (await consoleSignIn(endpoint, { accessKeyId: BOB.accessKeyId, secretAccessKey: BOB.secretAccessKey })).session!;
    const own = await consoleEc2(endpoint, bob, { Action: 'DescribeImages', 'Owner.1': 'self' });
    assert.deepEqual(own.body.Images.map((i: { ImageId: string }) => i.ImageId), [bobImage]);
    assert.equal(own.body.Images[0].Name, 'bob-private-image');
  });

  test("an IAM user's session is held to its policies, with the API's own errors", async () => {
    const r = await consoleSignIn(endpoint, { accessKeyId: READER.accessKeyId, secretAccessKey: READER.secretAccessKey });
    const session = r.session!;
    assert.equal(session.body.user, 'reader');
    assert.equal(session.body.account, ALICE.id);
    const read = await consoleEc2(endpoint, session, { Action: 'DescribeImages', 'Owner.1': 'self' });
    assert.equal(read.status, 200);
    const write = await consoleEc2(endpoint, session, { Action: 'CreateTags', 'ResourceId.1': 'ami-0123456789abcdef0', 'Tag.1.Key': 'k', 'Tag.1.Value': 'v' });
    assert.equal(write.status, 403);
    assert.equal(write.body.error.code, 'UnauthorizedOperation');
    // The same user through the API: the same refusal.
    await expectAwsError(ec2Client(endpoint, { accessKeyId: READER.accessKeyId, secretAccessKey: READER.secretAccessKey }).send(new CreateTagsCommand({ Resources: ['ami-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] })),
      { name: 'UnauthorizedOperation', status: 403 });
    const kms = await consoleFetch(endpoint, session, 'POST', '/console/api/kms', '{}',
      { headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' } });
    assert.equal(kms.status, 400);
    assert.equal(kms.body.error.code, 'AccessDeniedException');
  });

  test('a session expires after --console-session-hours, and sign-out revokes it', async () => {
    const a = (await consoleSignIn(endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey })).session!;
    const b = (await consoleSignIn(endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey })).session!;
    assert.equal(Date.parse(a.body.expiresAt) - Date.now() > 7100_000, true);
    const out = await consoleFetch(endpoint, b, 'DELETE', '/console/session');
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await consoleFetch(endpoint, b, 'GET', '/console/session')).status, 401);
    assert.equal((await consoleFetch(endpoint, a, 'GET', '/console/session')).status, 200, 'the other session lives on');
    const advanced = await server.ops(`/_amiforge/clock/advance/${2 * 3600 + 1}`, { method: 'POST' });
    assert.equal(advanced.status, 200);
    const expired = await consoleEc2(endpoint, a, { Action: 'DescribeImages', 'Owner.1': 'self' });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.code, 'SignInRequired');
  });

  test('a browser opening / is sent to /console/; signed and non-HTML requests to / are answered as before', async () => {
    const page = await fetch(`${endpoint}/`, { redirect: 'manual', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), '/console/');
    const unsigned = await fetch(`${endpoint}/`);
    assert.equal(unsigned.status, 401);
    assert.match(await unsigned.text(), /<Code>MissingAuthenticationToken<\/Code>/);
    const images = await ec2Client(endpoint, credentialsOf(BOB)).send(new DescribeImagesCommand({ Owners: ['self'] }));
    assert.deepEqual(images.Images?.map((i) => i.ImageId), [bobImage]);
    const html = await fetch(`${endpoint}/console/`);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(html.headers.get('cache-control'), 'no-cache');
    const script = /src="(\/console\/assets\/main-[\w]+\.js)"/.exec(await html.text())?.[1];
    assert.ok(script, 'index.html names the hashed entry script');
    const js = await fetch(`${endpoint}${script}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    assert.equal(js.headers.get('content-encoding'), 'gzip', 'fetch asks for gzip, as browsers do');
    assert.equal((await fetch(`${endpoint}/console/assets/nothing-here.js`)).status, 404);
  });

  test('console requests are logged with service console and the action', async () => {
    const { session } = await consoleSignIn(endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey });
    await consoleEc2(endpoint, session!, { Action: 'DescribeKeyPairs' });
    // The line is written after the answer is sent: wait until the server has printed it.
    let entry: Record<string, unknown> | undefined;
    while (!(entry = server.logs.find((l) => l.service === 'console' && l.action === 'DescribeKeyPairs'))) await new Promise((r) => setTimeout(r, 20));
    assert.ok(entry, 'logged');
    assert.equal(entry.account, ALICE.id);
    assert.equal(entry.region, 'us-east-1');
    assert.equal(entry.status, 200);
  });
});

describe('console sessions across a restart', () => {
  test('sessions outlive a restart; one whose access key was removed from the accounts file is refused', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-console-'));
    try {
      let server = await startServer({ dataDir, accounts: [ALICE_WITH_READER] });
      const alice = (await consoleSignIn(server.endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey })).session!;
      const reader = (await consoleSignIn(server.endpoint, { accessKeyId: READER.accessKeyId, secretAccessKey: READER.secretAccessKey })).session!;
      await server.stop();
      server = await startServer({ dataDir, accounts: [ALICE] });
      try {
        const kept = await consoleEc2(server.endpoint, alice, { Action: 'DescribeImages', 'Owner.1': 'self' });
        assert.equal(kept.status, 200, 'the session is in the store, not in the process');
        const removed = await consoleEc2(server.endpoint, reader, { Action: 'DescribeImages', 'Owner.1': 'self' });
        assert.equal(removed.status, 401);
        assert.equal(removed.body.error.code, 'SignInRequired');
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('console sessions in dev mode', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  test('signs in as any 12-digit account, the default one when none is given', async () => {
    const dflt = await consoleSignIn(server.endpoint, {});
    assert.equal(dflt.status, 200);
    assert.equal(dflt.body.account, '123456789012');
    assert.equal(dflt.body.mode, 'dev');
    const other = await consoleSignIn(server.endpoint, { account: '333333333333' });
    assert.equal(other.body.account, '333333333333');
    const none = await consoleFetch(server.endpoint, undefined, 'GET', '/console/session');
    assert.equal(none.status, 401);
    assert.equal(none.body.mode, 'dev');
    const bad = await consoleSignIn(server.endpoint, { account: '12345' });
    assert.equal(bad.status, 400);
    const regions = await consoleEc2(server.endpoint, other.session!, { Action: 'DescribeRegions' });
    assert.ok(regions.body.Regions.some((r: { RegionName: string }) => r.RegionName === 'us-east-1'));
  });
});
