// RegisterImage, DescribeImages of what was registered, DeregisterImage, image names and the
// reset endpoint, through the AWS SDK for JavaScript v3 against a real server (dev mode:
// the access key id is the account).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateTagsCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeTagsCommand, RegisterImageCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { amazonInUsEast1, describeIds, publicInUsEast1 } from '../support/catalog.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { AMI_ID, defaultSnapshot, expectAwsError, forgetSnapshots, registerEbs } from '../support/sdk.ts';


let server: RunningServer;
const client = (account: string, region = 'us-east-1'): EC2Client => ec2Client(server.endpoint, devCredentials(account), region);

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('RegisterImage and DescribeImages report every member truthfully', () => {
  const account = '111111111111';

  test('EBS-backed image with block-device mappings, root device and tags', async () => {
    const c = client(account);
    const snapshot = await defaultSnapshot(c);
    const started = Date.now();
    const out = await c.send(new RegisterImageCommand({
      Name: 'web-server-v1',
      Description: 'Web server, first cut',
      Architecture: 'x86_64',
      VirtualizationType: 'hvm',
      EnaSupport: true,
      BootMode: 'uefi',
      RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshot, VolumeSize: 16 } },
        { DeviceName: '/dev/sdb', Ebs: { VolumeSize: 100, VolumeType: 'gp3', DeleteOnTermination: false, Iops: 3000 } },
        { DeviceName: '/dev/sdc', VirtualName: 'ephemeral0' },
      ],
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'team', Value: 'web' }, { Key: 'stage', Value: 'prod' }] }],
    }));
    assert.match(out.ImageId!, AMI_ID);
    assert.equal(out.$metadata.httpStatusCode, 200);

    const { Images } = await c.send(new DescribeImagesCommand({ ImageIds: [out.ImageId!] }));
    assert.equal(Images?.length, 1);
    const img = Images![0];
    assert.equal(img.ImageId, out.ImageId);
    assert.equal(img.Name, 'web-server-v1');
    assert.equal(img.Description, 'Web server, first cut');
    assert.equal(img.OwnerId, account);
    assert.equal(img.State, 'available');
    assert.equal(img.Public, false);
    assert.equal(img.ImageLocation, `${account}/web-server-v1`);
    assert.equal(img.ImageType, 'machine');
    assert.equal(img.Architecture, 'x86_64');
    assert.equal(img.VirtualizationType, 'hvm');
    assert.equal(img.EnaSupport, true);
    assert.equal(img.BootMode, 'uefi');
    assert.equal(img.RootDeviceType, 'ebs');
    assert.equal(img.RootDeviceName, '/dev/xvda');
    assert.equal(img.ImageOwnerAlias, undefined);
    const created = Date.parse(img.CreationDate!);
    assert.match(img.CreationDate!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
    assert.ok(created >= started - 2000 && created <= Date.now() + 2000, `CreationDate ${img.CreationDate} is now`);
    assert.deepEqual(img.BlockDeviceMappings, [
      { DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshot, VolumeSize: 16, DeleteOnTermination: true, VolumeType: 'gp2', Encrypted: false } },
      { DeviceName: '/dev/sdb', Ebs: { VolumeSize: 100, VolumeType: 'gp3', DeleteOnTermination: false, Iops: 3000, Encrypted: false } },
      { DeviceName: '/dev/sdc', VirtualName: 'ephemeral0' },
    ]);
    const tags = [...(img.Tags ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!));
    assert.deepEqual(tags, [{ Key: 'stage', Value: 'prod' }, { Key: 'team', Value: 'web' }]);
  });

  test('instance-store image keeps its ImageLocation and defaults', async () => {
    const c = client(account);
    const out = await c.send(new RegisterImageCommand({
      Name: 'legacy-instance-store',
      ImageLocation: 'my-bucket/legacy/image.manifest.xml',
      BlockDeviceMappings: [{ DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }],
    }));
    const [img] = (await c.send(new DescribeImagesCommand({ ImageIds: [out.ImageId!] }))).Images!;
    assert.equal(img.ImageLocation, 'my-bucket/legacy/image.manifest.xml');
    assert.equal(img.RootDeviceType, 'instance-store');
    // AWS's documented RegisterImage defaults: i386 and paravirtual.
    assert.equal(img.Architecture, 'i386');
    assert.equal(img.VirtualizationType, 'paravirtual');
    assert.equal(img.Public, false);
    assert.equal(img.Tags, undefined);
    assert.deepEqual(img.BlockDeviceMappings, [{ DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }]);
  });

  test('an image lives in the region it was registered in', async () => {
    const id = await registerEbs(client(account), 'regional-only');
    assert.deepEqual(await describeIds(client(account), { ImageIds: [id] }), [id]);
    await expectAwsError(client(account, 'us-west-2').send(new DescribeImagesCommand({ ImageIds: [id] })),
      { name: 'InvalidAMIID.NotFound', status: 400 });
    assert.ok(!(await describeIds(client(account, 'us-west-2'), { Owners: ['self'] })).includes(id));
  });
});


