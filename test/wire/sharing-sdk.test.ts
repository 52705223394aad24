// Image sharing and image attributes through the AWS SDK for JavaScript v3, against a server in
// strict mode (real SigV4 verification, accounts from a file, some in an organization): launch
// permissions for accounts, everyone, organizations and OUs; description and imdsSupport; and what
// another account can neither see nor change.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateTagsCommand, DeregisterImageCommand, DescribeImageAttributeCommand, DescribeImagesCommand,
  ModifyImageAttributeCommand, ResetImageAttributeCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { expectAwsError, registerEbs } from '../support/sdk.ts';

const ORG = 'arn:aws:organizations::999999999999:organization/o-abcdefghij';
const OU_A = 'arn:aws:organizations::999999999999:ou/o-abcdefghij/ou-ab12-cdefgh34';
const OU_B = 'arn:aws:organizations::999999999999:ou/o-abcdefghij/ou-cd34-efghij56';
const CAROL: TestAccount = {
  id: '333333333333', accessKeyId: 'AKIACAROL00000000003', secretAccessKey: 'carol-secret-key-000000000000000000000',
  organization: { arn: ORG, organizationalUnits: [OU_A] },
};
const DAVE: TestAccount = {
  id: '444444444444', accessKeyId: 'AKIADAVE000000000004', secretAccessKey: 'dave-secret-key-0000000000000000000000',
  organization: { arn: ORG, organizationalUnits: [OU_B] },
};

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let carol: EC2Client;
let dave: EC2Client;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB, CAROL, DAVE] });
  [alice, bob, carol, dave] = [ALICE, BOB, CAROL, DAVE].map((a) => ec2Client(server.endpoint, credentialsOf(a)));
});
after(async () => {
  await server?.stop();
});

const sees = async (c: EC2Client, id: string): Promise<boolean> => {
  const all = await c.send(new DescribeImagesCommand({}));
  const listed = (all.Images ?? []).some((i) => i.ImageId === id);
  try {
    const byId = await c.send(new DescribeImagesCommand({ ImageIds: [id] }));
    assert.equal(byId.Images?.[0]?.ImageId, id);
    assert.ok(listed, 'found by id but not listed');
    return true;
  } catch (e) {
    if ((e as Error).name !== 'InvalidAMIID.NotFound') throw e;
    assert.ok(!listed, 'listed but not found by id');
    return false;
  }
};
const executableBySelf = async (c: EC2Client): Promise<string[]> =>
  ((await c.send(new DescribeImagesCommand({ ExecutableUsers: ['self'] }))).Images ?? []).map((i) => i.ImageId!);
