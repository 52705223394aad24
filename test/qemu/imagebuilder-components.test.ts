// A component document runs in a real Debian 12 guest over SSH, as an Image Builder build does:
// the guest is launched through the EC2 API with a key pair and a security group allowing port 22,
// sshGuestAccess finds the login user (admin) and runs each step as root through sudo, in the
// recipe's working directory. The document creates a file, chains ExecuteBash outputs into later
// steps and an Assert, reboots the guest with exit 194 and runs the step again, and has a failing
// step with onFailure Continue. The file is then read back over a separate ssh login.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand, CreateKeyPairCommand, CreateSecurityGroupCommand, DescribeImagesCommand, DescribeInstancesCommand,
  RunInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { buildDebianImage, GUEST_STEP_MS, sshRun, terminateAll, until, writePrivateKey } from '../support/qemu.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { sshGuestAccess } from '../../src/adapters/qemu/ssh-guest-access.ts';
import { runComponents } from '../../src/domain/imagebuilder/components/executor.ts';
import type { GuestSession } from '../../src/ports/guest-session.ts';

const ACCOUNT = '111111111111';
let server: RunningServer;
let ec2: EC2Client;
let dir: string;
let keyFile: string;
let privateKey: string;
let instanceId: string | undefined;
let session: GuestSession | undefined;

before(async () => {
  await buildDebianImage();
  server = await startServer({ extraArgs: ['--hypervisor', 'qemu'] });
  ec2 = ec2Client(server.endpoint, devCredentials(ACCOUNT));
  dir = mkdtempSync(join(tmpdir(), 'amiforge-ib-components-'));
});

after(async () => {
  await session?.close();
  if (instanceId) await terminateAll(ec2, [instanceId]).catch(() => {});
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const DOCUMENT = `name: GuestCheck
description: Runs in a real guest.
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
phases:
  - name: build
    steps:
      - name: WriteFile
        action: CreateFile
        inputs:
          - path: /etc/amiforge-component.txt
            content: "{{ Greeting }} from a component, with 'quotes' and $dollars\\n"
            permissions: '0644'
      - name: WhoAmI
        action: ExecuteBash
        inputs:
          commands:
            - id -un
      - name: Where
        action: ExecuteBash
        inputs:
          commands:
            - pwd
      - name: Chained
        action: ExecuteBash
        inputs:
          commands:
            - echo "ran as {{ build.WhoAmI.outputs.stdout }} in {{ build.Where.outputs.stdout }}; $(wc -c < /etc/amiforge-component.txt) bytes"
      - name: IsRoot
        action: Assert
        inputs:
          and:
            - stringEquals: root
              value: '{{ build.WhoAmI.outputs.stdout }}'
            - fileExists: /etc/amiforge-component.txt
      - name: RebootOnce
        action: ExecuteBash
        inputs:
          commands:
            - |
              if [ -f /var/tmp/amiforge-rebooted ]; then
                echo "boot $(cat /proc/sys/kernel/random/boot_id) after the reboot"
                exit 0
              fi
              cat /proc/sys/kernel/random/boot_id > /var/tmp/amiforge-rebooted
              exit 194
      - name: Fails
        action: ExecuteBash
        onFailure: Continue
        inputs:
          commands:
            - echo "about to fail"
            - echo "this goes wrong" >&2
            - exit 7
      - name: AfterFailure
        action: ExecuteBash
        inputs:
          commands:
            - echo still running
`;

test('a component document runs in a Debian guest over SSH: files, chaining, Assert, an exit-194 reboot, a failing step', { timeout: 1_500_000 }, async (t) => {
  const started = Date.now();
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['136693071363'], Filters: [{ Name: 'name', Values: ['debian-12-amd64-*'] }] }));
  assert.equal(Images.length, 1, 'the Debian 12 image is in the catalogue');
  const { KeyMaterial } = await ec2.send(new CreateKeyPairCommand({ KeyName: 'build', KeyType: 'ed25519' }));
  privateKey = KeyMaterial!;
  keyFile = writePrivateKey(dir, 'build.pem', privateKey);
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'build-ssh', Description: 'ssh for the build' }));
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  const { Instances } = await ec2.send(new RunInstancesCommand({
    ImageId: Images[0].ImageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'build', SecurityGroupIds: [GroupId!],
  }));
  instanceId = Instances![0].InstanceId!;
  const address = await until(`${instanceId} running with a public address`, async () => {
    const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId!] }))).Reservations![0].Instances![0];
    return i.State?.Name === 'running' && i.PublicIpAddress ? i.PublicIpAddress : undefined;
  });

  session = await sshGuestAccess().open({ account: ACCOUNT, region: 'us-east-1', instanceId, address, privateKey }, { timeoutMs: GUEST_STEP_MS });
  assert.equal(session.description, `ssh admin@${address}:22`);
  t.diagnostic(`ssh answered after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const lines: string[] = [];
  const outcome = await runComponents('build', [{ arn: `arn:aws:imagebuilder:us-east-1:${ACCOUNT}:component/guest-check/1.0.0/1`, name: 'guest-check', data: DOCUMENT }],
    session, { workingDirectory: '/var/tmp/amiforge-work', onLog: (l) => lines.push(l) });
  t.diagnostic(`the phase ran in ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  const byStep = Object.fromEntries(outcome.steps.map((s) => [s.step, s]));
  const stdout = (name: string) => JSON.parse(byStep[name].output).stdout as string;

  assert.deepEqual(outcome.steps.map((s) => `${s.step}:${s.status}`), [
    'WriteFile:COMPLETED', 'WhoAmI:COMPLETED', 'Where:COMPLETED', 'Chained:COMPLETED', 'IsRoot:COMPLETED', 'RebootOnce:COMPLETED',
    'Fails:FAILED', 'AfterFailure:COMPLETED',
  ], lines.join('\n'));
  assert.equal(outcome.ok, false, 'a Continue failure fails the phase');
  assert.equal(outcome.failure, 'Component guest-check, phase build, step Fails (ExecuteBash) failed after 1 attempt: exit status 7: this goes wrong');
  assert.equal(stdout('WhoAmI'), 'root');
  assert.equal(stdout('Where'), '/var/tmp/amiforge-work');
  assert.equal(stdout('Chained'), 'ran as root in /var/tmp/amiforge-work; 51 bytes');
  assert.match(stdout('RebootOnce'), /^boot [0-9a-f-]{36} after the reboot$/);
  assert.match(byStep.RebootOnce.log, /exit 194: rebooting the guest, then running the step again/);
  assert.match(byStep.Fails.log, /stdout:\nabout to fail\n.*stderr:\nthis goes wrong\n/s);

  // The file is really there, as written, read through a login of its own.
  const cat = await sshRun(keyFile, 'admin', address, 'cat /etc/amiforge-component.txt; stat -c %a /etc/amiforge-component.txt; cat /var/tmp/amiforge-rebooted; cat /proc/sys/kernel/random/boot_id');
  assert.equal(cat.code, 0, cat.stderr);
  const [content, mode, bootBefore, bootNow] = cat.stdout.split('\n');
  assert.equal(`${content}\n`, "hello from a component, with 'quotes' and $dollars\n");
  assert.equal(mode, '644');
  assert.notEqual(bootBefore, bootNow, 'the guest really rebooted');

  // A script that outlives its timeout is stopped, in the guest too.
  const slow = await session.run('sleep 60; echo never', { timeoutMs: 2000 });
  assert.equal(slow.timedOut, true);
  assert.equal(slow.stdout, '');
});
