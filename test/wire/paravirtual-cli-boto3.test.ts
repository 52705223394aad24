// Paravirtual images through the aws CLI (its --kernel-id/--ramdisk-id options and the
// Kernel/Ramdisk attribute shorthand) and boto3, on the simulated hypervisor.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, cliOk, cliSucceeds, devCredentials, ec2Client } from '../support/clients.ts';
import { catalog } from '../support/catalog.ts';
import { defaultSnapshot } from '../support/sdk.ts';
import { waitRunning, waitStopped } from '../support/instances.ts';

const ACCOUNT = '777777777777';
const creds = devCredentials(ACCOUNT);
const entry = (name: string) => catalog.find((i) => i.name === name)!.regions['us-east-1'];
const KERNEL = entry('amiforge-vmlinux-6.1.0-amd64');
const RAMDISK = entry('amiforge-initramfs-6.1.0-amd64');
const MINIMAL = entry('amiforge-minimal-linux');

let server: RunningServer;
before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '20'] });
});
after(async () => {
  await server?.stop();
});

const aws = (...args: string[]) => cliSucceeds(awsCli(server.endpoint, creds, args));
/** A CLI call that must fail with `code` (the CLI prints it in its error line). */
const awsFails = async (code: string, ...args: string[]): Promise<void> => {
  const r = await awsCli(server.endpoint, creds, args);
  assert.notEqual(r.code, 0, `aws ${args.join(' ')} succeeded`);
  assert.match(r.stderr, new RegExp(`\\(${code.replace('.', '\\.')}\\)`), r.stderr);
};
const py = (script: string) => cliOk(boto3(server.endpoint, creds, script));

describe('paravirtual images through the aws CLI', () => {
  test('describe-images lists the kernel; register-image takes --kernel-id/--ramdisk-id and checks them', async () => {
    const kernels = await aws('ec2', 'describe-images', '--filters', 'Name=image-type,Values=kernel', '--query', 'Images[].[ImageId,ImageType,ImageLocation]');
    assert.deepEqual(kernels.json, [[KERNEL, 'kernel', 'amiforge/vmlinux-6.1.0-amd64.manifest.xml']]);
    const snapshot = await defaultSnapshot(ec2Client(server.endpoint, creds));
    const mapping = `DeviceName=/dev/xvda,Ebs={SnapshotId=${snapshot}}`;
    const reg = await aws('ec2', 'register-image', '--name', 'cli-pv', '--architecture', 'x86_64', '--root-device-name', '/dev/xvda',
      '--block-device-mappings', mapping, '--kernel-id', KERNEL, '--ramdisk-id', RAMDISK);
    const imageId = reg.json.ImageId as string;
    const attr = await aws('ec2', 'describe-image-attribute', '--image-id', imageId, '--attribute', 'kernel');
    assert.equal(attr.json.KernelId.Value, KERNEL);
    await awsFails('InvalidParameterValue', 'ec2', 'register-image', '--name', 'cli-pv-bad', '--root-device-name', '/dev/xvda',
      '--block-device-mappings', mapping, '--kernel-id', MINIMAL);
    await awsFails('InvalidParameterCombination', 'ec2', 'register-image', '--name', 'cli-hvm-bad', '--root-device-name', '/dev/xvda',
      '--block-device-mappings', mapping, '--virtualization-type', 'hvm', '--kernel-id', KERNEL);
    await awsFails('InvalidAMIID.NotFound', 'ec2', 'register-image', '--name', 'cli-pv-missing', '--root-device-name', '/dev/xvda',
      '--block-device-mappings', mapping, '--ramdisk-id', 'ari-0000000000000000f');
  });

  test('run-instances --kernel-id, then modify-instance-attribute --kernel on the stopped instance', async () => {
    const run = await aws('ec2', 'run-instances', '--image-id', MINIMAL, '--instance-type', 't3.micro', '--count', '1', '--kernel-id', KERNEL);
    const id = run.json.Instances[0].InstanceId as string;
    assert.equal(run.json.Instances[0].KernelId, KERNEL);
    const ec2 = ec2Client(server.endpoint, creds);
    await waitRunning(ec2, [id]);
    await awsFails('IncorrectInstanceState', 'ec2', 'modify-instance-attribute', '--instance-id', id, '--kernel', `Value=${KERNEL}`);
    await aws('ec2', 'stop-instances', '--instance-ids', id);
    await waitStopped(ec2, [id]);
    await aws('ec2', 'modify-instance-attribute', '--instance-id', id, '--kernel', `Value=${KERNEL}`);
    await aws('ec2', 'modify-instance-attribute', '--instance-id', id, '--attribute', 'ramdisk', '--value', RAMDISK);
    const ramdisk = await aws('ec2', 'describe-instance-attribute', '--instance-id', id, '--attribute', 'ramdisk');
    assert.equal(ramdisk.json.RamdiskId.Value, RAMDISK);
    await awsFails('InvalidAMIID.Malformed', 'ec2', 'modify-instance-attribute', '--instance-id', id, '--kernel', 'Value=not-a-kernel');
  });
});

describe('paravirtual images through boto3', () => {
  test('describe_images by ramdisk, run_instances with an override, the attributes, create_image keeping them', async () => {
    const out = await py(`
ramdisks = ec2.describe_images(Filters=[{"Name": "image-type", "Values": ["ramdisk"]}])["Images"]
minimal = ec2.describe_images(Owners=["000000000000"], Filters=[{"Name": "ramdisk-id", "Values": ["${RAMDISK}"]}])["Images"]
i = ec2.run_instances(ImageId="${MINIMAL}", MinCount=1, MaxCount=1, InstanceType="t3.micro", KernelId="${KERNEL}", RamdiskId="${RAMDISK}")["Instances"][0]
iid = i["InstanceId"]
ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig={"Delay": 1})
try:
    ec2.modify_instance_attribute(InstanceId=iid, Ramdisk={"Value": "${RAMDISK}"})
    refused = None
except botocore.exceptions.ClientError as e:
    refused = e.response["Error"]["Code"]
kernel = ec2.describe_instance_attribute(InstanceId=iid, Attribute="kernel")["KernelId"]["Value"]
image_id = ec2.create_image(InstanceId=iid, Name="boto3-pv-golden", NoReboot=True)["ImageId"]
ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig={"Delay": 1})
img = ec2.describe_images(ImageIds=[image_id])["Images"][0]
print(json.dumps({
  "ramdisks": [(r["ImageId"], r["ImageType"], r["RootDeviceType"]) for r in ramdisks],
  "minimal": [m["ImageId"] for m in minimal],
  "launched": [i.get("KernelId"), i.get("RamdiskId"), i.get("VirtualizationType")],
  "refused": refused, "kernel": kernel,
  "image": [img["VirtualizationType"], img.get("KernelId"), img.get("RamdiskId")],
}))
`);
    assert.deepEqual(out.ramdisks, [[RAMDISK, 'ramdisk', 'instance-store']]);
    assert.deepEqual(out.minimal, [MINIMAL]);
    assert.deepEqual(out.launched, [KERNEL, RAMDISK, 'paravirtual']);
    assert.equal(out.refused, 'IncorrectInstanceState');
    assert.equal(out.kernel, KERNEL);
    assert.deepEqual(out.image, ['paravirtual', KERNEL, RAMDISK]);
  });
});
