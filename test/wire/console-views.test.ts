// The console's views (src/api/console/views) on a real server: resources are made through the
// AWS SDK, as users make them, and the views are called in process on the same App (the console's
// session routes call them the same way). Two accounts and an IAM-style user check that a view
// shows exactly what the API would show; seeded images check paging and sorting; the storage
// view is compared with the storage report.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import {
  CopyImageCommand, CreateImageCommand, CreateTagsCommand, DeregisterImageCommand, DescribeImagesCommand, ModifyImageAttributeCommand, RegisterImageCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateRuleCommand, RbinClient } from '@aws-sdk/client-rbin';
import { consoleViews, type ConsoleContext } from '../../src/api/console/views/index.ts';
import { parseServeOptions } from '../../src/config/config.ts';
import type { Caller } from '../../src/domain/context.ts';
import type { ImageTablePage } from '../../src/domain/console/image-table.ts';
import type { LineageGraph } from '../../src/domain/console/lineage.ts';
import type { AccountStorage, CleanUpPreview } from '../../src/domain/console/account-storage.ts';
import { parseIdentityPolicy } from '../../src/identity/policy/document.ts';
import { userArn } from '../../src/identity/principal.ts';
import { createApp, type App } from '../../src/server/app.ts';
import { createHttpServer } from '../../src/server/http-server.ts';
import { createLogger } from '../../src/server/logger.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { consoleFetch, consoleSignIn } from '../support/console.ts';
import { seedImages } from '../support/image-seed.ts';
import { CATALOGUE_AMI, runOne, waitImage, waitRunning } from '../support/instances.ts';
import { createSnapshot, registerEbs } from '../support/sdk.ts';

const ALICE = '111111111111';
const BOB = '222222222222';
const CAROL = '333333333333';
const DAVE = '444444444444';
const REGION = 'us-east-1';
const WEST = 'us-west-2';

let dir: string;
let endpoint: string;
let app: App;
let server: Server;
let alice: EC2Client;
let aliceWest: EC2Client;
let bob: EC2Client;

const ctxOf = (account: string, region = REGION): ConsoleContext => ({ requestId: 'test', caller: { account, region }, principal: { account } });

async function view<T>(name: string, ctx: ConsoleContext, query: Record<string, string> = {}, body?: unknown): Promise<T> {
  return await consoleViews[name]!.handle(app, ctx, new URLSearchParams(query), body) as T;
}

