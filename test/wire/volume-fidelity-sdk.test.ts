// EBS volume types through @aws-sdk/client-ec2, as EC2 documents them: the IOPS and throughput
// CreateVolume and DescribeVolumes report per type (gp3's 3,000 IOPS and 125 MiB/s baseline,
// gp2's 3 IOPS per GiB), the Original/Target pairs of ModifyVolume and
// DescribeVolumesModifications, every per-type check with EC2's codes (CreateVolume,
// ModifyVolume, RunInstances' EBS mappings), and the arbitrary volume id vol-ffffffff of
// snapshots made by CopySnapshot and CopyImage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyImageCommand, CopySnapshotCommand, CreateSnapshotCommand, CreateVolumeCommand, DescribeImagesCommand, DescribeSnapshotsCommand,
  DescribeVolumesCommand, DescribeVolumesModificationsCommand, ModifyVolumeCommand, RegisterImageCommand, TerminateInstancesCommand,
  type CreateVolumeCommandInput, type EC2Client, type Snapshot, type Volume,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { CATALOGUE_AMI, runOne, waitImage } from '../support/instances.ts';

let server: RunningServer;
let ec2: EC2Client;
const ZONE = 'us-east-1a';

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '0'] });
  ec2 = ec2Client(server.endpoint, devCredentials('777777777777'));
});
after(async () => {
  await server?.stop();
});

const create = (input: Omit<CreateVolumeCommandInput, 'AvailabilityZone'>) => ec2.send(new CreateVolumeCommand({ AvailabilityZone: ZONE, ...input }));

async function volume(id: string): Promise<Volume> {
  return (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0];
}

async function completedSnapshot(id: string): Promise<Snapshot> {
  for (let i = 0; i < 500; i++) {
    const s = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots![0];
    if (s.State === 'completed') return s;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`snapshot ${id} never completed`);
}

const performance = (v: Volume) => ({ VolumeType: v.VolumeType, Iops: v.Iops, Throughput: v.Throughput, MultiAttachEnabled: v.MultiAttachEnabled });

describe('IOPS and throughput as EC2 reports them', () => {
  test('each type reports its own: gp3 baseline, gp2 3 per GiB, io1/io2 as provisioned, HDD and standard none', async () => {
    const cases: [Omit<CreateVolumeCommandInput, 'AvailabilityZone'>, ReturnType<typeof performance>][] = [
      [{ Size: 10, VolumeType: 'gp3' }, { VolumeType: 'gp3', Iops: 3000, Throughput: 125, MultiAttachEnabled: false }],
      [{ Size: 10, VolumeType: 'gp3', Iops: 5000, Throughput: 500 }, { VolumeType: 'gp3', Iops: 5000, Throughput: 500, MultiAttachEnabled: false }],
      [{ Size: 10 }, { VolumeType: 'gp2', Iops: 100, Throughput: undefined, MultiAttachEnabled: false }],
      [{ Size: 200, VolumeType: 'gp2' }, { VolumeType: 'gp2', Iops: 600, Throughput: undefined, MultiAttachEnabled: false }],
      [{ Size: 10, VolumeType: 'io1', Iops: 500 }, { VolumeType: 'io1', Iops: 500, Throughput: undefined, MultiAttachEnabled: false }],
      [{ Size: 10, VolumeType: 'io2', Iops: 10000, MultiAttachEnabled: true }, { VolumeType: 'io2', Iops: 10000, Throughput: undefined, MultiAttachEnabled: true }],
      [{ Size: 125, VolumeType: 'st1' }, { VolumeType: 'st1', Iops: undefined, Throughput: undefined, MultiAttachEnabled: false }],
      [{ Size: 5, VolumeType: 'standard' }, { VolumeType: 'standard', Iops: undefined, Throughput: undefined, MultiAttachEnabled: false }],
    ];
    for (const [input, expected] of cases) {
      const made = await create(input);
      assert.deepEqual(performance(made), expected, JSON.stringify(input));
      assert.deepEqual(performance(await volume(made.VolumeId!)), expected, JSON.stringify(input));
    }
  });
});

