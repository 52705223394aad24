// The network pieces EC2 clients call, through @aws-sdk/client-ec2: each account's default VPC
// with a subnet per zone and the default group, security groups and their rules (both request
// forms, EC2's errors), instances placed in subnets with groups and a host address, and one
// account never seeing or changing another's groups.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorizeSecurityGroupEgressCommand, AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, CreateTagsCommand,
  DeleteSecurityGroupCommand, DescribeAccountAttributesCommand, DescribeInstanceAttributeCommand, DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand,
  ModifyInstanceAttributeCommand, ModifySecurityGroupRulesCommand, RevokeSecurityGroupEgressCommand, RevokeSecurityGroupIngressCommand,
  RunInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { CATALOGUE_AMI, runOne, waitRunning, waitStopped, waitTerminated } from '../support/instances.ts';

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '20'] });
  alice = ec2Client(server.endpoint, devCredentials('111111111111'));
  bob = ec2Client(server.endpoint, devCredentials('222222222222'));
});
after(async () => {
  await server?.stop();
});

const ssh = (cidr = '0.0.0.0/0') => ({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr }] });

async function newGroup(ec2: EC2Client, name: string): Promise<string> {
  return (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: `group ${name}` }))).GroupId!;
}

describe('default VPC', () => {
  test('one per account and region, 172.31.0.0/16, stable ids, a default subnet per zone', async () => {
    const vpcs = (await alice.send(new DescribeVpcsCommand({}))).Vpcs!;
    assert.equal(vpcs.length, 1);
    assert.equal(vpcs[0].CidrBlock, '172.31.0.0/16');
    assert.equal(vpcs[0].IsDefault, true);
    assert.equal(vpcs[0].OwnerId, '111111111111');
    assert.match(vpcs[0].VpcId!, /^vpc-[0-9a-f]{17}$/);
    assert.deepEqual((await alice.send(new DescribeVpcsCommand({}))).Vpcs![0].VpcId, vpcs[0].VpcId, 'same id on every call');
    const bobVpc = (await bob.send(new DescribeVpcsCommand({}))).Vpcs![0];
    assert.notEqual(bobVpc.VpcId, vpcs[0].VpcId);
    await expectAwsError(bob.send(new DescribeVpcsCommand({ VpcIds: [vpcs[0].VpcId!] })), { name: 'InvalidVpcID.NotFound' });
    const subnets = (await alice.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcs[0].VpcId!] }] }))).Subnets!;
    assert.deepEqual(subnets.map((s) => [s.AvailabilityZone, s.CidrBlock, s.DefaultForAz, s.MapPublicIpOnLaunch]).sort(), [
      ['us-east-1a', '172.31.0.0/20', true, true], ['us-east-1b', '172.31.16.0/20', true, true], ['us-east-1c', '172.31.32.0/20', true, true],
    ]);
    assert.equal(subnets[0].AvailableIpAddressCount, 4091);
    const inB = (await alice.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1b'] }] }))).Subnets!;
    assert.equal(inB.length, 1);
    const attrs = (await alice.send(new DescribeAccountAttributesCommand({}))).AccountAttributes!;
    const attr = (n: string) => attrs.find((a) => a.AttributeName === n)?.AttributeValues?.map((v) => v.AttributeValue);
    assert.deepEqual(attr('supported-platforms'), ['VPC']);
    assert.deepEqual(attr('default-vpc'), [vpcs[0].VpcId]);
    assert.ok(attr('max-instances'));
    const only = (await alice.send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc', 'max-instances' as never] }))).AccountAttributes!;
    assert.deepEqual(only.map((a) => a.AttributeName), ['default-vpc', 'max-instances']);
  });

  test('the default group allows all inbound from itself and all outbound, and cannot be deleted', async () => {
    const [g] = (await alice.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }))).SecurityGroups!;
    assert.equal(g.Description, 'default VPC security group');
    assert.deepEqual(g.IpPermissions!.map((p) => [p.IpProtocol, p.UserIdGroupPairs!.map((u) => u.GroupId)]), [['-1', [g.GroupId]]]);
    assert.deepEqual(g.IpPermissionsEgress!.map((p) => [p.IpProtocol, p.IpRanges!.map((r) => r.CidrIp)]), [['-1', ['0.0.0.0/0']]]);
    await expectAwsError(alice.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId })), { name: 'CannotDelete' });
    await expectAwsError(alice.send(new DeleteSecurityGroupCommand({ GroupName: 'default' })), { name: 'CannotDelete' });
  });
});

