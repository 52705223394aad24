// The catalogue's Debian 12 on real guests, through the SDK and OpenSSH: it boots from its own
// boot loader (GRUB) under legacy BIOS and under UEFI (OVMF); cloud-init runs the user data once
// and installs the launch's key for `admin`; ssh logs in only while a security group allows port
// 22; root cannot log in; a volume attached to the running guest appears and vanishes; and a
// disk with no boot loader leaves its instance running with the status check impaired.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttachVolumeCommand, AuthorizeSecurityGroupIngressCommand, CreateKeyPairCommand, CreateSecurityGroupCommand, CreateVolumeCommand,
  DescribeImagesCommand, DescribeInstancesCommand, DescribeInstanceStatusCommand, DescribeVolumesCommand, DetachVolumeCommand,
  RegisterImageCommand, RevokeSecurityGroupIngressCommand, RunInstancesCommand, StopInstancesCommand, type EC2Client, type Image, type Instance,
} from '@aws-sdk/client-ec2';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { buildDebianImage, consoleOf, consoleShows, sshRun, terminateAll, until, writePrivateKey } from '../support/qemu.ts';
import { startServer, type RunningServer } from '../support/server.ts';

let server: RunningServer;
let ec2: EC2Client;
let dir: string;
let key: string;
let sshGroup: string;
const launched: string[] = [];

before(async () => {
  await buildDebianImage();
  server = await startServer({ extraArgs: ['--hypervisor', 'qemu'] });
  ec2 = ec2Client(server.endpoint, devCredentials('111111111111'));
  dir = mkdtempSync(join(tmpdir(), 'amiforge-debian-'));
  const { KeyMaterial } = await ec2.send(new CreateKeyPairCommand({ KeyName: 'ops', KeyType: 'ed25519' }));
  key = writePrivateKey(dir, 'ops.pem', KeyMaterial!);
  ({ GroupId: sshGroup } = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'ssh', Description: 'ssh while allowed' }))) as { GroupId: string });
});

after(async () => {
  if (launched.length) await terminateAll(ec2, launched).catch(() => {});
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function debian(): Promise<Image> {
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['136693071363'], Filters: [{ Name: 'name', Values: ['debian-12-amd64-*'] }] }));
  assert.equal(Images.length, 1, 'the Debian 12 image is in the catalogue');
  return Images[0];
}

async function launch(imageId: string, userData?: string): Promise<string> {
  const { Instances } = await ec2.send(new RunInstancesCommand({
    ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'ops', SecurityGroupIds: [sshGroup],
    UserData: userData ? Buffer.from(userData).toString('base64') : undefined,
  }));
  launched.push(Instances![0].InstanceId!);
  return Instances![0].InstanceId!;
}

const describe = async (id: string): Promise<Instance> =>
  (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];

const port22 = { IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] };

