// The lifecycle through the real aws CLI (its shorthand, file:// user data it base64-encodes,
// its waiters, get-console-output it decodes) and boto3 (run_instances, waiters, the
// describe_instances paginator, create_image), starting from a disk imported by
// `amiforge image import`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, cliSucceeds, devCredentials } from '../support/clients.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const ACCOUNT = '888888888888';
const creds = devCredentials(ACCOUNT);

let server: RunningServer;
let dir: string;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '20'] });
  dir = mkdtempSync(join(tmpdir(), 'amiforge-lifecycle-cli-'));
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const aws = (...args: string[]) => cliSucceeds(awsCli(server.endpoint, creds, args));

/**
 * \`aws ec2 wait\` polls every 15 s, so the state is first awaited with quick describe calls; the
 * CLI's waiter then confirms it on its first poll.
 */
async function cliWait(waiter: string, state: string, instanceId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await aws('ec2', 'describe-instances', '--instance-ids', instanceId, '--query', 'Reservations[0].Instances[0].State.Name');
    if (r.json === state) break;
    assert.ok(Date.now() < deadline, `${instanceId} stayed ${r.json}`);
  }
  await aws('ec2', 'wait', waiter, '--instance-ids', instanceId);
}

function amiforge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: ACCOUNT, AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AMIFORGE_CACHE_DIR: join(dir, 'cache'),
  };
  return new Promise((resolve) => execFile(join(ROOT, 'bin/amiforge'), args, { env }, (err, stdout, stderr) => {
    resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
  }));
}

describe('the lifecycle through the aws CLI', () => {
  let imageId: string;
  let instanceId: string;

  test('amiforge image import, then run-instances with file:// user data, a key, tags and mappings; wait instance-running', async () => {
    const disk = Buffer.alloc(3 * 512 * 1024);
    disk.write('imported through the CLI', 0);
    disk[510] = 0x55;
    disk[511] = 0xaa;
    writeFileSync(join(dir, 'disk.raw'), disk);
    const imported = await amiforge(['image', 'import', join(dir, 'disk.raw'), '--name', 'cli-imported', '--size', '1']);
    assert.equal(imported.code, 0, imported.stderr);
    imageId = imported.stdout.trim();

    const key = await aws('ec2', 'create-key-pair', '--key-name', 'cli-key', '--key-type', 'ed25519', '--query', 'KeyMaterial');
    assert.match(key.json, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    writeFileSync(join(dir, 'user-data.txt'), '#!amiforge-sim\nwrite /dev/xvda 1M set up by the cli\nread /dev/xvda 0 24\n');
    const run = await aws('ec2', 'run-instances', '--image-id', imageId, '--count', '1', '--instance-type', 't3.micro',
      '--key-name', 'cli-key', '--user-data', `file://${join(dir, 'user-data.txt')}`,
      '--tag-specifications', 'ResourceType=instance,Tags=[{Key=Name,Value=cli-box}]',
      '--block-device-mappings', JSON.stringify([{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1, DeleteOnTermination: true } }]));
    instanceId = run.json.Instances[0].InstanceId;
    assert.equal(run.json.Instances[0].State.Name, 'pending');
    await cliWait('instance-running', 'running', instanceId);
    const states = await aws('ec2', 'describe-instances', '--filters', 'Name=tag:Name,Values=cli-box', '--query', 'Reservations[].Instances[].[InstanceId,State.Name,KeyName]');
    assert.deepEqual(states.json, [[instanceId, 'running', 'cli-key']]);
  });

  test('get-console-output (decoded by the CLI) shows the user data ran', async () => {
    const deadline = Date.now() + 10_000;
    let text = '';
    while (!/Cloud-init .* finished/.test(text)) {
      assert.ok(Date.now() < deadline, `no cloud-init line: ${text}`);
      text = (await aws('ec2', 'get-console-output', '--instance-id', instanceId)).json.Output ?? '';
    }
    assert.match(text, /^imported through the CLI$/m);
  });

  test('create-image, wait image-available, stop/start/terminate with the CLI waiters', async () => {
    const created = await aws('ec2', 'create-image', '--instance-id', instanceId, '--name', 'cli-golden', '--no-reboot');
    await aws('ec2', 'wait', 'image-available', '--image-ids', created.json.ImageId);
    const described = await aws('ec2', 'describe-images', '--image-ids', created.json.ImageId, '--query', 'Images[0].[State,SourceInstanceId,length(BlockDeviceMappings)]');
    assert.deepEqual(described.json, ['available', instanceId, 2]);
    const stop = await aws('ec2', 'stop-instances', '--instance-ids', instanceId);
    assert.equal(stop.json.StoppingInstances[0].CurrentState.Name, 'stopping');
    await cliWait('instance-stopped', 'stopped', instanceId);
    await aws('ec2', 'start-instances', '--instance-ids', instanceId);
    await cliWait('instance-running', 'running', instanceId);
    await aws('ec2', 'terminate-instances', '--instance-ids', instanceId);
    await cliWait('instance-terminated', 'terminated', instanceId);
    const bad = await awsCli(server.endpoint, creds, ['ec2', 'run-instances', '--image-id', 'ami-0000000000000000f', '--count', '1']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /InvalidAMIID\.NotFound/);
  });
});

describe('the lifecycle through boto3', () => {
  test('run_instances with plain-text user data, waiters, the paginator, create_image and reading the change back', async () => {
    const r = await boto3(server.endpoint, creds, `
r = ec2.run_instances(ImageId="ami-0dd4dbe59a8675ce3", MinCount=3, MaxCount=3, InstanceType="t3.micro",
                      UserData="#!amiforge-sim\\nwrite /dev/xvda 3M written by boto3\\n")
ids = [i["InstanceId"] for i in r["Instances"]]
fast = {"Delay": 1, "MaxAttempts": 30}
ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig=fast)
seen = []
for page in ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5}):
    seen += [i["InstanceId"] for res in page["Reservations"] for i in res["Instances"] if i["State"]["Name"] == "running"]
import time
while "finished" not in ec2.get_console_output(InstanceId=ids[0]).get("Output", ""):
    time.sleep(0.1)
image = ec2.create_image(InstanceId=ids[0], Name="boto3-image")["ImageId"]
ec2.get_waiter("image_available").wait(ImageIds=[image], WaiterConfig=fast)
r2 = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", UserData="#!amiforge-sim\\nread /dev/xvda 3M 16\\n")
reader = r2["Instances"][0]["InstanceId"]
ec2.get_waiter("instance_running").wait(InstanceIds=[reader], WaiterConfig=fast)
out = ""
while "finished" not in out:
    time.sleep(0.1)
    out = ec2.get_console_output(InstanceId=reader).get("Output", "")
ec2.terminate_instances(InstanceIds=ids + [reader])
ec2.get_waiter("instance_terminated").wait(InstanceIds=ids + [reader], WaiterConfig=fast)
try:
    ec2.stop_instances(InstanceIds=["i-0000000000000000f"])
    err = None
except botocore.exceptions.ClientError as e:
    err = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps({"ids": ids, "seen": seen, "read": "written by boto3" in out.splitlines(), "err": err}))
`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.ids.length, 3);
    for (const id of r.json.ids) assert.ok(r.json.seen.includes(id));
    assert.equal(r.json.read, true);
    assert.deepEqual(r.json.err, ['InvalidInstanceID.NotFound', 400]);
  });
});