describe('security groups', () => {
  test('CreateSecurityGroup validates as EC2 does', async () => {
    const id = await newGroup(alice, 'web');
    assert.match(id, /^sg-[0-9a-f]{17}$/);
    await expectAwsError(alice.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'again' })), { name: 'InvalidGroup.Duplicate', message: /'web' already exists/ });
    await expectAwsError(alice.send(new CreateSecurityGroupCommand({ GroupName: 'sg-123', Description: 'd' })), { name: 'InvalidParameterValue' });
    await expectAwsError(alice.send(new CreateSecurityGroupCommand({ GroupName: 'x'.repeat(256), Description: 'd' })), { name: 'InvalidParameterValue' });
    await expectAwsError(alice.send(new CreateSecurityGroupCommand({ GroupName: 'ok', Description: 'bad \u00e9' })), { name: 'InvalidParameterValue' });
    await expectAwsError(alice.send(new CreateSecurityGroupCommand({ GroupName: 'default', Description: 'd' })), { name: 'InvalidGroup.Reserved' });
    await expectAwsError(alice.send(new CreateSecurityGroupCommand({ GroupName: 'v', Description: 'd', VpcId: 'vpc-0123456789abcdef0' })), { name: 'InvalidVpcID.NotFound' });
    const bobVpc = (await bob.send(new DescribeVpcsCommand({}))).Vpcs![0].VpcId!;
    await expectAwsError(alice.send(new CreateSecurityGroupCommand({ GroupName: 'v', Description: 'd', VpcId: bobVpc })), { name: 'InvalidVpcID.NotFound' });
    // An empty VpcId is the default VPC, as EC2 takes it: Packer sends one when no vpc_id is set.
    const empty = (await alice.send(new CreateSecurityGroupCommand({ GroupName: 'packer-style', Description: 'd', VpcId: '' }))).GroupId!;
    assert.equal((await alice.send(new DescribeSecurityGroupsCommand({ GroupIds: [empty] }))).SecurityGroups![0].VpcId, (await alice.send(new DescribeVpcsCommand({}))).Vpcs![0].VpcId);
    // Bob may use the same name in his own VPC.
    await newGroup(bob, 'web');
    const tagged = await alice.send(new CreateSecurityGroupCommand({
      GroupName: 'tagged', Description: 'd', TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'team', Value: 'ops' }] }],
    }));
    assert.deepEqual(tagged.Tags, [{ Key: 'team', Value: 'ops' }]);
    const found = (await alice.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:team', Values: ['ops'] }] }))).SecurityGroups!;
    assert.deepEqual(found.map((g) => g.GroupId), [tagged.GroupId]);
    await alice.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'tier', Value: 'web' }] }));
    const [web] = (await alice.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups!;
    assert.deepEqual(web.Tags, [{ Key: 'tier', Value: 'web' }]);
    assert.deepEqual(web.IpPermissionsEgress!.map((p) => p.IpRanges!.map((r) => r.CidrIp)), [['0.0.0.0/0']], 'a new group may send anywhere');
    assert.deepEqual(web.IpPermissions, []);
  });

  test('ingress rules round-trip in both request forms, and EC2 errors refuse bad ones', async () => {
    const id = await newGroup(alice, 'rules');
    const other = await newGroup(alice, 'peers');
    const added = await alice.send(new AuthorizeSecurityGroupIngressCommand({
      GroupId: id,
      IpPermissions: [
        { ...ssh(), Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
        { IpProtocol: 'udp', FromPort: 1000, ToPort: 2000, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'vpn' }] },
        { IpProtocol: 'icmp', FromPort: 8, ToPort: -1, IpRanges: [{ CidrIp: '192.168.0.0/16' }] },
        { IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: other }] },
      ],
    }));
    assert.equal(added.Return, true);
    assert.equal(added.SecurityGroupRules!.length, 5);
    assert.ok(added.SecurityGroupRules!.every((r) => /^sgr-[0-9a-f]{17}$/.test(r.SecurityGroupRuleId!) && r.GroupId === id && r.IsEgress === false));
    // The legacy form: top-level protocol, ports and CIDR; and a source group by name.
    await alice.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: 'rules', IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' }));
    const [g] = (await alice.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups!;
    const tcp22 = g.IpPermissions!.find((p) => p.IpProtocol === 'tcp' && p.FromPort === 22)!;
    assert.deepEqual(tcp22.IpRanges, [{ CidrIp: '0.0.0.0/0' }]);
    assert.deepEqual(tcp22.Ipv6Ranges, [{ CidrIpv6: '::/0' }]);
    assert.ok(g.IpPermissions!.some((p) => p.IpProtocol === 'udp' && p.ToPort === 2000 && p.IpRanges![0].Description === 'vpn'));
    assert.ok(g.IpPermissions!.some((p) => p.IpProtocol === '-1' && p.UserIdGroupPairs![0].GroupId === other));
    const filtered = (await alice.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'ip-permission.from-port', Values: ['80'] }] }))).SecurityGroups!;
    assert.deepEqual(filtered.map((x) => x.GroupId), [id]);
    const rules = (await alice.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [id] }] }))).SecurityGroupRules!;
    assert.equal(rules.length, 7, 'six inbound and the default outbound');

    const bad = (IpPermissions: object[], name: string) =>
      expectAwsError(alice.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: IpPermissions as never })), { name });
    await bad([ssh()], 'InvalidPermission.Duplicate');
    await bad([ssh('10.0.0.1/8')], 'InvalidParameterValue');
    await bad([ssh('300.0.0.0/8')], 'InvalidParameterValue');
    await bad([{ IpProtocol: 'tcp', FromPort: 22, ToPort: 70000, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }], 'InvalidParameterValue');
    await bad([{ IpProtocol: 'tcp', FromPort: 30, ToPort: 20, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }], 'InvalidParameterValue');
    await bad([{ IpProtocol: 'bogus', FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }], 'InvalidParameterValue');
    await bad([{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2, Ipv6Ranges: [{ CidrIpv6: 'fe80::1/10' }] }], 'InvalidParameterValue');
    await bad([{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2, UserIdGroupPairs: [{ GroupId: 'sg-0123456789abcdef0' }] }], 'InvalidGroup.NotFound');
    await bad([{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2, UserIdGroupPairs: [{ GroupId: 'nope' }] }], 'InvalidGroupId.Malformed');
    await expectAwsError(alice.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-0123456789abcdef0', IpPermissions: [ssh()] })), { name: 'InvalidGroup.NotFound' });
    await expectAwsError(alice.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-x', IpPermissions: [ssh()] })), { name: 'InvalidGroupId.Malformed' });
    await expectAwsError(alice.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: 'nope', IpPermissions: [ssh()] })), { name: 'InvalidGroup.NotFound' });
    await expectAwsError(alice.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [ssh()], CidrIp: '1.2.3.0/24' })), { name: 'InvalidParameterCombination' });
    const after1 = (await alice.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [id] }] }))).SecurityGroupRules!;
    assert.equal(after1.length, 7, 'refused requests changed nothing');

    // Revoke by values (a mix of known and unknown: the unknown ones are reported), by rule id.
    const revoked = await alice.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [ssh(), ssh('1.2.3.0/24')] }));
    assert.equal(revoked.RevokedSecurityGroupRules!.length, 1);
    assert.deepEqual(revoked.UnknownIpPermissions!.map((p) => p.IpRanges![0].CidrIp), ['1.2.3.0/24']);
    const udp = rules.find((r) => r.IpProtocol === 'udp')!;
    await alice.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, SecurityGroupRuleIds: [udp.SecurityGroupRuleId!] }));
    await expectAwsError(alice.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, SecurityGroupRuleIds: [udp.SecurityGroupRuleId!] })), { name: 'InvalidSecurityGroupRuleId.NotFound' });
    await alice.send(new RevokeSecurityGroupIngressCommand({ GroupName: 'rules', IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '0.0.0.0/0' }));
    const left = (await alice.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups![0].IpPermissions!;
    assert.deepEqual(left.map((p) => p.IpProtocol).sort(), ['-1', 'icmp', 'tcp'], 'icmp, the group rule, and ::/0 on 22 remain');

    // Egress: revoke the default, add one; ModifySecurityGroupRules changes a rule in place.
    await alice.send(new RevokeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    const out = await alice.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [ssh('10.1.0.0/16')] }));
    const ruleId = out.SecurityGroupRules![0].SecurityGroupRuleId!;
    await alice.send(new ModifySecurityGroupRulesCommand({ GroupId: id, SecurityGroupRules: [{ SecurityGroupRuleId: ruleId, SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '10.2.0.0/16' } }] }));
    const [modified] = (await alice.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [ruleId] }))).SecurityGroupRules!;
    assert.deepEqual([modified.IsEgress, modified.FromPort, modified.CidrIpv4], [true, 443, '10.2.0.0/16']);
  });

  test('rules take tags: at authorization, with CreateTags, in DescribeSecurityGroupRules filters; gone with the rule', async () => {
    const id = await newGroup(alice, 'tagged-rules');
    const added = await alice.send(new AuthorizeSecurityGroupIngressCommand({
      GroupId: id, IpPermissions: [ssh()], TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'purpose', Value: 'ssh' }] }],
    }));
    const ruleId = added.SecurityGroupRules![0].SecurityGroupRuleId!;
    assert.deepEqual(added.SecurityGroupRules![0].Tags, [{ Key: 'purpose', Value: 'ssh' }]);
    await alice.send(new CreateTagsCommand({ Resources: [ruleId], Tags: [{ Key: 'owner', Value: 'ops' }] }));
    const found = (await alice.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'tag:purpose', Values: ['ssh'] }] }))).SecurityGroupRules!;
    assert.deepEqual(found.map((r) => [r.SecurityGroupRuleId, r.Tags!.length]), [[ruleId, 2]]);
    await expectAwsError(bob.send(new CreateTagsCommand({ Resources: [ruleId], Tags: [{ Key: 'x', Value: 'y' }] })), { name: 'InvalidSecurityGroupRuleId.NotFound' });
    await alice.send(new RevokeSecurityGroupIngressCommand({ GroupId: id, SecurityGroupRuleIds: [ruleId] }));
    assert.deepEqual((await alice.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'tag:purpose', Values: ['ssh'] }] }))).SecurityGroupRules, []);
  });

  test('DeleteSecurityGroup: by id or name; DependencyViolation while another group references it', async () => {
    const a = await newGroup(alice, 'del-a');
    const b = await newGroup(alice, 'del-b');
    await alice.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: a, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: b }] }] }));
    await expectAwsError(alice.send(new DeleteSecurityGroupCommand({ GroupId: b })), { name: 'DependencyViolation' });
    await alice.send(new DeleteSecurityGroupCommand({ GroupId: a }));
    await alice.send(new DeleteSecurityGroupCommand({ GroupName: 'del-b' }));
    await expectAwsError(alice.send(new DescribeSecurityGroupsCommand({ GroupIds: [a] })), { name: 'InvalidGroup.NotFound' });
    await expectAwsError(alice.send(new DeleteSecurityGroupCommand({ GroupId: a })), { name: 'InvalidGroup.NotFound' });
  });

  test('DescribeSecurityGroups pages with MaxResults and NextToken', async () => {
    for (let i = 0; i < 6; i++) await newGroup(alice, `page-${i}`);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const r = await alice.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: token, Filters: [{ Name: 'group-name', Values: ['page-*'] }] }));
      assert.ok(r.SecurityGroups!.length <= 5);
      seen.push(...r.SecurityGroups!.map((g) => g.GroupName!));
      token = r.NextToken;
    } while (token);
    assert.deepEqual(seen.sort(), ['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5']);
    await expectAwsError(alice.send(new DescribeSecurityGroupsCommand({ GroupNames: ['page-0'], MaxResults: 5 })), { name: 'InvalidParameterCombination' });
  });

  test('another account never sees, references or changes a group, and is never told it exists', async () => {
    const id = await newGroup(alice, 'private');
    const bobsView = (await bob.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!;
    assert.ok(!bobsView.some((g) => g.GroupId === id || g.OwnerId === '111111111111'));
    const notFound = { name: 'InvalidGroup.NotFound', message: `The security group '${id}' does not exist` };
    await expectAwsError(bob.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] })), notFound);
    await expectAwsError(bob.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [ssh()] })), notFound);
    await expectAwsError(bob.send(new RevokeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] })), notFound);
    await expectAwsError(bob.send(new DeleteSecurityGroupCommand({ GroupId: id })), notFound);
    await expectAwsError(bob.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'x', Value: 'y' }] })), notFound);
    const bobGroup = await newGroup(bob, 'bob-private');
    await expectAwsError(bob.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: bobGroup, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: id }] }] })), { name: 'InvalidGroup.NotFound' });
    await expectAwsError(bob.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: bobGroup, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: id, UserId: '111111111111' }] }] })), { name: 'InvalidGroup.NotFound' });
    await expectAwsError(bob.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, SecurityGroupIds: [id] })), notFound);
    const [mine] = (await alice.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups!;
    assert.deepEqual(mine.IpPermissions, [], 'unchanged');
    assert.equal(mine.Tags, undefined);
  });
});

