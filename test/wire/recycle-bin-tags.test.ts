// CreateTags and DeleteTags on images and snapshots in the Recycle Bin, through
// @aws-sdk/client-ec2 against a strict-mode server: AWS lets the owner change the tags of a
// resource in the bin, and they come back with it on restore; another account finds nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateRuleCommand, RbinClient } from '@aws-sdk/client-rbin';
import {
  CreateTagsCommand, DeleteSnapshotCommand, DeleteTagsCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, DescribeTagsCommand,
  RestoreImageFromRecycleBinCommand, RestoreSnapshotFromRecycleBinCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import type { EBSClient } from '@aws-sdk/client-ebs';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { ebsClient, uploadSnapshot } from '../support/ebs.ts';
import { uploadImage } from '../support/instances.ts';

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceEbs: EBSClient;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  bob = ec2Client(server.endpoint, credentialsOf(BOB));
  aliceEbs = ebsClient(server.endpoint, credentialsOf(ALICE));
  const rbin = new RbinClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
  const days = { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' as const };
  await rbin.send(new CreateRuleCommand({ ResourceType: 'EBS_SNAPSHOT', RetentionPeriod: days }));
  await rbin.send(new CreateRuleCommand({ ResourceType: 'EC2_IMAGE', RetentionPeriod: days }));
});
after(async () => {
  await server?.stop();
});

const byKey = (tags: { Key?: string; Value?: string }[] | undefined) => [...(tags ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!));

test('the owner retags a snapshot in the bin; the tags come back with it; another account finds nothing', async () => {
  const { snapshotId } = await uploadSnapshot(aliceEbs, {}, new Map([[0, 'tagged in the bin']]));
  await alice.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: [{ Key: 'team', Value: 'a' }, { Key: 'stage', Value: 'old' }] }));
  await alice.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));

  await alice.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: [{ Key: 'team', Value: 'b' }, { Key: 'reason', Value: 'audit' }] }));
  await alice.send(new DeleteTagsCommand({ Resources: [snapshotId], Tags: [{ Key: 'stage', Value: 'not-this-value' }] }));
  await alice.send(new DeleteTagsCommand({ Resources: [snapshotId], Tags: [{ Key: 'reason' }] }));
  await expectAwsError(alice.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: [{ Key: 'aws:recycle-bin:resource-in-bin', Value: 'false' }] })),
    { name: 'InvalidParameterValue' });
  await expectAwsError(bob.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: [{ Key: 'x', Value: 'y' }] })), { name: 'InvalidSnapshot.NotFound' });
  await expectAwsError(bob.send(new DeleteTagsCommand({ Resources: [snapshotId] })), { name: 'InvalidSnapshot.NotFound' });
  await expectAwsError(alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })), { name: 'InvalidSnapshot.NotFound' });

  await alice.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: snapshotId }));
  const [snap] = (await alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots!;
  assert.deepEqual(byKey(snap.Tags), [{ Key: 'stage', Value: 'old' }, { Key: 'team', Value: 'b' }]);
});

test('DeleteTags without tags empties an image\'s tags in the bin; a mixed request touches live and binned resources', async () => {
  const { imageId, snapshotId } = await uploadImage(alice, aliceEbs, 'retagged', new Map([[0, Buffer.from('retagged os')]]));
  await alice.send(new CreateTagsCommand({ Resources: [imageId], Tags: [{ Key: 'stage', Value: 'golden' }] }));
  await alice.send(new DeregisterImageCommand({ ImageId: imageId }));
  await alice.send(new DeleteTagsCommand({ Resources: [imageId] }));
  await alice.send(new CreateTagsCommand({ Resources: [imageId, snapshotId], Tags: [{ Key: 'owner', Value: 'ops' }] }));
  await alice.send(new RestoreImageFromRecycleBinCommand({ ImageId: imageId }));
  const [image] = (await alice.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images!;
  assert.deepEqual(image.Tags, [{ Key: 'owner', Value: 'ops' }]);
  const [snap] = (await alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots!;
  assert.deepEqual(snap.Tags, [{ Key: 'owner', Value: 'ops' }]);
});

test('DescribeTags lists a binned resource\'s tags with the system tag aws:recycle-bin:resource-in-bin=true, gone on restore', async () => {
  const { snapshotId } = await uploadSnapshot(aliceEbs, {}, new Map([[0, 'described in the bin']]));
  await alice.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: [{ Key: 'team', Value: 'a' }] }));
  await alice.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
  const described = async (ec2: EC2Client) => (await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [snapshotId] }] }))).Tags;
  assert.deepEqual(await described(alice), [
    { ResourceId: snapshotId, ResourceType: 'snapshot', Key: 'aws:recycle-bin:resource-in-bin', Value: 'true' },
    { ResourceId: snapshotId, ResourceType: 'snapshot', Key: 'team', Value: 'a' },
  ]);
  const bySystemTag = (await alice.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['aws:recycle-bin:resource-in-bin'] }] }))).Tags!;
  assert.ok(bySystemTag.some((t) => t.ResourceId === snapshotId));
  assert.deepEqual(await described(bob), []);
  await alice.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: snapshotId }));
  assert.deepEqual(await described(alice), [{ ResourceId: snapshotId, ResourceType: 'snapshot', Key: 'team', Value: 'a' }]);
});
