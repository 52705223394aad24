// Image governance through the AWS SDK for JavaScript v3, in strict mode, from the owner's side
// (ALICE) and another account's (BOB): CancelImageLaunchPermission, block public access for AMIs,
// and DisableImage/EnableImage. Deprecation and deregistration protection, which need the
// server's clock moved, are in governance-time-sdk.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelImageLaunchPermissionCommand, CopyImageCommand, DescribeImageAttributeCommand, DescribeImagesCommand, DisableImageBlockPublicAccessCommand,
  DisableImageCommand, EnableImageBlockPublicAccessCommand, EnableImageCommand, GetImageBlockPublicAccessStateCommand,
  ModifyImageAttributeCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { expectAwsError, registerEbs } from '../support/sdk.ts';
import { runOne } from '../support/instances.ts';

const BLOCKED_MESSAGE = 'You can\u2019t publicly share this image because block public access for AMIs is enabled for this account. '
  + 'To publicly share the image, you must call the DisableImageBlockPublicAccess API.';

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceWest: EC2Client;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
  aliceWest = ec2Client(server.endpoint, credentialsOf(ALICE), 'us-west-2');
});
after(async () => {
  await server?.stop();
});

/** Whether the client finds the image by id (NotFound means it cannot see it). */
const findsById = async (c: EC2Client, id: string, extra: { IncludeDisabled?: boolean } = {}): Promise<boolean> => {
  try {
    const out = await c.send(new DescribeImagesCommand({ ImageIds: [id], ...extra }));
    return (out.Images ?? []).some((i) => i.ImageId === id);
  } catch (e) {
    if ((e as Error).name === 'InvalidAMIID.NotFound') return false;
    throw e;
  }
};
const lists = async (c: EC2Client, id: string, extra: { IncludeDisabled?: boolean } = {}): Promise<boolean> =>
  ((await c.send(new DescribeImagesCommand(extra))).Images ?? []).some((i) => i.ImageId === id);
const launchPermissions = async (id: string) =>
  (await alice.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' }))).LaunchPermissions;
const share = (id: string, add: { UserId?: string; Group?: 'all' }[]) =>
  alice.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: add } }));
