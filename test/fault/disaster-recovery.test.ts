// The disaster-recovery pattern end to end: a golden image in us-east-1 is copied to us-west-2
// by a copy schedule (the nightly job, here every 2 s); each new golden version is copied, and
// only the newest two copies are kept. Then us-east-1's block storage is destroyed while the
// server is down, and after a restart instances launched in us-west-2 from the copies run and
// read the golden images' bytes: the copies never depended on the source region's blocks. A copy
// those instances run from outlives "keep 2" until they are terminated.
//
// Region A's metadata (the records of its images and snapshots) is kept: amiforge's metadata is
// one database for all regions, like a control plane, while each region's bytes live in their
// own storage domain (DATA_DIR/blocks/REGION). Losing a region here means losing that domain,
// which fsck then reports for us-east-1 only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  DescribeImagesCommand, DescribeSnapshotsCommand, RunInstancesCommand, TerminateInstancesCommand, type EC2Client, type Image,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, OPERATOR_ENV, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { ebsClient } from '../support/ebs.ts';
import { bootBlock, CLOUD_INIT_DONE, simUserData, uploadImage, waitForConsole, waitRunning, waitTerminated } from '../support/instances.ts';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const A = 'us-east-1';
const B = 'us-west-2';
const KEEP = 2;
const DATA_OFFSET = 3 * 1024 * 1024;

const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-dr-'));
const schedulesFile = join(dataDir, 'copy-schedules.json');
writeFileSync(schedulesFile, JSON.stringify({
  schedules: [{
    name: 'golden-dr', account: ALICE.id, sourceRegion: A, destinationRegions: [B],
    image: { owners: ['self'], filters: [{ Name: 'name', Values: ['golden-*'] }] },
    every: '2s', keep: KEEP,
  }],
}));

const start = () => startServer({ dataDir, accounts: [ALICE, BOB], extraArgs: ['--copy-schedules', schedulesFile, '--sim-boot-ms', '50'] });
let server: RunningServer;
const clients = (s: RunningServer) => ({
  a: ec2Client(s.endpoint, credentialsOf(ALICE), A),
  b: ec2Client(s.endpoint, credentialsOf(ALICE), B),
  bobB: ec2Client(s.endpoint, credentialsOf(BOB), B),
  ebsA: ebsClient(s.endpoint, credentialsOf(ALICE), A),
});

/** The schedule's copies in B, newest first. */
async function copiesIn(ec2: EC2Client): Promise<Image[]> {
  const out = await ec2.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'tag:amiforge:copy-schedule', Values: ['golden-dr'] }] }));
  return out.Images!.sort((x, y) => y.CreationDate!.localeCompare(x.CreationDate!));
}

const sourceOf = (i: Image) => i.Tags?.find((t) => t.Key === 'amiforge:source-image-id')?.Value;

