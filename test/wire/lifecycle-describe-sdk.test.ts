// RunInstances' checks and capacity, ClientToken idempotency, DescribeInstances filters and
// pagination, DescribeInstanceStatus and instance tags, through @aws-sdk/client-ec2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateKeyPairCommand, CreateTagsCommand, DescribeInstancesCommand, DescribeInstanceStatusCommand, DescribeTagsCommand, RunInstancesCommand,
  StopInstancesCommand, TerminateInstancesCommand, paginateDescribeInstances, type EC2Client, type Filter, type Instance,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { CATALOGUE_AMI, runOne, waitRunning, waitStopped, waitTerminated } from '../support/instances.ts';

let server: RunningServer;
let ec2: EC2Client;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '20', '--instance-limit', '40'] });
  ec2 = ec2Client(server.endpoint, devCredentials('444444444444'));
});
after(async () => {
  await server?.stop();
});

async function ids(filters: Filter[]): Promise<string[]> {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: filters }));
  return out.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)).sort();
}

describe('RunInstances and DescribeInstances', () => {
  let fleet: Instance[] = [];
  let reservationId: string;
  let single: Instance;

  before(async () => {
    await ec2.send(new CreateKeyPairCommand({ KeyName: 'fleet-key', KeyType: 'ed25519' }));
    const out = await ec2.send(new RunInstancesCommand({
      ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 12, InstanceType: 't3.nano', KeyName: 'fleet-key',
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'fleet', Value: 'web' }] }],
    }));
    fleet = out.Instances!;
    reservationId = out.ReservationId!;
    single = await runOne(ec2, { ImageId: CATALOGUE_AMI, InstanceType: 'c5.large', Placement: { AvailabilityZone: 'us-east-1b' } });
    await waitRunning(ec2, [...fleet.map((i) => i.InstanceId!), single.InstanceId!]);
  });

  test('MaxCount instances in one reservation, with launch indexes and distinct addresses', () => {
    assert.equal(fleet.length, 12);
    assert.deepEqual(fleet.map((i) => i.AmiLaunchIndex), [...Array(12).keys()]);
    assert.equal(new Set(fleet.map((i) => i.PrivateIpAddress)).size, 12);
    assert.ok(fleet.every((i) => i.KeyName === 'fleet-key' && i.InstanceType === 't3.nano'));
  });

  test('every documented filter amiforge has values for selects the right instances', async () => {
    const all = [...fleet.map((i) => i.InstanceId!), single.InstanceId!].sort();
    const fleetIds = fleet.map((i) => i.InstanceId!).sort();
    const first = fleet[0];
    assert.deepEqual(await ids([{ Name: 'instance-id', Values: [first.InstanceId!] }]), [first.InstanceId]);
    assert.deepEqual(await ids([{ Name: 'instance-state-name', Values: ['running'] }]), all);
    assert.deepEqual(await ids([{ Name: 'instance-state-code', Values: ['16'] }]), all);
    assert.deepEqual(await ids([{ Name: 'image-id', Values: [CATALOGUE_AMI] }]), all);
    assert.deepEqual(await ids([{ Name: 'instance-type', Values: ['c5.*'] }]), [single.InstanceId]);
    assert.deepEqual(await ids([{ Name: 'availability-zone', Values: ['us-east-1b'] }]), [single.InstanceId]);
    assert.deepEqual(await ids([{ Name: 'reservation-id', Values: [reservationId] }]), fleetIds);
    assert.deepEqual(await ids([{ Name: 'key-name', Values: ['fleet-key'] }]), fleetIds);
    assert.deepEqual(await ids([{ Name: 'private-ip-address', Values: [first.PrivateIpAddress!] }]), [first.InstanceId]);
    assert.deepEqual(await ids([{ Name: 'root-device-type', Values: ['ebs'] }]), all);
    assert.deepEqual(await ids([{ Name: 'root-device-type', Values: ['instance-store'] }]), []);
    assert.deepEqual(await ids([{ Name: 'tag:fleet', Values: ['web'] }]), fleetIds);
    assert.deepEqual(await ids([{ Name: 'tag-key', Values: ['fleet'] }]), fleetIds);
    const rootVolume = first.BlockDeviceMappings![0].Ebs!.VolumeId!;
    assert.deepEqual(await ids([{ Name: 'block-device-mapping.volume-id', Values: [rootVolume] }]), [first.InstanceId]);
    assert.deepEqual(await ids([{ Name: 'instance-type', Values: ['t3.nano'] }, { Name: 'availability-zone', Values: ['us-east-1b'] }]), [], 'filters AND');
    await expectAwsError(ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })), {
      name: 'InvalidParameterValue', message: "The filter 'no-such-filter' is invalid",
    });
  });

  test('pages of MaxResults with NextToken; the paginator sees every instance once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: token }));
      const page = out.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!));
      assert.ok(page.length <= 5);
      seen.push(...page);
      token = out.NextToken;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, 13);
    const viaPaginator: string[] = [];
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 6 }, {})) {
      viaPaginator.push(...page.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)));
    }
    assert.deepEqual(viaPaginator.sort(), seen.sort());
    await expectAwsError(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 })), { name: 'InvalidParameterValue' });
    await expectAwsError(ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: [seen[0]] })), { name: 'InvalidParameterCombination' });
    await expectAwsError(ec2.send(new DescribeInstancesCommand({ NextToken: 'garbage' })), { name: 'InvalidPaginationToken' });
  });

  test('DescribeInstanceStatus: running instances unless IncludeAllInstances', async () => {
    await ec2.send(new StopInstancesCommand({ InstanceIds: [single.InstanceId!] }));
    await waitStopped(ec2, [single.InstanceId!]);
    const running = (await ec2.send(new DescribeInstanceStatusCommand({}))).InstanceStatuses!;
    assert.equal(running.length, 12);
    const s = running[0];
    assert.equal(s.InstanceState?.Name, 'running');
    assert.equal(s.InstanceStatus?.Status, 'ok');
    assert.equal(s.SystemStatus?.Status, 'ok');
    assert.equal(s.AvailabilityZone, 'us-east-1a');
    const all = (await ec2.send(new DescribeInstanceStatusCommand({ IncludeAllInstances: true, Filters: [{ Name: 'instance-state-name', Values: ['stopped'] }] }))).InstanceStatuses!;
    assert.deepEqual(all.map((x) => [x.InstanceId, x.InstanceStatus?.Status]), [[single.InstanceId, 'not-applicable']]);
  });

  test('CreateTags and DescribeTags work on instances', async () => {
    await ec2.send(new CreateTagsCommand({ Resources: [single.InstanceId!], Tags: [{ Key: 'Name', Value: 'lonely' }] }));
    const tags = (await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-type', Values: ['instance'] }, { Name: 'key', Values: ['Name'] }] }))).Tags!;
    assert.deepEqual(tags, [{ ResourceId: single.InstanceId, ResourceType: 'instance', Key: 'Name', Value: 'lonely' }]);
    assert.deepEqual(await ids([{ Name: 'tag:Name', Values: ['lone*'] }]), [single.InstanceId]);
    await expectAwsError(ec2.send(new CreateTagsCommand({ Resources: ['i-0000000000000000f'], Tags: [{ Key: 'a', Value: 'b' }] })), { name: 'InvalidInstanceID.NotFound' });
  });
});

