// Background work across nodes on one store: a copy whose node is SIGKILLed mid-way is finished
// by another node once the dead node's lease expires (the data read back identical through EBS
// direct), an upload goes on through another node, and periodic work runs on one node each.
// Copies are slowed (AMIFORGE_TEST_COPY_PACE) so the kill lands in the middle of one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompleteSnapshotCommand, ListSnapshotBlocksCommand, StartSnapshotCommand, type EBSClient,
} from '@aws-sdk/client-ebs';
import {
  CopyImageCommand, CopySnapshotCommand, DescribeImagesCommand, DescribeSnapshotsCommand, RegisterImageCommand,
} from '@aws-sdk/client-ec2';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { startCluster, type RunningCluster } from '../support/cluster.ts';
import { blockOf, ebsClient, getBlock, linearChecksum, putBlock, uploadSnapshot } from '../support/ebs.ts';
import type { RunningServer } from '../support/server.ts';

const creds = devCredentials();
const ec2 = (n: RunningServer, region = 'us-east-1') => ec2Client(n.endpoint, creds, region);
const ebs = (n: RunningServer, region = 'us-east-1') => ebsClient(n.endpoint, creds, region);
const BLOCKS = 24;
const seeds = new Map(Array.from({ length: BLOCKS }, (_, i) => [i, `cluster-${i}`] as [number, string]));

/** Polls `probe` until it answers a value; generous, as the machine may be loaded. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 180_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`${what}: not reached in ${deadlineMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function snapshotOf(n: RunningServer, region: string, snapshotId: string) {
  return (await ec2(n, region).send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots![0];
}

/** Every block of the snapshot, read through EBS direct, is the one uploaded. */
async function assertSameData(client: EBSClient, snapshotId: string): Promise<void> {
  const listed = await client.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
  assert.deepEqual(listed.Blocks!.map((b) => b.BlockIndex), [...seeds.keys()]);
  for (const b of listed.Blocks!) {
    const { data } = await getBlock(client, snapshotId, b.BlockIndex!, b.BlockToken!);
    assert.ok(data.equals(blockOf(seeds.get(b.BlockIndex!)!)), `block ${b.BlockIndex} identical`);
  }
}

/** A pending snapshot copy has mapped some of its blocks: the moment to kill its node. */
async function midCopy(n: RunningServer, region: string, snapshotId: string): Promise<void> {
  await eventually('the copy under way', async () => {
    const s = await snapshotOf(n, region, snapshotId);
    assert.equal(s.State, 'pending', 'the copy must still be under way (is the pace hook set?)');
    return parseInt(s.Progress ?? '0', 10) > 0 ? true : undefined;
  });
}

describe('background work across nodes', () => {
  let cluster: RunningCluster;
  let sourceSnapshot = '';

  before(async () => {
    // Two map entries per batch with a pause after each: a 24-block copy lasts several seconds.
    cluster = await startCluster({ nodes: 3, leaseSeconds: 2, env: { AMIFORGE_TEST_COPY_PACE: '2:400' } });
    sourceSnapshot = (await uploadSnapshot(ebs(cluster.nodes[0]), { VolumeSize: 1, Description: 'cluster source' }, seeds)).snapshotId;
  });
  after(async () => cluster?.stop());

  test('a CopySnapshot whose node is killed mid-copy is finished by another node, data identical', async () => {
    const [n1, n2] = cluster.nodes;
    const copy = await ec2(n1, 'us-west-2').send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: sourceSnapshot }));
    await midCopy(n1, 'us-west-2', copy.SnapshotId!);
    await n1.kill();
    const done = await eventually('the copy completed by another node', async () => {
      const s = await snapshotOf(n2, 'us-west-2', copy.SnapshotId!);
      assert.notEqual(s.State, 'error', s.StateMessage);
      return s.State === 'completed' ? s : undefined;
    });
    assert.equal(done.Progress, '100%');
    await assertSameData(ebs(n2, 'us-west-2'), copy.SnapshotId!);
  });

  test('a CopyImage whose node is killed mid-copy becomes available through another node', async () => {
    const [, n2, n3] = cluster.nodes;
    const reg = await ec2(n2).send(new RegisterImageCommand({
      Name: 'cluster-golden', Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: sourceSnapshot } }],
    }));
    const copied = await ec2(n3, 'eu-west-1').send(new CopyImageCommand({ SourceRegion: 'us-east-1', SourceImageId: reg.ImageId!, Name: 'cluster-golden-copy' }));
    const pending = (await ec2(n3, 'eu-west-1').send(new DescribeImagesCommand({ ImageIds: [copied.ImageId!] }))).Images![0];
    const snapshotId = pending.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    await midCopy(n3, 'eu-west-1', snapshotId);
    await n3.kill();
    const image = await eventually('the copied image available through another node', async () => {
      const img = (await ec2(n2, 'eu-west-1').send(new DescribeImagesCommand({ ImageIds: [copied.ImageId!] }))).Images![0];
      assert.notEqual(img.State, 'failed', img.StateReason?.Message);
      return img.State === 'available' ? img : undefined;
    });
    assert.equal(image.BlockDeviceMappings![0].Ebs!.SnapshotId, snapshotId);
    assert.equal((await snapshotOf(n2, 'eu-west-1', snapshotId)).State, 'completed');
    await assertSameData(ebs(n2, 'eu-west-1'), snapshotId);
  });

  test('an EBS direct upload whose node is killed goes on and completes through another node', async () => {
    const n1 = await cluster.restart(0);
    const n2 = cluster.nodes[1];
    const started = await ebs(n1).send(new StartSnapshotCommand({ VolumeSize: 1, Description: 'upload across nodes' }));
    const id = started.SnapshotId!;
    const checksums: Buffer[] = [];
    for (let i = 0; i < BLOCKS / 2; i++) checksums.push(Buffer.from(await putBlock(ebs(n1), id, i, blockOf(seeds.get(i)!)), 'base64'));
    await n1.kill();
    for (let i = BLOCKS / 2; i < BLOCKS; i++) checksums.push(Buffer.from(await putBlock(ebs(n2), id, i, blockOf(seeds.get(i)!)), 'base64'));
    const out = await ebs(n2).send(new CompleteSnapshotCommand({
      SnapshotId: id, ChangedBlocksCount: BLOCKS, Checksum: linearChecksum(checksums), ChecksumAlgorithm: 'SHA256', ChecksumAggregationMethod: 'LINEAR',
    }));
    assert.equal(out.Status, 'completed');
    await assertSameData(ebs(n2), id);
  });

  test('each periodic role (GC, sweeps, schedulers) is held by exactly one live node', async () => {
    const live = () => cluster.nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
    const roles = ['garbage-collection', 'recycle-bin-sweep', 'pending-images', 'image-build-recovery', 'image-pipeline-scheduler', 'image-lifecycle-scheduler', 'terminated-instances-sweep'];
    const holders = await eventually('every role on one live node', async () => {
      const seen = new Map<string, string[]>();
      for (const n of live()) {
        const health = await (await fetch(`${n.endpoint}/_amiforge/health`)).json() as { nodeId: string; status: string; roles: string[] };
        assert.equal(health.status, 'ok');
        for (const r of health.roles) seen.set(r, [...(seen.get(r) ?? []), health.nodeId]);
      }
      return roles.every((r) => seen.get(r)?.length === 1) ? seen : undefined;
    });
    assert.deepEqual([...holders.keys()].sort(), [...roles].sort());
    assert.equal(live().length, 1, 'nodes 1 and 3 were killed: node 2 took every role over');
  });
});
