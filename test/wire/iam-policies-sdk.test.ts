// Identity policies for IAM-style users (strict mode): each user of an account signs with its own
// keys and every call is evaluated against its policies: explicit Deny, then Allow, else
// UnauthorizedOperation (EC2) or AccessDeniedException (EBS direct, KMS). The account's own keys
// stay its root, and no policy reaches another account's resources.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateImageCommand, CreateTagsCommand, CreateVolumeCommand, DeregisterImageCommand, DescribeImageAttributeCommand,
  DescribeImagesCommand, DescribeInstancesCommand, DescribeRegionsCommand, ModifyImageAttributeCommand, RegisterImageCommand,
  RunInstancesCommand, TerminateInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { ListSnapshotBlocksCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount, type TestUser } from '../support/server.ts';
import { awsCli, boto3, credentialsOf, ec2Client, type Credentials } from '../support/clients.ts';
import { defaultSnapshot, expectAwsError, registerEbs } from '../support/sdk.ts';
import { ebsClient, expectEbsError } from '../support/ebs.ts';
import { CATALOGUE_AMI, runOne } from '../support/instances.ts';

const policy = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const user = (name: string, n: number, ...policies: unknown[]): TestUser => ({
  name, accessKeyId: `AKIAUSER${String(n).padStart(12, '0')}`, secretAccessKey: `${name}-secret-0000000000000000000000000`, policies,
});

const READER = user('reader', 1, policy({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }));
const BUILDER = user('builder', 2,
  policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }),
  policy({
    Sid: 'NoSharingProd', Effect: 'Deny', Action: 'ec2:ModifyImageAttribute', Resource: 'arn:aws:ec2:*::image/*',
    Condition: { StringEquals: { 'ec2:ResourceTag/env': 'prod' } },
  }));
const LAUNCHER = user('launcher', 3, policy(
  { Effect: 'Allow', Action: 'ec2:RunInstances', Resource: 'arn:aws:ec2:*::image/*', Condition: { StringEquals: { 'ec2:ResourceTag/team': 'web' } } },
  { Effect: 'Allow', Action: 'ec2:RunInstances', NotResource: 'arn:aws:ec2:*::image/*' },
  { Effect: 'Allow', Action: ['ec2:Describe*', 'ec2:TerminateInstances'], Resource: '*' },
  { Effect: 'Allow', Action: 'ec2:DeregisterImage', Resource: '*', Condition: { StringEquals: { 'ec2:ResourceTag/env': 'dev' } } },
  {
    Effect: 'Allow', Action: 'ec2:CreateVolume', Resource: '*',
    Condition: { StringEquals: { 'aws:RequestTag/team': 'web' }, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'Name'] } },
  },
  { Effect: 'Allow', Action: 'ec2:CreateTags', Resource: '*', Condition: { StringEquals: { 'ec2:CreateAction': ['CreateVolume', 'RunInstances'] } } },
));
const OPS = user('ops', 4, policy(
  { Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: 'arn:aws:ec2:us-east-1:111111111111:instance/*', Condition: { StringEquals: { 'ec2:ResourceTag/env': 'dev' } } },
));
const EU_ONLY = user('eu-only', 5, policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } }));
const ADMIN = user('admin', 6, policy({ Effect: 'Allow', Action: '*', Resource: '*' }));
const UNTAGGED = user('untagged', 8, policy({ Effect: 'Allow', Action: ['ec2:CreateVolume', 'ec2:Describe*'], Resource: '*' }));
const SELF_SERVICE = user('self-service', 9, policy({
  Effect: 'Allow', Action: 'ec2:DeregisterImage', Resource: 'arn:aws:ec2:*::image/*',
  Condition: { StringEquals: { 'ec2:ResourceTag/owner': '${aws:username}' } },
}));
const SNAPSHOT_READER = user('snapshot-reader', 7, policy({ Effect: 'Allow', Action: ['ebs:List*', 'ebs:Get*', 'kms:List*'], Resource: '*' }));