test('Debian 12 boots from its own GRUB under BIOS; cloud-init runs user data and installs the key; ssh only while port 22 is allowed', { timeout: 1_200_000 }, async (t) => {
  const started = Date.now();
  const image = await debian();
  assert.equal(image.VirtualizationType, 'hvm');
  const id = await launch(image.ImageId!, '#!/bin/sh\necho "user-data ran on $(hostname) as $(id -un)" >>/var/tmp/user-data-runs\n');
  const boot = await consoleShows(ec2, id, /Cloud-init v\. [\d.]+ finished/);
  t.diagnostic(`cloud-init finished after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.match(boot, /GRUB|Booting `Debian/i, 'the console shows the disk\'s boot loader');
  assert.doesNotMatch(boot, /amiforge-minimal-linux/);
  const instance = await describe(id);
  const address = instance.PublicIpAddress!;
  assert.match(address, /^127\./, 'the instance has a loopback address of its own');

  // No rule allows port 22 yet: nothing listens on the instance's address.
  const refused = await sshRun(key, 'admin', address, 'true');
  assert.notEqual(refused.code, 0, 'ssh is refused while no rule allows port 22');

  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sshGroup, ...port22 }));
  const login = await until('ssh as admin', async () => {
    const r = await sshRun(key, 'admin', address, 'hostname; cat /var/tmp/user-data-runs; sudo -n cat /etc/shadow >/dev/null && echo sudo-ok; curl -s -m 5 http://169.254.169.254/latest/meta-data/instance-id || true');
    return r.code === 0 ? r.stdout : undefined;
  }, 120_000);
  t.diagnostic(`ssh login after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const [hostname] = login.split('\n');
  assert.equal(hostname, instance.PrivateDnsName!.split('.')[0], 'the hostname comes from IMDS');
  assert.match(login, /user-data ran on .* as root\n/);
  assert.equal(login.match(/user-data ran/g)?.length, 1, 'the user data ran once');
  assert.match(login, /sudo-ok/);
  const root = await sshRun(key, 'root', address, 'true');
  assert.notEqual(root.code, 0, 'root cannot log in');

  // A volume attached to the running guest appears in it, and vanishes when detached.
  const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: instance.Placement!.AvailabilityZone, Size: 1 }));
  await ec2.send(new AttachVolumeCommand({ VolumeId, InstanceId: id, Device: '/dev/sdf' }));
  await until(`${VolumeId} attached`, async () => {
    const { Volumes: [v] = [] } = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [VolumeId!] }));
    return v?.Attachments?.[0]?.State === 'attached' ? true : undefined;
  });
  const seen = await until('the guest sees the hot-plugged disk', async () => {
    const r = await sshRun(key, 'admin', address, 'lsblk -dn -o NAME,SIZE');
    return r.code === 0 && /vdb\s+1G/.test(r.stdout) ? r.stdout : undefined;
  }, 60_000);
  assert.match(seen, /vda/);
  await ec2.send(new DetachVolumeCommand({ VolumeId }));
  await until('the guest no longer sees it', async () => {
    const r = await sshRun(key, 'admin', address, 'lsblk -dn -o NAME');
    return r.code === 0 && !/vdb/.test(r.stdout) ? true : undefined;
  }, 60_000);

  // Revoking the rule closes the port again.
  await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: sshGroup, ...port22 }));
  await until('ssh refused after the rule is revoked', async () => ((await sshRun(key, 'admin', address, 'true')).code !== 0 ? true : undefined), 30_000);
  await terminateAll(ec2, [id]);
});

test('the same disk boots under UEFI (OVMF) when registered with BootMode uefi', { timeout: 900_000 }, async (t) => {
  const started = Date.now();
  const image = await debian();
  const { ImageId } = await ec2.send(new RegisterImageCommand({
    Name: 'debian-12-uefi', Architecture: 'x86_64', VirtualizationType: 'hvm', BootMode: 'uefi', EnaSupport: true,
    RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: image.BlockDeviceMappings![0].Ebs!.SnapshotId } }],
  }));
  const id = await launch(ImageId!, '#!/bin/sh\n[ -d /sys/firmware/efi ] && echo "booted-with-uefi" >/dev/ttyS0\n');
  const out = await consoleShows(ec2, id, 'booted-with-uefi');
  t.diagnostic(`UEFI guest ran its user data after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  assert.match(out, /Cloud-init|cloud-init/);
  // StopInstances presses the ACPI power button: systemd shuts down and powers off by itself.
  await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
  await until(`${id} stopped`, async () => ((await describe(id)).State?.Name === 'stopped' ? true : undefined));
  assert.match(await consoleOf(ec2, id), /reboot: Power down/, 'the guest powered itself off (not killed at the timeout)');
  await terminateAll(ec2, [id]);
});

test('a disk with no boot loader: the firmware says so on the console, the instance runs with its status check impaired', { timeout: 600_000 }, async () => {
  // The catalogue's Amazon Linux stands in for AWS's and carries no operating system.
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-*-x86_64'] }] }));
  const id = await launch(Images[0].ImageId!);
  const status = await until('the instance status check fails', async () => {
    const { InstanceStatuses = [] } = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [id] }));
    return InstanceStatuses[0]?.InstanceStatus?.Status === 'impaired' ? InstanceStatuses[0] : undefined;
  });
  assert.equal(status.InstanceState?.Name, 'running');
  assert.equal(status.InstanceStatus?.Details?.[0]?.Status, 'failed');
  assert.match(await consoleOf(ec2, id), /No bootable device|not a bootable disk|boot/i);
  await terminateAll(ec2, [id]);
  assert.equal((await (await fetch(`${server.endpoint}/_amiforge/health`)).status), 200, 'the server stays healthy');
});
