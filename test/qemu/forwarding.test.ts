// Reaching a real guest through its security group, through the official SDK (`amiforge serve
// --hypervisor qemu`): amiforge-minimal-linux starts busybox httpd on port 8080 from user data;
// the instance's PublicIpAddress answers on 8080 only while its security group allows it
// (AuthorizeSecurityGroupIngress forwards the port to the running guest, Revoke closes it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorizeSecurityGroupIngressCommand, CreateSecurityGroupCommand, DescribeInstancesCommand, RevokeSecurityGroupIngressCommand,
  RunInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { baseImage, buildBaseImage, consoleShows, terminateAll, until } from '../support/qemu.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { httpGet } from '../support/guest-probes.ts';

let server: RunningServer;
let ec2: EC2Client;

before(async () => {
  await buildBaseImage();
  server = await startServer({ extraArgs: ['--hypervisor', 'qemu'] });
  ec2 = ec2Client(server.endpoint, devCredentials('111111111111'));
});

after(async () => {
  await server?.stop();
});

test('a guest port answers on the instance\'s own address only while its security group allows it', { timeout: 900_000 }, async () => {
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web on 8080' }));
  const rule = { GroupId, IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, CidrIp: '0.0.0.0/0' };
  await ec2.send(new AuthorizeSecurityGroupIngressCommand(rule));
  const base = await baseImage(ec2);
  const script = '#!/bin/sh\nmkdir -p /tmp/www && echo "hello from $(hostname)" >/tmp/www/index.html && httpd -p 8080 -h /tmp/www && echo "ud: serving"\n';
  const { Instances } = await ec2.send(new RunInstancesCommand({
    ImageId: base.ImageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SecurityGroupIds: [GroupId!],
    UserData: Buffer.from(script).toString('base64'),
  }));
  const id = Instances![0].InstanceId!;
  await consoleShows(ec2, id, 'ud: serving');
  const address = await until('a public address', async () =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0].PublicIpAddress);
  assert.match(address, /^127\./);
  assert.match(await httpGet(`http://${address}:8080/`), /^hello from ip-/);

  await ec2.send(new RevokeSecurityGroupIngressCommand(rule));
  await until('port 8080 closed', async () => httpGet(`http://${address}:8080/`).then(() => undefined, (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? true : undefined)), 30_000);
  await ec2.send(new AuthorizeSecurityGroupIngressCommand(rule));
  assert.match(await until('port 8080 open again', async () => httpGet(`http://${address}:8080/`).catch(() => undefined), 30_000), /^hello from ip-/);
  await terminateAll(ec2, [id]);
});