describe('ModifyVolume and DescribeVolumesModifications', () => {
  test('gp2 to gp3 reports the IOPS pair and the target throughput', async () => {
    const v = await create({ Size: 50 });
    const m = (await ec2.send(new ModifyVolumeCommand({ VolumeId: v.VolumeId, VolumeType: 'gp3' }))).VolumeModification!;
    assert.deepEqual(
      [m.OriginalVolumeType, m.TargetVolumeType, m.OriginalIops, m.TargetIops, m.OriginalThroughput, m.TargetThroughput],
      ['gp2', 'gp3', 150, 3000, undefined, 125],
    );
    assert.deepEqual(performance(await volume(v.VolumeId!)), { VolumeType: 'gp3', Iops: 3000, Throughput: 125, MultiAttachEnabled: false });
  });

  test('gp3 to more IOPS and throughput keeps both pairs, and DescribeVolumesModifications says the same', async () => {
    const v = await create({ Size: 20, VolumeType: 'gp3' });
    const m = (await ec2.send(new ModifyVolumeCommand({ VolumeId: v.VolumeId, Iops: 6000, Throughput: 750 }))).VolumeModification!;
    const expected = { OriginalIops: 3000, TargetIops: 6000, OriginalThroughput: 125, TargetThroughput: 750, OriginalMultiAttachEnabled: false, TargetMultiAttachEnabled: false };
    const pick = (x: typeof m) => ({
      OriginalIops: x.OriginalIops, TargetIops: x.TargetIops, OriginalThroughput: x.OriginalThroughput, TargetThroughput: x.TargetThroughput,
      OriginalMultiAttachEnabled: x.OriginalMultiAttachEnabled, TargetMultiAttachEnabled: x.TargetMultiAttachEnabled,
    });
    assert.deepEqual(pick(m), expected);
    const listed = (await ec2.send(new DescribeVolumesModificationsCommand({ VolumeIds: [v.VolumeId!] }))).VolumesModifications!;
    assert.deepEqual(listed.map(pick), [expected]);
    // Growing it alone keeps the IOPS and throughput it has.
    const grown = (await ec2.send(new ModifyVolumeCommand({ VolumeId: v.VolumeId, Size: 40 }))).VolumeModification!;
    assert.deepEqual([grown.TargetIops, grown.TargetThroughput, grown.TargetSize], [6000, 750, 40]);
  });

  test('io1 to io2 with new IOPS; gp3 to st1 drops both', async () => {
    const io = await create({ Size: 20, VolumeType: 'io1', Iops: 800 });
    const m = (await ec2.send(new ModifyVolumeCommand({ VolumeId: io.VolumeId, VolumeType: 'io2', Iops: 15000 }))).VolumeModification!;
    assert.deepEqual([m.OriginalIops, m.TargetIops, m.OriginalThroughput, m.TargetThroughput], [800, 15000, undefined, undefined]);
    const gp3 = await create({ Size: 200, VolumeType: 'gp3', Throughput: 300 });
    const h = (await ec2.send(new ModifyVolumeCommand({ VolumeId: gp3.VolumeId, VolumeType: 'st1' }))).VolumeModification!;
    assert.deepEqual([h.OriginalIops, h.TargetIops, h.OriginalThroughput, h.TargetThroughput], [3000, undefined, 300, undefined]);
    assert.deepEqual(performance(await volume(gp3.VolumeId!)), { VolumeType: 'st1', Iops: undefined, Throughput: undefined, MultiAttachEnabled: false });
  });

  test('ModifyVolume applies the same per-type checks', async () => {
    const gp2 = await create({ Size: 10 });
    await expectAwsError(ec2.send(new ModifyVolumeCommand({ VolumeId: gp2.VolumeId, Throughput: 200 })), {
      name: 'InvalidParameterCombination', status: 400, message: 'The parameter throughput is not supported for gp2 volumes.',
    });
    // A change to io1 defaults to 3,000 IOPS, too many for 10 GiB.
    await expectAwsError(ec2.send(new ModifyVolumeCommand({ VolumeId: gp2.VolumeId, VolumeType: 'io1' })), {
      name: 'InvalidParameterValue', message: 'Iops to volume size ratio of 300.000000 is too high; maximum is 50',
    });
    assert.equal((await volume(gp2.VolumeId!)).VolumeType, 'gp2');
  });
});