describe('instances in the network', () => {
  test('default placement: the default subnet of the zone and the default group; a host address while running', async () => {
    const i = await runOne(alice, { ImageId: CATALOGUE_AMI, Placement: { AvailabilityZone: 'us-east-1b' } });
    await waitRunning(alice, [i.InstanceId!]);
    const [subnet] = (await alice.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1b'] }] }))).Subnets!;
    const [dflt] = (await alice.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }))).SecurityGroups!;
    const r = (await alice.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0].Instances![0];
    assert.equal(r.SubnetId, subnet.SubnetId);
    assert.equal(r.VpcId, subnet.VpcId);
    assert.deepEqual(r.SecurityGroups, [{ GroupId: dflt.GroupId, GroupName: 'default' }]);
    assert.match(r.PrivateIpAddress!, /^172\.31\.(1[6-9]|2\d|3[01])\.\d+$/, 'in 172.31.16.0/20');
    assert.match(r.PublicIpAddress!, /^127\.\d+\.\d+\.\d+$/);
    assert.equal(r.PublicDnsName, r.PublicIpAddress);
    const nic = r.NetworkInterfaces![0];
    assert.equal(nic.SubnetId, subnet.SubnetId);
    assert.equal(nic.PrivateIpAddress, r.PrivateIpAddress);
    assert.match(nic.MacAddress!, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(nic.Association?.PublicIp, r.PublicIpAddress);
    assert.deepEqual(nic.Groups, r.SecurityGroups);
    const byGroup = (await alice.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance.group-id', Values: [dflt.GroupId!] }] }))).Reservations!;
    assert.ok(byGroup.some((res) => res.Instances!.some((x) => x.InstanceId === i.InstanceId)));
    await alice.send(new StopInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    await waitStopped(alice, [i.InstanceId!]);
    const stopped = (await alice.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0].Instances![0];
    assert.equal(stopped.PublicIpAddress, undefined, 'released at stop, as EC2 releases a public IP');
    assert.equal(stopped.PublicDnsName, '');
    assert.equal(stopped.SubnetId, subnet.SubnetId);
  });

  test('SubnetId, SecurityGroupIds, SecurityGroups and NetworkInterfaces choose the network; conflicts are refused', async () => {
    const web = await newGroup(alice, 'inst-web');
    const [subnetC] = (await alice.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1c'] }] }))).Subnets!;
    const a = await runOne(alice, { ImageId: CATALOGUE_AMI, SubnetId: subnetC.SubnetId, SecurityGroupIds: [web] });
    assert.equal(a.Placement!.AvailabilityZone, 'us-east-1c');
    assert.match(a.PrivateIpAddress!, /^172\.31\.(3[2-9]|4[0-7])\.\d+$/);
    assert.deepEqual(a.SecurityGroups!.map((g) => g.GroupName), ['inst-web']);
    const b = await runOne(alice, { ImageId: CATALOGUE_AMI, SecurityGroups: ['inst-web', 'default'], SubnetId: '' });
    assert.deepEqual(b.SecurityGroups!.map((g) => g.GroupName).sort(), ['default', 'inst-web']);
    const c = await runOne(alice, { ImageId: CATALOGUE_AMI, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetC.SubnetId, Groups: [web], AssociatePublicIpAddress: false }] });
    assert.equal(c.SubnetId, subnetC.SubnetId);
    await waitRunning(alice, [c.InstanceId!]);
    const cr = (await alice.send(new DescribeInstancesCommand({ InstanceIds: [c.InstanceId!] }))).Reservations![0].Instances![0];
    assert.equal(cr.PublicIpAddress, undefined, 'AssociatePublicIpAddress false: no host address');
    await expectAwsError(alice.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, SubnetId: subnetC.SubnetId, Placement: { AvailabilityZone: 'us-east-1a' } })), { name: 'InvalidParameterCombination' });
    await expectAwsError(alice.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, SubnetId: 'subnet-0123456789abcdef0' })), { name: 'InvalidSubnetID.NotFound' });
    await expectAwsError(alice.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, SecurityGroups: ['no-such'] })), { name: 'InvalidGroup.NotFound' });
    await expectAwsError(alice.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, SecurityGroupIds: ['sg-bad'] })), { name: 'InvalidGroupId.Malformed' });
    await expectAwsError(alice.send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, SubnetId: subnetC.SubnetId, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetC.SubnetId }] })), { name: 'InvalidParameterCombination' });
    await alice.send(new TerminateInstancesCommand({ InstanceIds: [a.InstanceId!, b.InstanceId!, c.InstanceId!] }));
  });

  test('ModifyInstanceAttribute groupSet; DeleteSecurityGroup is DependencyViolation while an instance uses the group', async () => {
    const g1 = await newGroup(alice, 'attr-1');
    const g2 = await newGroup(alice, 'attr-2');
    const i = await runOne(alice, { ImageId: CATALOGUE_AMI, SecurityGroupIds: [g1] });
    await waitRunning(alice, [i.InstanceId!]);
    await expectAwsError(alice.send(new DeleteSecurityGroupCommand({ GroupId: g1 })), { name: 'DependencyViolation', message: `resource ${g1} has a dependent object` });
    await alice.send(new ModifyInstanceAttributeCommand({ InstanceId: i.InstanceId, Groups: [g2] }));
    const attr = await alice.send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'groupSet' }));
    assert.deepEqual(attr.Groups, [{ GroupId: g2, GroupName: 'attr-2' }]);
    const r = (await alice.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0].Instances![0];
    assert.deepEqual(r.SecurityGroups, [{ GroupId: g2, GroupName: 'attr-2' }]);
    await alice.send(new DeleteSecurityGroupCommand({ GroupId: g1 }));
    await expectAwsError(alice.send(new ModifyInstanceAttributeCommand({ InstanceId: i.InstanceId, Groups: ['sg-0123456789abcdef0'] })), { name: 'InvalidGroup.NotFound' });
    await expectAwsError(alice.send(new DeleteSecurityGroupCommand({ GroupId: g2 })), { name: 'DependencyViolation' });
    await alice.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    await waitTerminated(alice, [i.InstanceId!]);
    await alice.send(new DeleteSecurityGroupCommand({ GroupId: g2 }));
  });
});