const ALICE_WITH_USERS: TestAccount = { ...ALICE, users: [READER, BUILDER, LAUNCHER, OPS, EU_ONLY, ADMIN, SNAPSHOT_READER, UNTAGGED, SELF_SERVICE] };
const creds = (u: TestUser): Credentials => ({ accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey });
const USER_ARN = (name: string) => `arn:aws:iam::${ALICE.id}:user/${name}`;

let server: RunningServer;
let root: EC2Client;
let bob: EC2Client;
const as = (u: TestUser, region = 'us-east-1') => ec2Client(server.endpoint, creds(u), region);

before(async () => {
  server = await startServer({ accounts: [ALICE_WITH_USERS, BOB] });
  root = ec2Client(server.endpoint, credentialsOf(ALICE));
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
});
after(async () => {
  await server?.stop();
});

const tag = (client: EC2Client, id: string, Key: string, Value: string) =>
  client.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key, Value }] }));
const unauthorized = (message?: RegExp) => ({ name: 'UnauthorizedOperation', status: 403, message });

describe('a user allowed only Describe*', () => {
  test('describes, and gets UnauthorizedOperation naming user, action and resource on CreateImage and ModifyImageAttribute', async () => {
    const imageId = await registerEbs(root, 'reader-sees-this');
    const seen = await as(READER).send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    assert.deepEqual(seen.Images?.map((i) => i.ImageId), [imageId]);
    const modify = await expectAwsError(
      as(READER).send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } })),
      unauthorized(new RegExp(`^You are not authorized to perform this operation\\. User: ${USER_ARN('reader')} is not authorized to perform: `
        + `ec2:ModifyImageAttribute on resource: arn:aws:ec2:us-east-1::image/${imageId} because no identity-based policy allows the `
        + 'ec2:ModifyImageAttribute action\\. Encoded authorization failure message: [A-Za-z0-9_-]+$')),
    );
    // The encoded message says what was asked and by whom.
    const decoded = JSON.parse(Buffer.from(modify.message.split(': ').pop()!, 'base64url').toString());
    assert.equal(decoded.allowed, false);
    assert.equal(decoded.context.action, 'ec2:ModifyImageAttribute');
    assert.equal(decoded.context.principal.arn, USER_ARN('reader'));
    const perms = await root.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }));
    assert.deepEqual(perms.LaunchPermissions, [], 'nothing changed');
    await expectAwsError(as(READER).send(new CreateImageCommand({ InstanceId: 'i-0123456789abcdef0', Name: 'x' })),
      unauthorized(/ec2:CreateImage on resource: arn:aws:ec2:us-east-1:111111111111:instance\/i-0123456789abcdef0 because no identity-based policy allows/));
    await expectAwsError(as(READER).send(new RegisterImageCommand({ Name: 'nope', RootDeviceName: '/dev/xvda' })),
      unauthorized(/ec2:RegisterImage on resource: arn:aws:ec2:us-east-1::image\/\*/));
  });

  test('DryRun: unauthorized is UnauthorizedOperation, authorized is DryRunOperation', async () => {
    const imageId = await registerEbs(root, 'dry-run-target');
    await expectAwsError(as(READER).send(new DeregisterImageCommand({ ImageId: imageId, DryRun: true })), unauthorized());
    await expectAwsError(as(READER).send(new DescribeImagesCommand({ ImageIds: [imageId], DryRun: true })), { name: 'DryRunOperation', status: 412 });
    await expectAwsError(as(BUILDER).send(new DeregisterImageCommand({ ImageId: imageId, DryRun: true })), { name: 'DryRunOperation', status: 412 });
    await root.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  });
});

