// The operator endpoints in strict mode (docs/operators.md): every route of the table the server
// serves them from (src/server/ops-routes.ts), except health and version, refuses a request
// without credentials, with a wrong token or a wrong signature (401), and an ordinary account's
// signed request (403), and does nothing for them; the operator's token and the operator's
// signed request get through. And what GET /metrics reports after a few SDK calls.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateKeyPairCommand, DescribeImagesCommand, DescribeKeyPairsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { SignatureV4 } from '@smithy/signature-v4';
import { OPS_ROUTES } from '../../src/server/ops-routes.ts';
import { LATENCY_BUCKETS_SECONDS } from '../../src/server/metrics.ts';
import { credentialsOf, ec2Client, type Credentials } from '../support/clients.ts';
import { CATALOGUE_AMI, runOne, waitRunning } from '../support/instances.ts';
import { NodeSha256 } from '../support/sdk.ts';
import { ALICE, OPERATOR, OPERATOR_ENV, startServer, type RunningServer } from '../support/server.ts';
import { wireStores } from '../support/wire-stores.ts';

const CLI = join(new URL('../../', import.meta.url).pathname, 'bin/amiforge');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'amiforge-operator-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A user of ALICE's account marked operator: its signed requests get through too. */
const OPS_USER = { name: 'prometheus', accessKeyId: 'AKIAALICEOPSUSER0001', secretAccessKey: 'alice-ops-user-secret-000000000000000', policies: [], operator: true };
const SCHEDULE = { name: 'nightly', account: ALICE.id, sourceRegion: 'us-east-1', destinationRegions: ['us-west-2'], image: { imageId: CATALOGUE_AMI }, cron: '0 2 1 1 *', keep: 1 };
const LIFECYCLE_ARN = `arn:aws:imagebuilder:us-east-1:${ALICE.id}:lifecycle-policy/none`;

/** A concrete path for each route: its capital-letter parts filled in. */
const pathOf = (template: string) => template
  .replace('/NAME/', `/${SCHEDULE.name}/`).replace('/ARN/', `/${encodeURIComponent(LIFECYCLE_ARN)}/`).replace(/\/SECONDS$/, '/0');
const operatorRoutes = OPS_ROUTES.filter((r) => !r.open);

let server: RunningServer;

async function signed(method: string, path: string, credentials: Credentials): Promise<Response> {
  const url = new URL(path, server.endpoint);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'amiforge', sha256: NodeSha256 });
  const request = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host } });
  return fetch(url, { method, headers: request.headers as Record<string, string> });
}

