// The resources an identity policy sees beyond the ids a request names at its top level, as
// EC2's authorization table lists them: CopyImage acts on the source image (in SourceRegion),
// its backing snapshots and the image and snapshots it makes; RegisterImage on the snapshots of
// its BlockDeviceMappings; RunInstances on the image's snapshots and any the request maps;
// CreateImage on the snapshots it makes. A Deny or a ResourceTag condition on any of them
// refuses the call, and nothing of another account's unshared image shows in a refusal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopyImageCommand, CreateImageCommand, CreateTagsCommand, DescribeImagesCommand, ModifyImageAttributeCommand,
  RegisterImageCommand, RunInstancesCommand, TerminateInstancesCommand, type EC2Client, type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer, type TestUser } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { AMI_ID, createSnapshot, expectAwsError } from '../support/sdk.ts';
import { CATALOGUE_AMI, runOne } from '../support/instances.ts';

const policy = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const user = (name: string, n: number, ...policies: unknown[]): TestUser => ({
  name, accessKeyId: `AKIARESOURCE${String(n).padStart(8, '0')}`, secretAccessKey: `${name}-secret-0000000000000000000000000`, policies,
});
const SECRET = { StringEquals: { 'ec2:ResourceTag/classification': 'secret' } };

/** Allowed images only, as policies written before CopyImage and RegisterImage named snapshots. */
const IMAGES_ONLY = user('images-only', 1, policy({ Effect: 'Allow', Action: ['ec2:CopyImage', 'ec2:RegisterImage'], Resource: 'arn:aws:ec2:*::image/*' }));
/** AWS's example policy for copying images, with Denies on prod images and secret snapshots. */
const COPIER = user('copier', 2, policy(
  { Effect: 'Allow', Action: 'ec2:CopyImage', Resource: ['arn:aws:ec2:*::image/*', 'arn:aws:ec2:*::snapshot/*'] },
  { Effect: 'Deny', Action: 'ec2:CopyImage', Resource: 'arn:aws:ec2:*::image/*', Condition: { StringEquals: { 'ec2:ResourceTag/env': 'prod' } } },
  { Effect: 'Deny', Action: 'ec2:CopyImage', Resource: 'arn:aws:ec2:*::snapshot/*', Condition: SECRET },
));
const REGISTRAR = user('registrar', 3, policy(
  { Effect: 'Allow', Action: 'ec2:RegisterImage', Resource: '*' },
  { Effect: 'Deny', Action: 'ec2:RegisterImage', Resource: 'arn:aws:ec2:*::snapshot/*', Condition: SECRET },
));
const LAUNCHER = user('launcher', 4, policy(
  { Effect: 'Allow', Action: ['ec2:RunInstances', 'ec2:TerminateInstances'], Resource: '*' },
  { Effect: 'Deny', Action: 'ec2:RunInstances', Resource: 'arn:aws:ec2:*::snapshot/*', Condition: SECRET },
));
const IMAGER = user('imager', 5, policy({ Effect: 'Allow', Action: 'ec2:CreateImage', Resource: ['arn:aws:ec2:*:*:instance/*', 'arn:aws:ec2:*::image/*'] }));

let server: RunningServer;
const clients = new Map<string, EC2Client>();
const client = (who: { accessKeyId: string; secretAccessKey: string }, region = 'us-east-1') => {
  const key = `${who.accessKeyId}/${region}`;
  if (!clients.has(key)) clients.set(key, ec2Client(server.endpoint, credentialsOf(who as typeof ALICE), region));
  return clients.get(key)!;
};
const alice = (region = 'us-east-1') => client(ALICE, region);
const bob = (region = 'us-east-1') => client(BOB, region);
const as = (u: TestUser, region = 'us-east-1') => client(u, region);

before(async () => {
  server = await startServer({ accounts: [{ ...ALICE, users: [IMAGES_ONLY, COPIER, REGISTRAR, LAUNCHER, IMAGER] }, BOB] });
});
after(async () => {
  await server?.stop();
});

