// Output members the EC2 model audit (scripts/audit-ec2-outputs.ts) found missing where EC2
// always returns them, through @aws-sdk/client-ec2: a pending instance's StateReason, every HVM
// instance's CurrentInstanceBootMode, and a volume's AvailabilityZoneId.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateVolumeCommand, DescribeAvailabilityZonesCommand, DescribeImagesCommand, DescribeVolumesCommand, RunInstancesCommand,
  TerminateInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { CATALOGUE_AMI, waitRunning } from '../support/instances.ts';

let server: RunningServer;
let ec2: EC2Client;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '200'] });
  ec2 = ec2Client(server.endpoint, devCredentials('999999999999'));
});
after(async () => {
  await server?.stop();
});

describe('members EC2 always returns', () => {
  test('RunInstances: StateReason pending and the boot mode the instance boots with', async () => {
    const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [CATALOGUE_AMI] }))).Images![0];
    const out = await ec2.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1 }));
    const i = out.Instances![0];
    assert.equal(i.State?.Name, 'pending');
    assert.deepEqual(i.StateReason, { Code: 'pending', Message: 'pending' });
    const firmware = image.Architecture === 'arm64' || image.BootMode === 'uefi' ? 'uefi' : 'legacy-bios';
    assert.equal(i.CurrentInstanceBootMode, firmware);
    await waitRunning(ec2, [i.InstanceId!]);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
  });

  test('CreateVolume and DescribeVolumes: the zone id beside the zone name', async () => {
    const zones = (await ec2.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones!;
    const zone = zones.find((z) => z.ZoneName === 'us-east-1b')!;
    const v = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1b', Size: 1 }));
    assert.equal(v.AvailabilityZoneId, zone.ZoneId);
    const described = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v.VolumeId!] }))).Volumes![0];
    assert.equal(described.AvailabilityZoneId, zone.ZoneId);
  });
});