describe('an explicit Deny on images tagged env=prod beside Allow ec2:*', () => {
  test('ModifyImageAttribute on a prod image is denied explicitly; on others it is allowed; the root is unaffected', async () => {
    const prod = await registerEbs(root, 'prod-image');
    const dev = await registerEbs(root, 'dev-image');
    await tag(root, prod, 'env', 'prod');
    await tag(root, dev, 'env', 'dev');
    const share = (client: EC2Client, ImageId: string) =>
      client.send(new ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await expectAwsError(share(as(BUILDER), prod), unauthorized(
      new RegExp(`User: ${USER_ARN('builder')} is not authorized to perform: ec2:ModifyImageAttribute on resource: arn:aws:ec2:us-east-1::image/${prod} with an explicit deny in an identity-based policy\\. Encoded`)));
    assert.deepEqual((await bob.send(new DescribeImagesCommand({ ImageIds: [dev, prod] })).catch(() => ({ Images: [] }))).Images, []);
    await share(as(BUILDER), dev);
    await share(root, prod);
    const visible = await bob.send(new DescribeImagesCommand({ Owners: [ALICE.id] }));
    assert.deepEqual(visible.Images?.map((i) => i.ImageId).sort(), [dev, prod].sort());
    // The same user may do what the Deny does not name.
    const described = await as(BUILDER).send(new DescribeImageAttributeCommand({ ImageId: prod, Attribute: 'description' }));
    assert.equal(described.ImageId, prod);
  });
});

describe('resource tag conditions', () => {
  test('RunInstances needs the image tagged team=web, by the calling account', async () => {
    await expectAwsError(as(LAUNCHER).send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' })),
      unauthorized(new RegExp(`ec2:RunInstances on resource: arn:aws:ec2:us-east-1::image/${CATALOGUE_AMI} because`)));
    // Bob's tag on the public image is his own: it does not count for Alice's users.
    await tag(bob, CATALOGUE_AMI, 'team', 'web');
    await expectAwsError(as(LAUNCHER).send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' })), unauthorized());
    await tag(root, CATALOGUE_AMI, 'team', 'web');
    const instance = await runOne(as(LAUNCHER), { ImageId: CATALOGUE_AMI });
    assert.match(instance.InstanceId ?? '', /^i-/);
    await as(LAUNCHER).send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
  });

  test('DeregisterImage only on images tagged env=dev', async () => {
    const prod = await registerEbs(root, 'launcher-prod');
    const dev = await registerEbs(root, 'launcher-dev');
    await tag(root, prod, 'env', 'prod');
    await tag(root, dev, 'env', 'dev');
    await expectAwsError(as(LAUNCHER).send(new DeregisterImageCommand({ ImageId: prod })), unauthorized(/ec2:DeregisterImage on resource/));
    await as(LAUNCHER).send(new DeregisterImageCommand({ ImageId: dev }));
    const left = await root.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['launcher-*'] }] }));
    assert.deepEqual(left.Images?.map((i) => i.ImageId), [prod]);
  });

  test('a policy variable: DeregisterImage of images whose owner tag is the user\'s own name', async () => {
    const mine = await registerEbs(root, 'self-service-mine');
    const theirs = await registerEbs(root, 'self-service-theirs');
    await tag(root, mine, 'owner', 'self-service');
    await tag(root, theirs, 'owner', 'someone-else');
    await expectAwsError(as(SELF_SERVICE).send(new DeregisterImageCommand({ ImageId: theirs })), unauthorized(/ec2:DeregisterImage/));
    await as(SELF_SERVICE).send(new DeregisterImageCommand({ ImageId: mine }));
    const left = await root.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['self-service-*'] }] }));
    assert.deepEqual(left.Images?.map((i) => i.ImageId), [theirs]);
  });

  test('CreateVolume needs aws:RequestTag/team=web and no tag keys beyond team and Name', async () => {
    const volume = (Tags?: { Key: string; Value: string }[]) => as(LAUNCHER).send(new CreateVolumeCommand({
      AvailabilityZone: 'us-east-1a', Size: 1, TagSpecifications: Tags && [{ ResourceType: 'volume', Tags }],
    }));
    await expectAwsError(volume(), unauthorized(/ec2:CreateVolume on resource: arn:aws:ec2:us-east-1:111111111111:volume\/\*/));
    await expectAwsError(volume([{ Key: 'team', Value: 'db' }]), unauthorized());
    await expectAwsError(volume([{ Key: 'team', Value: 'web' }, { Key: 'cost', Value: '1' }]), unauthorized());
    const made = await volume([{ Key: 'team', Value: 'web' }, { Key: 'Name', Value: 'data' }]);
    assert.match(made.VolumeId ?? '', /^vol-/);
    // ec2:CreateTags is allowed only as part of a create action (ec2:CreateAction), not directly.
    await expectAwsError(tag(as(LAUNCHER), made.VolumeId!, 'team', 'db'),
      unauthorized(new RegExp(`ec2:CreateTags on resource: arn:aws:ec2:us-east-1:111111111111:volume/${made.VolumeId}`)));
  });

  test('tags at creation need ec2:CreateTags as well, as EC2 authorizes tag-on-create', async () => {
    const plain = await as(UNTAGGED).send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    assert.match(plain.VolumeId ?? '', /^vol-/);
    await expectAwsError(as(UNTAGGED).send(new CreateVolumeCommand({
      AvailabilityZone: 'us-east-1a', Size: 1, TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'team', Value: 'web' }] }],
    })), unauthorized(/User: arn:aws:iam::111111111111:user\/untagged is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:us-east-1:111111111111:volume\/\* because/));
  });

  test('TerminateInstances with several ids: every instance must be allowed', async () => {
    const dev = await runOne(root, { ImageId: CATALOGUE_AMI, TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'env', Value: 'dev' }] }] });
    const prod = await runOne(root, { ImageId: CATALOGUE_AMI, TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'env', Value: 'prod' }] }] });
    await expectAwsError(as(OPS).send(new TerminateInstancesCommand({ InstanceIds: [dev.InstanceId!, prod.InstanceId!] })),
      unauthorized(new RegExp(`ec2:TerminateInstances on resource: arn:aws:ec2:us-east-1:111111111111:instance/${prod.InstanceId}`)));
    const states = await root.send(new DescribeInstancesCommand({ InstanceIds: [dev.InstanceId!, prod.InstanceId!] }));
    for (const i of states.Reservations!.flatMap((r) => r.Instances!)) assert.notEqual(i.State?.Name, 'shutting-down', 'nothing was terminated');
    const out = await as(OPS).send(new TerminateInstancesCommand({ InstanceIds: [dev.InstanceId!] }));
    assert.equal(out.TerminatingInstances?.[0].InstanceId, dev.InstanceId);
    await root.send(new TerminateInstancesCommand({ InstanceIds: [prod.InstanceId!] }));
  });
});

