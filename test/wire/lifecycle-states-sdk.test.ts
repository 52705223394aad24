// EC2's instance state machine through @aws-sdk/client-ec2 and its waiters: Start/Stop/Reboot/
// TerminateInstances with their state changes, what a stop keeps and what termination releases
// (DeleteOnTermination), instance-store-backed instances that cannot stop, guests that shut
// themselves down, termination protection, and the attributes that change only when stopped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateImageCommand, DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeVolumesCommand, ModifyInstanceAttributeCommand,
  RebootInstancesCommand, RegisterImageCommand, StartInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type EC2Client, type Instance,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { defaultSnapshot, expectAwsError } from '../support/sdk.ts';
import {
  bootsIn, CATALOGUE_AMI, CLOUD_INIT_DONE, consoleText, runOne, simUserData, waitForConsole, waitRunning, waitState, waitStopped, waitTerminated,
} from '../support/instances.ts';

let server: RunningServer;
let ec2: EC2Client;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '200'] });
  ec2 = ec2Client(server.endpoint, devCredentials('333333333333'));
});
after(async () => {
  await server?.stop();
});

async function describe1(id: string): Promise<Instance> {
  return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
}

const change = (id: string, previous: [number, string], current: [number, string]) => ({
  InstanceId: id, PreviousState: { Code: previous[0], Name: previous[1] }, CurrentState: { Code: current[0], Name: current[1] },
});
const PENDING: [number, string] = [0, 'pending'];
const RUNNING: [number, string] = [16, 'running'];
const SHUTTING: [number, string] = [32, 'shutting-down'];
const TERMINATED: [number, string] = [48, 'terminated'];
const STOPPING: [number, string] = [64, 'stopping'];
const STOPPED: [number, string] = [80, 'stopped'];

