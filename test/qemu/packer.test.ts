// Packer's amazon-ebs builder (Debian's `packer` 1.6.6) builds a golden Debian image against
// amiforge with an ordinary template (examples/packer/debian-golden.pkr.hcl): source_ami_filter on
// Debian's name and owner, a temporary key pair and security group, SSH as `admin`, a shell
// provisioner, a copy in a second region, a share with another account, tags. Packer then cleans
// up after itself. The other account launches the copy and reads what the provisioner wrote.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  AuthorizeSecurityGroupIngressCommand, CreateKeyPairCommand, CreateSecurityGroupCommand, DescribeImageAttributeCommand,
  DescribeImagesCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { buildDebianImage, imageAvailable, sshRun, terminateAll, until, writePrivateKey } from '../support/qemu.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const REPO = resolve(import.meta.dirname, '../..');
const TEMPLATE = join(REPO, 'examples/packer/debian-golden.pkr.hcl');
const BUILDER = '111111111111';
const TEAM = '222222222222';
const run = promisify(execFile);

let server: RunningServer;
let home: string;

before(async () => {
  await buildDebianImage();
  server = await startServer({ extraArgs: ['--hypervisor', 'qemu'] });
  home = mkdtempSync(join(tmpdir(), 'amiforge-packer-'));
});

after(async () => {
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** Runs `packer build` with the builder's credentials; resolves with its machine-readable output. */
function packerBuild(log: (line: string) => void): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('packer', ['build', '-machine-readable', '-var', `endpoint=${server.endpoint}`, '-var', `share_with=${TEAM}`, TEMPLATE], {
      cwd: home,
      env: {
        ...process.env,
        HOME: home,
        AWS_ACCESS_KEY_ID: BUILDER, AWS_SECRET_ACCESS_KEY: 'dev-mode-any-secret',
        AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        // Packer's waiters poll every 15 s by default; amiforge answers at once.
        AWS_POLL_DELAY_SECONDS: '2', AWS_MAX_ATTEMPTS: '900',
        CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1', PACKER_CACHE_DIR: join(home, 'cache'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      for (const line of c.toString().split('\n')) if (line.includes(',ui,')) log(line.split(',ui,')[1].replace(/%!\(PACKER_COMMA\)/g, ','));
    });
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`packer build exited ${code}:\n${out.slice(-6000)}`))));
  });
}

test('packer builds a golden Debian image in two regions, shared with another account, which boots with the provisioner\'s change', { timeout: 2_400_000 }, async (t) => {
  const started = Date.now();
  const phases: string[] = [];
  const output = await packerBuild((line) => {
    if (/==> amazon-ebs/.test(line)) phases.push(`${((Date.now() - started) / 1000).toFixed(1)} s ${line.trim()}`);
  });
  t.diagnostic(`packer build took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const p of phases) t.diagnostic(p);

  // The artifact: an AMI per region ("us-east-1:ami-...,us-west-2:ami-...").
  const artifact = /artifact,0,id,([^\n]+)/.exec(output)?.[1].replace(/%!\(PACKER_COMMA\)/g, ',');
  assert.ok(artifact, 'packer reported an artifact');
  const amis = Object.fromEntries(artifact!.trim().split(',').map((p) => p.split(':')));
  assert.deepEqual(Object.keys(amis).sort(), ['us-east-1', 'us-west-2']);

  const builderEast = ec2Client(server.endpoint, devCredentials(BUILDER), 'us-east-1');
  const builderWest = ec2Client(server.endpoint, devCredentials(BUILDER), 'us-west-2');
  for (const [region, client] of [['us-east-1', builderEast], ['us-west-2', builderWest]] as const) {
    const img = await imageAvailable(client, amis[region]);
    assert.match(img.Name!, /^golden-debian-12-/);
    assert.equal(img.VirtualizationType, 'hvm');
    assert.deepEqual(img.Tags?.find((tag) => tag.Key === 'Name')?.Value, 'golden-debian-12');
    const { LaunchPermissions } = await client.send(new DescribeImageAttributeCommand({ ImageId: amis[region], Attribute: 'launchPermission' }));
    assert.deepEqual(LaunchPermissions?.map((p) => p.UserId), [TEAM], `${region}: shared with the team's account`);
  }
  assert.equal((await builderWest.send(new DescribeImagesCommand({ ImageIds: [amis['us-west-2']] }))).Images![0].SourceImageId, amis['us-east-1']);

  // Packer cleaned up: its key pair, its security group and its instance are gone.
  assert.deepEqual((await builderEast.send(new DescribeKeyPairsCommand({}))).KeyPairs, []);
  const groups = (await builderEast.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!;
  assert.deepEqual(groups.map((g) => g.GroupName), ['default']);
  const states = (await builderEast.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!.map((i) => i.State!.Name));
  assert.ok(states.length >= 1 && states.every((s) => s === 'terminated'), `packer's instance is terminated: ${states}`);

  // The team launches the copy in us-west-2 and reads the provisioner's file over SSH.
  const team = ec2Client(server.endpoint, devCredentials(TEAM), 'us-west-2');
  const { KeyMaterial } = await team.send(new CreateKeyPairCommand({ KeyName: 'team', KeyType: 'ed25519' }));
  const key = writePrivateKey(home, 'team.pem', KeyMaterial!);
  const { GroupId } = await team.send(new CreateSecurityGroupCommand({ GroupName: 'ssh', Description: 'ssh from anywhere' }));
  await team.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  const { Instances } = await team.send(new RunInstancesCommand({
    ImageId: amis['us-west-2'], InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'team', SecurityGroupIds: [GroupId!],
  }));
  const instanceId = Instances![0].InstanceId!;
  const address = await until(`${instanceId} running with a public address`, async () => {
    const i = (await team.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0].Instances![0];
    return i.State?.Name === 'running' && i.PublicIpAddress ? i.PublicIpAddress : undefined;
  });
  const release = await until('ssh into the team\'s instance', async () => {
    const r = await sshRun(key, 'admin', address, 'cat /etc/golden-release');
    return r.code === 0 ? r.stdout : undefined;
  });
  assert.match(release, /^provisioned by packer on /);
  t.diagnostic(`the team's instance answered over ssh after ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  await terminateAll(team, [instanceId]);
  void run;
});
