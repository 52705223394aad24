// Paravirtual images through @aws-sdk/client-ec2 on the simulated hypervisor: the catalogue's
// kernel (aki-) and ramdisk (ari-) images as DescribeImages lists them, amiforge-minimal-linux
// booting them, RegisterImage's checks of KernelId/RamdiskId, RunInstances' override, the
// kernel and ramdisk attributes of images and instances, ModifyInstanceAttribute while stopped
// (taking effect at the next start: the simulator's console names what it boots), and
// CreateImage and CopyImage carrying them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyImageCommand, CreateImageCommand, DescribeImageAttributeCommand, DescribeImagesCommand, DescribeInstanceAttributeCommand,
  ModifyInstanceAttributeCommand, RunInstancesCommand, StartInstancesCommand, StopInstancesCommand, type EC2Client, type Image,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { catalog } from '../support/catalog.ts';
import { expectAwsError, registerEbs } from '../support/sdk.ts';
import { runOne, waitForConsole, waitImage, waitRunning, waitState, waitStopped } from '../support/instances.ts';

const ALICE = '111111111111';
const BOB = '222222222222';
const entry = (name: string) => catalog.find((i) => i.name === name)!;
const KERNEL = entry('amiforge-vmlinux-6.1.0-amd64').regions;
const RAMDISK = entry('amiforge-initramfs-6.1.0-amd64').regions;
const MINIMAL = entry('amiforge-minimal-linux').regions;
const MISSING_AKI = 'aki-0000000000000000f';

let server: RunningServer;
const clients = new Map<string, EC2Client>();
const ec2 = (account = ALICE, region = 'us-east-1') => {
  const key = `${account}/${region}`;
  if (!clients.has(key)) clients.set(key, ec2Client(server.endpoint, devCredentials(account), region));
  return clients.get(key)!;
};
const image = async (id: string, client = ec2()): Promise<Image> => (await client.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0];

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '20'] });
});
after(async () => {
  await server?.stop();
});