describe('region condition', () => {
  test('aws:RequestedRegion allows eu-west-1 only', async () => {
    const eu = await as(EU_ONLY, 'eu-west-1').send(new DescribeRegionsCommand({}));
    assert.ok(eu.Regions?.length);
    await expectAwsError(as(EU_ONLY, 'us-east-1').send(new DescribeRegionsCommand({})),
      unauthorized(new RegExp(`User: ${USER_ARN('eu-only')} is not authorized to perform: ec2:DescribeRegions on resource: \\* because`)));
  });
});

describe('accounts stay apart whatever a policy says', () => {
  test("a user allowed everything cannot see or change another account's resources", async () => {
    const bobsImage = await registerEbs(bob, 'bobs-private');
    const bobsInstance = await runOne(bob, { ImageId: CATALOGUE_AMI });
    const admin = as(ADMIN);
    const seen = await admin.send(new DescribeImagesCommand({ Owners: [BOB.id] }));
    assert.deepEqual(seen.Images, []);
    const modify = new ModifyImageAttributeCommand({ ImageId: bobsImage, LaunchPermission: { Add: [{ UserId: ALICE.id }] } });
    const asRoot = await expectAwsError(root.send(modify), { name: 'InvalidAMIID.NotFound' });
    const asUser = await expectAwsError(admin.send(modify), { name: asRoot.name });
    assert.equal(asUser.message, asRoot.message);
    await expectAwsError(admin.send(new TerminateInstancesCommand({ InstanceIds: [bobsInstance.InstanceId!] })), { name: 'InvalidInstanceID.NotFound' });
    await expectAwsError(admin.send(new DeregisterImageCommand({ ImageId: bobsImage })), { name: 'InvalidAMIID.NotFound' });
    const still = await bob.send(new DescribeImagesCommand({ ImageIds: [bobsImage] }));
    assert.equal(still.Images?.length, 1);
    assert.deepEqual((await bob.send(new DescribeImageAttributeCommand({ ImageId: bobsImage, Attribute: 'launchPermission' }))).LaunchPermissions, []);
    await bob.send(new TerminateInstancesCommand({ InstanceIds: [bobsInstance.InstanceId!] }));
  });

  test('a policy naming an ARN of the other account grants nothing there', async () => {
    const bobsImage = await registerEbs(bob, 'bobs-other');
    // The admin user's Allow * covers arn:aws:ec2:*::image/* of any owner; the domain still says not found.
    await expectAwsError(as(ADMIN).send(new CreateTagsCommand({ Resources: [bobsImage], Tags: [{ Key: 'k', Value: 'v' }] })), { name: 'InvalidAMIID.NotFound' });
  });
});

