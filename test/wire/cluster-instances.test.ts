// Two amiforge nodes on one store (test/support/cluster.ts) with the simulated hypervisor:
// instances belong to the node that runs their guests, requests about them sent to the other
// node are forwarded there (signatures intact), and when the owner dies the other node reports
// them as EC2 reports a failed host and can still stop, start and terminate them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttachVolumeCommand, AuthorizeSecurityGroupIngressCommand, CreateVolumeCommand, DeleteVolumeCommand, DescribeInstanceStatusCommand, DetachVolumeCommand,
  CreateSnapshotCommand, waitUntilSnapshotCompleted, waitUntilVolumeAvailable, waitUntilVolumeInUse, DescribeInstancesCommand, RebootInstancesCommand, StartInstancesCommand, StopInstancesCommand,
  TerminateInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { startCluster, type RunningCluster } from '../support/cluster.ts';
import { ALICE, BOB, type RunningServer } from '../support/server.ts';
import { awsCli, cliOk, credentialsOf, ec2Client } from '../support/clients.ts';
import { expectAwsError, registerEbs } from '../support/sdk.ts';
import {
  bootsIn, CLOUD_INIT_DONE, fast, consoleText, runOne, waitForConsole, waitRunning, waitStopped, waitTerminated,
} from '../support/instances.ts';

let cluster: RunningCluster;
let node1: RunningServer;
let node2: RunningServer;
/** Alice's clients of node 1 and node 2; Bob's of node 2. */
let alice1: EC2Client;
let alice2: EC2Client;
let bob2: EC2Client;

before(async () => {
  cluster = await startCluster({ nodes: 2, accounts: [ALICE, BOB], extraArgs: ['--sim-boot-ms', '50'], leaseSeconds: 2 });
  [node1, node2] = cluster.nodes;
  alice1 = ec2Client(node1.endpoint, credentialsOf(ALICE));
  alice2 = ec2Client(node2.endpoint, credentialsOf(ALICE));
  bob2 = ec2Client(node2.endpoint, credentialsOf(BOB));
});
after(async () => {
  await cluster?.stop();
});

interface NodesView { nodeId: string; nodes: { nodeId: string; url: string; self: boolean; hypervisor: string; instances: { count: number; ids: string[] } }[] }

async function nodesSeenBy(node: RunningServer): Promise<NodesView> {
  const res = await node.ops(`/_amiforge/nodes`);
  assert.equal(res.status, 200);
  return await res.json() as NodesView;
}

/**
 * A node's request log lines for an action, once at least `n` are there: a request is logged
 * just after its answer is sent, so the line can trail the answer a little.
 */
const logged = (node: RunningServer, action: string, n = 1) => until(`${n} ${action} logged`, async () => {
  const lines = node.logs.filter((l) => l.msg === 'request' && l.action === action);
  return lines.length >= n ? lines : undefined;
});

/** Where a node sent its requests of this action: the nodes each was forwarded to (undefined: served itself). */
const forwardedTo = async (node: RunningServer, action: string, n = 1) => (await logged(node, action, n)).map((l) => l.forwardedTo);