describe('kernel and ramdisk images in the catalogue', () => {
  test('DescribeImages lists them as EC2 listed kernels and ramdisks, with fixed ids per region', async () => {
    const kernels = (await ec2().send(new DescribeImagesCommand({ Filters: [{ Name: 'image-type', Values: ['kernel'] }] }))).Images!;
    assert.deepEqual(kernels.map((i) => i.ImageId), [KERNEL['us-east-1']]);
    const [k] = kernels;
    assert.equal(k.ImageType, 'kernel');
    assert.equal(k.ImageLocation, 'amiforge/vmlinux-6.1.0-amd64.manifest.xml');
    assert.equal(k.RootDeviceType, 'instance-store');
    assert.equal(k.RootDeviceName, undefined);
    assert.deepEqual(k.BlockDeviceMappings ?? [], []);
    assert.equal(k.Architecture, 'x86_64');
    assert.equal(k.OwnerId, '000000000000');
    assert.equal(k.Public, true);
    assert.equal(k.State, 'available');
    const ramdisks = (await ec2().send(new DescribeImagesCommand({ Filters: [{ Name: 'image-type', Values: ['ramdisk'] }] }))).Images!;
    assert.deepEqual(ramdisks.map((i) => [i.ImageId, i.ImageType]), [[RAMDISK['us-east-1'], 'ramdisk']]);
    // By id, as EC2 accepts aki- and ari- ids in ImageIds; and each region has its own.
    const both = (await ec2(ALICE, 'eu-west-1').send(new DescribeImagesCommand({ ImageIds: [KERNEL['eu-west-1'], RAMDISK['eu-west-1']] }))).Images!;
    assert.deepEqual(both.map((i) => i.ImageType).sort(), ['kernel', 'ramdisk']);
    await expectAwsError(ec2().send(new DescribeImagesCommand({ ImageIds: [KERNEL['eu-west-1']] })), { name: 'InvalidAMIID.NotFound' });
    await expectAwsError(ec2().send(new DescribeImagesCommand({ ImageIds: ['aki-nothex'] })), { name: 'InvalidAMIID.Malformed' });
    // Machine images are the default listing's too: the kernels sit beside them, as in EC2.
    const machines = (await ec2().send(new DescribeImagesCommand({ Filters: [{ Name: 'image-type', Values: ['machine'] }] }))).Images!;
    assert.ok(machines.every((i) => i.ImageType === 'machine'));
    assert.ok(machines.some((i) => i.ImageId === MINIMAL['us-east-1']));
  });

  test('amiforge-minimal-linux is a paravirtual image on them, in every region', async () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-northeast-1']) {
      const m = await image(MINIMAL[region], ec2(ALICE, region));
      assert.equal(m.VirtualizationType, 'paravirtual', region);
      assert.equal(m.KernelId, KERNEL[region], region);
      assert.equal(m.RamdiskId, RAMDISK[region], region);
    }
    const byKernel = (await ec2().send(new DescribeImagesCommand({ Filters: [{ Name: 'kernel-id', Values: [KERNEL['us-east-1']] }] }))).Images!;
    assert.deepEqual(byKernel.map((i) => i.ImageId), [MINIMAL['us-east-1']]);
    const byRamdisk = (await ec2().send(new DescribeImagesCommand({ Filters: [{ Name: 'ramdisk-id', Values: ['ari-*'] }] }))).Images!;
    assert.deepEqual(byRamdisk.map((i) => i.ImageId), [MINIMAL['us-east-1']]);
  });

  test('a kernel or ramdisk image cannot be launched', async () => {
    for (const id of [KERNEL['us-east-1'], RAMDISK['us-east-1']]) {
      await expectAwsError(ec2().send(new RunInstancesCommand({ ImageId: id, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' })),
        { name: 'InvalidParameterValue', status: 400, message: /only machine images/ });
    }
  });

  test('an instance of amiforge-minimal-linux boots its kernel and ramdisk images', async () => {
    const i = await runOne(ec2(), { ImageId: MINIMAL['us-east-1'], InstanceType: 't3.micro' });
    assert.equal(i.VirtualizationType, 'paravirtual');
    assert.equal(i.KernelId, KERNEL['us-east-1']);
    assert.equal(i.RamdiskId, RAMDISK['us-east-1']);
    await waitForConsole(ec2(), i.InstanceId!, `paravirtual boot: kernel ${KERNEL['us-east-1']}, ramdisk ${RAMDISK['us-east-1']}`);
  });
});

describe('RegisterImage with KernelId and RamdiskId', () => {
  test('a paravirtual image names a kernel and ramdisk the caller may use; DescribeImageAttribute returns them', async () => {
    const id = await registerEbs(ec2(), 'pv-registered', { Architecture: 'x86_64', KernelId: KERNEL['us-east-1'], RamdiskId: RAMDISK['us-east-1'] });
    const img = await image(id);
    // Not given: paravirtual, as EC2's RegisterImage defaults it.
    assert.equal(img.VirtualizationType, 'paravirtual');
    assert.equal(img.KernelId, KERNEL['us-east-1']);
    assert.equal(img.RamdiskId, RAMDISK['us-east-1']);
    const kernel = await ec2().send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'kernel' }));
    assert.equal(kernel.KernelId?.Value, KERNEL['us-east-1']);
    const ramdisk = await ec2().send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'ramdisk' }));
    assert.equal(ramdisk.RamdiskId?.Value, RAMDISK['us-east-1']);
  });

  test('kernels and ramdisks that are malformed, missing, another account\'s or of the wrong type are refused', async () => {
    const bobsPrivate = await registerEbs(ec2(BOB), 'bob-private-machine');
    const alicesOwn = await registerEbs(ec2(), 'alice-own-machine');
    const cases: [Record<string, string>, string, RegExp?][] = [
      [{ KernelId: 'vmlinuz' }, 'InvalidAMIID.Malformed', /expecting "aki-/],
      [{ RamdiskId: 'ari-12' }, 'InvalidAMIID.Malformed', /expecting "ari-/],
      [{ KernelId: MISSING_AKI }, 'InvalidAMIID.NotFound'],
      // Another region's kernel does not exist here.
      [{ KernelId: KERNEL['eu-west-1'] }, 'InvalidAMIID.NotFound'],
      // Another account's private image: not found, never revealed.
      [{ KernelId: bobsPrivate }, 'InvalidAMIID.NotFound'],
      // A machine image, or the other boot image type: the wrong type.
      [{ KernelId: alicesOwn }, 'InvalidParameterValue', /is not a kernel image/],
      [{ KernelId: RAMDISK['us-east-1'] }, 'InvalidParameterValue', /is not a kernel image/],
      [{ RamdiskId: KERNEL['us-east-1'] }, 'InvalidParameterValue', /is not a ramdisk image/],
      // HVM images boot their own kernel.
      [{ KernelId: KERNEL['us-east-1'], VirtualizationType: 'hvm' }, 'InvalidParameterCombination', /kernelId/],
      [{ RamdiskId: RAMDISK['us-east-1'], VirtualizationType: 'hvm' }, 'InvalidParameterCombination', /ramdiskId/],
    ];
    for (const [extra, name, message] of cases) {
      await expectAwsError(registerEbs(ec2(), `refused-${Object.values(extra).join('-')}`, extra), { name, status: 400, message });
    }
    const names = (await ec2().send(new DescribeImagesCommand({ Owners: ['self'] }))).Images!.map((i) => i.Name);
    assert.ok(!names.some((n) => n?.startsWith('refused-')), 'nothing was registered');
  });
});

