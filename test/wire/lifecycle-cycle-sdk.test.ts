// The lifecycle end to end through @aws-sdk/client-ec2 and client-ebs, in strict mode with two
// accounts: a disk uploaded through the EBS direct APIs and registered, an instance that changes
// its root volume through (simulator) user data, CreateImage of it, and a second instance from
// the new image that reads the change back; then sharing with another account, and what
// deregistering leaves behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListChangedBlocksCommand, type EBSClient } from '@aws-sdk/client-ebs';
import {
  CreateImageCommand, CreateVolumeCommand, DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeInstancesCommand,
  DescribeSnapshotsCommand, DescribeVolumesCommand, GetConsoleOutputCommand, ModifyImageAttributeCommand, ModifySnapshotAttributeCommand,
  StopInstancesCommand, TerminateInstancesCommand, type EC2Client, type Image,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { ebsClient } from '../support/ebs.ts';
import { expectAwsError } from '../support/sdk.ts';
import {
  bootBlock, bootsIn, CLOUD_INIT_DONE, consoleText, runOne, simUserData, uploadImage, waitForConsole, waitImage, waitRunning, waitStopped,
} from '../support/instances.ts';

/** An account in an organizational unit, for launch permissions granted to the OU. */
const OU = 'arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-cdefgh34';
const CAROL: TestAccount = {
  id: '333333333333', accessKeyId: 'AKIACAROL00000000003', secretAccessKey: 'carol-secret-key-000000000000000000000',
  organization: { arn: 'arn:aws:organizations::111111111111:organization/o-abcdefghij', organizationalUnits: [OU] },
};

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceEbs: EBSClient;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB, CAROL], extraArgs: ['--sim-boot-ms', '50'] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
  aliceEbs = ebsClient(server.endpoint, credentialsOf(ALICE));
});
after(async () => {
  await server?.stop();
});

async function image(c: EC2Client, id: string): Promise<Image> {
  const out = await c.send(new DescribeImagesCommand({ ImageIds: [id] }));
  return out.Images![0];
}

const MiB = 1024 * 1024;