describe('DeregisterImage and image names', () => {
  const account = '555555555555';

  test('a deregistered image is gone, and deregistering it again is NotFound', async () => {
    const c = client(account);
    const id = await registerEbs(c, 'short-lived', { TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'k', Value: 'v' }] }] });
    const out = await c.send(new DeregisterImageCommand({ ImageId: id }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.deepEqual(await describeIds(c, { Owners: ['self'] }), []);
    await expectAwsError(c.send(new DescribeImagesCommand({ ImageIds: [id] })),
      { name: 'InvalidAMIID.NotFound', status: 400, message: `The image id '[${id}]' does not exist` });
    await expectAwsError(c.send(new DeregisterImageCommand({ ImageId: id })), { name: 'InvalidAMIID.NotFound', status: 400 });
    // Its tags went with it.
    const tags = await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }));
    assert.deepEqual(tags.Tags, []);
    // And the name is free again.
    assert.match(await registerEbs(c, 'short-lived'), AMI_ID);
  });

  test('a duplicate name in the same account and region is InvalidAMIName.Duplicate', async () => {
    await registerEbs(client(account), 'taken-name');
    await expectAwsError(registerEbs(client(account), 'taken-name'), { name: 'InvalidAMIName.Duplicate', status: 400, message: /taken-name/ });
    // Names are per account and per region.
    assert.match(await registerEbs(client('555555555556'), 'taken-name'), AMI_ID);
    assert.match(await registerEbs(client(account, 'eu-west-1'), 'taken-name'), AMI_ID);
  });

  test('RegisterImage tags only the image: another TagSpecification resource type is rejected', async () => {
    await expectAwsError(registerEbs(client(account), 'tag-the-snapshot', { TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'k', Value: 'v' }] }] }),
      { name: 'InvalidParameterValue', status: 400, message: /snapshot/ });
    assert.deepEqual(await describeIds(client(account), { Filters: [{ Name: 'name', Values: ['tag-the-snapshot'] }] }), []);
  });

  test('a name that is too short or has forbidden characters is InvalidAMIName.Malformed', async () => {
    await expectAwsError(registerEbs(client(account), 'ab'), { name: 'InvalidAMIName.Malformed', status: 400 });
    await expectAwsError(registerEbs(client(account), 'bad*name'), { name: 'InvalidAMIName.Malformed', status: 400 });
    assert.match(await registerEbs(client(account), 'abc'), AMI_ID);
  });
});

describe('the reset endpoint', () => {
  test('empties the store and loads the catalogue again', async () => {
    const account = '999999999999';
    const c = client(account);
    await registerEbs(c, 'before-reset');
    await c.send(new CreateTagsCommand({ Resources: [amazonInUsEast1[0]], Tags: [{ Key: 'seen', Value: 'yes' }] }));
    await server.reset();
    forgetSnapshots();
    assert.deepEqual(await describeIds(c, { Owners: ['self'] }), []);
    assert.deepEqual(await describeIds(client('111111111111'), { Owners: ['self'] }), []);
    assert.deepEqual(await describeIds(c, {}), publicInUsEast1);
    assert.deepEqual((await c.send(new DescribeTagsCommand({}))).Tags, []);
    const [amazonImage] = (await c.send(new DescribeImagesCommand({ ImageIds: [amazonInUsEast1[0]] }))).Images!;
    assert.equal(amazonImage.Public, true);
    assert.equal(amazonImage.Tags, undefined);
  });
});