describe('CreateVolume checks each type as EC2 does', () => {
  const cases: [string, Omit<CreateVolumeCommandInput, 'AvailabilityZone'>, string, string][] = [
    ['throughput on gp2', { Size: 10, VolumeType: 'gp2', Throughput: 200 }, 'InvalidParameterCombination', 'The parameter throughput is not supported for gp2 volumes.'],
    ['throughput on io1', { Size: 10, VolumeType: 'io1', Iops: 100, Throughput: 200 }, 'InvalidParameterCombination', 'The parameter throughput is not supported for io1 volumes.'],
    ['throughput below gp3 range', { Size: 10, VolumeType: 'gp3', Throughput: 100 }, 'InvalidParameterValue', 'Volume throughput of 100 is too low; minimum is 125.'],
    ['throughput above gp3 range', { Size: 100, VolumeType: 'gp3', Iops: 16000, Throughput: 1001 }, 'InvalidParameterValue', 'Volume throughput of 1001 is too high; maximum is 1000.'],
    ['throughput over 0.25 MiB/s per IOPS', { Size: 10, VolumeType: 'gp3', Throughput: 1000 }, 'InvalidParameterValue',
      'Throughput (MiBps) to iops ratio of 0.333333 is too high; maximum is 0.250000 MiBps per iops'],
    ['iops on gp2', { Size: 10, VolumeType: 'gp2', Iops: 300 }, 'InvalidParameterCombination', 'The parameter iops is not supported for gp2 volumes.'],
    ['iops on st1', { Size: 500, VolumeType: 'st1', Iops: 300 }, 'InvalidParameterCombination', 'The parameter iops is not supported for st1 volumes.'],
    ['iops missing for io1', { Size: 10, VolumeType: 'io1' }, 'InvalidParameterCombination', 'The parameter iops must be specified for io1 volumes.'],
    ['iops missing for io2', { Size: 10, VolumeType: 'io2' }, 'InvalidParameterCombination', 'The parameter iops must be specified for io2 volumes.'],
    ['gp3 iops below range', { Size: 10, VolumeType: 'gp3', Iops: 2000 }, 'InvalidParameterValue', 'Volume iops of 2000 is too low; minimum is 3000.'],
    ['gp3 iops above range', { Size: 100, VolumeType: 'gp3', Iops: 16001 }, 'InvalidParameterValue', 'Volume iops of 16001 is too high; maximum is 16000.'],
    ['gp3 iops over 500 per GiB', { Size: 10, VolumeType: 'gp3', Iops: 6000 }, 'InvalidParameterValue', 'Iops to volume size ratio of 600.000000 is too high; maximum is 500'],
    ['io1 iops below range', { Size: 10, VolumeType: 'io1', Iops: 50 }, 'InvalidParameterValue', 'Volume iops of 50 is too low; minimum is 100.'],
    ['io1 iops above range', { Size: 2000, VolumeType: 'io1', Iops: 64001 }, 'InvalidParameterValue', 'Volume iops of 64001 is too high; maximum is 64000.'],
    ['io1 iops over 50 per GiB', { Size: 10, VolumeType: 'io1', Iops: 600 }, 'InvalidParameterValue', 'Iops to volume size ratio of 60.000000 is too high; maximum is 50'],
    ['io2 iops above range', { Size: 300, VolumeType: 'io2', Iops: 256001 }, 'InvalidParameterValue', 'Volume iops of 256001 is too high; maximum is 256000.'],
    ['io2 iops over 1000 per GiB', { Size: 10, VolumeType: 'io2', Iops: 10001 }, 'InvalidParameterValue', 'Iops to volume size ratio of 1000.100000 is too high; maximum is 1000'],
    ['gp3 too large', { Size: 16385, VolumeType: 'gp3' }, 'InvalidParameterValue', 'Volume of 16385GiB is too large; maximum is 16384GiB for gp3 volumes.'],
    ['io1 too small', { Size: 3, VolumeType: 'io1', Iops: 100 }, 'InvalidParameterValue', 'Volume of 3GiB is too small; minimum is 4GiB for io1 volumes.'],
    ['io2 too large', { Size: 65537, VolumeType: 'io2', Iops: 100 }, 'InvalidParameterValue', 'Volume of 65537GiB is too large; maximum is 65536GiB for io2 volumes.'],
    ['st1 too small', { Size: 124, VolumeType: 'st1' }, 'InvalidParameterValue', 'Volume of 124GiB is too small; minimum is 125GiB for st1 volumes.'],
    ['sc1 too large', { Size: 16385, VolumeType: 'sc1' }, 'InvalidParameterValue', 'Volume of 16385GiB is too large; maximum is 16384GiB for sc1 volumes.'],
    ['standard too large', { Size: 1025, VolumeType: 'standard' }, 'InvalidParameterValue', 'Volume of 1025GiB is too large; maximum is 1024GiB for standard volumes.'],
    ['multi-attach on gp3', { Size: 10, VolumeType: 'gp3', MultiAttachEnabled: true }, 'InvalidParameterCombination',
      'The parameter multiAttachEnabled is not supported for gp3 volumes. Multi-Attach is supported only for io1 and io2 volumes.'],
  ];
  for (const [name, input, code, message] of cases) {
    test(name, async () => {
      await expectAwsError(create(input), { name: code, status: 400, message });
    });
  }

  test('the largest valid settings of each provisioned type are accepted', async () => {
    const gp3 = await create({ Size: 32, VolumeType: 'gp3', Iops: 16000, Throughput: 1000 });
    assert.deepEqual([gp3.Iops, gp3.Throughput], [16000, 1000]);
    const io1 = await create({ Size: 4, VolumeType: 'io1', Iops: 200 });
    assert.equal(io1.Iops, 200);
    const io2 = await create({ Size: 256, VolumeType: 'io2', Iops: 256000 });
    assert.equal(io2.Iops, 256000);
  });
});

