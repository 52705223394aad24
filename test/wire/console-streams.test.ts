// The console's streams in process (createApp, no HTTP): the live serial console of a simulated
// guest, who may follow it, and the progress of a CopyImage and a CopySnapshot to their end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleStreamRoutes, consoleStreams, type StreamSink } from '../../src/api/console/streams/index.ts';
import type { ConsoleContext } from '../../src/api/console/views/index.ts';
import { parseServeOptions } from '../../src/config/config.ts';
import type { Caller } from '../../src/domain/context.ts';
import { ServiceError } from '../../src/domain/errors.ts';
import { parseIdentityPolicy } from '../../src/identity/policy/document.ts';
import { userArn, type Principal } from '../../src/identity/principal.ts';
import { createApp, type App } from '../../src/server/app.ts';
import { createLogger } from '../../src/server/logger.ts';

const ME: Caller = { account: '111111111111', region: 'us-east-1' };
const OTHER: Caller = { account: '222222222222', region: 'us-east-1' };
const CATALOGUE_IMAGE = 'ami-0dd4dbe59a8675ce3';

let dir: string;
let app: App;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amiforge-console-streams-'));
  app = await createApp(parseServeOptions({ dataDir: dir, port: 0, simBootMs: 20, logLevel: 'silent' }), createLogger('silent'));
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Collected extends StreamSink {
  events: { event: string; data: any }[];
  close(): void;
  /** Resolves once `check` holds for the events so far (bounded, so a broken stream fails the test rather than hanging it). */
  until(check: (events: Collected['events']) => boolean, what: string): Promise<void>;
}

function collectingSink(): Collected {
  const closers: (() => void)[] = [];
  const sink: Collected = {
    events: [],
    send: (event, data) => void sink.events.push({ event, data: JSON.parse(JSON.stringify(data)) }),
    onClose: (cb) => void closers.push(cb),
    close: () => closers.splice(0).forEach((cb) => cb()),
    async until(check, what) {
      for (let i = 0; i < 3000 && !check(sink.events); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(check(sink.events), `${what}; events: ${JSON.stringify(sink.events).slice(0, 2000)}`);
    },
  };
  return sink;
}

const rootContext = (caller: Caller): ConsoleContext => ({ requestId: 'test', caller, principal: { account: caller.account } });

function userContext(caller: Caller, statement: Record<string, unknown>): ConsoleContext {
  const principal: Principal = {
    account: caller.account,
    user: { name: 'viewer', arn: userArn(caller.account, 'viewer'), policies: [parseIdentityPolicy({ Version: '2012-10-17', Statement: [statement] }, 'inline policy 1')] },
  };
  return { requestId: 'test', caller, principal, authorize: app.authorizer.forRequest(principal, caller) };
}

const outputOf = (events: Collected['events']) => events.filter((e) => e.event === 'output').map((e) => e.data.text as string).join('');
const statesOf = (events: Collected['events']) => events.filter((e) => e.event === 'state').map((e) => e.data.state as string);

async function launch(userData: string): Promise<string> {
  const r = await app.ec2.launcher.run(ME, {
    ImageId: CATALOGUE_IMAGE, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', UserData: Buffer.from(userData).toString('base64'),
  });
  return r.Instances![0].InstanceId!;
}

test('the console streams the boot lines in order as they are written, then later lines, and ends at termination', async () => {
  const id = await launch('#!amiforge-sim\necho first line of user data\nsleep 200\necho second line of user data\n');
  // One node runs everything here: the stream is served where it was asked for.
  assert.deepEqual(await consoleStreamRoutes.console(app, rootContext(ME), new URLSearchParams({ instanceId: id })), { kind: 'local' });
  const live = collectingSink();
  const following = consoleStreams.console(app, rootContext(ME), new URLSearchParams({ instanceId: id }), live);
  await live.until((ev) => outputOf(ev).includes('login:') && statesOf(ev).includes('running'), 'the boot reaches the login prompt');
  const text = outputOf(live.events);
  const order = ['Linux version', "running 'init'", 'first line of user data', 'second line of user data', 'login:'].map((s) => text.indexOf(s));
  assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1])), `boot lines in order: ${order}`);
  assert.ok(live.events.filter((e) => e.event === 'output').length > 3, 'the lines came as they were written, not in one piece');
  // pending, unless the guest was up before the stream read the instance (a busy machine).
  assert.ok(['pending,running', 'running'].includes(statesOf(live.events).join()), `states: ${statesOf(live.events)}`);
  assert.equal(text, Buffer.from((await app.ec2.instances.consoleOutput(ME, id)).Output!, 'base64').toString(), 'the same text GetConsoleOutput returns');

  // A viewer who opens the console now gets what is there in one piece first, then the new lines.
  const late = collectingSink();
  const lateFollowing = consoleStreams.console(app, rootContext(ME), new URLSearchParams({ instanceId: id }), late);
  await late.until((ev) => ev.some((e) => e.event === 'state'), 'the late stream starts');
  assert.equal(late.events[0].event, 'output');
  assert.equal(late.events[0].data.text, text);
  await app.ec2.lifecycle.reboot(ME, [id]);
  await late.until((ev) => outputOf(ev).split('Linux version').length === 3, 'the reboot\'s boot log reaches the late viewer');
  assert.match(outputOf(late.events).slice(text.length), /Restarting system[\s\S]*Linux version/);
  assert.equal(outputOf(late.events), outputOf(live.events), 'both viewers saw the same text');

  await app.ec2.lifecycle.terminate(ME, [id]);
  await Promise.all([following, lateFollowing]);
  assert.equal(statesOf(live.events).at(-1), 'terminated');
  assert.equal(statesOf(late.events).at(-1), 'terminated');
});