async function stateOf(ec2: EC2Client, id: string): Promise<string | undefined> {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('instances on two nodes', () => {
  let imageId: string;
  let instanceId: string;

  test('/_amiforge/nodes on either node lists both live nodes', async () => {
    for (const node of [node1, node2]) {
      const view = await nodesSeenBy(node);
      assert.deepEqual(view.nodes.map((n) => n.nodeId), ['node-1', 'node-2']);
      assert.equal(view.nodes.find((n) => n.self)?.nodeId, view.nodeId);
      assert.deepEqual(view.nodes.map((n) => n.url), [node1.endpoint, node2.endpoint]);
      assert.ok(view.nodes.every((n) => n.hypervisor === 'sim'));
    }
  });

  test('an image registered on node 1 is launched through node 2, which runs it; both describe it', async () => {
    imageId = await registerEbs(alice1, 'cluster-image');
    instanceId = (await runOne(alice2, { ImageId: imageId })).InstanceId!;
    await waitRunning(alice1, [instanceId]);
    assert.equal(await stateOf(alice2, instanceId), 'running');
    const view = await nodesSeenBy(node1);
    assert.deepEqual(view.nodes.find((n) => n.nodeId === 'node-2')?.instances.ids, [instanceId]);
    assert.deepEqual(view.nodes.find((n) => n.nodeId === 'node-1')?.instances.ids, []);
  });

  test('AttachVolume, CreateSnapshot of the attached volume and DetachVolume (by volume id alone) sent to node 1 are forwarded to node 2', async () => {
    const zone = (await alice1.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0].Instances![0].Placement!.AvailabilityZone!;
    const { VolumeId: volumeId } = await alice1.send(new CreateVolumeCommand({ AvailabilityZone: zone, Size: 1 }));
    await waitUntilVolumeAvailable(fast(alice1), { VolumeIds: [volumeId!] });
    await alice1.send(new AttachVolumeCommand({ InstanceId: instanceId, VolumeId: volumeId!, Device: '/dev/sdf' }));
    await waitUntilVolumeInUse(fast(alice2), { VolumeIds: [volumeId!] });
    // Its guest's unflushed writes are on node 2: the snapshot is taken there.
    const snap = await alice1.send(new CreateSnapshotCommand({ VolumeId: volumeId! }));
    assert.match(snap.SnapshotId ?? '', /^snap-/);
    assert.deepEqual(await forwardedTo(node1, 'CreateSnapshot'), ['node-2']);
    await waitUntilSnapshotCompleted(fast(alice1), { SnapshotIds: [snap.SnapshotId!] });
    await alice1.send(new DetachVolumeCommand({ VolumeId: volumeId! }));
    await waitUntilVolumeAvailable(fast(alice2), { VolumeIds: [volumeId!] });
    assert.deepEqual(await forwardedTo(node1, 'AttachVolume'), ['node-2']);
    assert.deepEqual(await forwardedTo(node1, 'DetachVolume'), ['node-2']);
    await alice2.send(new DeleteVolumeCommand({ VolumeId: volumeId! }));
  });

  test('GetConsoleOutput, Reboot, Stop and Start sent to node 1 are forwarded to node 2 and work', async () => {
    // Only node 2's hypervisor has the guest's console: node 1 answering it shows the forward worked.
    const text = await waitForConsole(alice1, instanceId, CLOUD_INIT_DONE);
    assert.equal(bootsIn(text), 1);
    await alice1.send(new RebootInstancesCommand({ InstanceIds: [instanceId] }));
    await until('a second boot on the console', async () => (bootsIn(await consoleText(alice1, instanceId)) === 2 ? true : undefined));
    const stopped = await alice1.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(stopped.StoppingInstances?.[0].CurrentState?.Name, 'stopping');
    await waitStopped(alice2, [instanceId]);
    for (const action of ['GetConsoleOutput', 'RebootInstances', 'StopInstances']) {
      const lines = await logged(node1, action);
      assert.ok(lines.every((l) => l.forwardedTo === 'node-2' && l.status === 200), `node 1 forwarded ${action} to node 2`);
    }
    // Stopped, it has no guest: node 1 starts it itself, and runs it from now on.
    await alice1.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
    await waitRunning(alice2, [instanceId]);
    assert.deepEqual(await forwardedTo(node1, 'StartInstances'), [undefined]);
    const view = await nodesSeenBy(node2);
    assert.deepEqual(view.nodes.find((n) => n.nodeId === 'node-1')?.instances.ids, [instanceId]);
  });

  test('the aws CLI through node 2: get-console-output and reboot-instances are forwarded to node 1', async () => {
    // Node 2 served the consoles and the reboot node 1 forwarded to it so far.
    const served = (await logged(node2, 'GetConsoleOutput')).length;
    const rebooted = (await logged(node2, 'RebootInstances')).length;
    const out = await cliOk(awsCli(node2.endpoint, credentialsOf(ALICE), ['ec2', 'get-console-output', '--instance-id', instanceId]));
    assert.equal(out.InstanceId, instanceId);
    await cliOk(awsCli(node2.endpoint, credentialsOf(ALICE), ['ec2', 'reboot-instances', '--instance-ids', instanceId]));
    assert.equal((await forwardedTo(node2, 'GetConsoleOutput', served + 1)).at(-1), 'node-1');
    assert.equal((await forwardedTo(node2, 'RebootInstances', rebooted + 1)).at(-1), 'node-1');
  });

  test('another account cannot act on the instance through either node, forwarded or not', async () => {
    for (const client of [bob2, ec2Client(node1.endpoint, credentialsOf(BOB))]) {
      await expectAwsError(client.send(new StopInstancesCommand({ InstanceIds: [instanceId] })), { name: 'InvalidInstanceID.NotFound' });
      await expectAwsError(client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })), { name: 'InvalidInstanceID.NotFound' });
    }
    assert.equal(await stateOf(alice2, instanceId), 'running');
  });

  test('a forged signature is refused by the node it reaches, before anything is forwarded', async () => {
    const forged = ec2Client(node2.endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-alice-s-secret' });
    await expectAwsError(forged.send(new StopInstancesCommand({ InstanceIds: [instanceId] })), { name: 'SignatureDoesNotMatch' });
    assert.equal(await stateOf(alice1, instanceId), 'running');
  });

  test('a security group rule added through node 2 reaches the guest node 1 runs', async () => {
    const instance = (await alice2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0].Instances![0];
    assert.ok(instance.PublicIpAddress, 'the instance has a host address, where allowed ports are forwarded');
    const groupId = instance.SecurityGroups![0].GroupId!;
    await alice2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, CidrIp: '0.0.0.0/0' }));
    // Node 1 hands its guest the new ports with its next heartbeat (every third of the lease).
    await until('node 1 updating the forwards', async () =>
      node1.logs.some((l) => l.msg === 'port forwards updated after security group changes on other nodes'
        && (l.instances as string[]).includes(instanceId)) || undefined);
  });

  test('one request naming guests of both nodes is refused; TerminateInstances is forwarded like the others', async () => {
    const onNode2 = (await runOne(alice2, { ImageId: imageId })).InstanceId!;
    await waitRunning(alice2, [onNode2]);
    await expectAwsError(alice1.send(new StopInstancesCommand({ InstanceIds: [instanceId, onNode2] })), {
      name: 'InvalidParameterCombination', message: /run on different amiforge nodes \(node-2, node-1\); send one request per node/,
    });
    const out = await alice1.send(new TerminateInstancesCommand({ InstanceIds: [onNode2] }));
    assert.equal(out.TerminatingInstances?.[0].CurrentState?.Name, 'shutting-down');
    await waitTerminated(alice1, [onNode2]);
    // Bob's TerminateInstances earlier, refused by node 1 itself, then this one.
    assert.deepEqual(await forwardedTo(node1, 'TerminateInstances', 2), [undefined, 'node-2']);
    assert.equal(await stateOf(alice1, instanceId), 'running');
  });

  test('a second process with a live node\'s id is refused at start', async () => {
    await assert.rejects(cluster.startNode('node-1'),
      /node id node-1 is in use by a live node/);
  });

  test('node 1 killed: node 2 reports its instances impaired, stops, starts and terminates them', async () => {
    const second = (await runOne(alice1, { ImageId: imageId })).InstanceId!;
    await waitRunning(alice1, [second]);
    await node1.kill();
    // Within the lease (2 s) node 1 drops out of the registry.
    await until('node 1 gone from /_amiforge/nodes', async () => {
      const view = await nodesSeenBy(node2);
      return view.nodes.length === 1 ? view : undefined;
    });
    assert.deepEqual((await nodesSeenBy(node2)).nodes.map((n) => n.nodeId), ['node-2']);
    const statuses = (await alice2.send(new DescribeInstanceStatusCommand({ InstanceIds: [instanceId, second] }))).InstanceStatuses!;
    assert.equal(statuses.length, 2);
    for (const s of statuses) {
      assert.equal(s.InstanceState?.Name, 'running');
      assert.equal(s.SystemStatus?.Status, 'impaired');
      assert.equal(s.InstanceStatus?.Status, 'impaired');
      assert.equal(s.InstanceStatus?.Details?.[0].Name, 'reachability');
      assert.equal(s.InstanceStatus?.Details?.[0].Status, 'failed');
      assert.ok(s.InstanceStatus?.Details?.[0].ImpairedSince instanceof Date);
    }
    // Stop and terminate still work, done by node 2 in the store: the guests went with node 1.
    await alice2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    await waitStopped(alice2, [instanceId]);
    await alice2.send(new TerminateInstancesCommand({ InstanceIds: [second] }));
    await waitTerminated(alice2, [second]);
    // Started again, the instance moves to node 2 and its status checks pass.
    await alice2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
    await waitRunning(alice2, [instanceId]);
    const view = await nodesSeenBy(node2);
    assert.deepEqual(view.nodes[0].instances.ids, [instanceId]);
    const status = (await alice2.send(new DescribeInstanceStatusCommand({ InstanceIds: [instanceId] }))).InstanceStatuses![0];
    assert.equal(status.SystemStatus?.Status, 'ok');
    await waitForConsole(alice2, instanceId, CLOUD_INIT_DONE);
    await alice2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    await waitTerminated(alice2, [instanceId]);
  });
});
