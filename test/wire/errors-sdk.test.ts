// EC2-wide behaviour through the AWS SDK for JavaScript v3 (dev mode): DryRun, the common client
// errors with their codes, messages and HTTP statuses, unimplemented and unknown actions, and
// DescribeRegions / DescribeAvailabilityZones.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AllocateAddressCommand, CreateVpcCommand, DeregisterImageCommand, DescribeAvailabilityZonesCommand, DescribeImageAttributeCommand,
  DescribeImagesCommand, DescribeRegionsCommand, RegisterImageCommand, type DescribeRegionsCommandInput, type EC2Client,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { defaultSnapshot, expectAwsError, registerEbs, signedEc2Post } from '../support/sdk.ts';

let server: RunningServer;
const ACCOUNT = '202020202020';
const client = (region = 'us-east-1'): EC2Client => ec2Client(server.endpoint, devCredentials(ACCOUNT), region);

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('DryRun', () => {
  test('a request that would succeed is DryRunOperation with HTTP 412, and changes nothing', async () => {
    const err = await expectAwsError(client().send(new DescribeImagesCommand({ DryRun: true })),
      { name: 'DryRunOperation', status: 412, message: 'Request would have succeeded, but DryRun flag is set.' });
    assert.match(err.$metadata?.requestId ?? '', /^[0-9a-f-]{36}$/);
    await expectAwsError(client().send(new RegisterImageCommand({
      Name: 'dry-run-only', RootDeviceName: '/dev/xvda', DryRun: true,
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: await defaultSnapshot(client()) } }],
    })), { name: 'DryRunOperation', status: 412 });
    const mine = await client().send(new DescribeImagesCommand({ Owners: ['self'] }));
    assert.deepEqual(mine.Images, []);
    await expectAwsError(client().send(new DescribeRegionsCommand({ DryRun: true })), { name: 'DryRunOperation', status: 412 });
  });
});

describe('common client errors', () => {
  test('MissingParameter names the missing parameter', async () => {
    await expectAwsError(client().send(new RegisterImageCommand({} as never)),
      { name: 'MissingParameter', status: 400, message: 'The request must contain the parameter Name' });
    await expectAwsError(client().send(new DeregisterImageCommand({} as never)),
      { name: 'MissingParameter', status: 400, message: 'The request must contain the parameter ImageId' });
    await expectAwsError(client().send(new DescribeImageAttributeCommand({ ImageId: 'ami-0123456789abcdef0' } as never)),
      { name: 'MissingParameter', status: 400, message: 'The request must contain the parameter Attribute' });
  });

  test('InvalidParameterValue for a value outside an enum or a range', async () => {
    await expectAwsError(registerEbs(client(), 'bad-arch', { Architecture: 'sparc' as never }),
      { name: 'InvalidParameterValue', status: 400, message: /sparc/ });
    await expectAwsError(client().send(new DescribeImagesCommand({ MaxResults: 0 })),
      { name: 'InvalidParameterValue', status: 400, message: /maxResults/i });
    await expectAwsError(client().send(new DescribeImagesCommand({ MaxResults: 1001 })),
      { name: 'InvalidParameterValue', status: 400 });
    await expectAwsError(client().send(new DescribeImageAttributeCommand({ ImageId: 'ami-0123456789abcdef0', Attribute: 'colour' as never })),
      { name: 'InvalidParameterValue', status: 400 });
  });

  test('InvalidParameterCombination for ImageIds with MaxResults', async () => {
    await expectAwsError(client().send(new DescribeImagesCommand({ ImageIds: ['ami-0123456789abcdef0'], MaxResults: 10 })),
      { name: 'InvalidParameterCombination', status: 400 });
  });

  test('InvalidAMIID.Malformed and InvalidAMIID.NotFound', async () => {
    for (const id of ['ami-xyz', 'ami-12345', 'snap-0123456789abcdef0', 'AMI-0123456789ABCDEF0']) {
      await expectAwsError(client().send(new DescribeImagesCommand({ ImageIds: [id] })),
        { name: 'InvalidAMIID.Malformed', status: 400, message: `Invalid id: "${id}" (expecting "ami-...")` });
    }
    await expectAwsError(client().send(new DeregisterImageCommand({ ImageId: 'nonsense' })), { name: 'InvalidAMIID.Malformed', status: 400 });
    for (const id of ['ami-0123456789abcdef0', 'ami-12345678']) {
      await expectAwsError(client().send(new DescribeImagesCommand({ ImageIds: [id] })),
        { name: 'InvalidAMIID.NotFound', status: 400, message: `The image id '[${id}]' does not exist` });
    }
    // One unknown id fails the whole request, as in AWS.
    const { Images } = await client().send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    await expectAwsError(client().send(new DescribeImagesCommand({ ImageIds: [Images![0].ImageId!, 'ami-0123456789abcdef0'] })),
      { name: 'InvalidAMIID.NotFound', status: 400 });
  });

  test('a real EC2 action amiforge does not implement is UnsupportedOperation naming it', async () => {
    // Networking is outside what amiforge serves (images, snapshots, volumes), so these stay unimplemented.
    await expectAwsError(client().send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' })),
      { name: 'UnsupportedOperation', status: 400, message: /\bCreateVpc\b/ });
    await expectAwsError(client().send(new AllocateAddressCommand({})),
      { name: 'UnsupportedOperation', status: 400, message: /\bAllocateAddress\b/ });
  });

  test('an action that does not exist is InvalidAction, in EC2\'s error envelope', async () => {
    const res = await signedEc2Post(server.endpoint, devCredentials(ACCOUNT), { Action: 'NoSuchThing', Version: '2016-11-15' });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /xml/);
    assert.match(res.body, /<Response><Errors><Error><Code>InvalidAction<\/Code><Message>The action NoSuchThing is not valid for this web service\.<\/Message><\/Error><\/Errors><RequestID>([0-9a-f-]{36})<\/RequestID><\/Response>/);
    const requestId = /<RequestID>(.*)<\/RequestID>/.exec(res.body)![1];
    assert.equal(res.headers.get('x-amzn-requestid'), requestId);
  });

  test('an unknown parameter is UnknownParameter; a malformed integer is InvalidParameterValue', async () => {
    const unknown = await signedEc2Post(server.endpoint, devCredentials(ACCOUNT), { Action: 'DescribeImages', Version: '2016-11-15', Colour: 'blue' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body, /<Code>UnknownParameter<\/Code><Message>The parameter Colour is not recognized<\/Message>/);
    const badInt = await signedEc2Post(server.endpoint, devCredentials(ACCOUNT), { Action: 'DescribeImages', Version: '2016-11-15', MaxResults: 'ten' });
    assert.equal(badInt.status, 400);
    assert.match(badInt.body, /<Code>InvalidParameterValue<\/Code>/);
    const ok = await signedEc2Post(server.endpoint, devCredentials(ACCOUNT), { Action: 'DescribeImages', Version: '2016-11-15', 'Owner.1': 'amazon' });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<DescribeImagesResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/"><requestId>/);
  });
});