describe('the instance state machine', () => {
  test('pending → running → stopping → stopped → pending → running → shutting-down → terminated, with EC2 codes', async () => {
    const launched = await runOne(ec2, { ImageId: CATALOGUE_AMI, UserData: simUserData('write /dev/xvda 1M kept across stops', 'echo first boot only') });
    const id = launched.InstanceId!;
    await expectAwsError(ec2.send(new StopInstancesCommand({ InstanceIds: [id] })), {
      name: 'IncorrectInstanceState', message: `This instance '${id}' is not in a state from which it can be stopped.`,
    });
    await waitRunning(ec2, [id]);
    await waitForConsole(ec2, id, CLOUD_INIT_DONE);
    assert.deepEqual((await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }))).StartingInstances, [change(id, RUNNING, RUNNING)]);

    const firstLaunch = (await describe1(id)).LaunchTime!;
    assert.deepEqual((await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }))).StoppingInstances, [change(id, RUNNING, STOPPING)]);
    await waitStopped(ec2, [id]);
    const stopped = await describe1(id);
    assert.deepEqual(stopped.StateReason, { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' });
    assert.match(stopped.StateTransitionReason!, /^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/);
    assert.deepEqual((await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }))).StoppingInstances, [change(id, STOPPED, STOPPED)]);
    assert.match(await consoleText(ec2, id), /reboot: Power down/, 'the console outlives the guest');

    assert.deepEqual((await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }))).StartingInstances, [change(id, STOPPED, PENDING)]);
    await waitRunning(ec2, [id]);
    const again = await describe1(id);
    assert.ok(again.LaunchTime! > firstLaunch, 'LaunchTime moves with each start');
    assert.equal(again.StateReason, undefined);
    const log = await waitForConsole(ec2, id, /login:[\s\S]*login:/);
    assert.equal(log.split('first boot only').length - 1, 1, 'user data ran once');

    assert.deepEqual((await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }))).TerminatingInstances, [change(id, RUNNING, SHUTTING)]);
    await waitTerminated(ec2, [id]);
    assert.deepEqual((await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }))).TerminatingInstances, [change(id, TERMINATED, TERMINATED)]);
    await expectAwsError(ec2.send(new StartInstancesCommand({ InstanceIds: [id] })), {
      name: 'IncorrectInstanceState', message: `The instance '${id}' is not in a state from which it can be started.`,
    });
    const gone = await describe1(id);
    assert.equal(gone.PrivateIpAddress, undefined, 'a terminated instance has released its address');
    assert.deepEqual(gone.BlockDeviceMappings, []);
  });

  test('RebootInstances keeps the instance running and boots the guest again', async () => {
    const { InstanceId: id } = await runOne(ec2, { ImageId: CATALOGUE_AMI });
    await waitRunning(ec2, [id!]);
    await waitForConsole(ec2, id!, CLOUD_INIT_DONE);
    await ec2.send(new RebootInstancesCommand({ InstanceIds: [id!] }));
    assert.equal((await describe1(id!)).State?.Name, 'running');
    const log = await waitForConsole(ec2, id!, /Restarting system[\s\S]*login:/);
    assert.equal(bootsIn(log), 2);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id!] }));
    await waitStopped(ec2, [id!]);
    await expectAwsError(ec2.send(new RebootInstancesCommand({ InstanceIds: [id!] })), { name: 'IncorrectInstanceState' });
  });

  test('termination deletes DeleteOnTermination volumes and detaches the others, which stay available', async () => {
    const launched = await runOne(ec2, {
      ImageId: CATALOGUE_AMI,
      BlockDeviceMappings: [
        { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1, DeleteOnTermination: false } },
        { DeviceName: '/dev/sdg', Ebs: { VolumeSize: 1 } },
      ],
    });
    const id = launched.InstanceId!;
    const vols = new Map(launched.BlockDeviceMappings!.map((m) => [m.DeviceName, m.Ebs!]));
    assert.equal(vols.get('/dev/xvda')!.DeleteOnTermination, true);
    assert.equal(vols.get('/dev/sdf')!.DeleteOnTermination, false);
    assert.equal(vols.get('/dev/sdg')!.DeleteOnTermination, true);
    await waitRunning(ec2, [id]);
    // DeleteOnTermination can be changed on a running instance.
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, BlockDeviceMappings: [{ DeviceName: '/dev/sdg', Ebs: { DeleteOnTermination: false } }] }));
    const attr = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'blockDeviceMapping' }));
    assert.equal(attr.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdg')!.Ebs!.DeleteOnTermination, false);

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitTerminated(ec2, [id]);
    await expectAwsError(ec2.send(new DescribeVolumesCommand({ VolumeIds: [vols.get('/dev/xvda')!.VolumeId!] })), { name: 'InvalidVolume.NotFound' });
    const kept = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vols.get('/dev/sdf')!.VolumeId!, vols.get('/dev/sdg')!.VolumeId!] }))).Volumes!;
    assert.deepEqual(kept.map((v) => [v.State, v.Attachments?.length ?? 0]), [['available', 0], ['available', 0]]);
  });

  test('an instance-store-backed instance cannot be stopped', async () => {
    const reg = await ec2.send(new RegisterImageCommand({ Name: 'instance-store-ami', ImageLocation: 'my-bucket/image.manifest.xml', Architecture: 'x86_64', VirtualizationType: 'hvm' }));
    const { InstanceId: id } = await runOne(ec2, { ImageId: reg.ImageId! });
    await waitRunning(ec2, [id!]);
    const i = await describe1(id!);
    assert.equal(i.RootDeviceType, 'instance-store');
    assert.deepEqual(i.BlockDeviceMappings, [], 'no EBS volumes');
    await expectAwsError(ec2.send(new StopInstancesCommand({ InstanceIds: [id!] })), {
      name: 'UnsupportedOperation', message: `The instance '${id}' does not have an 'ebs' root device type and cannot be stopped.`,
    });
    await expectAwsError(ec2.send(new CreateImageCommand({ InstanceId: id!, Name: 'of-instance-store' })), { name: 'UnsupportedOperation' });
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id!] }));
    await waitTerminated(ec2, [id!]);
  });

  test('a guest that powers itself off stops, or terminates, as InstanceInitiatedShutdownBehavior says', async () => {
    const stops = await runOne(ec2, { ImageId: CATALOGUE_AMI, UserData: simUserData('poweroff') });
    const ends = await runOne(ec2, { ImageId: CATALOGUE_AMI, UserData: simUserData('poweroff'), InstanceInitiatedShutdownBehavior: 'terminate' });
    // The SDK's waiters count pending → stopped as a failure, so these poll.
    const stopped = await waitState(ec2, stops.InstanceId!, 'stopped');
    const terminated = await waitState(ec2, ends.InstanceId!, 'terminated');
    for (const i of [stopped, terminated]) {
      assert.deepEqual(i.StateReason, { Code: 'Client.InstanceInitiatedShutdown', Message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown' });
    }
  });

  test('termination protection: TerminateInstances is OperationNotPermitted until disableApiTermination is false', async () => {
    const { InstanceId: id } = await runOne(ec2, { ImageId: CATALOGUE_AMI, DisableApiTermination: true });
    await waitRunning(ec2, [id!]);
    await expectAwsError(ec2.send(new TerminateInstancesCommand({ InstanceIds: [id!] })), {
      name: 'OperationNotPermitted', message: `The instance '${id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
    });
    const attr = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id!, Attribute: 'disableApiTermination' }));
    assert.equal(attr.DisableApiTermination?.Value, true);
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id!, DisableApiTermination: { Value: false } }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id!] }));
    await waitTerminated(ec2, [id!]);
  });

  test('instanceType and userData change only while stopped', async () => {
    const userData = simUserData('echo v1');
    const { InstanceId: id } = await runOne(ec2, { ImageId: CATALOGUE_AMI, InstanceType: 't3.micro', UserData: userData });
    await waitRunning(ec2, [id!]);
    const notStopped = { name: 'IncorrectInstanceState', message: `The instance '${id}' is not in the 'stopped' state.` };
    await expectAwsError(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id!, InstanceType: { Value: 't3.large' } })), notStopped);
    await expectAwsError(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id!, UserData: { Value: Buffer.from('x') } })), notStopped);
    assert.equal((await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id!, Attribute: 'userData' }))).UserData?.Value, userData);

    await ec2.send(new StopInstancesCommand({ InstanceIds: [id!] }));
    await waitStopped(ec2, [id!]);
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id!, InstanceType: { Value: 't3.large' } }));
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id!, UserData: { Value: Buffer.from('#!amiforge-sim\necho v2\n') } }));
    await expectAwsError(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id!, InstanceType: { Value: 't4g.large' } })), { name: 'InvalidInstanceAttributeValue' });
    const type = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id!, Attribute: 'instanceType' }));
    assert.equal(type.InstanceType?.Value, 't3.large');
    const ud = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id!, Attribute: 'userData' }));
    assert.equal(Buffer.from(ud.UserData!.Value!, 'base64').toString(), '#!amiforge-sim\necho v2\n');
    await ec2.send(new StartInstancesCommand({ InstanceIds: [id!] }));
    await waitRunning(ec2, [id!]);
    assert.equal((await describe1(id!)).InstanceType, 't3.large');
    assert.match(await waitForConsole(ec2, id!, /DMI: Amazon EC2 t3\.large/), /DMI: Amazon EC2 t3\.micro/);
  });

  test('an image still pending cannot be launched', async () => {
    const { InstanceId: id } = await runOne(ec2, { ImageId: CATALOGUE_AMI });
    await waitRunning(ec2, [id!]);
    const img = await ec2.send(new CreateImageCommand({ InstanceId: id!, Name: 'not-yet' }));
    await expectAwsError(runOne(ec2, { ImageId: img.ImageId! }), {
      name: 'InvalidAMIID.Unavailable', message: `The image id '[${img.ImageId}]' is not available: its state is 'pending'.`,
    });
  });

  test('launch volumes honour the snapshot size; a mapping cannot shrink it', async () => {
    const snap = await defaultSnapshot(ec2);
    const reg = await ec2.send(new RegisterImageCommand({
      Name: 'eight-gib', Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap } }],
    }));
    await expectAwsError(runOne(ec2, { ImageId: reg.ImageId!, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 4 } }] }), {
      name: 'InvalidBlockDeviceMapping', message: `Volume of size 4GB is smaller than snapshot '${snap}', expect size >= 8GB`,
    });
    const big = await runOne(ec2, { ImageId: reg.ImageId!, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 100, VolumeType: 'gp3' } }] });
    const vol = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [big.BlockDeviceMappings![0].Ebs!.VolumeId!] }))).Volumes![0];
    assert.deepEqual([vol.Size, vol.VolumeType, vol.SnapshotId], [100, 'gp3', snap]);
    await expectAwsError(runOne(ec2, { ImageId: reg.ImageId!, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', NoDevice: '' }] }), { name: 'InvalidBlockDeviceMapping' });
  });
});
