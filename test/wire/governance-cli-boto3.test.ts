// Image and snapshot governance through the aws CLI and boto3, in strict mode: the commands as a
// user types them, their JSON output, and AWS's errors as each client reports them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ModifyImageAttributeCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, credentialsOf, ec2Client, cliFails, cliOk } from '../support/clients.ts';
import { createSnapshot, registerEbs } from '../support/sdk.ts';

let server: RunningServer;
let alice: EC2Client;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
});
after(async () => {
  await server?.stop();
});

const cli = (who: typeof ALICE, ...args: string[]) => awsCli(server.endpoint, credentialsOf(who), ['ec2', ...args]);

test('aws CLI: block public access for AMIs, and the error when making an image public', async () => {
  assert.deepEqual(await cliOk(cli(ALICE, 'get-image-block-public-access-state')), { ImageBlockPublicAccessState: 'unblocked', ManagedBy: 'account' });
  assert.deepEqual(await cliOk(cli(ALICE, 'enable-image-block-public-access', '--image-block-public-access-state', 'block-new-sharing')),
    { ImageBlockPublicAccessState: 'block-new-sharing' });
  const id = await registerEbs(alice, 'cli-bpa');
  const message = await cliFails(cli(ALICE, 'modify-image-attribute', '--image-id', id, '--launch-permission', 'Add=[{Group=all}]'),
    'OperationNotPermitted', 'ModifyImageAttribute');
  assert.match(message, /block public access for AMIs is enabled for this account/);
  assert.deepEqual(await cliOk(cli(ALICE, 'disable-image-block-public-access')), { ImageBlockPublicAccessState: 'unblocked' });
  await cliOk(cli(ALICE, 'modify-image-attribute', '--image-id', id, '--launch-permission', 'Add=[{Group=all}]'));
});

test('aws CLI: deregistration protection with a cooldown, as describe-images shows it', async () => {
  const id = await registerEbs(alice, 'cli-protect');
  assert.deepEqual(await cliOk(cli(ALICE, 'enable-image-deregistration-protection', '--image-id', id, '--with-cooldown')), { Return: 'enabled-with-cooldown' });
  const off = await cliOk(cli(ALICE, 'disable-image-deregistration-protection', '--image-id', id));
  assert.match(off.Return, /^disabled-until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const shown = await cliOk(cli(ALICE, 'describe-images', '--image-ids', id, '--query', 'Images[0].DeregistrationProtection'));
  assert.equal(shown, off.Return);
  assert.match(await cliFails(cli(ALICE, 'deregister-image', '--image-id', id), 'OperationNotPermitted', 'DeregisterImage'), /protected from deregistration until/);
});

test('aws CLI: disable-image and enable-image, and BOB\'s view', async () => {
  const id = await registerEbs(alice, 'cli-disable');
  await alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
  assert.deepEqual(await cliOk(cli(ALICE, 'disable-image', '--image-id', id)), { Return: true });
  assert.equal(await cliOk(cli(ALICE, 'describe-images', '--image-ids', id, '--include-disabled', '--query', 'Images[0].State')), 'disabled');
  await cliFails(cli(BOB, 'describe-images', '--image-ids', id), 'InvalidAMIID.NotFound', 'DescribeImages');
  assert.deepEqual(await cliOk(cli(ALICE, 'enable-image', '--image-id', id)), { Return: true });
  await cliFails(cli(BOB, 'describe-images', '--image-ids', id), 'InvalidAMIID.NotFound', 'DescribeImages');
});

test('boto3: cancel_image_launch_permission and image deprecation', async () => {
  const id = await registerEbs(alice, 'boto3-cancel');
  await alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
  const asBob = await boto3(server.endpoint, credentialsOf(BOB), `
out = ec2.cancel_image_launch_permission(ImageId=${JSON.stringify(id)})
try:
    ec2.describe_images(ImageIds=[${JSON.stringify(id)}])
    gone = None
except botocore.exceptions.ClientError as e:
    gone = e.response["Error"]["Code"]
try:
    ec2.enable_image_deprecation(ImageId=${JSON.stringify(id)}, DeprecateAt="2030-01-01T00:00:00Z")
    refused = None
except botocore.exceptions.ClientError as e:
    refused = e.response["Error"]["Code"]
print(json.dumps({"Return": out["Return"], "gone": gone, "refused": refused}))
`);
  assert.equal(asBob.code, 0, asBob.stderr);
  assert.deepEqual(asBob.json, { Return: true, gone: 'InvalidAMIID.NotFound', refused: 'InvalidAMIID.NotFound' });

  const asAlice = await boto3(server.endpoint, credentialsOf(ALICE), `
import datetime
at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(days=30)
ec2.enable_image_deprecation(ImageId=${JSON.stringify(id)}, DeprecateAt=at.replace(second=10))
shown = ec2.describe_images(ImageIds=[${JSON.stringify(id)}])["Images"][0]["DeprecationTime"]
print(json.dumps({"shown": shown, "expected": at.replace(second=0).strftime("%Y-%m-%dT%H:%M:00.000Z")}))
`);
  assert.equal(asAlice.code, 0, asAlice.stderr);
  assert.equal(asAlice.json.shown, asAlice.json.expected);
});

test('boto3: block public access for snapshots', async () => {
  const snap = await createSnapshot(alice, 1);
  const r = await boto3(server.endpoint, credentialsOf(ALICE), `
set_ = ec2.enable_snapshot_block_public_access(State="block-new-sharing")["State"]
got = ec2.get_snapshot_block_public_access_state()
try:
    ec2.modify_snapshot_attribute(SnapshotId=${JSON.stringify(snap)}, Attribute="createVolumePermission", OperationType="add", GroupNames=["all"])
    code = None
except botocore.exceptions.ClientError as e:
    code = e.response["Error"]["Code"]
off = ec2.disable_snapshot_block_public_access()["State"]
print(json.dumps({"set": set_, "state": got["State"], "managedBy": got["ManagedBy"], "code": code, "off": off}))
`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json, { set: 'block-new-sharing', state: 'block-new-sharing', managedBy: 'account', code: 'OperationNotPermitted', off: 'unblocked' });
});