describe('DescribeRegions', () => {
  const names = async (input: DescribeRegionsCommandInput) =>
    ((await client().send(new DescribeRegionsCommand(input))).Regions ?? []).map((r) => r.RegionName!);

  test('by default, the regions that need no opt-in, each with its endpoint', async () => {
    const { Regions } = await client().send(new DescribeRegionsCommand({}));
    const byName = new Map(Regions!.map((r) => [r.RegionName, r]));
    for (const name of ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-northeast-1']) {
      assert.deepEqual(byName.get(name), { RegionName: name, Endpoint: `ec2.${name}.amazonaws.com`, OptInStatus: 'opt-in-not-required' });
    }
    assert.ok(!byName.has('af-south-1'), 'opt-in regions are listed only with AllRegions');
  });

  test('AllRegions adds the opt-in regions, marked not-opted-in', async () => {
    const { Regions } = await client().send(new DescribeRegionsCommand({ AllRegions: true }));
    const af = Regions!.find((r) => r.RegionName === 'af-south-1');
    assert.deepEqual(af, { RegionName: 'af-south-1', Endpoint: 'ec2.af-south-1.amazonaws.com', OptInStatus: 'not-opted-in' });
    assert.ok(Regions!.length > (await names({})).length);
  });

  test('RegionNames and the region-name filter', async () => {
    assert.deepEqual((await names({ RegionNames: ['eu-west-1', 'us-east-2'] })).sort(), ['eu-west-1', 'us-east-2']);
    const eu = await names({ Filters: [{ Name: 'region-name', Values: ['eu-west-*'] }] });
    assert.deepEqual(eu.sort(), ['eu-west-1', 'eu-west-2', 'eu-west-3']);
    assert.deepEqual(await names({ Filters: [{ Name: 'region-name', Values: ['us-east-?'] }, { Name: 'endpoint', Values: ['*-2.amazonaws.com'] }] }), ['us-east-2']);
    await expectAwsError(client().send(new DescribeRegionsCommand({ RegionNames: ['xx-fake-1'] })), { name: 'InvalidParameterValue', status: 400 });
    await expectAwsError(client().send(new DescribeRegionsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })), { name: 'InvalidParameterValue', status: 400 });
  });
});

describe('DescribeAvailabilityZones', () => {
  test('the zones of the request\'s region, with zone ids', async () => {
    for (const [region, code] of [['us-west-2', 'usw2'], ['eu-central-1', 'euc1']]) {
      const { AvailabilityZones } = await client(region).send(new DescribeAvailabilityZonesCommand({}));
      assert.deepEqual(AvailabilityZones!.map((z) => [z.ZoneName, z.ZoneId]),
        [[`${region}a`, `${code}-az1`], [`${region}b`, `${code}-az2`], [`${region}c`, `${code}-az3`]]);
      for (const z of AvailabilityZones!) {
        assert.equal(z.RegionName, region);
        assert.equal(z.State, 'available');
        assert.equal(z.ZoneType, 'availability-zone');
        assert.equal(z.OptInStatus, 'opt-in-not-required');
      }
    }
  });

  test('ZoneNames, ZoneIds and filters select zones; another region\'s zone is invalid', async () => {
    const c = client('us-west-2');
    const byName = await c.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['us-west-2b'] }));
    assert.deepEqual(byName.AvailabilityZones!.map((z) => z.ZoneId), ['usw2-az2']);
    const byId = await c.send(new DescribeAvailabilityZonesCommand({ ZoneIds: ['usw2-az3'] }));
    assert.deepEqual(byId.AvailabilityZones!.map((z) => z.ZoneName), ['us-west-2c']);
    const filtered = await c.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'zone-name', Values: ['*a', '*c'] }] }));
    assert.deepEqual(filtered.AvailabilityZones!.map((z) => z.ZoneName), ['us-west-2a', 'us-west-2c']);
    await expectAwsError(c.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['us-east-1a'] })), { name: 'InvalidParameterValue', status: 400 });
  });
});