/** Waits until the schedule has an available copy of `sourceId` in B and its run has pruned. */
async function waitForCopyOf(ec2: EC2Client, sourceId: string): Promise<Image> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const copy = (await copiesIn(ec2)).find((i) => sourceOf(i) === sourceId && i.State === 'available');
    const status = await scheduleStatus();
    if (copy && !status.running && status.lastRun?.sourceImageId === sourceId) return copy;
    if (Date.now() > deadline) assert.fail(`no copy of ${sourceId} in ${B}; last run: ${JSON.stringify(status.lastRun)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function scheduleStatus(): Promise<any> {
  const res = await server.ops(`/_amiforge/copy-schedules`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { schedules: any[] };
  return body.schedules.find((s) => s.name === 'golden-dr');
}

/** A golden image whose disk says which version it is at byte 0 and at 3 MiB. */
async function golden(version: number): Promise<string> {
  const { a, ebsA } = clients(server);
  const data = Buffer.from(`dr data v${version}`);
  const { imageId } = await uploadImage(a, ebsA, `golden-${version}`, new Map([[0, bootBlock(`golden v${version}`)], [DATA_OFFSET / (512 * 1024), data]]), 1);
  return imageId;
}

async function fsck(region: string): Promise<{ code: number; report: any }> {
  try {
    const { stdout } = await run(join(ROOT, 'bin/amiforge'), ['fsck', '--data-dir', dataDir, '--region', region, '--json']);
    return { code: 0, report: JSON.parse(stdout) };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, report: JSON.parse(e.stdout) };
  }
}

after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('disaster recovery with a copy schedule', () => {
  const sources: string[] = [];
  const copies = new Map<string, string>();
  /** Instances launched in B, by golden version. */
  const launched = new Map<number, string[]>();

  before(async () => {
    server = await start();
  });

  test('the schedule copies each new golden image to the DR region and keeps the newest two', async () => {
    const { b, bobB } = clients(server);
    for (let v = 1; v <= 3; v++) {
      const id = await golden(v);
      sources.push(id);
      const copy = await waitForCopyOf(b, id);
      copies.set(id, copy.ImageId!);
      assert.equal(copy.Name, `golden-${v}`);
      assert.notEqual(copy.ImageId, id, 'a copy has its own id');
    }
    const left = await copiesIn(b);
    assert.deepEqual(left.map((i) => i.ImageId), [copies.get(sources[2]), copies.get(sources[1])], `only the newest ${KEEP} copies are kept`);
    // The first copy went with its snapshot; the kept copies' snapshots are in B.
    const snaps = await b.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    const kept = new Set(left.flatMap((i) => i.BlockDeviceMappings!.map((m) => m.Ebs?.SnapshotId)));
    assert.deepEqual(new Set(snaps.Snapshots!.map((s) => s.SnapshotId)), kept);
    // Copies are not shared: another account sees none of them.
    assert.deepEqual((await bobB.send(new DescribeImagesCommand({ Owners: [ALICE.id] }))).Images, []);
    // The runs are logged as structured lines.
    const runs = server.logs.filter((l) => l.copySchedule === 'golden-dr' && (l as any).run);
    assert.ok(runs.some((l) => (l as any).run.outcome === 'copied' && (l as any).run.regions[0].deregistered?.includes(copies.get(sources[0]))));
  });

  test('a run when the newest source is already copied makes no duplicate (amiforge copy-schedules run)', async () => {
    const { stdout } = await run(join(ROOT, 'bin/amiforge'), ['copy-schedules', 'run', 'golden-dr', '--endpoint-url', server.endpoint, '--json'], { env: OPERATOR_ENV });
    const report = JSON.parse(stdout);
    assert.equal(report.trigger, 'manual');
    assert.equal(report.outcome, 'up-to-date');
    assert.deepEqual(report.regions.map((r: any) => [r.region, r.outcome, r.imageId]), [[B, 'already-copied', copies.get(sources[2])]]);
    assert.equal((await copiesIn(clients(server).b)).length, KEEP);
    const status = await scheduleStatus();
    assert.equal(status.keep, KEEP);
    assert.ok(Date.parse(status.nextRunAt) > Date.parse(status.lastRun.startedAt));
  });

  test('after region A\'s storage is destroyed, instances launched in B from the copies run and hold the images\' data', async () => {
    await server.stop();
    const regionA = join(dataDir, 'blocks', A);
    assert.ok(existsSync(regionA));
    rmSync(regionA, { recursive: true });
    server = await start();
    const { b } = clients(server);

    const broken = await fsck(A);
    assert.equal(broken.code, 1, 'region A lost its blocks');
    assert.ok(broken.report.fsck[0].missing.length > 0);
    const intact = await fsck(B);
    assert.equal(intact.code, 0, JSON.stringify(intact.report));

    for (const [i, v] of [[1, 2], [2, 3]]) {
      const out = await b.send(new RunInstancesCommand({
        ImageId: copies.get(sources[i]), MinCount: 2, MaxCount: 2, InstanceType: 't3.micro',
        UserData: simUserData('read /dev/xvda 0 9', `read /dev/xvda ${DATA_OFFSET} 10`),
      }));
      const ids = out.Instances!.map((x) => x.InstanceId!);
      await waitRunning(b, ids);
      for (const id of ids) {
        const log = await waitForConsole(b, id, CLOUD_INIT_DONE);
        assert.match(log, new RegExp(`^golden v${v}$`, 'm'));
        assert.match(log, new RegExp(`^dr data v${v}$`, 'm'));
      }
      launched.set(v, ids);
    }
  });

  test('a copy instances run from is kept beyond N, and goes once they are terminated', async () => {
    const { b } = clients(server);
    // Region A is back in service: a new golden image is uploaded there and copied.
    const v4 = await golden(4);
    const copy = await waitForCopyOf(b, v4);
    const status = await scheduleStatus();
    assert.deepEqual(status.lastRun.regions[0].keptInUse, [copies.get(sources[1])], 'the golden-2 copy is in use');
    assert.deepEqual((await copiesIn(b)).map((i) => i.ImageId), [copy.ImageId, copies.get(sources[2]), copies.get(sources[1])]);

    await b.send(new TerminateInstancesCommand({ InstanceIds: [...launched.values()].flat() }));
    await waitTerminated(b, [...launched.values()].flat());
    await server.ops(`/_amiforge/copy-schedules/golden-dr/run`, { method: 'POST' });
    const deadline = Date.now() + 30_000;
    while ((await copiesIn(b)).length > KEEP) {
      if (Date.now() > deadline) assert.fail(`still ${(await copiesIn(b)).length} copies: ${JSON.stringify((await scheduleStatus()).lastRun)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual((await copiesIn(b)).map((i) => i.ImageId), [copy.ImageId, copies.get(sources[2])]);
  });
});