describe('instances: the kernel at launch, as attributes, and changed while stopped', () => {
  test('RunInstances overrides the image\'s kernel and ramdisk; DescribeInstances and DescribeInstanceAttribute return them', async () => {
    const bare = await registerEbs(ec2(), 'pv-without-kernel', { Architecture: 'x86_64', VirtualizationType: 'paravirtual' });
    const i = await runOne(ec2(), { ImageId: bare, InstanceType: 't3.micro', KernelId: KERNEL['us-east-1'], RamdiskId: RAMDISK['us-east-1'] });
    assert.equal(i.KernelId, KERNEL['us-east-1']);
    assert.equal(i.RamdiskId, RAMDISK['us-east-1']);
    await waitForConsole(ec2(), i.InstanceId!, `paravirtual boot: kernel ${KERNEL['us-east-1']}, ramdisk ${RAMDISK['us-east-1']}`);
    const running = await waitState(ec2(), i.InstanceId!, 'running');
    assert.equal(running.KernelId, KERNEL['us-east-1']);
    assert.equal(running.RamdiskId, RAMDISK['us-east-1']);
    const kernel = await ec2().send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'kernel' }));
    assert.equal(kernel.KernelId?.Value, KERNEL['us-east-1']);
    const ramdisk = await ec2().send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'ramdisk' }));
    assert.equal(ramdisk.RamdiskId?.Value, RAMDISK['us-east-1']);
  });

  test('RunInstances refuses a bad override, and any override of an HVM image', async () => {
    const run = (extra: Record<string, string>, imageId = MINIMAL['us-east-1']) =>
      ec2().send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', ...extra }));
    await expectAwsError(run({ KernelId: 'kernel-1' }), { name: 'InvalidAMIID.Malformed' });
    await expectAwsError(run({ KernelId: MISSING_AKI }), { name: 'InvalidAMIID.NotFound' });
    await expectAwsError(run({ KernelId: MINIMAL['us-east-1'] }), { name: 'InvalidParameterValue', message: /is not a kernel image/ });
    const hvm = await registerEbs(ec2(), 'hvm-machine', { Architecture: 'x86_64', VirtualizationType: 'hvm' });
    await expectAwsError(run({ KernelId: KERNEL['us-east-1'] }, hvm), { name: 'InvalidParameterCombination' });
  });

  test('ModifyInstanceAttribute changes the kernel and ramdisk of a stopped instance only; the next start boots them', async () => {
    const bare = await registerEbs(ec2(), 'pv-default-kernel', { Architecture: 'x86_64' });
    const i = await runOne(ec2(), { ImageId: bare, InstanceType: 't3.micro' });
    const id = i.InstanceId!;
    assert.equal(i.KernelId, undefined);
    await waitRunning(ec2(), [id]);
    await waitForConsole(ec2(), id, 'amiforge-sim: booting the default kernel');
    await expectAwsError(ec2().send(new ModifyInstanceAttributeCommand({ InstanceId: id, Kernel: { Value: KERNEL['us-east-1'] } })),
      { name: 'IncorrectInstanceState', status: 400 });
    await ec2().send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitStopped(ec2(), [id]);
    await expectAwsError(ec2().send(new ModifyInstanceAttributeCommand({ InstanceId: id, Kernel: { Value: 'aki-x' } })), { name: 'InvalidAMIID.Malformed' });
    await expectAwsError(ec2().send(new ModifyInstanceAttributeCommand({ InstanceId: id, Kernel: { Value: bare } })),
      { name: 'InvalidParameterValue', message: /is not a kernel image/ });
    await expectAwsError(ec2().send(new ModifyInstanceAttributeCommand({ InstanceId: id, Ramdisk: { Value: MISSING_AKI.replace('aki', 'ari') } })),
      { name: 'InvalidAMIID.NotFound' });
    await ec2().send(new ModifyInstanceAttributeCommand({ InstanceId: id, Kernel: { Value: KERNEL['us-east-1'] } }));
    // The older request form: Attribute and Value.
    await ec2().send(new ModifyInstanceAttributeCommand({ InstanceId: id, Attribute: 'ramdisk', Value: RAMDISK['us-east-1'] }));
    const kernel = await ec2().send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'kernel' }));
    assert.equal(kernel.KernelId?.Value, KERNEL['us-east-1']);
    const ramdisk = await ec2().send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'ramdisk' }));
    assert.equal(ramdisk.RamdiskId?.Value, RAMDISK['us-east-1']);
    await ec2().send(new StartInstancesCommand({ InstanceIds: [id] }));
    await waitForConsole(ec2(), id, `paravirtual boot: kernel ${KERNEL['us-east-1']}, ramdisk ${RAMDISK['us-east-1']}`);
  });

  test('an HVM instance has no kernel to change', async () => {
    const hvm = await registerEbs(ec2(), 'hvm-for-modify', { Architecture: 'x86_64', VirtualizationType: 'hvm', BootMode: 'uefi' });
    const i = await runOne(ec2(), { ImageId: hvm, InstanceType: 't3.micro' });
    await waitForConsole(ec2(), i.InstanceId!, 'HVM boot: UEFI firmware');
    await ec2().send(new StopInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    await waitStopped(ec2(), [i.InstanceId!]);
    await expectAwsError(ec2().send(new ModifyInstanceAttributeCommand({ InstanceId: i.InstanceId, Kernel: { Value: KERNEL['us-east-1'] } })),
      { name: 'InvalidParameterCombination' });
  });
});