const bearer = (method: string, path: string, token: string) => fetch(`${server.endpoint}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

/** The four ways of not being an operator, with the status each must get. */
const strangers: [string, number, (method: string, path: string) => Promise<Response>][] = [
  ['no credentials', 401, (method, path) => fetch(`${server.endpoint}${path}`, { method })],
  ['a wrong token', 401, (method, path) => bearer(method, path, 'not-the-operator-token-0000')],
  ['a wrong signature (the operator key, another secret)', 401, (method, path) => signed(method, path, { ...credentialsOf(OPERATOR), secretAccessKey: 'wrong-secret-0000000000000000000000000' })],
  ['an ordinary account\'s signed request', 403, (method, path) => signed(method, path, credentialsOf(ALICE))],
];

/** An orphaned block file older than GC's grace: the refused `POST /_amiforge/gc`s must leave it. */
function plantOldOrphan(): string {
  const hash = 'ab'.padEnd(64, '0');
  const folder = join(server.dataDir, 'blocks', 'us-east-1', 'ab');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, hash);
  writeFileSync(file, Buffer.alloc(16));
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(file, hourAgo, hourAgo);
  return file;
}

describe('operator endpoints in strict mode', () => {
  let ec2: EC2Client;
  before(async () => {
    const schedules = join(dir, 'schedules.json');
    writeFileSync(schedules, JSON.stringify({ schedules: [SCHEDULE] }));
    server = await startServer({ accounts: [{ ...ALICE, users: [OPS_USER] }], extraArgs: ['--copy-schedules', schedules, '--sim-boot-ms', '50'] });
    ec2 = ec2Client(server.endpoint, credentialsOf(ALICE));
  });
  after(async () => server?.stop());

  test('the table has the closed routes the issue names, and health and version are open', () => {
    const names = OPS_ROUTES.map((r) => `${r.method} ${r.template}${r.open ? ' (open)' : ''}`);
    for (const expected of ['GET /_amiforge/storage', 'GET /_amiforge/copy-schedules', 'POST /_amiforge/gc', 'POST /_amiforge/copy-schedules/NAME/run', 'GET /metrics',
      'POST /_amiforge/reset', 'POST /_amiforge/clock/advance/SECONDS', 'GET /_amiforge/health (open)', 'GET /_amiforge/version (open)']) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    }
    assert.equal(OPS_ROUTES.filter((r) => r.open).length, 2, 'only health and version are open');
  });

  test('GET /metrics after a few SDK calls: request counters, latency buckets, a running instance, bytes stored, KMS operations', async () => {
    for (let i = 0; i < 3; i++) await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
    const kms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
    const key = await kms.send(new CreateKeyCommand({}));
    await kms.send(new DescribeKeyCommand({ KeyId: key.KeyMetadata!.KeyId }));
    const instance = await runOne(ec2, { ImageId: CATALOGUE_AMI });
    await waitRunning(ec2, [instance.InstanceId!]);

    const res = await server.ops('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      assert.ok(line, `${series} in:\n${text.split('\n').filter((l) => l.startsWith(series.split('{')[0])).join('\n')}`);
      return Number(line.slice(series.length + 1));
    };
    assert.equal(value('amiforge_requests_total{service="ec2",action="DescribeImages",status="200"}'), 3);
    assert.equal(value('amiforge_requests_total{service="ec2",action="RunInstances",status="200"}'), 1);
    for (const le of [...LATENCY_BUCKETS_SECONDS.map(String), '+Inf']) {
      const bucket = value(`amiforge_request_duration_seconds_bucket{le="${le}",service="ec2",action="DescribeImages"}`);
      assert.ok(bucket >= 0 && bucket <= 3, `bucket ${le}: ${bucket}`);
    }
    assert.equal(value('amiforge_request_duration_seconds_bucket{le="+Inf",service="ec2",action="DescribeImages"}'), 3);
    assert.equal(value('amiforge_request_duration_seconds_count{service="ec2",action="DescribeImages"}'), 3);
    assert.equal(value('amiforge_instances{region="us-east-1",state="running"}'), 1);
    assert.equal(value('amiforge_kms_operations_total{operation="CreateKey",source="api"}'), 1);
    assert.equal(value('amiforge_kms_operations_total{operation="DescribeKey",source="api"}'), 1);
    assert.equal(value('amiforge_jobs{kind="snapshot-copy",state="running"}'), 0);
    // The storage report's own figures, through its endpoint.
    const report = await (await server.ops('/_amiforge/storage')).json() as { regions: { region: string; storedBytes: number; billedBytes: number }[] };
    const east = report.regions.find((r) => r.region === 'us-east-1')!;
    assert.ok(east.storedBytes > 0, 'the catalogue\'s snapshots are stored');
    assert.equal(value('amiforge_snapshot_stored_bytes{region="us-east-1"}'), east.storedBytes);
    assert.equal(value('amiforge_snapshot_billed_bytes{region="us-east-1"}'), east.billedBytes);
    kms.destroy();
  });

  test('every operator endpoint refuses strangers (401, 403) and does nothing for them', async () => {
    assert.ok(operatorRoutes.length >= 13, `${operatorRoutes.length} operator routes`);
    await ec2.send(new CreateKeyPairCommand({ KeyName: 'survives-refused-resets' }));
    const orphan = wireStores() === 'sqlite-fs' ? plantOldOrphan() : undefined;
    const paths = [...operatorRoutes.map((r) => [r.method, pathOf(r.template)] as const), ['GET', '/_amiforge/no-such-endpoint'] as const];
    for (const [method, path] of paths) {
      for (const [who, status, send] of strangers) {
        const res = await send(method, path);
        const body = await res.json() as { error?: { code?: string; message?: string } };
        assert.equal(res.status, status, `${method} ${path} with ${who}: ${JSON.stringify(body)}`);
        assert.deepEqual(Object.keys(body), ['error'], `${method} ${path} with ${who} reveals nothing but the refusal`);
        assert.match(body.error!.message!, status === 401 ? /operator/ : /is not an operator of this server/);
        if (status === 401) assert.match(res.headers.get('www-authenticate')!, /^Bearer /);
      }
    }
    // Nothing was done: no reset, no run, no collection, no clock move.
    const pairs = await ec2.send(new DescribeKeyPairsCommand({}));
    assert.deepEqual(pairs.KeyPairs?.map((k) => k.KeyName), ['survives-refused-resets']);
    const schedules = await (await server.ops('/_amiforge/copy-schedules')).json() as { schedules: { lastRun?: unknown }[] };
    assert.equal(schedules.schedules[0].lastRun, undefined, 'the schedule never ran');
    if (orphan) assert.ok(existsSync(orphan), 'the orphaned block is still there');
    const clock = await (await server.ops('/_amiforge/clock/advance/0', { method: 'POST' })).json() as { now: string };
    assert.ok(Math.abs(Date.parse(clock.now) - Date.now()) < 60_000, `the clock did not move: ${clock.now}`);
    // The operator's own garbage collection does remove it.
    if (orphan) {
      assert.equal((await server.ops('/_amiforge/gc', { method: 'POST' })).status, 200);
      assert.ok(!existsSync(orphan), 'collected by the operator\'s gc');
    }
  });

  test('the operator gets through every endpoint: with the token, and signing with an operator key (the account\'s or a user\'s)', async () => {
    const expected = (method: string, template: string) =>
      template.endsWith('/lifecycle-policies/ARN/run') || template.endsWith('/lifecycle-policies/ARN/preview') ? [404] // no such policy: it got through
        : template === '/_amiforge/copy-schedules/NAME/run' ? [202] : [200];
    // Reset last: it empties the store the other routes read.
    const ordered = [...operatorRoutes].sort((a, b) => Number(a.template === '/_amiforge/reset') - Number(b.template === '/_amiforge/reset'));
    const ways: [string, (method: string, path: string) => Promise<Response>][] = [
      ['the token', (method, path) => bearer(method, path, server.operatorToken)],
      ['the operator account\'s key', (method, path) => signed(method, path, credentialsOf(OPERATOR))],
      ['an operator user\'s key', (method, path) => signed(method, path, OPS_USER)],
    ];
    for (const [way, send] of ways) {
      for (const route of ordered) {
        const res = await send(route.method, pathOf(route.template));
        const body = await res.text();
        assert.ok(expected(route.method, route.template).includes(res.status), `${route.method} ${route.template} with ${way}: ${res.status} ${body.slice(0, 300)}`);
      }
    }
  });

  test('the CLI signs with the operator\'s keys from the environment; an ordinary account\'s keys get the 403 in words', async () => {
    const { stdout } = await run(CLI, ['copy-schedules', 'list', '--endpoint-url', server.endpoint], { env: OPERATOR_ENV });
    assert.match(stdout, /nightly: 111111111111 us-east-1 -> us-west-2/);
    const refused = await run(CLI, ['copy-schedules', 'list', '--endpoint-url', server.endpoint], {
      env: { ...OPERATOR_ENV, AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey },
    }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    assert.equal(refused?.code, 2);
    assert.match(refused!.stderr, /answered 403: arn:aws:iam::111111111111:root \(access key AKIAALICE00000000001\) is not an operator of this server/);
  });

  test('amiforge storage report beside the strict server reads its data directory, the figures /_amiforge/storage gives the operator', async () => {
    const { stdout } = await run(CLI, ['storage', 'report', '--json', '--data-dir', server.dataDir], { env: OPERATOR_ENV });
    const cli = (JSON.parse(stdout) as { regions: { region: string; storedBytes: number }[] }).regions.find((r) => r.region === 'us-east-1');
    const api = ((await (await server.ops('/_amiforge/storage')).json()) as { regions: { region: string; storedBytes: number }[] }).regions.find((r) => r.region === 'us-east-1');
    assert.ok(cli && cli.storedBytes > 0);
    assert.equal(cli.storedBytes, api?.storedBytes);
  });
});