describe('the golden-image cycle', () => {
  let baseImage: string;
  let baseSnapshot: string;
  let builder: string;
  let rootVolume: string;
  let golden: string;
  let goldenSnapshot: string;

  before(async () => {
    ({ imageId: baseImage, snapshotId: baseSnapshot } = await uploadImage(alice, aliceEbs, 'base-os-v1', new Map([
      [0, bootBlock('base os v1')], [3, Buffer.from('data the base image carries')],
    ])));
  });

  test('RunInstances from the uploaded image; user data writes the root volume; DescribeInstances says so truthfully', async () => {
    const started = Date.now();
    const launched = await runOne(alice, {
      ImageId: baseImage, InstanceType: 't3.small',
      UserData: simUserData('write /dev/xvda 2M built by the pipeline', 'echo provisioned'),
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'role', Value: 'builder' }] }, { ResourceType: 'volume', Tags: [{ Key: 'role', Value: 'builder-disk' }] }],
    });
    builder = launched.InstanceId!;
    assert.match(builder, /^i-[0-9a-f]{17}$/);
    assert.deepEqual(launched.State, { Code: 0, Name: 'pending' });
    await waitRunning(alice, [builder]);
    const log = await waitForConsole(alice, builder, CLOUD_INIT_DONE);
    assert.match(log, /MBR boot signature/);
    assert.match(log, /^provisioned$/m);

    const res = (await alice.send(new DescribeInstancesCommand({ InstanceIds: [builder] }))).Reservations!;
    assert.equal(res.length, 1);
    assert.match(res[0].ReservationId!, /^r-[0-9a-f]{17}$/);
    assert.equal(res[0].OwnerId, ALICE.id);
    const i = res[0].Instances![0];
    assert.deepEqual(i.State, { Code: 16, Name: 'running' });
    assert.equal(i.ImageId, baseImage);
    assert.equal(i.InstanceType, 't3.small');
    assert.equal(i.AmiLaunchIndex, 0);
    assert.equal(i.Architecture, 'x86_64');
    assert.equal(i.VirtualizationType, 'hvm');
    assert.equal(i.Hypervisor, 'xen');
    assert.equal(i.RootDeviceType, 'ebs');
    assert.equal(i.RootDeviceName, '/dev/xvda');
    assert.equal(i.Placement?.AvailabilityZone, 'us-east-1a');
    assert.match(i.PrivateIpAddress!, /^172\.31\.\d+\.\d+$/);
    assert.equal(i.PrivateDnsName, `ip-${i.PrivateIpAddress!.replace(/\./g, '-')}.ec2.internal`);
    assert.ok(i.LaunchTime!.getTime() >= started - 1000);
    assert.deepEqual(i.Tags, [{ Key: 'role', Value: 'builder' }]);
    assert.equal(i.BlockDeviceMappings?.length, 1);
    const ebs = i.BlockDeviceMappings![0].Ebs!;
    assert.equal(i.BlockDeviceMappings![0].DeviceName, '/dev/xvda');
    assert.equal(ebs.Status, 'attached');
    assert.equal(ebs.DeleteOnTermination, true);
    assert.ok(ebs.AttachTime instanceof Date);
    rootVolume = ebs.VolumeId!;

    const vol = (await alice.send(new DescribeVolumesCommand({ VolumeIds: [rootVolume] }))).Volumes![0];
    assert.equal(vol.State, 'in-use');
    assert.equal(vol.SnapshotId, baseSnapshot);
    assert.equal(vol.Size, 2);
    assert.equal(vol.VolumeType, 'gp3');
    assert.deepEqual(vol.Attachments?.map((a) => [a.InstanceId, a.Device, a.State]), [[builder, '/dev/xvda', 'attached']]);
    assert.deepEqual(vol.Tags, [{ Key: 'role', Value: 'builder-disk' }]);
    assert.ok((await image(alice, baseImage)).LastLaunchedTime, 'the image records its last launch');
  });

  test('CreateImage: pending at once, the instance rebooted around one-instant snapshots, then available', async () => {
    const out = await alice.send(new CreateImageCommand({
      InstanceId: builder, Name: 'golden-v2', Description: 'built by the pipeline',
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'stage', Value: 'golden' }] }, { ResourceType: 'snapshot', Tags: [{ Key: 'stage', Value: 'golden-disk' }] }],
    }));
    golden = out.ImageId!;
    const pending = await image(alice, golden);
    assert.equal(pending.State, 'pending');
    assert.equal(pending.SourceInstanceId, builder);
    goldenSnapshot = pending.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    assert.match(goldenSnapshot, /^snap-[0-9a-f]{17}$/, 'the pending image already names its snapshot');
    await waitImage(alice, golden);

    const img = await image(alice, golden);
    assert.equal(img.State, 'available');
    assert.equal(img.Name, 'golden-v2');
    assert.equal(img.Description, 'built by the pipeline');
    assert.equal(img.RootDeviceName, '/dev/xvda');
    assert.equal(img.RootDeviceType, 'ebs');
    assert.equal(img.Architecture, 'x86_64');
    assert.equal(img.VirtualizationType, 'hvm');
    assert.equal(img.OwnerId, ALICE.id);
    assert.deepEqual(img.Tags, [{ Key: 'stage', Value: 'golden' }]);
    assert.deepEqual(img.BlockDeviceMappings, [{
      DeviceName: '/dev/xvda',
      Ebs: { SnapshotId: goldenSnapshot, VolumeSize: 2, VolumeType: 'gp3', Iops: 3000, Throughput: 125, DeleteOnTermination: true, Encrypted: false },
    }]);
    const snap = (await alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [goldenSnapshot] }))).Snapshots![0];
    assert.equal(snap.State, 'completed');
    assert.equal(snap.VolumeId, rootVolume);
    assert.equal(snap.Description, `Created by CreateImage(${builder}) for ${golden}`);
    assert.deepEqual(snap.Tags, [{ Key: 'stage', Value: 'golden-disk' }]);

    // Without NoReboot the guest was shut down for the snapshot and booted again; it stays running.
    const log = await waitForConsole(alice, builder, /login:[\s\S]*login:/);
    assert.equal(bootsIn(log), 2);
    assert.doesNotMatch(log.split('Linux version')[2], /^provisioned$/m, 'user data ran on the first boot only');
    const state = (await alice.send(new DescribeInstancesCommand({ InstanceIds: [builder] }))).Reservations![0].Instances![0].State;
    assert.equal(state?.Name, 'running');
  });

  test('the snapshot is incremental: only the block the instance wrote differs from the base', async () => {
    const changed = await aliceEbs.send(new ListChangedBlocksCommand({ FirstSnapshotId: baseSnapshot, SecondSnapshotId: goldenSnapshot }));
    assert.deepEqual(changed.ChangedBlocks?.map((b) => b.BlockIndex), [(2 * MiB) / (512 * 1024)]);
  });

  test('an instance of the new image reads the bytes back', async () => {
    const reader = await runOne(alice, { ImageId: golden, UserData: simUserData('read /dev/xvda 2M 21', 'read xvda 0 10', 'read xvda 1536K 27') });
    await waitRunning(alice, [reader.InstanceId!]);
    const log = await waitForConsole(alice, reader.InstanceId!, CLOUD_INIT_DONE);
    assert.match(log, /^built by the pipeline$/m);
    assert.match(log, /^base os v1$/m);
    assert.match(log, /^data the base image carries$/m);
    await alice.send(new TerminateInstancesCommand({ InstanceIds: [reader.InstanceId!] }));
  });

  test('NoReboot snapshots the running instance without a reboot', async () => {
    const out = await alice.send(new CreateImageCommand({ InstanceId: builder, Name: 'golden-v2-noreboot', NoReboot: true }));
    await waitImage(alice, out.ImageId!);
    assert.equal(bootsIn(await consoleText(alice, builder)), 2, 'no third boot');
  });

  test('another account cannot launch the image until it is shared, nor make volumes of its snapshot without createVolumePermission', async () => {
    await expectAwsError(runOne(bob, { ImageId: golden }), { name: 'InvalidAMIID.NotFound', status: 400, message: `The image id '[${golden}]' does not exist` });
    await alice.send(new ModifyImageAttributeCommand({ ImageId: golden, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    const bobs = await runOne(bob, { ImageId: golden, UserData: simUserData('read /dev/xvda 2M 21') });
    await waitRunning(bob, [bobs.InstanceId!]);
    assert.match(await waitForConsole(bob, bobs.InstanceId!, CLOUD_INIT_DONE), /^built by the pipeline$/m);

    await expectAwsError(bob.send(new CreateVolumeCommand({ SnapshotId: goldenSnapshot, AvailabilityZone: 'us-east-1a' })), { name: 'InvalidSnapshot.NotFound' });
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: goldenSnapshot, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [BOB.id] }));
    const vol = await bob.send(new CreateVolumeCommand({ SnapshotId: goldenSnapshot, AvailabilityZone: 'us-east-1a' }));
    assert.equal(vol.SnapshotId, goldenSnapshot);

    // Each account sees, stops and terminates only its own instances.
    const bobSees = (await bob.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId));
    assert.deepEqual(bobSees, [bobs.InstanceId]);
    const notFound = { name: 'InvalidInstanceID.NotFound', status: 400, message: `The instance ID '${builder}' does not exist` };
    await expectAwsError(bob.send(new DescribeInstancesCommand({ InstanceIds: [builder] })), notFound);
    await expectAwsError(bob.send(new StopInstancesCommand({ InstanceIds: [builder] })), notFound);
    await expectAwsError(bob.send(new TerminateInstancesCommand({ InstanceIds: [builder] })), notFound);
    await expectAwsError(bob.send(new GetConsoleOutputCommand({ InstanceId: builder })), notFound);
    await expectAwsError(bob.send(new CreateImageCommand({ InstanceId: builder, Name: 'stolen' })), notFound);
    await bob.send(new TerminateInstancesCommand({ InstanceIds: [bobs.InstanceId!] }));
  });

  test('an account in an organizational unit the image is shared with may launch it', async () => {
    const carol = ec2Client(server.endpoint, credentialsOf(CAROL));
    await expectAwsError(runOne(carol, { ImageId: golden }), { name: 'InvalidAMIID.NotFound' });
    await alice.send(new ModifyImageAttributeCommand({ ImageId: golden, LaunchPermission: { Add: [{ OrganizationalUnitArn: OU }] } }));
    const launched = await runOne(carol, { ImageId: golden });
    await waitRunning(carol, [launched.InstanceId!]);
    await carol.send(new TerminateInstancesCommand({ InstanceIds: [launched.InstanceId!] }));
  });

  test('CreateImage refuses a taken name and a malformed one, before touching the instance', async () => {
    await expectAwsError(alice.send(new CreateImageCommand({ InstanceId: builder, Name: 'golden-v2' })), {
      name: 'InvalidAMIName.Duplicate', message: 'AMI name golden-v2 is already in use by AMI in this region',
    });
    await expectAwsError(alice.send(new CreateImageCommand({ InstanceId: builder, Name: 'x!' })), { name: 'InvalidAMIName.Malformed' });
    assert.equal(bootsIn(await consoleText(alice, builder)), 2);
  });

  test('deregistering leaves the snapshots until they are deleted', async () => {
    await alice.send(new DeregisterImageCommand({ ImageId: golden }));
    await expectAwsError(image(alice, golden), { name: 'InvalidAMIID.NotFound' });
    const snap = (await alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [goldenSnapshot] }))).Snapshots![0];
    assert.equal(snap.State, 'completed');
    await alice.send(new DeleteSnapshotCommand({ SnapshotId: goldenSnapshot }));
    await expectAwsError(alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [goldenSnapshot] })), { name: 'InvalidSnapshot.NotFound' });
  });
});