const tag = (c: EC2Client, id: string, Key: string, Value: string) => c.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key, Value }] }));
const unauthorized = (message: RegExp) => ({ name: 'UnauthorizedOperation', status: 403, message });
const refused = (u: TestUser, action: string, arn: string, how: 'no allow' | 'deny') => unauthorized(new RegExp(
  `User: arn:aws:iam::${ALICE.id}:user/${u.name} is not authorized to perform: ec2:${action} on resource: ${arn.replace(/[*.]/g, '\\$&')} `
  + (how === 'deny' ? 'with an explicit deny' : 'because no identity-based policy allows')));
const snapshotArn = (region: string, id: string) => `arn:aws:ec2:${region}::snapshot/${id}`;
const imageArn = (region: string, id: string) => `arn:aws:ec2:${region}::image/${id}`;

/** An image of `owner` in `region` on a new snapshot at /dev/xvda, plus `data` snapshots. */
async function imageOn(owner: EC2Client, name: string, data: { device: string; snapshotId: string }[] = []) {
  const snapshotId = await createSnapshot(owner, 1);
  const out = await owner.send(new RegisterImageCommand({
    Name: name, Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [
      { DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } },
      ...data.map((d) => ({ DeviceName: d.device, Ebs: { SnapshotId: d.snapshotId } })),
    ],
  }));
  assert.match(out.ImageId ?? '', AMI_ID);
  return { imageId: out.ImageId!, snapshotId };
}

async function imagesNamed(c: EC2Client, name: string) {
  return (await c.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }))).Images ?? [];
}

describe('CopyImage acts on the source image in SourceRegion and on its backing snapshots', () => {
  const copy = (u: TestUser, SourceImageId: string, Name: string, SourceRegion = 'eu-west-1') =>
    as(u).send(new CopyImageCommand({ SourceImageId, SourceRegion, Name }));

  test('a policy allowing only images is refused on the source snapshot, named in the source region', async () => {
    const source = await imageOn(alice('eu-west-1'), 'copy-images-only');
    await expectAwsError(copy(IMAGES_ONLY, source.imageId, 'copy-images-only'),
      refused(IMAGES_ONLY, 'CopyImage', snapshotArn('eu-west-1', source.snapshotId), 'no allow'));
    assert.deepEqual(await imagesNamed(alice(), 'copy-images-only'), [], 'nothing was copied');
  });

  test("AWS's example policy (image/* and snapshot/*) copies; a Deny on the source image's tag refuses", async () => {
    const plain = await imageOn(alice('eu-west-1'), 'copy-plain');
    const copied = await copy(COPIER, plain.imageId, 'copy-plain');
    assert.match(copied.ImageId ?? '', AMI_ID);

    const prod = await imageOn(alice('eu-west-1'), 'copy-prod');
    await tag(alice('eu-west-1'), prod.imageId, 'env', 'prod');
    await expectAwsError(copy(COPIER, prod.imageId, 'copy-prod'), refused(COPIER, 'CopyImage', imageArn('eu-west-1', prod.imageId), 'deny'));
    assert.deepEqual(await imagesNamed(alice(), 'copy-prod'), []);
  });

  test('a Deny on a tagged backing snapshot refuses the copy, a data snapshot as well as the root', async () => {
    const data = await createSnapshot(alice('eu-west-1'), 1);
    const source = await imageOn(alice('eu-west-1'), 'copy-secret-data', [{ device: '/dev/xvdb', snapshotId: data }]);
    await copy(COPIER, source.imageId, 'copy-before-secret');
    await tag(alice('eu-west-1'), data, 'classification', 'secret');
    await expectAwsError(copy(COPIER, source.imageId, 'copy-secret-data'), refused(COPIER, 'CopyImage', snapshotArn('eu-west-1', data), 'deny'));
    assert.deepEqual(await imagesNamed(alice(), 'copy-secret-data'), []);
  });

  test("another account's image: its snapshots count once shared; unshared, no refusal names them", async () => {
    const bobs = await imageOn(bob('eu-west-1'), 'bobs-source');
    await expectAwsError(copy(COPIER, bobs.imageId, 'copy-of-bobs'), { name: 'InvalidAMIID.NotFound' });
    // Refused on what the copy would make, never on the unshared image's snapshot.
    const refusal = await expectAwsError(copy(IMAGES_ONLY, bobs.imageId, 'copy-of-bobs'),
      refused(IMAGES_ONLY, 'CopyImage', 'arn:aws:ec2:us-east-1::snapshot/*', 'no allow'));
    assert.doesNotMatch(Buffer.from(refusal.message.split(': ').pop()!, 'base64url').toString(), new RegExp(bobs.snapshotId));
    await bob('eu-west-1').send(new ModifyImageAttributeCommand({ ImageId: bobs.imageId, LaunchPermission: { Add: [{ UserId: ALICE.id }] } }));
    await expectAwsError(copy(IMAGES_ONLY, bobs.imageId, 'copy-of-bobs'),
      refused(IMAGES_ONLY, 'CopyImage', snapshotArn('eu-west-1', bobs.snapshotId), 'no allow'));
  });
});