describe('RunInstances EBS mappings get the same checks', () => {
  test('throughput on a gp2 mapping is InvalidBlockDeviceMapping naming the device; a gp3 ratio is InvalidParameterValue', async () => {
    await expectAwsError(runOne(ec2, {
      ImageId: CATALOGUE_AMI, BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 10, VolumeType: 'gp2', Throughput: 200 } }],
    }), { name: 'InvalidBlockDeviceMapping', status: 400, message: "throughput cannot be specified with the volumeType of device '/dev/sdf'" });
    await expectAwsError(runOne(ec2, {
      ImageId: CATALOGUE_AMI, BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 4, VolumeType: 'gp3', Iops: 4000 } }],
    }), { name: 'InvalidParameterValue', message: 'Iops to volume size ratio of 1000.000000 is too high; maximum is 500' });
    await expectAwsError(runOne(ec2, {
      ImageId: CATALOGUE_AMI, BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 10, VolumeType: 'io2' } }],
    }), { name: 'InvalidParameterCombination', message: 'The parameter iops must be specified for io2 volumes.' });
  });

  test('a valid gp3 mapping makes a volume that reports its IOPS and throughput', async () => {
    const i = await runOne(ec2, {
      ImageId: CATALOGUE_AMI,
      BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 10, VolumeType: 'gp3', Iops: 4000, Throughput: 250 } }],
    });
    const data = i.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdf')!;
    assert.deepEqual(performance(await volume(data.Ebs!.VolumeId!)), { VolumeType: 'gp3', Iops: 4000, Throughput: 250, MultiAttachEnabled: false });
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
  });
});

describe('copied snapshots have the arbitrary volume id vol-ffffffff', () => {
  test('CopySnapshot of a snapshot of a volume, plain and encrypted, and volumes made from the copies', async () => {
    for (const encrypted of [false, true]) {
      const v = await create({ Size: 1, VolumeType: 'gp3', Encrypted: encrypted });
      const source = await completedSnapshot((await ec2.send(new CreateSnapshotCommand({ VolumeId: v.VolumeId }))).SnapshotId!);
      assert.equal(source.VolumeId, v.VolumeId);
      const { SnapshotId } = await ec2.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: source.SnapshotId }));
      const copy = await completedSnapshot(SnapshotId!);
      assert.equal(copy.VolumeId, 'vol-ffffffff');
      assert.equal(copy.Encrypted, encrypted);
      assert.equal((await completedSnapshot(source.SnapshotId!)).VolumeId, v.VolumeId, 'the source keeps its volume id');
      const restored = await create({ SnapshotId: copy.SnapshotId });
      assert.deepEqual([restored.Size, restored.Encrypted, restored.SnapshotId], [1, encrypted, copy.SnapshotId]);
    }
  });

  test('CopyImage of an image registered from a snapshot of a volume', async () => {
    const v = await create({ Size: 1 });
    const snap = await completedSnapshot((await ec2.send(new CreateSnapshotCommand({ VolumeId: v.VolumeId }))).SnapshotId!);
    const { ImageId } = await ec2.send(new RegisterImageCommand({
      Name: 'volume-fidelity-source', RootDeviceName: '/dev/xvda', Architecture: 'x86_64', VirtualizationType: 'hvm',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap.SnapshotId } }],
    }));
    const copied = await ec2.send(new CopyImageCommand({ SourceRegion: 'us-east-1', SourceImageId: ImageId, Name: 'volume-fidelity-copy' }));
    await waitImage(ec2, copied.ImageId!);
    const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [copied.ImageId!] }))).Images![0];
    const copySnap = image.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    assert.notEqual(copySnap, snap.SnapshotId);
    assert.equal((await completedSnapshot(copySnap)).VolumeId, 'vol-ffffffff');
  });
});