describe('CreateImage block device mappings', () => {
  test('instance devices kept, overridden or left out; devices added; instance store as empty ephemeral entries', async () => {
    const launched = await runOne(alice, {
      ImageId: (await uploadImage(alice, aliceEbs, 'mapping-base', new Map([[0, bootBlock('mapping base')]]))).imageId,
      InstanceType: 'm5d.large',
      BlockDeviceMappings: [
        { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1, VolumeType: 'gp2', DeleteOnTermination: false } },
        { DeviceName: '/dev/sdh', Ebs: { VolumeSize: 1 } },
        { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' },
      ],
      UserData: simUserData('write /dev/sdf 0 on the data volume', 'write /dev/sdb 0 instance store bytes'),
    });
    const id = launched.InstanceId!;
    await waitRunning(alice, [id]);
    await waitForConsole(alice, id, CLOUD_INIT_DONE);
    await alice.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitStopped(alice, [id]);
    const out = await alice.send(new CreateImageCommand({
      InstanceId: id, Name: 'mapped',
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 4 } },
        { DeviceName: '/dev/sdh', NoDevice: '' },
        { DeviceName: '/dev/sdg', Ebs: { VolumeSize: 3, VolumeType: 'gp3' } },
      ],
    }));
    await waitImage(alice, out.ImageId!);
    const img = await image(alice, out.ImageId!);
    const byDevice = new Map(img.BlockDeviceMappings!.map((m) => [m.DeviceName, m]));
    assert.deepEqual([...byDevice.keys()].sort(), ['/dev/sdb', '/dev/sdf', '/dev/sdg', '/dev/xvda']);
    assert.equal(byDevice.get('/dev/xvda')!.Ebs!.VolumeSize, 4);
    assert.equal(byDevice.get('/dev/sdf')!.Ebs!.DeleteOnTermination, false);
    assert.equal(byDevice.get('/dev/sdf')!.Ebs!.VolumeType, 'gp2');
    assert.match(byDevice.get('/dev/sdf')!.Ebs!.SnapshotId!, /^snap-/);
    assert.deepEqual(byDevice.get('/dev/sdb'), { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' });
    assert.equal(byDevice.get('/dev/sdg')!.Ebs!.SnapshotId, undefined);
    assert.equal(byDevice.get('/dev/sdg')!.Ebs!.VolumeSize, 3);

    // An instance of it: the data volume's bytes came along, the instance store is empty.
    const next = await runOne(alice, { ImageId: out.ImageId!, InstanceType: 'm5d.large', UserData: simUserData('read /dev/sdf 0 18', 'read /dev/sdb 0 8', 'echo end') });
    await waitRunning(alice, [next.InstanceId!]);
    const log = await waitForConsole(alice, next.InstanceId!, CLOUD_INIT_DONE);
    assert.match(log, /^on the data volume$/m);
    assert.match(log, /^\.{8}$/m, 'instance store starts empty');
    const devices = (await alice.send(new DescribeInstancesCommand({ InstanceIds: [next.InstanceId!] }))).Reservations![0].Instances![0]
      .BlockDeviceMappings!.map((m) => m.DeviceName);
    assert.deepEqual(devices, ['/dev/xvda', '/dev/sdf', '/dev/sdg'], 'EBS devices only, root first');
    await alice.send(new TerminateInstancesCommand({ InstanceIds: [id, next.InstanceId!] }));
  });
});