const makePublicLegacy = (c: EC2Client, id: string) =>
  c.send(new ModifyImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission', OperationType: 'add', UserGroups: ['all'] }));

describe('CancelImageLaunchPermission', () => {
  test('an account shared with removes itself; the owner keeps the image and may share it again', async () => {
    const id = await registerEbs(alice, 'cancel-direct');
    await share(id, [{ UserId: BOB.id }]);
    assert.equal(await findsById(bob, id), true);
    const out = await bob.send(new CancelImageLaunchPermissionCommand({ ImageId: id }));
    assert.equal(out.Return, true);
    assert.equal(await findsById(bob, id), false);
    assert.equal(await lists(bob, id), false);
    assert.deepEqual(await launchPermissions(id), []);
    // Gone from BOB's view, so a second cancel finds nothing.
    await expectAwsError(bob.send(new CancelImageLaunchPermissionCommand({ ImageId: id })), { name: 'InvalidAMIID.NotFound', status: 400 });
    await share(id, [{ UserId: BOB.id }]);
    assert.equal(await findsById(bob, id), true);
  });

  test('only the caller\'s own permission goes; other accounts\' and the public one stay', async () => {
    const id = await registerEbs(alice, 'cancel-among-others');
    await share(id, [{ UserId: BOB.id }, { UserId: '333333333333' }, { Group: 'all' }]);
    await bob.send(new CancelImageLaunchPermissionCommand({ ImageId: id }));
    const left = await launchPermissions(id);
    assert.deepEqual(left?.map((p) => p.UserId ?? p.Group).sort(), ['333333333333', 'all']);
    // Still public, so BOB still sees it, as AWS documents for public AMIs.
    assert.equal(await findsById(bob, id), true);
  });

  test('an image reached only as public cannot be cancelled', async () => {
    const id = await registerEbs(alice, 'cancel-public');
    await share(id, [{ Group: 'all' }]);
    await expectAwsError(bob.send(new CancelImageLaunchPermissionCommand({ ImageId: id })), {
      name: 'OperationNotPermitted', status: 400, message: /not shared with your account directly/,
    });
    assert.deepEqual(await launchPermissions(id), [{ Group: 'all' }]);
  });

  test('the owner cannot cancel its own image; a private image of another account is not found', async () => {
    const id = await registerEbs(alice, 'cancel-own');
    await expectAwsError(alice.send(new CancelImageLaunchPermissionCommand({ ImageId: id })), {
      name: 'OperationNotPermitted', status: 400, message: /You own image/,
    });
    await expectAwsError(bob.send(new CancelImageLaunchPermissionCommand({ ImageId: id })), {
      name: 'InvalidAMIID.NotFound', status: 400, message: `The image id '[${id}]' does not exist`,
    });
    await expectAwsError(bob.send(new CancelImageLaunchPermissionCommand({ ImageId: 'ami-nope' })), { name: 'InvalidAMIID.Malformed', status: 400 });
  });
});

describe('block public access for AMIs', () => {
  test('per account and region: on, making an image public fails in both request forms; sharing with accounts works', async () => {
    const before = await alice.send(new GetImageBlockPublicAccessStateCommand({}));
    assert.equal(before.ImageBlockPublicAccessState, 'unblocked');
    assert.equal(before.ManagedBy, 'account');
    const wasPublic = await registerEbs(alice, 'bpa-was-public');
    await share(wasPublic, [{ Group: 'all' }]);

    const on = await alice.send(new EnableImageBlockPublicAccessCommand({ ImageBlockPublicAccessState: 'block-new-sharing' }));
    assert.equal(on.ImageBlockPublicAccessState, 'block-new-sharing');
    assert.equal((await alice.send(new GetImageBlockPublicAccessStateCommand({}))).ImageBlockPublicAccessState, 'block-new-sharing');

    const id = await registerEbs(alice, 'bpa-new');
    await expectAwsError(share(id, [{ Group: 'all' }]), { name: 'OperationNotPermitted', status: 400, message: BLOCKED_MESSAGE });
    await expectAwsError(makePublicLegacy(alice, id), { name: 'OperationNotPermitted', status: 400, message: BLOCKED_MESSAGE });
    // Nothing of a refused request is applied, not even the account it also named.
    await expectAwsError(share(id, [{ UserId: BOB.id }, { Group: 'all' }]), { name: 'OperationNotPermitted' });
    assert.deepEqual(await launchPermissions(id), []);
    assert.equal(await findsById(bob, id), false);
    await share(id, [{ UserId: BOB.id }]);
    assert.equal(await findsById(bob, id), true);

    // An image public before the block stays public; once made private, it cannot go back.
    assert.equal(await findsById(bob, wasPublic), true);
    assert.equal((await bob.send(new DescribeImagesCommand({ ImageIds: [wasPublic] }))).Images?.[0].Public, true);
    await alice.send(new ModifyImageAttributeCommand({ ImageId: wasPublic, LaunchPermission: { Remove: [{ Group: 'all' }] } }));
    await expectAwsError(share(wasPublic, [{ Group: 'all' }]), { name: 'OperationNotPermitted', message: BLOCKED_MESSAGE });

    // Another account's and another region's settings are their own.
    assert.equal((await bob.send(new GetImageBlockPublicAccessStateCommand({}))).ImageBlockPublicAccessState, 'unblocked');
    const bobs = await registerEbs(bob, 'bpa-bobs');
    await makePublicLegacy(bob, bobs);
    assert.equal(await findsById(alice, bobs), true);
    assert.equal((await aliceWest.send(new GetImageBlockPublicAccessStateCommand({}))).ImageBlockPublicAccessState, 'unblocked');

    const off = await alice.send(new DisableImageBlockPublicAccessCommand({}));
    assert.equal(off.ImageBlockPublicAccessState, 'unblocked');
    assert.equal((await alice.send(new GetImageBlockPublicAccessStateCommand({}))).ImageBlockPublicAccessState, 'unblocked');
    await share(id, [{ Group: 'all' }]);
    assert.equal((await bob.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images?.[0].Public, true);
  });

  test('a state other than block-new-sharing is refused', async () => {
    await expectAwsError(alice.send(new EnableImageBlockPublicAccessCommand({ ImageBlockPublicAccessState: 'unblocked' as 'block-new-sharing' })), {
      name: 'InvalidParameterValue', status: 400,
    });
    assert.equal((await alice.send(new GetImageBlockPublicAccessStateCommand({}))).ImageBlockPublicAccessState, 'unblocked');
  });
});

describe('DisableImage and EnableImage', () => {
  test('disabling removes every launch permission, hides the image and stops launches; enabling does not share it again', async () => {
    const id = await registerEbs(alice, 'disable-me', { Architecture: 'x86_64', VirtualizationType: 'hvm' });
    await share(id, [{ UserId: BOB.id }, { Group: 'all' }]);
    // Another account may see the image but not disable or enable it.
    await expectAwsError(bob.send(new DisableImageCommand({ ImageId: id })), { name: 'AuthFailure', status: 400, message: `Not authorized for image:${id}` });

    assert.equal((await alice.send(new DisableImageCommand({ ImageId: id }))).Return, true);
    assert.deepEqual(await launchPermissions(id), []);
    assert.equal(await findsById(bob, id), false);
    assert.equal(await findsById(bob, id, { IncludeDisabled: true }), false);
    assert.equal(await lists(bob, id, { IncludeDisabled: true }), false);
    await expectAwsError(bob.send(new EnableImageCommand({ ImageId: id })), { name: 'InvalidAMIID.NotFound', status: 400 });

    // The owner sees it only when asking for disabled images.
    assert.equal(await lists(alice, id), false);
    assert.equal(await findsById(alice, id), false);
    const [disabled] = (await alice.send(new DescribeImagesCommand({ ImageIds: [id], IncludeDisabled: true }))).Images!;
    assert.equal(disabled.State, 'disabled');
    assert.equal(disabled.Public, false);
    assert.equal(await lists(alice, id, { IncludeDisabled: true }), true);

    await expectAwsError(runOne(alice, { ImageId: id }), { name: 'InvalidAMIID.Unavailable', status: 400, message: /disabled/ });
    await expectAwsError(alice.send(new CopyImageCommand({ Name: 'copy of disabled', SourceRegion: 'us-east-1', SourceImageId: id })), {
      name: 'InvalidAMIID.Unavailable', status: 400,
    });
    // A disabled image cannot be shared; its description can still change.
    await expectAwsError(share(id, [{ UserId: BOB.id }]), { name: 'IncorrectState', status: 400, message: /disabled/ });
    await alice.send(new ModifyImageAttributeCommand({ ImageId: id, Description: { Value: 'retired' } }));
    assert.equal((await alice.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'description' }))).Description?.Value, 'retired');
    await expectAwsError(alice.send(new DisableImageCommand({ ImageId: id })), { name: 'IncorrectState', status: 400, message: /must be 'available'/ });

    assert.equal((await alice.send(new EnableImageCommand({ ImageId: id }))).Return, true);
    const [enabled] = (await alice.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images!;
    assert.equal(enabled.State, 'available');
    assert.equal(enabled.Public, false);
    assert.deepEqual(await launchPermissions(id), []);
    assert.equal(await findsById(bob, id), false);
    await expectAwsError(alice.send(new EnableImageCommand({ ImageId: id })), { name: 'IncorrectState', status: 400, message: /must be 'disabled'/ });

    // Available again: it launches and can be shared again.
    const instance = await runOne(alice, { ImageId: id });
    assert.equal(instance.ImageId, id);
    await share(id, [{ UserId: BOB.id }]);
    assert.equal(await findsById(bob, id), true);
  });

  test('another account cannot disable a private image it cannot see', async () => {
    const id = await registerEbs(alice, 'disable-private');
    await expectAwsError(bob.send(new DisableImageCommand({ ImageId: id })), { name: 'InvalidAMIID.NotFound', status: 400 });
    await expectAwsError(bob.send(new DisableImageCommand({ ImageId: 'ami-12345' })), { name: 'InvalidAMIID.Malformed', status: 400 });
    assert.equal((await alice.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images?.[0].State, 'available');
  });
});