const ids = (page: ImageTablePage) => page.items.map((i) => i.imageId);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amiforge-console-views-'));
  app = await createApp(parseServeOptions({ dataDir: dir, port: 0, simBootMs: 20, logLevel: 'silent' }), createLogger('silent'));
  server = createHttpServer(app, createLogger('silent'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  alice = ec2Client(endpoint, devCredentials(ALICE));
  aliceWest = ec2Client(endpoint, devCredentials(ALICE), WEST);
  bob = ec2Client(endpoint, devCredentials(BOB));
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('images', () => {
  let own: string;
  let shared: string;
  let publicImage: string;
  before(async () => {
    own = await registerEbs(alice, 'console-private');
    shared = await registerEbs(alice, 'console-shared');
    publicImage = await registerEbs(alice, 'console-public');
    await alice.send(new ModifyImageAttributeCommand({ ImageId: shared, LaunchPermission: { Add: [{ UserId: BOB }] } }));
    await alice.send(new ModifyImageAttributeCommand({ ImageId: publicImage, LaunchPermission: { Add: [{ Group: 'all' }] } }));
    await alice.send(new CreateTagsCommand({ Resources: [own], Tags: [{ Key: 'team', Value: '<b>web</b>' }] }));
  });

  test('each account sees its own, what is shared with it and what is public; nothing else', async () => {
    const a = ctxOf(ALICE);
    const b = ctxOf(BOB);
    assert.deepEqual(new Set(ids(await view('images', a, { view: 'owned' }))), new Set([own, shared, publicImage]));
    assert.deepEqual(ids(await view('images', a, { view: 'private', sort: 'name' })), [own, shared]);
    assert.deepEqual(ids(await view('images', b, { view: 'owned' })), []);
    assert.deepEqual(ids(await view('images', b, { view: 'shared' })), [shared]);
    assert.deepEqual(ids(await view('images', b, { view: 'public', owner: ALICE })), [publicImage]);
    assert.deepEqual(ids(await view('images', b, { view: 'public', imageId: own })), []);
    // The same as DescribeImages for the same account: every image Bob's views list, he can describe.
    const described = (await bob.send(new DescribeImagesCommand({ Owners: [ALICE] }))).Images!.map((i) => i.ImageId).sort();
    assert.deepEqual(described, [shared, publicImage].sort());
  });

  test('rows carry the reader\'s own tags, state, public flag and owner; filters by tag and name', async () => {
    const page = await view<ImageTablePage>('images', ctxOf(ALICE), { view: 'owned', tag: 'team=<b>web</b>' });
    assert.deepEqual(ids(page), [own]);
    assert.deepEqual(page.items[0]!.tags, [{ Key: 'team', Value: '<b>web</b>' }]);
    assert.equal(page.items[0]!.state, 'available');
    assert.equal(page.items[0]!.public, false);
    assert.equal(page.items[0]!.ownerId, ALICE);
    assert.deepEqual(ids(await view('images', ctxOf(ALICE), { view: 'owned', tag: 'team' })), [own]);
    assert.deepEqual(ids(await view('images', ctxOf(ALICE), { view: 'owned', name: 'shared' })), [shared]);
    assert.deepEqual(new Set(ids(await view('images', ctxOf(ALICE), { view: 'owned', name: 'console-p*' }))), new Set([own, publicImage]));
  });

  test('through the session layer: GET /console/data/images as the signed-in account, errors as JSON, POST only with the CSRF token', async () => {
    const { session } = await consoleSignIn(endpoint, { account: ALICE });
    const page = await consoleFetch(endpoint, session, 'GET', '/console/data/images?view=private&sort=name');
    assert.equal(page.status, 200);
    assert.deepEqual(page.body.items.map((i: { imageId: string }) => i.imageId), [own, shared]);
    const bad = await consoleFetch(endpoint, session, 'GET', '/console/data/images?sort=size');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'InvalidParameterValue');
    const noToken = await consoleFetch(endpoint, session, 'POST', '/console/data/cleanup', JSON.stringify({ snapshotIds: [] }), { csrf: null, headers: { 'content-type': 'application/json' } });
    assert.equal(noToken.status, 403);
    const { session: bobs } = await consoleSignIn(endpoint, { account: BOB });
    const lineage = await consoleFetch(endpoint, bobs, 'GET', `/console/data/lineage?imageId=${own}`);
    assert.equal(lineage.body.error.code, 'InvalidAMIID.NotFound');
  });

  test('an IAM user whose policy denies DescribeImages is refused, as the API refuses it', async () => {
    const principal = {
      account: ALICE,
      user: {
        name: 'viewer', arn: userArn(ALICE, 'viewer'),
        policies: [parseIdentityPolicy({ Version: '2012-10-17', Statement: [
          { Effect: 'Allow', Action: 'ec2:*', Resource: '*' }, { Effect: 'Deny', Action: 'ec2:DescribeImages', Resource: '*' },
        ] }, 'test')],
      },
    };
    const caller: Caller = { account: ALICE, region: REGION };
    const ctx: ConsoleContext = { requestId: 'test', caller, principal, authorize: app.authorizer.forRequest(principal, caller) };
    await assert.rejects(view('images', ctx, { view: 'owned' }), (err: { code?: string }) => err.code === 'UnauthorizedOperation');
    await assert.rejects(view('lineage', ctx, { imageId: own }), (err: { code?: string }) => err.code === 'UnauthorizedOperation');
  });

  test('bad parameters are InvalidParameterValue; a cursor from another sort is refused', async () => {
    await assert.rejects(view('images', ctxOf(ALICE), { view: 'mine' }), (err: { code?: string }) => err.code === 'InvalidParameterValue');
    await assert.rejects(view('images', ctxOf(ALICE), { pageSize: '201' }), (err: { code?: string }) => err.code === 'InvalidParameterValue');
    const first = await view<ImageTablePage>('images', ctxOf(ALICE), { view: 'owned', pageSize: '1', sort: 'name' });
    assert.ok(first.nextCursor);
    await assert.rejects(view('images', ctxOf(ALICE), { view: 'owned', sort: 'imageId', cursor: first.nextCursor! }),
      (err: { code?: string }) => err.code === 'InvalidPaginationToken');
  });
});

test('the Recycle Bin view lists the account\'s binned images with their expiry and kept tags', async () => {
  const dave = ec2Client(endpoint, devCredentials(DAVE));
  const rbin = new RbinClient({ endpoint, region: REGION, credentials: devCredentials(DAVE), maxAttempts: 1 });
  await rbin.send(new CreateRuleCommand({ ResourceType: 'EC2_IMAGE', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' } }));
  const image = await registerEbs(dave, 'console-binned');
  await dave.send(new CreateTagsCommand({ Resources: [image], Tags: [{ Key: 'stage', Value: 'old' }] }));
  await dave.send(new DeregisterImageCommand({ ImageId: image }));
  const bin = await view<ImageTablePage>('images', ctxOf(DAVE), { view: 'recycle-bin' });
  assert.deepEqual(ids(bin), [image]);
  assert.deepEqual(bin.items[0]!.tags, [{ Key: 'stage', Value: 'old' }]);
  assert.ok(bin.items[0]!.recycleBinExpires! > new Date().toISOString());
  assert.deepEqual(ids(await view('images', ctxOf(DAVE), { view: 'owned' })), []);
  assert.deepEqual(ids(await view('images', ctxOf(ALICE), { view: 'recycle-bin' })), []);
});

describe('paging and sorting', () => {
  const COUNT = 150;
  let all: { id: string; name: string; created: string; arch: string }[];
  before(async () => {
    await seedImages(app.store, { region: REGION, owner: CAROL, count: COUNT, prefix: 'c' });
    const described = (await ec2Client(endpoint, devCredentials(CAROL)).send(new DescribeImagesCommand({ Owners: ['self'] }))).Images!;
    all = described.map((i) => ({ id: i.ImageId!, name: i.Name!, created: i.CreationDate!, arch: i.Architecture ?? '' }));
    assert.equal(all.length, COUNT);
  });

  async function walk(query: Record<string, string>): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page: ImageTablePage = await view('images', ctxOf(CAROL), { view: 'owned', pageSize: '7', ...query, ...(cursor ? { cursor } : {}) });
      assert.equal(page.total, COUNT);
      out.push(...ids(page));
      if (!page.nextCursor) return out;
      cursor = page.nextCursor;
    }
  }

  const byKey = (key: (r: typeof all[number]) => string, desc: boolean) => [...all].sort((a, b) => {
    const c = key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return desc ? -c : c;
  }).map((r) => r.id);

  test('every page in order, no image twice or missed, for each sort and order', async () => {
    assert.deepEqual(await walk({ sort: 'name', order: 'asc' }), byKey((r) => r.name, false));
    assert.deepEqual(await walk({ sort: 'creationDate', order: 'desc' }), byKey((r) => new Date(r.created).toISOString(), true));
    // Architecture has three values: the id breaks the ties, across page boundaries.
    assert.deepEqual(await walk({ sort: 'architecture', order: 'desc' }), byKey((r) => r.arch, true));
    assert.deepEqual(await walk({ sort: 'imageId', order: 'asc' }), byKey((r) => r.id, false));
  });

  test('filters narrow the pages and the count', async () => {
    const arm = await view<ImageTablePage>('images', ctxOf(CAROL), { view: 'owned', architecture: 'arm64', pageSize: '200' });
    assert.deepEqual(new Set(ids(arm)), new Set(all.filter((r) => r.arch === 'arm64').map((r) => r.id)));
    assert.equal(arm.total, arm.items.length);
    const windows = await view<ImageTablePage>('images', ctxOf(CAROL), { view: 'owned', platform: 'windows', pageSize: '200' });
    assert.ok(windows.items.length > 0 && windows.items.every((i) => i.platform === 'Windows'));
    const linux = await view<ImageTablePage>('images', ctxOf(CAROL), { view: 'owned', platform: 'linux', pageSize: '200' });
    assert.equal(windows.total + linux.total, COUNT);
  });
});

describe('lineage', () => {
  let made: string;
  let instanceId: string;
  let copy: string;
  before(async () => {
    const instance = await runOne(alice, { ImageId: CATALOGUE_AMI });
    instanceId = instance.InstanceId!;
    await waitRunning(alice, [instanceId]);
    made = (await alice.send(new CreateImageCommand({ InstanceId: instanceId, Name: 'console-made', NoReboot: true }))).ImageId!;
    await waitImage(alice, made);
    copy = (await aliceWest.send(new CopyImageCommand({ SourceImageId: made, SourceRegion: REGION, Name: 'console-made-west' }))).ImageId!;
    await waitImage(aliceWest, copy);
  });

  test('the owner sees the source image, the instance, the image made from it and its copy in another region', async () => {
    const g = await view<LineageGraph>('lineage', ctxOf(ALICE), { imageId: made });
    const node = (id: string) => g.nodes.find((n) => n.id === id);
    assert.equal(node(CATALOGUE_AMI)?.visible, true);
    assert.equal(node(instanceId)?.kind, 'instance');
    assert.equal(node(copy)?.region, WEST);
    const edges = g.edges.map((e) => `${e.from} ${e.kind} ${e.to}`);
    for (const e of [`${CATALOGUE_AMI} launched ${instanceId}`, `${instanceId} created-from ${made}`, `${made} copied-to ${copy}`]) assert.ok(edges.includes(e), `${e} in ${edges.join('; ')}`);
    // From the copy the walk goes back through the same chain.
    const fromCopy = await view<LineageGraph>('lineage', ctxOf(ALICE, WEST), { imageId: copy });
    assert.ok(fromCopy.edges.some((e) => e.from === made && e.to === copy && e.kind === 'copied-to'));
    assert.ok(fromCopy.nodes.some((n) => n.id === instanceId));
  });

  test('another account sees the image shared with it; the owner\'s instance only as a node without details; not the owner\'s copy', async () => {
    await assert.rejects(view('lineage', ctxOf(BOB), { imageId: made }), (err: { code?: string }) => err.code === 'InvalidAMIID.NotFound');
    await alice.send(new ModifyImageAttributeCommand({ ImageId: made, LaunchPermission: { Add: [{ UserId: BOB }] } }));
    const g = await view<LineageGraph>('lineage', ctxOf(BOB), { imageId: made });
    const instance = g.nodes.find((n) => n.id === instanceId);
    assert.equal(instance?.visible, false);
    assert.equal(instance?.account, undefined);
    assert.equal(instance?.state, undefined);
    assert.equal(g.nodes.some((n) => n.id === copy), false);
    assert.equal(g.nodes.find((n) => n.id === CATALOGUE_AMI)?.visible, true, 'the public source stays visible');
  });
});

describe('storage', () => {
  let left: string;
  before(async () => {
    left = await createSnapshot(alice, 1);
    const image = (await alice.send(new RegisterImageCommand({
      Name: 'console-left', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: left } }],
    }))).ImageId!;
    await alice.send(new DeregisterImageCommand({ ImageId: image }));
  });

  test('the account\'s figures are the storage report\'s, for its snapshots only', async () => {
    const mine = await view<AccountStorage>('storage', ctxOf(ALICE));
    const [report] = await app.maintenance.usage({ regions: [REGION] });
    const row = report!.accounts.find((a) => a.ownerId === ALICE)!;
    assert.deepEqual(mine.regions[0]!.account, row);
    assert.deepEqual(mine.regions[0]!.snapshots, report!.snapshots.filter((s) => s.ownerId === ALICE));
    assert.equal(mine.totals.billedBytes, row.storedBytes);
    assert.equal(mine.totals.monthlyCost, row.monthlyCost);
    assert.ok(mine.regions[0]!.snapshots.find((s) => s.snapshotId === left)?.leftBehindBy?.length);
    const theirs = await view<AccountStorage>('storage', ctxOf(BOB));
    assert.equal(theirs.regions.flatMap((r) => r.snapshots).some((s) => s.ownerId !== BOB), false);
  });

  test('clean-up: the preview lists the left-behind snapshot; another account cannot delete it; the owner can', async () => {
    const preview = await view<CleanUpPreview>('cleanup-preview', ctxOf(ALICE));
    assert.deepEqual(preview.deletable.map((d) => d.snapshotId), [left]);
    const bobTry = await view<{ results: { result: string }[] }>('cleanup', ctxOf(BOB), {}, { snapshotIds: [left] });
    assert.equal(bobTry.results[0]!.result, 'skipped');
    const done = await view<{ results: { snapshotId: string; result: string }[]; reclaimedBytes: number }>('cleanup', ctxOf(ALICE), {}, { snapshotIds: [left] });
    assert.deepEqual(done.results, [{ snapshotId: left, result: 'deleted' }]);
    assert.equal(done.reclaimedBytes, preview.reclaimableBytes);
    assert.deepEqual((await view<CleanUpPreview>('cleanup-preview', ctxOf(ALICE))).deletable, []);
  });
});