const launchPermissions = async (id: string) =>
  (await alice.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' }))).LaunchPermissions;

describe('launch permissions', () => {
  test('Add and Remove a UserId', async () => {
    const id = await registerEbs(alice, 'share-with-bob');
    assert.equal(await sees(bob, id), false);
    assert.deepEqual(await launchPermissions(id), []);

    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    assert.equal(await sees(bob, id), true);
    assert.deepEqual(await executableBySelf(bob), [id]);
    assert.equal(await sees(carol, id), false);
    assert.deepEqual(await launchPermissions(id), [{ UserId: BOB.id }]);
    const [asBob] = (await bob.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images!;
    assert.equal(asBob.OwnerId, ALICE.id);
    assert.equal(asBob.Public, false);

    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Remove: [{ UserId: BOB.id }] } }));
    assert.equal(await sees(bob, id), false);
    assert.deepEqual(await executableBySelf(bob), []);
    assert.deepEqual(await launchPermissions(id), []);
  });

  test('the legacy form: Attribute launchPermission, OperationType and UserIds', async () => {
    const id = await registerEbs(alice, 'legacy-share');
    await alice.send(new ModifyImageAttributeCommand({
      ImageId: id, Attribute: 'launchPermission', OperationType: 'add', UserIds: [BOB.id, CAROL.id],
    }));
    assert.equal(await sees(bob, id), true);
    assert.equal(await sees(carol, id), true);
    const perms = (await launchPermissions(id))!.map((p) => p.UserId).sort();
    assert.deepEqual(perms, [BOB.id, CAROL.id]);
    await alice.send(new ModifyImageAttributeCommand({
      ImageId: id, Attribute: 'launchPermission', OperationType: 'remove', UserIds: [BOB.id],
    }));
    assert.equal(await sees(bob, id), false);
    assert.equal(await sees(carol, id), true);
    // Without an OperationType the legacy form names no change.
    await expectAwsError(alice.send(new ModifyImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission', UserIds: [BOB.id] })),
      { name: 'MissingParameter', status: 400 });
  });

  test('Group all makes the image public; ResetImageAttribute makes it private again', async () => {
    const id = await registerEbs(alice, 'public-image');
    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ Group: 'all' }] } }));
    for (const c of [bob, carol, dave]) assert.equal(await sees(c, id), true);
    const [asBob] = (await bob.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images!;
    assert.equal(asBob.Public, true);
    const publicOnes = await bob.send(new DescribeImagesCommand({ Filters: [{ Name: 'is-public', Values: ['true'] }] }));
    assert.ok(publicOnes.Images!.some((i) => i.ImageId === id));
    const allUsers = await bob.send(new DescribeImagesCommand({ ExecutableUsers: ['all'], Owners: [ALICE.id] }));
    assert.deepEqual(allUsers.Images!.map((i) => i.ImageId), [id]);
    assert.deepEqual(await launchPermissions(id), [{ Group: 'all' }]);

    await alice.send(new ResetImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' }));
    for (const c of [bob, carol, dave]) assert.equal(await sees(c, id), false);
    const [asAlice] = (await alice.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images!;
    assert.equal(asAlice.Public, false);
    assert.deepEqual(await launchPermissions(id), []);
  });

  test('an OrganizationArn shares with the organization\'s member accounts only', async () => {
    const id = await registerEbs(alice, 'org-image');
    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ OrganizationArn: ORG }] } }));
    assert.equal(await sees(carol, id), true);
    assert.equal(await sees(dave, id), true);
    assert.equal(await sees(bob, id), false);
    assert.ok((await executableBySelf(carol)).includes(id));
    assert.deepEqual(await launchPermissions(id), [{ OrganizationArn: ORG }]);
    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Remove: [{ OrganizationArn: ORG }] } }));
    assert.equal(await sees(carol, id), false);
  });

  test('an OrganizationalUnitArn shares with that OU\'s accounts only', async () => {
    const id = await registerEbs(alice, 'ou-image');
    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ OrganizationalUnitArn: OU_A }] } }));
    assert.equal(await sees(carol, id), true);
    assert.equal(await sees(dave, id), false);
    assert.equal(await sees(bob, id), false);
  });

  test('malformed launch permission items are InvalidAMIAttributeItemValue', async () => {
    const id = await registerEbs(alice, 'bad-items');
    for (const item of [{ UserId: '12345' }, { UserId: 'bob' }, { OrganizationArn: 'arn:aws:organizations::1:organization/x' }]) {
      await expectAwsError(alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [item] } })),
        { name: 'InvalidAMIAttributeItemValue', status: 400 });
    }
    await expectAwsError(alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ Group: 'everyone' as 'all' }] } })),
      { name: 'InvalidParameterValue', status: 400 });
    assert.deepEqual(await launchPermissions(id), []);
  });
});

