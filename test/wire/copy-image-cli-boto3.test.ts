// CopyImage through the real aws CLI (its shorthand for tag specifications, --copy-image-tags,
// `aws ec2 wait image-available`) and boto3 (copy_image with a ClientToken, its waiter, and the
// error another account gets for an image whose snapshots were not shared with it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ModifyImageAttributeCommand } from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { awsCli, boto3, credentialsOf, ec2Client } from '../support/clients.ts';
import { ebsClient } from '../support/ebs.ts';
import { CATALOGUE_AMI, uploadImage, waitImage } from '../support/instances.ts';

let server: RunningServer;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
});
after(async () => {
  await server?.stop();
});

describe('CopyImage through the aws CLI', () => {
  test('copy-image of the catalogue\'s public image into another region, then wait image-available', async () => {
    const r = await awsCli(server.endpoint, credentialsOf(BOB), [
      'ec2', 'copy-image', '--source-region', 'us-east-1', '--source-image-id', CATALOGUE_AMI, '--name', 'cli copy',
      '--description', 'copied by the cli', '--tag-specifications', 'ResourceType=image,Tags=[{Key=via,Value=cli}]',
    ], 'eu-west-1');
    assert.equal(r.code, 0, r.stderr);
    const imageId = r.json.ImageId as string;
    assert.match(imageId, /^ami-[0-9a-f]{17}$/);
    // The CLI's waiter polls every 15 s: the state is awaited with quick SDK calls first.
    await waitImage(ec2Client(server.endpoint, credentialsOf(BOB), 'eu-west-1'), imageId);
    const waited = await awsCli(server.endpoint, credentialsOf(BOB), ['ec2', 'wait', 'image-available', '--image-ids', imageId], 'eu-west-1');
    assert.equal(waited.code, 0, waited.stderr);
    const d = await awsCli(server.endpoint, credentialsOf(BOB), ['ec2', 'describe-images', '--image-ids', imageId], 'eu-west-1');
    const img = d.json.Images[0];
    assert.equal(img.State, 'available');
    assert.equal(img.OwnerId, BOB.id);
    assert.equal(img.ImageOwnerAlias, undefined, 'the copy is Bob\'s, not Amazon\'s');
    assert.equal(img.SourceImageId, CATALOGUE_AMI);
    assert.equal(img.SourceImageRegion, 'us-east-1');
    assert.equal(img.Description, 'copied by the cli');
    assert.equal(img.ImageLocation, `${BOB.id}/cli copy`);
    assert.deepEqual(img.Tags, [{ Key: 'via', Value: 'cli' }]);
  });

  test('--kms-key-id without --encrypted is InvalidParameterDependency', async () => {
    const r = await awsCli(server.endpoint, credentialsOf(BOB), [
      'ec2', 'copy-image', '--source-region', 'us-east-1', '--source-image-id', CATALOGUE_AMI, '--name', 'cli key', '--kms-key-id', 'alias/aws/ebs',
    ], 'eu-west-1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /\(InvalidParameterDependency\) when calling the CopyImage operation: The parameter KmsKeyId requires the parameter Encrypted to be set\./);
  });
});

describe('CopyImage through boto3', () => {
  let imageId: string;
  before(async () => {
    const alice = ec2Client(server.endpoint, credentialsOf(ALICE));
    ({ imageId } = await uploadImage(alice, ebsClient(server.endpoint, credentialsOf(ALICE)), 'boto3 source', new Map([[0, Buffer.from('boto3')]])));
    await alice.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
  });

  test('copy_image with a ClientToken twice gives one image, available to the waiter', async () => {
    const r = await boto3(server.endpoint, credentialsOf(ALICE), `
args = dict(SourceRegion="us-east-1", SourceImageId=${JSON.stringify(imageId)}, Name="boto3 copy", ClientToken="boto3-token-1")
a = ec2.copy_image(**args)["ImageId"]
b = ec2.copy_image(**args)["ImageId"]
ec2.get_waiter("image_available").wait(ImageIds=[a], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
img = ec2.describe_images(ImageIds=[a])["Images"][0]
try:
    ec2.copy_image(**dict(args, Name="another name"))
    mismatch = None
except botocore.exceptions.ClientError as e:
    mismatch = e.response["Error"]["Code"]
print(json.dumps({"a": a, "b": b, "state": img["State"], "source": img.get("SourceImageId"), "mismatch": mismatch}))
`, 'us-west-2');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.a, r.json.b);
    assert.equal(r.json.state, 'available');
    assert.equal(r.json.source, imageId);
    assert.equal(r.json.mismatch, 'IdempotentParameterMismatch');
  });

  test('another account copying an image whose snapshots it cannot read gets InvalidRequest', async () => {
    const r = await boto3(server.endpoint, credentialsOf(BOB), `
try:
    ec2.copy_image(SourceRegion="us-east-1", SourceImageId=${JSON.stringify(imageId)}, Name="bob copy")
    print(json.dumps({"ok": True}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
`, 'us-west-2');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, { code: 'InvalidRequest', message: 'You do not have permission to access the storage of this ami.', status: 400 });
  });
});
