// HVM instances on real guests through the official SDK (`amiforge serve --hypervisor qemu`): a
// disk with its own boot loader (the base image on a BIOS+UEFI disk, scripts/build-hvm-test-disk.sh)
// uploaded through the EBS direct APIs and registered as an HVM image boots through SeaBIOS and
// GRUB, and through OVMF with BootMode uefi; on the running instance, AttachVolume hot-plugs a
// new volume (the guest sees /dev/vdb and writes to it), DetachVolume unplugs it (the guest sees
// it go) and a snapshot of the volume holds what the guest wrote; status checks pass.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  AttachVolumeCommand, CreateSnapshotCommand, CreateVolumeCommand, DescribeInstancesCommand, DescribeInstanceStatusCommand, DescribeSnapshotsCommand,
  DescribeVolumesCommand, DetachVolumeCommand, RegisterImageCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { ListSnapshotBlocksCommand, type EBSClient } from '@aws-sdk/client-ebs';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { BLOCK_SIZE, ebsClient, getBlock } from '../support/ebs.ts';
import { uploadImage } from '../support/instances.ts';
import { buildHvmTestDisk, consoleShows, launchWithScript, terminateAll, until } from '../support/qemu.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const repo = resolve(import.meta.dirname, '../..');
let server: RunningServer;
let ec2: EC2Client;
let ebs: EBSClient;

before(async () => {
  await buildHvmTestDisk();
  server = await startServer({ extraArgs: ['--hypervisor', 'qemu'] });
  ec2 = ec2Client(server.endpoint, devCredentials('111111111111'));
  ebs = ebsClient(server.endpoint, devCredentials('111111111111'));
}, { timeout: 600_000 });

after(async () => {
  await server?.stop();
});

/** The test disk's non-zero blocks, as an upload through the EBS direct APIs sends them. */
async function diskBlocks(): Promise<Map<number, Buffer>> {
  const blocks = new Map<number, Buffer>();
  const fh = await open(join(repo, '.amiforge-build', 'hvm-test-disk', 'disk.raw'), 'r');
  try {
    for (let index = 0; ; index++) {
      const buf = Buffer.alloc(BLOCK_SIZE);
      const { bytesRead } = await fh.read(buf, 0, BLOCK_SIZE, index * BLOCK_SIZE);
      if (!bytesRead) break;
      if (!buf.every((b) => b === 0)) blocks.set(index, buf);
    }
  } finally {
    await fh.close();
  }
  return blocks;
}

const volumeState = async (volumeId: string) => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0];

test('an HVM image boots its own boot loader under BIOS and UEFI; volumes hot-plug into the running guest', { timeout: 1_800_000 }, async (t) => {
  const started = Date.now();
  const { imageId, snapshotId } = await uploadImage(ec2, ebs, 'hvm-test-disk', await diskBlocks(), 1);
  const userData = [
    '#!/bin/sh',
    '( while [ ! -e /sys/block/vdb ]; do sleep 0.2; done',
    '  echo "ud: vdb appeared, $(cat /sys/block/vdb/size) sectors"',
    '  printf written-by-the-guest | dd of=/dev/vdb conv=fsync 2>/dev/null && echo "ud: vdb written"',
    '  while [ -e /sys/block/vdb ]; do sleep 0.2; done; echo "ud: vdb gone" ) </dev/null >/dev/console 2>&1 &',
    'echo "ud: ready on $(cat /sys/class/dmi/id/sys_vendor)"',
    '',
  ].join('\n');
  const bios = await launchWithScript(ec2, imageId, userData);
  const out = await consoleShows(ec2, bios, 'ud: ready on Amazon EC2');
  assert.match(out, /SeaBIOS/);
  assert.match(out, /GRUB/);
  t.diagnostic(`BIOS instance ${bios} ran its user data after ${Date.now() - started} ms`);

  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [bios] }));
  const zone = Reservations![0].Instances![0].Placement!.AvailabilityZone!;
  const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: zone, Size: 1, VolumeType: 'gp3' }));
  await until('the volume available', async () => ((await volumeState(VolumeId!)).State === 'available' ? true : undefined));
  await ec2.send(new AttachVolumeCommand({ VolumeId, InstanceId: bios, Device: '/dev/sdf' }));
  await until('attached', async () => ((await volumeState(VolumeId!)).Attachments?.[0]?.State === 'attached' ? true : undefined));
  const plugged = await consoleShows(ec2, bios, 'ud: vdb written');
  assert.match(plugged, /ud: vdb appeared, 2097152 sectors/);
  await ec2.send(new DetachVolumeCommand({ VolumeId }));
  await until('detached', async () => ((await volumeState(VolumeId!)).State === 'available' ? true : undefined));
  await consoleShows(ec2, bios, 'ud: vdb gone');
  t.diagnostic(`hot-plug and unplug done after ${Date.now() - started} ms`);

  const { SnapshotId } = await ec2.send(new CreateSnapshotCommand({ VolumeId }));
  await until('the snapshot completed', async () =>
    ((await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [SnapshotId!] }))).Snapshots![0].State === 'completed' ? true : undefined));
  const listed = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId }));
  const first = listed.Blocks!.find((b) => b.BlockIndex === 0)!;
  assert.equal((await getBlock(ebs, SnapshotId!, 0, first.BlockToken!)).data.subarray(0, 20).toString(), 'written-by-the-guest');

  const { InstanceStatuses } = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [bios] }));
  assert.equal(InstanceStatuses![0].InstanceStatus!.Status, 'ok');

  // The same disk under UEFI: OVMF finds GRUB on the EFI system partition.
  const uefiImage = (await ec2.send(new RegisterImageCommand({
    Name: 'hvm-test-disk-uefi', Architecture: 'x86_64', VirtualizationType: 'hvm', BootMode: 'uefi', RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId, DeleteOnTermination: true } }],
  }))).ImageId!;
  const uefi = await launchWithScript(ec2, uefiImage, '#!/bin/sh\necho "ud: uefi $(ls -d /sys/firmware/efi 2>/dev/null || echo missing)"\n');
  assert.match(await consoleShows(ec2, uefi, 'ud: uefi'), /ud: uefi \/sys\/firmware\/efi/);
  t.diagnostic(`UEFI instance ${uefi} ran its user data after ${Date.now() - started} ms`);
  await terminateAll(ec2, [bios, uefi]);
});