describe('description and imdsSupport attributes', () => {
  test('ModifyImageAttribute Description, in both forms, then DescribeImageAttribute', async () => {
    const id = await registerEbs(alice, 'described', { Description: 'first' });
    const read = async () => (await alice.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'description' })));
    const first = await read();
    assert.equal(first.ImageId, id);
    assert.deepEqual(first.Description, { Value: 'first' });
    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, Description: { Value: 'second' } }));
    assert.deepEqual((await read()).Description, { Value: 'second' });
    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, Attribute: 'description', Value: 'third' }));
    assert.deepEqual((await read()).Description, { Value: 'third' });
    const [img] = (await alice.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images!;
    assert.equal(img.Description, 'third');
  });

  test('imdsSupport can be set to v2.0 and nothing else', async () => {
    const id = await registerEbs(alice, 'imds');
    const read = async () => (await alice.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'imdsSupport' }))).ImdsSupport;
    assert.deepEqual(await read(), {});
    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, ImdsSupport: { Value: 'v2.0' } }));
    assert.deepEqual(await read(), { Value: 'v2.0' });
    const [img] = (await alice.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images!;
    assert.equal(img.ImdsSupport, 'v2.0');
    await expectAwsError(alice.send(new ModifyImageAttributeCommand({ ImageId: id, ImdsSupport: { Value: 'v1.0' } })),
      { name: 'InvalidParameterValue', status: 400 });
  });

  test('ModifyImageAttribute with nothing to change is rejected', async () => {
    const id = await registerEbs(alice, 'nothing-to-change');
    await expectAwsError(alice.send(new ModifyImageAttributeCommand({ ImageId: id })), { name: 'InvalidParameterCombination', status: 400 });
  });
});

describe('another account can neither see nor change what is not its own', () => {
  let privateId: string;
  let publicId: string;
  let sharedId: string;

  before(async () => {
    privateId = await registerEbs(alice, 'alice-private', { Description: 'private' });
    publicId = await registerEbs(alice, 'alice-public');
    sharedId = await registerEbs(alice, 'alice-shared');
    await alice.send(new ModifyImageAttributeCommand({ ImageId: publicId, LaunchPermission: { Add: [{ Group: 'all' }] } }));
    await alice.send(new ModifyImageAttributeCommand({ ImageId: sharedId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
  });

  test('a private image is NotFound to every operation', async () => {
    const notFound = { name: 'InvalidAMIID.NotFound', status: 400, message: `The image id '[${privateId}]' does not exist` };
    assert.ok(!((await bob.send(new DescribeImagesCommand({ Owners: [ALICE.id] }))).Images ?? []).some((i) => i.ImageId === privateId));
    await expectAwsError(bob.send(new DescribeImagesCommand({ ImageIds: [privateId] })), notFound);
    await expectAwsError(bob.send(new DescribeImageAttributeCommand({ ImageId: privateId, Attribute: 'description' })), notFound);
    await expectAwsError(bob.send(new ModifyImageAttributeCommand({ ImageId: privateId, Description: { Value: 'mine now' } })), notFound);
    await expectAwsError(bob.send(new ModifyImageAttributeCommand({ ImageId: privateId, LaunchPermission: { Add: [{ UserId: BOB.id }] } })), notFound);
    await expectAwsError(bob.send(new ResetImageAttributeCommand({ ImageId: privateId, Attribute: 'launchPermission' })), notFound);
    await expectAwsError(bob.send(new DeregisterImageCommand({ ImageId: privateId })), notFound);
    await expectAwsError(bob.send(new CreateTagsCommand({ Resources: [privateId], Tags: [{ Key: 'k', Value: 'v' }] })), notFound);
    // Nothing changed.
    const [img] = (await alice.send(new DescribeImagesCommand({ ImageIds: [privateId] }))).Images!;
    assert.equal(img.Description, 'private');
    assert.equal(img.Tags, undefined);
    assert.deepEqual(await launchPermissions(privateId), []);
  });

  test('a public or shared image it does not own is AuthFailure to change', async () => {
    for (const id of [publicId, sharedId]) {
      const denied = { name: 'AuthFailure', message: `Not authorized for image:${id}` };
      await expectAwsError(bob.send(new ModifyImageAttributeCommand({ ImageId: id, Description: { Value: 'x' } })), denied);
      await expectAwsError(bob.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Remove: [{ Group: 'all' }] } })), denied);
      await expectAwsError(bob.send(new ResetImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' })), denied);
      await expectAwsError(bob.send(new DeregisterImageCommand({ ImageId: id })), denied);
      await expectAwsError(bob.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' })), denied);
      assert.equal(await sees(alice, id), true);
    }
    assert.deepEqual(await launchPermissions(publicId), [{ Group: 'all' }]);
    assert.equal(await sees(carol, publicId), true);
  });
});
