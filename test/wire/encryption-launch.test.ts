// Launching from encrypted images (SDK v3, strict mode, Alice and Bob). The key is checked when
// it is used: a disabled key stops new launches (the instance goes to terminated with EC2's
// StateReason Client.InvalidKMSKey.InvalidState), new volumes and new images; an image shared
// with Bob launches in his account only once the key's grant lets him use the key (before, the
// launch fails as AWS's does: Client.InternalError, "Client error on launch").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateImageCommand, CreateVolumeCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeVolumesCommand, ModifyImageAttributeCommand,
  ModifySnapshotAttributeCommand, RegisterImageCommand, type EC2Client, type Instance,
} from '@aws-sdk/client-ec2';
import type { EBSClient } from '@aws-sdk/client-ebs';
import { CreateGrantCommand, CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { ebsClient, uploadSnapshot } from '../support/ebs.ts';
import { runOne, waitState } from '../support/instances.ts';
import { expectAwsError } from '../support/sdk.ts';

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceEbs: EBSClient;
let aliceKms: KMSClient;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB], extraArgs: ['--sim-boot-ms', '100'] });
  [alice, bob] = [ALICE, BOB].map((a) => ec2Client(server.endpoint, credentialsOf(a)));
  aliceEbs = ebsClient(server.endpoint, credentialsOf(ALICE));
  aliceKms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
});
after(async () => {
  await server?.stop();
});

/** An image on a snapshot uploaded encrypted under `keyArn` (or unencrypted). */
async function image(name: string, keyArn?: string): Promise<{ imageId: string; snapshotId: string }> {
  const { snapshotId } = await uploadSnapshot(aliceEbs, keyArn ? { Encrypted: true, KmsKeyArn: keyArn } : {}, new Map([[0, `${name}-0`]]));
  const imageId = (await alice.send(new RegisterImageCommand({
    Name: name, RootDeviceName: '/dev/xvda', Architecture: 'x86_64', VirtualizationType: 'hvm',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } }],
  }))).ImageId!;
  return { imageId, snapshotId };
}

const rootVolume = async (ec2: EC2Client, i: Instance) => (await ec2.send(new DescribeVolumesCommand({
  Filters: [{ Name: 'attachment.instance-id', Values: [i.InstanceId!] }],
}))).Volumes![0];

describe('launching encrypted images', () => {
  test('a disabled key stops new launches, volumes and images; enabled again, they work', async () => {
    const key = (await aliceKms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const { imageId, snapshotId } = await image('enc-launch', key.Arn);
    const running = await runOne(alice, { ImageId: imageId });
    await waitState(alice, running.InstanceId!, 'running');
    const vol = await rootVolume(alice, running);
    assert.equal(vol.Encrypted, true);
    assert.equal(vol.KmsKeyId, key.Arn);

    await aliceKms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    const refused = await runOne(alice, { ImageId: imageId });
    const ended = await waitState(alice, refused.InstanceId!, 'terminated');
    assert.deepEqual(ended.StateReason, {
      Code: 'Client.InvalidKMSKey.InvalidState', Message: 'Client.InvalidKMSKey.InvalidState: The KMS key provided is in an incorrect state',
    });
    await expectAwsError(alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snapshotId })),
      { name: 'IncorrectState', status: 400, message: /is disabled/ });
    // CreateImage answers at once and takes its snapshots in the background: the image fails.
    const made = (await alice.send(new CreateImageCommand({ InstanceId: running.InstanceId!, Name: 'while-disabled', NoReboot: true }))).ImageId!;
    let state: string | undefined;
    let reason: string | undefined;
    for (let i = 0; i < 100 && state !== 'failed' && state !== 'available'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const [img] = (await alice.send(new DescribeImagesCommand({ ImageIds: [made] }))).Images!;
      state = img.State;
      reason = img.StateReason?.Message;
    }
    assert.equal(state, 'failed');
    assert.match(reason!, /is disabled/);
    assert.equal((await alice.send(new DescribeInstancesCommand({ InstanceIds: [running.InstanceId!] }))).Reservations![0].Instances![0].State!.Name,
      'running', 'a running instance keeps its key in use');

    await aliceKms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    await waitState(alice, (await runOne(alice, { ImageId: imageId })).InstanceId!, 'running');
    assert.equal((await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snapshotId }))).KmsKeyId, key.Arn);
  });

  test('RunInstances Encrypted and KmsKeyId on a block device mapping encrypt an unencrypted image\'s root', async () => {
    const key = (await aliceKms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const { imageId } = await image('plain-launch');
    const i = await runOne(alice, { ImageId: imageId, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, KmsKeyId: key.Arn } }] });
    await waitState(alice, i.InstanceId!, 'running');
    const vol = await rootVolume(alice, i);
    assert.equal(vol.Encrypted, true);
    assert.equal(vol.KmsKeyId, key.Arn);
  });

  test('an image shared with Bob under Alice\'s customer managed key launches for him only with a grant on the key', async () => {
    const key = (await aliceKms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const { imageId, snapshotId } = await image('enc-shared', key.Arn);
    await alice.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await alice.send(new ModifySnapshotAttributeCommand({
      SnapshotId: snapshotId, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: BOB.id }] },
    }));

    const denied = await runOne(bob, { ImageId: imageId });
    const ended = await waitState(bob, denied.InstanceId!, 'terminated');
    assert.deepEqual(ended.StateReason, { Code: 'Client.InternalError', Message: 'Client.InternalError: Client error on launch' });
    await expectAwsError(bob.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snapshotId })),
      { name: 'InvalidParameterValue', status: 400, message: /does not exist, or you do not have access to it/ });

    await aliceKms.send(new CreateGrantCommand({
      KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${BOB.id}:root`, Name: 'bob-launches',
      Operations: ['Decrypt', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'DescribeKey', 'CreateGrant'],
    }));
    const allowed = await runOne(bob, { ImageId: imageId });
    await waitState(bob, allowed.InstanceId!, 'running');
    const vol = await rootVolume(bob, allowed);
    assert.equal(vol.Encrypted, true);
    assert.equal(vol.KmsKeyId, key.Arn);
    const own = await bob.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snapshotId }));
    assert.equal(own.Encrypted, true);
    // Alice's instance was never at stake: her own launches work throughout.
    await waitState(alice, (await runOne(alice, { ImageId: imageId })).InstanceId!, 'running');
  });
});
