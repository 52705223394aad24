// Block public access for snapshots through the AWS SDK for JavaScript v3, in strict mode, from
// the owner's side (ALICE) and another account's (BOB): block-new-sharing refuses new public
// shares; block-all-sharing also treats the owner's public snapshots as private for others
// (DescribeSnapshots, CreateVolume, CopySnapshot, the EBS direct APIs) while their attribute
// still says `all`; unblocking makes them public again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopySnapshotCommand, CreateVolumeCommand, DescribeSnapshotAttributeCommand, DescribeSnapshotsCommand,
  DisableSnapshotBlockPublicAccessCommand, EnableSnapshotBlockPublicAccessCommand, GetSnapshotBlockPublicAccessStateCommand,
  ModifySnapshotAttributeCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { ListSnapshotBlocksCommand, type EBSClient } from '@aws-sdk/client-ebs';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { ebsClient, expectEbsError } from '../support/ebs.ts';
import { createSnapshot, expectAwsError } from '../support/sdk.ts';

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceWest: EC2Client;
let bobEbs: EBSClient;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
  aliceWest = ec2Client(server.endpoint, credentialsOf(ALICE), 'us-west-2');
  bobEbs = ebsClient(server.endpoint, credentialsOf(BOB));
});
after(async () => {
  await server?.stop();
});

const makePublic = (id: string) =>
  alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ Group: 'all' }] } }));
const makePublicLegacy = (id: string) =>
  alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission', OperationType: 'add', GroupNames: ['all'] }));
const permissions = async (id: string) =>
  (await alice.send(new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' }))).CreateVolumePermissions;
const state = async (c: EC2Client) => (await c.send(new GetSnapshotBlockPublicAccessStateCommand({}))).State;

/** Whether BOB reaches the snapshot: by id, in the public listing, and by CreateVolume. */
async function bobReaches(id: string): Promise<boolean> {
  const listed = ((await bob.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ['all'] }))).Snapshots ?? []).some((s) => s.SnapshotId === id);
  let byId = true;
  try {
    await bob.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
  } catch (e) {
    if ((e as Error).name !== 'InvalidSnapshot.NotFound') throw e;
    byId = false;
  }
  let volume = true;
  try {
    await bob.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: id }));
  } catch (e) {
    if ((e as Error).name !== 'InvalidSnapshot.NotFound') throw e;
    volume = false;
  }
  assert.equal(listed, byId, 'listing and lookup by id agree');
  assert.equal(volume, byId, 'CreateVolume and lookup by id agree');
  return byId;
}

describe('block public access for snapshots', () => {
  test('the states, their answers, and per account and region', async () => {
    assert.deepEqual(await bob.send(new GetSnapshotBlockPublicAccessStateCommand({})).then((o) => [o.State, o.ManagedBy]), ['unblocked', 'account']);
    await expectAwsError(alice.send(new EnableSnapshotBlockPublicAccessCommand({ State: 'unblocked' })), {
      name: 'InvalidParameterValue', status: 400, message: /unblocked/,
    });
    assert.equal((await alice.send(new EnableSnapshotBlockPublicAccessCommand({ State: 'block-new-sharing' }))).State, 'block-new-sharing');
    assert.equal(await state(alice), 'block-new-sharing');
    assert.equal((await alice.send(new EnableSnapshotBlockPublicAccessCommand({ State: 'block-all-sharing' }))).State, 'block-all-sharing');
    assert.equal(await state(alice), 'block-all-sharing');
    assert.equal(await state(bob), 'unblocked');
    assert.equal(await state(aliceWest), 'unblocked');
    assert.equal((await alice.send(new DisableSnapshotBlockPublicAccessCommand({}))).State, 'unblocked');
    assert.equal(await state(alice), 'unblocked');
  });

  test('block-new-sharing refuses making a snapshot public in both request forms; public ones stay public; accounts can still be named', async () => {
    const wasPublic = await createSnapshot(alice, 1);
    await makePublic(wasPublic);
    const id = await createSnapshot(alice, 1);
    await alice.send(new EnableSnapshotBlockPublicAccessCommand({ State: 'block-new-sharing' }));
    try {
      for (const attempt of [makePublic, makePublicLegacy]) {
        await expectAwsError(attempt(id), { name: 'OperationNotPermitted', status: 400, message: /block public access for snapshots is enabled/ });
      }
      assert.deepEqual(await permissions(id), []);
      assert.equal(await bobReaches(id), false);
      await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: BOB.id }] } }));
      assert.deepEqual(await permissions(id), [{ UserId: BOB.id }]);
      assert.equal(await bobReaches(wasPublic), true);
      // BOB's own setting is unblocked: he can make his own snapshots public.
      const bobs = await createSnapshot(bob, 1);
      await bob.send(new ModifySnapshotAttributeCommand({ SnapshotId: bobs, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ Group: 'all' }] } }));
    } finally {
      await alice.send(new DisableSnapshotBlockPublicAccessCommand({}));
    }
    await makePublic(id);
    assert.deepEqual((await permissions(id))?.map((p) => p.UserId ?? p.Group).sort(), [BOB.id, 'all'].sort());
  });

  test('block-all-sharing treats public snapshots as private for others until unblocked; named accounts keep access', async () => {
    const pub = await createSnapshot(alice, 1);
    await makePublic(pub);
    const named = await createSnapshot(alice, 1);
    await makePublic(named);
    await alice.send(new ModifySnapshotAttributeCommand({ SnapshotId: named, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: BOB.id }] } }));
    assert.equal(await bobReaches(pub), true);

    await alice.send(new EnableSnapshotBlockPublicAccessCommand({ State: 'block-all-sharing' }));
    try {
      assert.equal(await bobReaches(pub), false);
      await expectAwsError(bob.send(new DescribeSnapshotsCommand({ SnapshotIds: [pub] })), {
        name: 'InvalidSnapshot.NotFound', status: 400,
      });
      await expectAwsError(bob.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: pub })), { name: 'InvalidSnapshot.NotFound', status: 400 });
      await expectEbsError(bobEbs.send(new ListSnapshotBlocksCommand({ SnapshotId: pub })), { name: 'ResourceNotFoundException', status: 404 });
      // Shared with BOB by name: still his to use.
      assert.equal((await bob.send(new DescribeSnapshotsCommand({ SnapshotIds: [named] }))).Snapshots?.[0].SnapshotId, named);
      // The owner still sees it, and its attribute still says public.
      assert.equal((await alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [pub] }))).Snapshots?.[0].SnapshotId, pub);
      assert.deepEqual(await permissions(pub), [{ Group: 'all' }]);

      // block-new-sharing makes them public again.
      await alice.send(new EnableSnapshotBlockPublicAccessCommand({ State: 'block-new-sharing' }));
      assert.equal(await bobReaches(pub), true);
      await alice.send(new EnableSnapshotBlockPublicAccessCommand({ State: 'block-all-sharing' }));
      assert.equal(await bobReaches(pub), false);
    } finally {
      await alice.send(new DisableSnapshotBlockPublicAccessCommand({}));
    }
    assert.equal(await bobReaches(pub), true);
    const copy = await bob.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: pub }));
    assert.match(copy.SnapshotId ?? '', /^snap-/);
  });
});