test('a browser that goes away ends its stream', async () => {
  const id = await launch('#!amiforge-sim\necho hello\n');
  const sink = collectingSink();
  const following = consoleStreams.console(app, rootContext(ME), new URLSearchParams({ instanceId: id }), sink);
  await sink.until((ev) => outputOf(ev).includes('login:'), 'the boot log');
  sink.close();
  await following;
  const count = sink.events.length;
  await app.ec2.lifecycle.reboot(ME, [id]);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(sink.events.length, count, 'nothing is sent after the stream closed');
  await app.ec2.lifecycle.terminate(ME, [id]);
});

test('another account cannot follow the console, nor an IAM user without ec2:GetConsoleOutput; one with it can', async () => {
  const id = await launch('#!amiforge-sim\necho secret of account one\n');
  const params = new URLSearchParams({ instanceId: id });

  const stranger = collectingSink();
  await assert.rejects(consoleStreams.console(app, rootContext(OTHER), params, stranger),
    (err: ServiceError) => err.code === 'InvalidInstanceID.NotFound');
  assert.deepEqual(stranger.events, [], 'nothing was sent');

  const describer = collectingSink();
  await assert.rejects(consoleStreams.console(app, userContext(ME, { Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }), params, describer),
    (err: ServiceError) => err.code === 'UnauthorizedOperation' && /ec2:GetConsoleOutput/.test(err.message));
  assert.deepEqual(describer.events, []);

  const allowed = collectingSink();
  const ctx = userContext(ME, { Effect: 'Allow', Action: 'ec2:GetConsoleOutput', Resource: `arn:aws:ec2:us-east-1:${ME.account}:instance/${id}` });
  const following = consoleStreams.console(app, ctx, params, allowed);
  await allowed.until((ev) => outputOf(ev).includes('secret of account one'), 'the allowed user sees the console');
  allowed.close();
  await following;

  await assert.rejects(consoleStreams.console(app, rootContext(ME), new URLSearchParams(), collectingSink()),
    (err: ServiceError) => err.code === 'MissingParameter');
  await app.ec2.lifecycle.terminate(ME, [id]);
});

