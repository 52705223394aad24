// A scheduled copy (docs/copy-schedules.md) across two nodes: runs are made by one node at a
// time, and when the node running one is SIGKILLed mid-copy the other takes the run over; in
// the end there is exactly one copy, available, and no two runs ever overlapped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, RegisterImageCommand, type Image } from '@aws-sdk/client-ec2';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { startCluster, type RunningCluster } from '../support/cluster.ts';
import { ebsClient, uploadSnapshot } from '../support/ebs.ts';
import type { RunningServer } from '../support/server.ts';

const creds = devCredentials();
const NAME = 'cluster-dr';
const dir = mkdtempSync(join(tmpdir(), 'amiforge-cluster-schedules-'));
const file = join(dir, 'schedules.json');
writeFileSync(file, JSON.stringify({
  schedules: [{
    name: NAME, account: '123456789012', sourceRegion: 'us-east-1', destinationRegions: ['us-west-2'],
    image: { owners: ['self'], filters: [{ Name: 'name', Values: ['cluster-dr-golden'] }] }, every: '3s', keep: 1,
  }],
}));

interface Run { startedAt: string; finishedAt?: string; outcome: string }
interface Status { name: string; running: boolean; lastRun?: Run }

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 180_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not reached in ${deadlineMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alive = (n: RunningServer) => n.process.exitCode === null && n.process.signalCode === null;

async function status(n: RunningServer): Promise<Status> {
  const body = await (await n.ops(`/_amiforge/copy-schedules`)).json() as { schedules: Status[] };
  return body.schedules.find((s) => s.name === NAME)!;
}

async function scheduleCopies(n: RunningServer): Promise<Image[]> {
  const out = await ec2Client(n.endpoint, creds, 'us-west-2').send(new DescribeImagesCommand({
    Owners: ['self'], Filters: [{ Name: 'tag:amiforge:copy-schedule', Values: [NAME] }],
  }));
  return out.Images ?? [];
}

/** Every run any node logged (a node killed mid-run logs nothing for that run). */
function runs(cluster: RunningCluster): Run[] {
  return cluster.nodes.flatMap((n) => n.logs.filter((l) => l.copySchedule === NAME && l.run).map((l) => l.run as Run));
}

describe('a scheduled copy across nodes', () => {
  let cluster: RunningCluster;
  before(async () => {
    cluster = await startCluster({ nodes: 2, leaseSeconds: 2, extraArgs: ['--copy-schedules', file], env: { AMIFORGE_TEST_COPY_PACE: '1:300' } });
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a node killed mid-run: the other takes the run over; one copy, runs never overlap', async () => {
    const seeds = new Map(Array.from({ length: 12 }, (_, i) => [i, `dr-${i}`] as [number, string]));
    const source = await uploadSnapshot(ebsClient(cluster.nodes[0].endpoint, creds), { VolumeSize: 1 }, seeds);
    await ec2Client(cluster.nodes[0].endpoint, creds).send(new RegisterImageCommand({
      Name: 'cluster-dr-golden', Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: source.snapshotId } }],
    }));
    // The node running the schedule, while its copy is still pending.
    const runner = await eventually('a run copying', async () => {
      for (const n of cluster.nodes) {
        const copies = await scheduleCopies(n);
        if ((await status(n)).running && copies.length === 1 && copies[0].State === 'pending') return n;
      }
      return undefined;
    });
    await runner.kill();
    const survivor = cluster.nodes.find(alive)!;
    const copy = await eventually('the copy available through the survivor', async () => {
      const copies = await scheduleCopies(survivor);
      assert.ok(copies.length <= 1, 'never a second copy');
      assert.notEqual(copies[0]?.State, 'failed');
      return copies[0]?.State === 'available' ? copies[0] : undefined;
    });
    // The survivor goes on running the schedule: wait for two more finished runs.
    await eventually('two runs on the survivor', async () => (runs(cluster).filter((r) => r.outcome === 'up-to-date').length >= 2 ? true : undefined));
    assert.deepEqual((await scheduleCopies(survivor)).map((i) => i.ImageId), [copy.ImageId], 'exactly one copy');
    const all = runs(cluster).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    for (let i = 1; i < all.length; i++) {
      assert.ok(all[i].startedAt >= all[i - 1].finishedAt!, `runs overlap: ${JSON.stringify([all[i - 1], all[i]])}`);
    }
  });
});