describe('CreateImage and CopyImage carry the kernel and ramdisk', () => {
  let created: string;

  test('CreateImage of a paravirtual instance keeps its kernel and ramdisk', async () => {
    const i = await runOne(ec2(), { ImageId: MINIMAL['us-east-1'], InstanceType: 't3.micro' });
    await waitRunning(ec2(), [i.InstanceId!]);
    created = (await ec2().send(new CreateImageCommand({ InstanceId: i.InstanceId, Name: 'pv-golden', NoReboot: true }))).ImageId!;
    await waitImage(ec2(), created);
    const img = await image(created);
    assert.equal(img.VirtualizationType, 'paravirtual');
    assert.equal(img.KernelId, KERNEL['us-east-1']);
    assert.equal(img.RamdiskId, RAMDISK['us-east-1']);
  });

  test('CopyImage to another region names that region\'s kernel and ramdisk; to one without them it is refused', async () => {
    const copy = (await ec2(ALICE, 'eu-west-1').send(new CopyImageCommand({ SourceImageId: created, SourceRegion: 'us-east-1', Name: 'pv-golden-eu' }))).ImageId!;
    const img = await image(copy, ec2(ALICE, 'eu-west-1'));
    assert.equal(img.KernelId, KERNEL['eu-west-1']);
    assert.equal(img.RamdiskId, RAMDISK['eu-west-1']);
    const same = (await ec2().send(new CopyImageCommand({ SourceImageId: created, SourceRegion: 'us-east-1', Name: 'pv-golden-copy' }))).ImageId!;
    assert.equal((await image(same)).KernelId, KERNEL['us-east-1']);
    // ap-south-1 has no catalogue kernel: a copy there could not boot.
    await expectAwsError(ec2(ALICE, 'ap-south-1').send(new CopyImageCommand({ SourceImageId: created, SourceRegion: 'us-east-1', Name: 'pv-golden-ap' })),
      { name: 'InvalidParameterValue', status: 400, message: /no counterpart in ap-south-1/ });
    const there = (await ec2(ALICE, 'ap-south-1').send(new DescribeImagesCommand({ Owners: ['self'] }))).Images!;
    assert.deepEqual(there, []);
  });
});
