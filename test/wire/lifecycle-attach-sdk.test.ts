// AttachVolume and DetachVolume through @aws-sdk/client-ec2: the attaching → attached and
// detaching → detached states, the volume and the instance agreeing about it, a volume carried
// from one instance to another (read by the second guest after a hot-plug), EC2's errors, and
// CreateSnapshots of an instance's volumes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttachVolumeCommand, CreateSnapshotsCommand, CreateTagsCommand, CreateVolumeCommand, DeleteVolumeCommand, DescribeInstancesCommand,
  DescribeVolumesCommand, DetachVolumeCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type EC2Client, type Volume,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import {
  CATALOGUE_AMI, CLOUD_INIT_DONE, runOne, simUserData, waitForConsole, waitRunning, waitState, waitStopped, waitTerminated,
} from '../support/instances.ts';

let server: RunningServer;
let ec2: EC2Client;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '200'] });
  ec2 = ec2Client(server.endpoint, devCredentials('666666666666'));
});
after(async () => {
  await server?.stop();
});

async function volume(id: string): Promise<Volume> {
  return (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0];
}

async function waitVolume(id: string, check: (v: Volume) => boolean): Promise<Volume> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await volume(id);
    if (check(v)) return v;
    if (Date.now() > deadline) assert.fail(`volume ${id} never reached the expected state: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function devicesOf(instanceId: string): Promise<string[]> {
  const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0].Instances![0];
  return i.BlockDeviceMappings!.map((m) => `${m.DeviceName}=${m.Ebs!.VolumeId}`);
}

describe('AttachVolume and DetachVolume', () => {
  test('a volume written by one instance, detached by its termination, hot-plugged into another and read there', async () => {
    const writer = await runOne(ec2, {
      ImageId: CATALOGUE_AMI,
      BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1, DeleteOnTermination: false } }],
      UserData: simUserData('write /dev/sdf 4K carried between instances'),
    });
    const dataVolume = writer.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdf')!.Ebs!.VolumeId!;
    await waitRunning(ec2, [writer.InstanceId!]);
    await waitForConsole(ec2, writer.InstanceId!, CLOUD_INIT_DONE);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [writer.InstanceId!] }));
    await waitTerminated(ec2, [writer.InstanceId!]);
    assert.equal((await volume(dataVolume)).State, 'available');

    // The reader's script waits, then reads the device the test plugs in meanwhile.
    const reader = await runOne(ec2, { ImageId: CATALOGUE_AMI, UserData: simUserData('sleep 1500', 'read /dev/sdh 4K 25') });
    await waitRunning(ec2, [reader.InstanceId!]);
    const attaching = await ec2.send(new AttachVolumeCommand({ VolumeId: dataVolume, InstanceId: reader.InstanceId!, Device: '/dev/sdh' }));
    assert.equal(attaching.State, 'attaching');
    assert.equal(attaching.Device, '/dev/sdh');
    assert.equal(attaching.InstanceId, reader.InstanceId);
    const attached = await waitVolume(dataVolume, (v) => v.Attachments?.[0]?.State === 'attached');
    assert.equal(attached.State, 'in-use');
    assert.equal(attached.Attachments![0].DeleteOnTermination, false);
    const devices = await devicesOf(reader.InstanceId!);
    assert.deepEqual(devices.map((d) => d.split('=')[0]), ['/dev/xvda', '/dev/sdh'], 'the instance lists the volume: root first');
    assert.equal(devices[1], `/dev/sdh=${dataVolume}`);
    const log = await waitForConsole(ec2, reader.InstanceId!, CLOUD_INIT_DONE);
    assert.match(log, /blkfront: sdh: 1 GiB volume vol-[0-9a-f]+ attached/);
    assert.match(log, /^carried between instances$/m);

    const detaching = await ec2.send(new DetachVolumeCommand({ VolumeId: dataVolume }));
    assert.equal(detaching.State, 'detaching');
    const free = await waitVolume(dataVolume, (v) => v.State === 'available');
    assert.deepEqual(free.Attachments, []);
    assert.deepEqual((await devicesOf(reader.InstanceId!)).map((d) => d.split('=')[0]), ['/dev/xvda']);
  });

  test("EC2's errors: in use, zone mismatch, taken device, not attached, wrong instance, root of a running instance, not running or stopped", async () => {
    const a = await runOne(ec2, { ImageId: CATALOGUE_AMI });
    const b = await runOne(ec2, { ImageId: CATALOGUE_AMI });
    const vol = (await ec2.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: 'us-east-1a' }))).VolumeId!;
    await expectAwsError(ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId!, Device: '/dev/sdf' })), {
      name: 'IncorrectState', message: `Instance '${a.InstanceId}' is not 'running' or 'stopped'.`,
    });
    await waitRunning(ec2, [a.InstanceId!, b.InstanceId!]);
    const elsewhere = (await ec2.send(new CreateVolumeCommand({ Size: 1, AvailabilityZone: 'us-east-1b' }))).VolumeId!;
    await expectAwsError(ec2.send(new AttachVolumeCommand({ VolumeId: elsewhere, InstanceId: a.InstanceId!, Device: '/dev/sdf' })), {
      name: 'InvalidVolume.ZoneMismatch', message: `The volume '${elsewhere}' is not in the same availability zone as instance '${a.InstanceId}'`,
    });
    await expectAwsError(ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId!, Device: '/dev/xvda' })), {
      name: 'InvalidParameterValue', message: 'Attachment point /dev/xvda is already in use',
    });
    await expectAwsError(ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId!, Device: 'floppy' })), { name: 'InvalidParameterValue' });
    await expectAwsError(ec2.send(new DetachVolumeCommand({ VolumeId: vol })), { name: 'IncorrectState', message: `Volume '${vol}' is in the 'available' state.` });
    await ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId!, Device: '/dev/sdf' }));
    await expectAwsError(ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: b.InstanceId!, Device: '/dev/sdf' })), {
      name: 'VolumeInUse', message: `${vol} is already attached to an instance`,
    });
    await expectAwsError(ec2.send(new DeleteVolumeCommand({ VolumeId: vol })), { name: 'VolumeInUse' });
    await expectAwsError(ec2.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: b.InstanceId! })), { name: 'InvalidAttachment.NotFound' });
    const root = (await devicesOf(a.InstanceId!)).find((d) => d.startsWith('/dev/xvda='))!.split('=')[1];
    await expectAwsError(ec2.send(new DetachVolumeCommand({ VolumeId: root })), {
      name: 'IncorrectState', message: `Unable to detach root volume '${root}' from instance '${a.InstanceId}'`,
    });
    await expectAwsError(ec2.send(new AttachVolumeCommand({ VolumeId: 'vol-0000000000000000f', InstanceId: a.InstanceId!, Device: '/dev/sdg' })), { name: 'InvalidVolume.NotFound' });
    await expectAwsError(ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: 'i-0000000000000000f', Device: '/dev/sdg' })), { name: 'InvalidInstanceID.NotFound' });
  });

  test('the root volume of a stopped instance can be detached; it cannot start again until a root is attached', async () => {
    const i = await runOne(ec2, { ImageId: CATALOGUE_AMI });
    const id = i.InstanceId!;
    const root = i.BlockDeviceMappings![0].Ebs!.VolumeId!;
    await waitRunning(ec2, [id]);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitStopped(ec2, [id]);
    await ec2.send(new DetachVolumeCommand({ VolumeId: root }));
    await waitVolume(root, (v) => v.State === 'available');
    await expectAwsError(ec2.send(new StartInstancesCommand({ InstanceIds: [id] })), {
      name: 'IncorrectInstanceState', message: `Invalid value '${id}' for instanceId. Instance does not have a volume attached at root (/dev/xvda)`,
    });
    await ec2.send(new AttachVolumeCommand({ VolumeId: root, InstanceId: id, Device: '/dev/xvda' }));
    await waitVolume(root, (v) => v.Attachments?.[0]?.State === 'attached');
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await waitState(ec2, id, 'running');
  });

  test('CreateSnapshots: every EBS volume of the instance at one instant, or without the boot volume', async () => {
    const i = await runOne(ec2, { ImageId: CATALOGUE_AMI, BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 2 } }, { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }] });
    await waitRunning(ec2, [i.InstanceId!]);
    const data = i.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdf')!.Ebs!.VolumeId!;
    await ec2.send(new CreateTagsCommand({ Resources: [data], Tags: [{ Key: 'disk', Value: 'data' }] }));
    const all = await ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: i.InstanceId! }, Description: 'nightly' }));
    assert.equal(all.Snapshots!.length, 2, 'the two EBS volumes; never the instance store');
    assert.ok(all.Snapshots!.every((s) => s.Description === 'nightly' && /^snap-/.test(s.SnapshotId!)));
    const noBoot = await ec2.send(new CreateSnapshotsCommand({
      InstanceSpecification: { InstanceId: i.InstanceId!, ExcludeBootVolume: true }, CopyTagsFromSource: 'volume',
    }));
    assert.deepEqual(noBoot.Snapshots!.map((s) => [s.VolumeId, s.VolumeSize, s.Tags]), [[data, 2, [{ Key: 'disk', Value: 'data' }]]]);
    await expectAwsError(ec2.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: 'i-0000000000000000f' } })), { name: 'InvalidInstanceID.NotFound' });
  });
});
