// Faults of a cluster's shared stores: three nodes on one PostgreSQL database and one bucket on
// the RADOS Gateway (test/support/cluster.ts), started all at once on a fresh database.
// - PostgreSQL stopped abruptly and started again while clients send RegisterImage,
//   DescribeImages and EBS direct uploads to two nodes: what fails, fails with the service's
//   retryable error (never a stack trace, never a hang); the nodes reconnect by themselves; every
//   image and snapshot the clients were told about is there, whole, afterwards.
// - The object store unreachable (a relay in front of the shared gateway, cut and opened again):
//   PutSnapshotBlock fails with the retryable internal error and a launch that must read its root
//   volume fails as EC2 reports a failed launch; both work again once the store is back.
// SIGKILLed nodes mid-upload, mid-CopyImage and mid-scheduled-copy are test/wire/cluster-jobs and
// cluster-copy-schedules, on these same stores.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import {
  CompleteSnapshotCommand, ListSnapshotBlocksCommand, StartSnapshotCommand, type EBSClient,
} from '@aws-sdk/client-ebs';
import { DescribeImagesCommand, DescribeInstancesCommand, GetConsoleOutputCommand, RegisterImageCommand, StartInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { startCluster, type RunningCluster } from '../support/cluster.ts';
import { blockOf, ebsClient, expectEbsError, getBlock, linearChecksum, putBlock, uploadSnapshot } from '../support/ebs.ts';
import { objectStore } from '../support/object-store.ts';
import { startPostgres, type TestPostgres } from '../support/postgres.ts';
import { Relay } from '../support/tcp-relay.ts';
import { runOne, waitForConsole, waitState } from '../support/instances.ts';

const creds = devCredentials();
/** What a client may see while a store is down: EC2's ServiceUnavailable / InternalError, EBS's internal error. */
const RETRYABLE = new Set(['ServiceUnavailable', 'InternalError', 'InternalServerException']);
/** A request that has not answered after this long counts as hung (the stores' own timeouts are far shorter). */
const HANG_MS = 60_000;

// A small catalogue (two images in two regions): enough for three nodes to race loading it.
const shipped = JSON.parse(readFileSync(new URL('../../catalog/default.json', import.meta.url), 'utf8')).images as { name: string; regions: Record<string, string> }[];
const catalog = shipped.filter((i) => i.name.startsWith('al2023-ami-'))
  .map((i) => ({ ...i, regions: { 'us-east-1': i.regions['us-east-1'], 'us-west-2': i.regions['us-west-2'] } as Record<string, string> }));

let postgres: TestPostgres;
let relay: Relay;
let cluster: RunningCluster;

before(async () => {
  const s3 = await objectStore();
  relay = new Relay(new URL(s3.endpoint));
  [postgres] = await Promise.all([startPostgres(), relay.open()]);
  // The test server trades durability for speed (synchronous_commit off): a commit acknowledged
  // just before an abrupt stop could be lost, which is PostgreSQL's configuration, not amiforge.
  // This test checks what clients were told survives the stop, so its commits are durable.
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('ALTER ROLE CURRENT_USER SET synchronous_commit = on');
  await admin.end();
  cluster = await startCluster({
    nodes: 3, leaseSeconds: 2, catalog, concurrentStart: true, postgres,
    objectStore: { ...s3, endpoint: `http://127.0.0.1:${relay.port}` },
    extraArgs: ['--sim-boot-ms', '50'],
  });
});
after(async () => {
  // A node that ended by itself crashed on a fault: its stderr says how.
  for (const n of cluster?.nodes ?? []) if (n.process.exitCode !== null) console.error(`node on port ${n.port} exited with ${n.process.exitCode}:\n${n.stderr()}`);
  await cluster?.stop();
  await relay?.cut().catch(() => {});
  await postgres?.stop();
});

/** Every failure a client saw, and those that were not a retryable AWS error. */
interface Failures { retryable: number; unexpected: string[] }

/** Runs one request; a retryable AWS error answers undefined (and is counted), anything else is recorded as unexpected. */
async function attempt<T>(f: Failures, what: string, request: () => Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${HANG_MS / 1000} s`)), HANG_MS); });
  try {
    return await Promise.race([request(), hang]);
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    if (RETRYABLE.has(e.name) && (status === 500 || status === 503) && !/\n\s+at |\.ts:\d+/.test(e.message)) {
      f.retryable++;
      return undefined;
    }
    f.unexpected.push(`${what}: ${e.name} (${status}): ${e.message}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 120_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not reached in ${deadlineMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const health = async (endpoint: string) => (await fetch(`${endpoint}/_amiforge/health`)).status;

describe('a cluster on PostgreSQL and the RADOS Gateway', () => {
  test('three nodes started at once on a fresh database all serve the catalogue they loaded together', async () => {
    assert.equal(cluster.nodes.length, 3);
    for (const n of cluster.nodes) {
      for (const region of ['us-east-1', 'us-west-2']) {
        const out = await ec2Client(n.endpoint, creds, region).send(new DescribeImagesCommand({ Owners: ['amazon'] }));
        assert.deepEqual(out.Images!.map((i) => i.ImageId).sort(), catalog.map((i) => i.regions[region]).sort(), `${n.endpoint} ${region}`);
        assert.ok(out.Images!.every((i) => i.State === 'available'));
      }
    }
  });

  test('PostgreSQL restarted under load: retryable errors only, the nodes reconnect, nothing half-written', { timeout: 300_000 }, async (t) => {
    const [n1, n2] = cluster.nodes;
    const f: Failures = { retryable: 0, unexpected: [] };
    const source = await uploadSnapshot(ebsClient(n1.endpoint, creds), { VolumeSize: 1 }, new Map([[0, 'pg-source']]));
    const images: { imageId: string; name: string }[] = [];
    const snapshots: { snapshotId: string; seed: string }[] = [];
    const successes = new Map<string, number>();
    const succeeded = (worker: string) => successes.set(worker, (successes.get(worker) ?? 0) + 1);
    let running = true;
    let seq = 0;

    const registering = async (worker: string, ec2: EC2Client, other: EC2Client) => {
      while (running) {
        const name = `pg-fault-${worker}-${++seq}`;
        const out = await attempt(f, `RegisterImage ${name}`, () => ec2.send(new RegisterImageCommand({
          Name: name, Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: source.snapshotId } }],
          TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'name', Value: name }] }],
        })));
        if (out?.ImageId) {
          images.push({ imageId: out.ImageId, name });
          const seen = await attempt(f, `DescribeImages ${out.ImageId}`, () => other.send(new DescribeImagesCommand({ ImageIds: [out.ImageId!] })));
          if (seen) succeeded(worker);
        }
      }
    };
    const uploading = async (worker: string, ebs: EBSClient) => {
      while (running) {
        const seed = `pg-fault-${worker}-${++seq}`;
        const started = await attempt(f, 'StartSnapshot', () => ebs.send(new StartSnapshotCommand({ VolumeSize: 1 })));
        if (!started) continue;
        const id = started.SnapshotId!;
        const sums: Buffer[] = [];
        for (const index of [0, 1]) {
          const sum = await attempt(f, `PutSnapshotBlock ${id}`, () => putBlock(ebs, id, index, blockOf(`${seed}-${index}`)));
          if (sum) sums.push(Buffer.from(sum, 'base64'));
        }
        if (sums.length < 2) continue;
        const done = await attempt(f, `CompleteSnapshot ${id}`, () => ebs.send(new CompleteSnapshotCommand({
          SnapshotId: id, ChangedBlocksCount: 2, Checksum: linearChecksum(sums), ChecksumAlgorithm: 'SHA256', ChecksumAggregationMethod: 'LINEAR',
        })));
        if (done?.Status === 'completed') {
          snapshots.push({ snapshotId: id, seed });
          succeeded(worker);
        }
      }
    };
    const ec2 = (n: typeof n1) => ec2Client(n.endpoint, creds);
    const workers = ['images-1', 'images-2', 'uploads-1', 'uploads-2'];
    const load = Promise.all([
      registering('images-1', ec2(n1), ec2(n2)), registering('images-2', ec2(n2), ec2(n1)),
      uploading('uploads-1', ebsClient(n1.endpoint, creds)), uploading('uploads-2', ebsClient(n2.endpoint, creds)),
    ]);
    try {
      await eventually('every client served once', async () => (workers.every((w) => successes.get(w)) ? true : undefined));
      await postgres.stopServer();
      await eventually('requests failing while PostgreSQL is down', async () => (f.retryable >= 4 ? true : undefined));
      const before = new Map(successes);
      await postgres.startServer();
      await eventually('every client served again', async () => (workers.every((w) => (successes.get(w) ?? 0) > (before.get(w) ?? 0)) ? true : undefined));
    } finally {
      running = false;
      await load;
    }
    t.diagnostic(`${f.retryable} retryable failures; ${images.length} images and ${snapshots.length} snapshots told to exist, checked`);
    assert.deepEqual(f.unexpected, [], 'only retryable AWS errors');
    assert.ok(f.retryable > 0);
    for (const n of [n1, n2]) assert.equal(await health(n.endpoint), 200, 'the node reconnected');

    // Every image a client was told exists is there, through either node, with its tag and its root.
    const ids = images.map((i) => i.imageId);
    for (const n of [n1, n2]) {
      const out = await ec2(n).send(new DescribeImagesCommand({ Owners: ['self'] }));
      const byId = new Map(out.Images!.map((i) => [i.ImageId!, i]));
      assert.ok(ids.length > 0);
      for (const { imageId, name } of images) {
        const img = byId.get(imageId);
        assert.ok(img, `${imageId} (${name}) exists`);
        assert.equal(img.Name, name);
        assert.equal(img.State, 'available');
        assert.deepEqual(img.Tags, [{ Key: 'name', Value: name }], `${imageId} has its tag`);
        assert.equal(img.BlockDeviceMappings![0].Ebs!.SnapshotId, source.snapshotId);
      }
    }
    // Every snapshot a client was told is completed has its whole block map and its data.
    const ebs = ebsClient(n2.endpoint, creds);
    for (const { snapshotId, seed } of snapshots) {
      const listed = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
      assert.deepEqual(listed.Blocks!.map((b) => b.BlockIndex), [0, 1], `${snapshotId}'s map`);
      for (const b of listed.Blocks!) {
        const { data } = await getBlock(ebs, snapshotId, b.BlockIndex!, b.BlockToken!);
        assert.ok(data.equals(blockOf(`${seed}-${b.BlockIndex}`)), `${snapshotId} block ${b.BlockIndex}`);
      }
    }
    assert.ok(images.length > 0 && snapshots.length > 0);
  });

  test('the object store unreachable: uploads and a launch fail as retryable, and work once it is back', { timeout: 300_000 }, async (t) => {
    const [n1, n2] = cluster.nodes;
    const ebs1 = ebsClient(n1.endpoint, creds);
    const ec2two = ec2Client(n2.endpoint, creds);
    // An image whose root snapshot's blocks are in the bucket; booting reads its first block.
    const { snapshotId } = await uploadSnapshot(ebs1, { VolumeSize: 1 }, new Map([[0, 's3-fault-root']]));
    const { ImageId: imageId } = await ec2Client(n1.endpoint, creds).send(new RegisterImageCommand({
      Name: 's3-fault', Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } }],
    }));
    const upload = (await ebs1.send(new StartSnapshotCommand({ VolumeSize: 1 }))).SnapshotId!;
    let failedLaunch: string | undefined;

    await relay.cut();
    try {
      await expectEbsError(putBlock(ebs1, upload, 0, blockOf('while-down')), { name: 'InternalServerException', status: 500 });
      // RunInstances answers from the database; the guest's boot reads the root volume's blocks
      // and cannot: the launch fails as EC2 reports one (the instance stops, or terminates, with
      // Server.InternalError) — or, had the request itself needed a block, ServiceUnavailable.
      const f: Failures = { retryable: 0, unexpected: [] };
      const launched = await attempt(f, 'RunInstances', () => runOne(ec2two, { ImageId: imageId! }));
      assert.deepEqual(f.unexpected, []);
      if (launched) {
        failedLaunch = launched.InstanceId!;
        const failed = await eventually('the launch failed', async () => {
          const i = (await ec2two.send(new DescribeInstancesCommand({ InstanceIds: [failedLaunch!] }))).Reservations![0].Instances![0];
          assert.notEqual(i.State?.Name, 'running', 'a guest whose root volume cannot be read does not run');
          return ['stopped', 'terminated'].includes(i.State!.Name!) ? i : undefined;
        });
        assert.equal(failed.StateReason?.Code, 'Server.InternalError', failed.StateReason?.Message);
        // The owner learns that the launch failed, not which servers or buckets are behind amiforge.
        assert.doesNotMatch(failed.StateReason?.Message ?? '', /s3:|http:|127\.0\.0\.1|ECONN/, 'the reason names no internal server');
        const console = await ec2two.send(new GetConsoleOutputCommand({ InstanceId: failedLaunch, Latest: true }));
        assert.doesNotMatch(Buffer.from(console.Output ?? '', 'base64').toString(), /s3:|http:|ECONN/, 'nor does the console');
        t.diagnostic(`the launch ended ${failed.State?.Name}: ${failed.StateReason?.Message}`);
      } else {
        t.diagnostic('RunInstances itself answered a retryable error');
      }
      assert.equal(await health(n1.endpoint), 503, 'the health check tells the block store is down');
    } finally {
      await relay.open();
    }
    await eventually('the block store answering again', async () => ((await health(n1.endpoint)) === 200 ? true : undefined));
    await putBlock(ebs1, upload, 0, blockOf('after'));
    const again = await runOne(ec2two, { ImageId: imageId! });
    await waitState(ec2two, again.InstanceId!, 'running', 120_000);
    await waitForConsole(ec2two, again.InstanceId!, /Linux version|No bootable device/, 60_000);
    if (failedLaunch) {
      // The launch that failed, stopped rather than terminated, starts now.
      const state = (await ec2two.send(new DescribeInstancesCommand({ InstanceIds: [failedLaunch] }))).Reservations![0].Instances![0].State?.Name;
      if (state === 'stopped') {
        await ec2two.send(new StartInstancesCommand({ InstanceIds: [failedLaunch] }));
        await waitState(ec2two, failedLaunch, 'running', 120_000);
      }
    }
  });
});