test('a console whose guest runs on another live node is routed there; one moved there meanwhile ends with moved', async () => {
  const id = await launch('#!amiforge-sim\necho hello\n');
  const params = new URLSearchParams({ instanceId: id });
  const sink = collectingSink();
  const following = consoleStreams.console(app, rootContext(ME), params, sink);
  await sink.until((ev) => statesOf(ev).includes('running'), 'the guest runs');
  // As if a stop and a start had moved the guest to node-2 (a node with a recent heartbeat).
  await app.store.nodes.heartbeat({ nodeId: 'node-2', url: 'http://127.0.0.1:1', startedAt: new Date().toISOString(), hypervisor: 'sim', version: 'test' }, new Date());
  const r = await app.ec2.instances.find(ME, id);
  await app.store.instances.update({ ...r, nodeId: 'node-2' });
  await following;
  assert.deepEqual(sink.events.at(-1), { event: 'moved', data: { nodeId: 'node-2' } });
  assert.deepEqual(await consoleStreamRoutes.console(app, rootContext(ME), params), { kind: 'forward', nodeId: 'node-2', url: 'http://127.0.0.1:1' });
  // A request that reaches this node anyway (forwarded here by a node that thought otherwise) is refused, not served empty.
  await assert.rejects(consoleStreams.console(app, rootContext(ME), params, collectingSink()), (err: ServiceError) => err.code === 'Unavailable' && /node-2/.test(err.message));
  await app.store.instances.update({ ...r, nodeId: app.cluster.nodeId });
  await app.ec2.lifecycle.terminate(ME, [id]);
});

test('progress of a CopyImage and a CopySnapshot reaches 100 and then done', async () => {
  const WEST: Caller = { account: ME.account, region: 'us-west-2' };
  const EU: Caller = { account: ME.account, region: 'eu-west-1' };
  const { ImageId: copied } = await app.ec2.imageCopies.copy(WEST, { SourceImageId: CATALOGUE_IMAGE, SourceRegion: 'us-east-1', Name: 'streamed copy' });
  const imageSink = collectingSink();
  await consoleStreams.progress(app, rootContext(WEST), new URLSearchParams({ ids: copied }), imageSink);
  const imageEvents = imageSink.events.filter((e) => e.event === 'progress');
  assert.equal(imageEvents[0].data.kind, 'image');
  assert.deepEqual({ state: imageEvents.at(-1)!.data.state, progress: imageEvents.at(-1)!.data.progress }, { state: 'available', progress: 100 });
  assert.deepEqual(imageSink.events.at(-1), { event: 'done', data: { ids: [copied] } });

  const [image] = (await app.ec2.images.describe(WEST, { ImageIds: [copied] })).Images;
  const source = image.BlockDeviceMappings!.find((m) => m.Ebs?.SnapshotId)!.Ebs!.SnapshotId!;
  const { SnapshotId: snapshot } = await app.ec2.snapshots.copy(EU, { SourceSnapshotId: source, SourceRegion: 'us-west-2' });
  const snapSink = collectingSink();
  await consoleStreams.progress(app, rootContext(EU), new URLSearchParams({ ids: snapshot }), snapSink);
  const snapEvents = snapSink.events.filter((e) => e.event === 'progress').map((e) => e.data);
  assert.equal(snapEvents[0].kind, 'snapshot');
  for (let i = 1; i < snapEvents.length; i++) assert.ok(snapEvents[i].progress >= snapEvents[i - 1].progress, 'progress never goes back');
  assert.deepEqual({ state: snapEvents.at(-1).state, progress: snapEvents.at(-1).progress }, { state: 'completed', progress: 100 });
  assert.equal(snapSink.events.at(-1)!.event, 'done');

  // Another account's snapshot, an IAM user without DescribeSnapshots, and an id of no known kind are refused.
  await assert.rejects(consoleStreams.progress(app, rootContext({ ...EU, account: OTHER.account }), new URLSearchParams({ ids: snapshot }), collectingSink()),
    (err: ServiceError) => err.code === 'InvalidSnapshot.NotFound');
  await assert.rejects(consoleStreams.progress(app, userContext(EU, { Effect: 'Allow', Action: 'ec2:DescribeImages', Resource: '*' }), new URLSearchParams({ ids: snapshot }), collectingSink()),
    (err: ServiceError) => err.code === 'UnauthorizedOperation');
  await assert.rejects(consoleStreams.progress(app, rootContext(EU), new URLSearchParams({ ids: 'vol-0123456789abcdef0' }), collectingSink()),
    (err: ServiceError) => err.code === 'InvalidParameterValue');
});
