// Instance status checks through @aws-sdk/client-ec2 on the simulator: an HVM image whose disk
// has no boot loader (uploaded through the EBS direct APIs) runs, as on EC2, but its firmware
// finds nothing to boot: the console says so and DescribeInstanceStatus reports the instance
// check impaired (reachability failed, ImpairedSince) while the system check passes; a catalogue
// image beside it is ok. The QEMU driver reports real firmware failures the same way
// (src/adapters/qemu/hvm-boot.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeInstancesCommand, DescribeInstanceStatusCommand, StopInstancesCommand, type EC2Client, type InstanceStatus } from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { ebsClient } from '../support/ebs.ts';
import { CATALOGUE_AMI, runOne, uploadImage, waitForConsole, waitRunning, waitStopped } from '../support/instances.ts';

let server: RunningServer;
let ec2: EC2Client;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '20'] });
  ec2 = ec2Client(server.endpoint, devCredentials('555555555555'));
});
after(async () => {
  await server?.stop();
});

async function statusOf(id: string, includeAll = false): Promise<InstanceStatus | undefined> {
  const out = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [id], IncludeAllInstances: includeAll }));
  return out.InstanceStatuses?.[0];
}

describe('DescribeInstanceStatus', () => {
  test('a disk without a boot loader: running, console "No bootable device.", instance check impaired; a good image beside it is ok', async () => {
    const ebs = ebsClient(server.endpoint, devCredentials('555555555555'));
    const { imageId } = await uploadImage(ec2, ebs, 'data-not-a-boot-disk', new Map([[0, Buffer.from('just data: no boot sector, no partition table')]]));
    const broken = (await runOne(ec2, { ImageId: imageId })).InstanceId!;
    const healthy = (await runOne(ec2, { ImageId: CATALOGUE_AMI })).InstanceId!;
    await waitRunning(ec2, [broken, healthy]);
    assert.match(await waitForConsole(ec2, broken, 'No bootable device.'), /Booting from Hard Disk/);

    const deadline = Date.now() + 20_000;
    let impaired = await statusOf(broken);
    while (impaired?.InstanceStatus?.Status !== 'impaired' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      impaired = await statusOf(broken);
    }
    assert.equal(impaired?.InstanceState?.Name, 'running', 'the instance runs, as on EC2');
    assert.equal(impaired?.InstanceStatus?.Status, 'impaired');
    const [detail] = impaired!.InstanceStatus!.Details!;
    assert.equal(detail.Name, 'reachability');
    assert.equal(detail.Status, 'failed');
    assert.ok(detail.ImpairedSince instanceof Date && Math.abs(detail.ImpairedSince.getTime() - Date.now()) < 60_000, 'ImpairedSince is a recent time');
    assert.equal(impaired?.SystemStatus?.Status, 'ok', 'the host is fine');

    const ok = await statusOf(healthy);
    assert.deepEqual(ok?.InstanceStatus, { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] });

    const byFilter = async (name: string, value: string) => (await ec2.send(new DescribeInstanceStatusCommand({ Filters: [{ Name: name, Values: [value] }] })))
      .InstanceStatuses!.map((s) => s.InstanceId);
    assert.deepEqual(await byFilter('instance-status.status', 'impaired'), [broken]);
    assert.deepEqual(await byFilter('instance-status.reachability', 'failed'), [broken]);
    assert.deepEqual(await byFilter('instance-status.reachability', 'passed'), [healthy]);
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [broken] }));
    assert.equal(described.Reservations![0].Instances![0].State!.Name, 'running');

    // It stops like any instance; a stopped instance has no checks.
    await ec2.send(new StopInstancesCommand({ InstanceIds: [broken] }));
    await waitStopped(ec2, [broken]);
    assert.equal((await statusOf(broken, true))?.InstanceStatus?.Status, 'not-applicable');
  });
});
