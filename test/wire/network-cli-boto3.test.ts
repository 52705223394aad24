// Security groups and the default VPC through the aws CLI (its --protocol/--port/--cidr
// shorthand, the legacy request form Packer also sends) and boto3 (run_instances with groups,
// the describe_security_groups paginator, ClientError codes).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, cliSucceeds, devCredentials } from '../support/clients.ts';
import { CATALOGUE_AMI } from '../support/instances.ts';

const creds = devCredentials('777777777777');
const other = devCredentials('666666666666');
let server: RunningServer;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '20'] });
});
after(async () => {
  await server?.stop();
});

const aws = (...args: string[]) => cliSucceeds(awsCli(server.endpoint, creds, args));

describe('the aws CLI', () => {
  test('the default VPC, a group with the shorthand rule form, revoke and delete; errors as EC2 gives them', async () => {
    const vpc = (await aws('ec2', 'describe-vpcs', '--filters', 'Name=isDefault,Values=true')).json.Vpcs[0];
    assert.equal(vpc.CidrBlock, '172.31.0.0/16');
    const attrs = (await aws('ec2', 'describe-account-attributes', '--attribute-names', 'default-vpc')).json.AccountAttributes;
    assert.equal(attrs[0].AttributeValues[0].AttributeValue, vpc.VpcId);
    const subnets = (await aws('ec2', 'describe-subnets', '--filters', `Name=vpc-id,Values=${vpc.VpcId}`, 'Name=default-for-az,Values=true')).json.Subnets;
    assert.equal(subnets.length, 3);

    const id = (await aws('ec2', 'create-security-group', '--group-name', 'cli-ssh', '--description', 'SSH from anywhere', '--vpc-id', vpc.VpcId)).json.GroupId;
    await aws('ec2', 'authorize-security-group-ingress', '--group-id', id, '--protocol', 'tcp', '--port', '22', '--cidr', '0.0.0.0/0');
    await aws('ec2', 'authorize-security-group-ingress', '--group-id', id, '--protocol', 'tcp', '--port', '8000-8010', '--cidr', '10.0.0.0/8');
    await aws('ec2', 'authorize-security-group-ingress', '--group-name', 'cli-ssh', '--ip-permissions', 'IpProtocol=icmp,FromPort=-1,ToPort=-1,IpRanges=[{CidrIp=0.0.0.0/0}]');
    const g = (await aws('ec2', 'describe-security-groups', '--group-ids', id)).json.SecurityGroups[0];
    const perms = g.IpPermissions.map((p: { IpProtocol: string; FromPort?: number; ToPort?: number; IpRanges: { CidrIp: string }[] }) =>
      `${p.IpProtocol}:${p.FromPort}-${p.ToPort}:${p.IpRanges.map((r) => r.CidrIp).join(',')}`).sort();
    assert.deepEqual(perms, ['icmp:-1--1:0.0.0.0/0', 'tcp:22-22:0.0.0.0/0', 'tcp:8000-8010:10.0.0.0/8']);
    const q = await aws('ec2', 'describe-security-groups', '--filters', 'Name=ip-permission.to-port,Values=8010', '--query', 'SecurityGroups[].GroupName');
    assert.deepEqual(q.json, ['cli-ssh']);

    const dup = await awsCli(server.endpoint, creds, ['ec2', 'authorize-security-group-ingress', '--group-id', id, '--protocol', 'tcp', '--port', '22', '--cidr', '0.0.0.0/0']);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /InvalidPermission\.Duplicate/);
    const badCidr = await awsCli(server.endpoint, creds, ['ec2', 'authorize-security-group-ingress', '--group-id', id, '--protocol', 'tcp', '--port', '23', '--cidr', '10.0.0.300/32']);
    assert.match(badCidr.stderr, /InvalidParameterValue/);
    const foreign = await awsCli(server.endpoint, other, ['ec2', 'describe-security-groups', '--group-ids', id]);
    assert.match(foreign.stderr, /InvalidGroup\.NotFound/);
    const dupGroup = await awsCli(server.endpoint, creds, ['ec2', 'create-security-group', '--group-name', 'cli-ssh', '--description', 'x']);
    assert.match(dupGroup.stderr, /InvalidGroup\.Duplicate/);

    await aws('ec2', 'revoke-security-group-ingress', '--group-id', id, '--protocol', 'tcp', '--port', '22', '--cidr', '0.0.0.0/0');
    const rules = (await aws('ec2', 'describe-security-group-rules', '--filters', `Name=group-id,Values=${id}`)).json.SecurityGroupRules;
    assert.equal(rules.filter((r: { IsEgress: boolean }) => !r.IsEgress).length, 2);
    await aws('ec2', 'delete-security-group', '--group-id', id);
    const gone = await awsCli(server.endpoint, creds, ['ec2', 'delete-security-group', '--group-id', id]);
    assert.match(gone.stderr, /InvalidGroup\.NotFound/);
  });
});

describe('boto3', () => {
  test('groups for run_instances, the instance reports them and its host address; paginator; ClientError codes', async () => {
    const r = await boto3(server.endpoint, creds, `
sg = ec2.create_security_group(GroupName="boto-web", Description="web")["GroupId"]
ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
for i in range(6):
    ec2.create_security_group(GroupName=f"boto-page-{i}", Description="page")
names = []
for page in ec2.get_paginator("describe_security_groups").paginate(PaginationConfig={"PageSize": 5}):
    names += [g["GroupName"] for g in page["SecurityGroups"]]
inst = ec2.run_instances(ImageId="${CATALOGUE_AMI}", MinCount=1, MaxCount=1, SecurityGroupIds=[sg])["Instances"][0]
ec2.get_waiter("instance_running").wait(InstanceIds=[inst["InstanceId"]], WaiterConfig={"Delay": 1})
d = ec2.describe_instances(InstanceIds=[inst["InstanceId"]])["Reservations"][0]["Instances"][0]
codes = []
for call in [lambda: ec2.delete_security_group(GroupId=sg),
             lambda: ec2.create_security_group(GroupName="sg-x", Description="d"),
             lambda: ec2.describe_security_groups(GroupIds=["sg-zzz"]),
             lambda: ec2.revoke_security_group_ingress(GroupId=sg, SecurityGroupRuleIds=["sgr-00000000000000000"])]:
    try:
        call()
        codes.append("ok")
    except botocore.exceptions.ClientError as e:
        codes.append(e.response["Error"]["Code"])
ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])
print(json.dumps({"names": sorted(names), "groups": d["SecurityGroups"], "sg": sg, "public": d.get("PublicIpAddress"), "vpc": d.get("VpcId"), "subnet": d.get("SubnetId"), "codes": codes}))
`);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json as { names: string[]; groups: { GroupId: string; GroupName: string }[]; sg: string; public?: string; vpc?: string; subnet?: string; codes: string[] };
    assert.deepEqual(out.names, ['boto-page-0', 'boto-page-1', 'boto-page-2', 'boto-page-3', 'boto-page-4', 'boto-page-5', 'boto-web', 'default']);
    assert.deepEqual(out.groups, [{ GroupId: out.sg, GroupName: 'boto-web' }]);
    assert.match(out.public!, /^127\.\d+\.\d+\.\d+$/);
    assert.match(out.vpc!, /^vpc-[0-9a-f]{17}$/);
    assert.match(out.subnet!, /^subnet-[0-9a-f]{17}$/);
    assert.deepEqual(out.codes, ['DependencyViolation', 'InvalidParameterValue', 'InvalidGroupId.Malformed', 'InvalidSecurityGroupRuleId.NotFound']);
  });
});