describe('EBS direct and KMS', () => {
  test('a user without ebs:StartSnapshot gets AccessDeniedException; allowed actions work', async () => {
    const ebs = ebsClient(server.endpoint, creds(SNAPSHOT_READER));
    await expectEbsError(ebs.send(new StartSnapshotCommand({ VolumeSize: 1 })), {
      name: 'AccessDeniedException', status: 403, reason: 'UNAUTHORIZED_ACCOUNT',
      message: new RegExp(`^User: ${USER_ARN('snapshot-reader')} is not authorized to perform: ebs:StartSnapshot on resource: arn:aws:ec2:us-east-1::snapshot/\\* because no identity-based policy allows the ebs:StartSnapshot action$`),
    });
    const snapshotId = await defaultSnapshot(root);
    const blocks = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
    assert.deepEqual(blocks.Blocks, []);
    // The reader's own EC2 calls are not allowed at all.
    await expectAwsError(as(SNAPSHOT_READER).send(new DescribeImagesCommand({})), unauthorized());
  });

  test('a user without kms:CreateKey gets AccessDeniedException; kms:List* works', async () => {
    const kms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: creds(SNAPSHOT_READER), maxAttempts: 1 });
    await expectAwsError(kms.send(new CreateKeyCommand({})), {
      name: 'AccessDeniedException',
      message: `User: ${USER_ARN('snapshot-reader')} is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action`,
    });
    const listed = await kms.send(new ListKeysCommand({}));
    assert.ok(Array.isArray(listed.Keys));
  });
});

describe('the aws CLI and boto3', () => {
  test('the aws CLI reports UnauthorizedOperation for a Describe-only user', async () => {
    const imageId = await registerEbs(root, 'cli-target');
    const denied = await awsCli(server.endpoint, creds(READER), ['ec2', 'deregister-image', '--image-id', imageId]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /An error occurred \(UnauthorizedOperation\) when calling the DeregisterImage operation: You are not authorized to perform this operation\. User: arn:aws:iam::111111111111:user\/reader/);
    const dry = await awsCli(server.endpoint, creds(READER), ['ec2', 'describe-images', '--image-ids', imageId, '--dry-run']);
    assert.match(dry.stderr, /DryRunOperation/);
  });

  test('boto3 sees UnauthorizedOperation with HTTP 403', async () => {
    const out = await boto3(server.endpoint, creds(READER), [
      'try:',
      '    ec2.create_image(InstanceId="i-0123456789abcdef0", Name="boto3-image")',
      '    print(json.dumps({"ok": True}))',
      'except botocore.exceptions.ClientError as e:',
      '    print(json.dumps({"code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"], "message": e.response["Error"]["Message"]}))',
    ].join('\n'));
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.json.code, 'UnauthorizedOperation');
    assert.equal(out.json.status, 403);
    assert.match(out.json.message, /user\/reader is not authorized to perform: ec2:CreateImage/);
  });
});