describe('RegisterImage acts on the snapshots of its BlockDeviceMappings', () => {
  test('refused when a mapped snapshot is not allowed or is denied; registers otherwise', async () => {
    const plain = await createSnapshot(alice(), 1);
    const secret = await createSnapshot(alice(), 1);
    await tag(alice(), secret, 'classification', 'secret');
    const register = (u: TestUser, Name: string, snapshots: string[]) => as(u).send(new RegisterImageCommand({
      Name, Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: snapshots.map((SnapshotId, i) => ({ DeviceName: `/dev/xvd${'ab'[i]}`, Ebs: { SnapshotId } })),
    }));
    await expectAwsError(register(IMAGES_ONLY, 'reg-images-only', [plain]), refused(IMAGES_ONLY, 'RegisterImage', snapshotArn('us-east-1', plain), 'no allow'));
    await expectAwsError(register(REGISTRAR, 'reg-secret', [plain, secret]), refused(REGISTRAR, 'RegisterImage', snapshotArn('us-east-1', secret), 'deny'));
    assert.deepEqual(await imagesNamed(alice(), 'reg-secret'), [], 'nothing was registered');
    assert.match((await register(REGISTRAR, 'reg-plain', [plain])).ImageId ?? '', AMI_ID);
  });
});

describe("RunInstances acts on the image's snapshots and those its own mappings name", () => {
  const run = (input: Partial<RunInstancesCommandInput> & { ImageId: string }) =>
    as(LAUNCHER).send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', DryRun: true, ...input }));
  const authorized = { name: 'DryRunOperation', status: 412 };

  test("a Deny on the image's tagged data snapshot refuses; suppressing that device with NoDevice launches", async () => {
    const data = await createSnapshot(alice(), 1);
    const { imageId } = await imageOn(alice(), 'run-secret-data', [{ device: '/dev/xvdb', snapshotId: data }]);
    await expectAwsError(run({ ImageId: imageId }), authorized);
    await tag(alice(), data, 'classification', 'secret');
    await expectAwsError(run({ ImageId: imageId }), refused(LAUNCHER, 'RunInstances', snapshotArn('us-east-1', data), 'deny'));
    await expectAwsError(run({ ImageId: imageId, BlockDeviceMappings: [{ DeviceName: '/dev/xvdb', NoDevice: '' }] }), authorized);
  });

  test('a tagged snapshot mapped by the request refuses; the root may launch the same', async () => {
    const secret = await createSnapshot(alice(), 1);
    await tag(alice(), secret, 'classification', 'secret');
    const BlockDeviceMappings = [{ DeviceName: '/dev/sdf', Ebs: { SnapshotId: secret } }];
    await expectAwsError(run({ ImageId: CATALOGUE_AMI, BlockDeviceMappings }), refused(LAUNCHER, 'RunInstances', snapshotArn('us-east-1', secret), 'deny'));
    await expectAwsError(alice().send(new RunInstancesCommand({ ImageId: CATALOGUE_AMI, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', DryRun: true, BlockDeviceMappings })), authorized);
  });
});

describe('CreateImage acts on the snapshots it makes', () => {
  test('a policy allowing the instance and images but no snapshots is refused on snapshot/*', async () => {
    const instance = await runOne(alice(), { ImageId: CATALOGUE_AMI });
    try {
      await expectAwsError(as(IMAGER).send(new CreateImageCommand({ InstanceId: instance.InstanceId, Name: 'imager-image', NoReboot: true })),
        refused(IMAGER, 'CreateImage', 'arn:aws:ec2:us-east-1::snapshot/*', 'no allow'));
      assert.deepEqual(await imagesNamed(alice(), 'imager-image'), []);
    } finally {
      await alice().send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
    }
  });
});