describe('RunInstances checks and capacity', () => {
  test('the same ClientToken returns the same reservation; different arguments are IdempotentParameterMismatch', async () => {
    const input = { ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 2, InstanceType: 't3.micro' as const, ClientToken: 'deploy-42' };
    const a = await ec2.send(new RunInstancesCommand(input));
    const b = await ec2.send(new RunInstancesCommand(input));
    assert.equal(b.ReservationId, a.ReservationId);
    assert.deepEqual(b.Instances!.map((i) => i.InstanceId), a.Instances!.map((i) => i.InstanceId));
    assert.deepEqual(await ids([{ Name: 'client-token', Values: ['deploy-42'] }]), a.Instances!.map((i) => i.InstanceId!).sort());
    await expectAwsError(ec2.send(new RunInstancesCommand({ ...input, InstanceType: 't3.small' })), {
      name: 'IdempotentParameterMismatch', message: 'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).',
    });
  });

  test('capacity is up to MaxCount; beyond the account limit, InstanceLimitExceeded', async () => {
    // The limit is 40 (--instance-limit); 15 run already.
    const active = (await ids([{ Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }])).length;
    const out = await ec2.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 100, InstanceType: 't3.nano' }));
    assert.equal(out.Instances!.length, 40 - active, 'as many as the limit leaves');
    await expectAwsError(ec2.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1 })), {
      name: 'InstanceLimitExceeded', message: /^You have requested more instances \(41\) than your current instance limit of 40 allows/,
    });
    const ended = out.Instances!.map((i) => i.InstanceId!);
    await waitRunning(ec2, ended);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ended }));
    await waitTerminated(ec2, ended);
    const again = await ec2.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, InstanceType: 't3.nano' }));
    assert.equal(again.Instances!.length, 1, 'terminated instances do not count');
  });

  test('EC2 errors for what cannot be launched', async () => {
    const run = (extra: Record<string, unknown>) => ec2.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', ...extra }));
    await expectAwsError(run({ ImageId: 'ami-0000000000000000f' }), { name: 'InvalidAMIID.NotFound' });
    await expectAwsError(run({ ImageId: 'ami-nope' }), { name: 'InvalidAMIID.Malformed' });
    await expectAwsError(run({ KeyName: 'no-such-key' }), { name: 'InvalidKeyPair.NotFound', message: "The key pair 'no-such-key' does not exist" });
    await expectAwsError(run({ InstanceType: 'u-6tb1.metal' }), { name: 'Unsupported', message: /u-6tb1\.metal/ });
    await expectAwsError(run({ InstanceType: 'not-a-type' }), { name: 'InvalidParameterValue' });
    await expectAwsError(run({ InstanceType: 't4g.micro' }), { name: 'InvalidParameterValue', message: /The architecture 'arm64' of the specified instance type does not match the architecture 'x86_64'/ });
    await expectAwsError(run({ Placement: { AvailabilityZone: 'us-east-1z' } }), { name: 'InvalidParameterValue', message: 'Invalid availability zone: [us-east-1z]' });
    await expectAwsError(run({ UserData: 'not base64!' }), { name: 'InvalidParameterValue', message: 'Invalid BASE64 encoding of user data.' });
    await expectAwsError(run({ UserData: Buffer.alloc(16 * 1024 + 1).toString('base64') }), { name: 'InvalidParameterValue', message: /User data is limited to 16384 bytes/ });
    await expectAwsError(run({ MinCount: 0 }), { name: 'InvalidParameterValue' });
    await expectAwsError(run({ MinCount: 3, MaxCount: 2 }), { name: 'InvalidParameterValue' });
    await expectAwsError(run({ BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: {} }] }), { name: 'InvalidBlockDeviceMapping' });
    await expectAwsError(run({ BlockDeviceMappings: [{ DeviceName: '/dev/sdf', VirtualName: 'ephemeral99' }] }), { name: 'InvalidBlockDeviceMapping' });
    await expectAwsError(run({ TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'a', Value: 'b' }] }] }), { name: 'InvalidParameterValue' });
    await expectAwsError(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-123'] })), { name: 'InvalidInstanceID.Malformed', message: 'Invalid id: "i-123" (expecting "i-...")' });
    await expectAwsError(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0000000000000000f'] })), {
      name: 'InvalidInstanceID.NotFound', message: "The instance ID 'i-0000000000000000f' does not exist",
    });
    await expectAwsError(ec2.send(new TerminateInstancesCommand({ InstanceIds: [] })), { name: 'MissingParameter' });
  });
});
