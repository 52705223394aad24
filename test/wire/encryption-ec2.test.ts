// EBS encryption through EC2 (SDK v3, strict mode, Alice and Bob): encryption by default and the
// default key; CreateVolume encrypting an unencrypted snapshot; CopySnapshot encrypting and
// re-encrypting, never decrypting; snapshots of encrypted volumes; and AWS's sharing rules for
// encrypted snapshots and images. Data is checked by reading it back through EBS direct.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CopySnapshotCommand, CreateSnapshotCommand, CreateVolumeCommand, DescribeSnapshotsCommand, DisableEbsEncryptionByDefaultCommand,
  EnableEbsEncryptionByDefaultCommand, GetEbsDefaultKmsKeyIdCommand, GetEbsEncryptionByDefaultCommand, ModifyEbsDefaultKmsKeyIdCommand,
  ModifyImageAttributeCommand, ModifySnapshotAttributeCommand, RegisterImageCommand, ResetEbsDefaultKmsKeyIdCommand, waitUntilSnapshotCompleted,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { EBSClient, ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { blockOf, ebsClient, getBlock, uploadSnapshot } from '../support/ebs.ts';
import { expectAwsError } from '../support/sdk.ts';

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceEbs: EBSClient;
let aliceKms: KMSClient;
let awsEbsKey: string;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  [alice, bob] = [ALICE, BOB].map((a) => ec2Client(server.endpoint, credentialsOf(a)));
  aliceEbs = ebsClient(server.endpoint, credentialsOf(ALICE));
  aliceKms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
});
after(async () => {
  await server?.stop();
});

const wait = (ec2: EC2Client, id: string) => waitUntilSnapshotCompleted({ client: ec2, maxWaitTime: 60, minDelay: 0.1, maxDelay: 0.5 }, { SnapshotIds: [id] });
const describeSnapshot = async (ec2: EC2Client, id: string) => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots![0];
const cmk = async () => (await aliceKms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;

/** Every block of a snapshot, read back through EBS direct, as index → plaintext. */
async function contents(ebs: EBSClient, snapshotId: string): Promise<Map<number, Buffer>> {
  const out = new Map<number, Buffer>();
  const list = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
  for (const b of list.Blocks!) out.set(b.BlockIndex!, (await getBlock(ebs, snapshotId, b.BlockIndex!, b.BlockToken!)).data);
  return out;
}

const SEEDS = new Map([[0, 'root-0'], [2, 'root-2']]);
const expected = new Map([...SEEDS].map(([i, s]) => [i, blockOf(s)]));

describe('EBS encryption through EC2', () => {
  test('encryption by default: off, on (aws/ebs), another default key, reset, off; per account', async () => {
    assert.equal((await alice.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, false);
    awsEbsKey = (await alice.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId!;
    const described = (await aliceKms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }))).KeyMetadata!;
    assert.equal(awsEbsKey, described.Arn);
    assert.equal(described.KeyManager, 'AWS');
    const plain = await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    assert.equal(plain.Encrypted, false);

    assert.equal((await alice.send(new EnableEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, true);
    assert.equal((await alice.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, true);
    assert.equal((await bob.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, false, 'per account');
    const byDefault = await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }));
    assert.equal(byDefault.Encrypted, true);
    assert.equal(byDefault.KmsKeyId, awsEbsKey);
    const up = await uploadSnapshot(aliceEbs, {}, new Map([[0, 'by-default']]));
    assert.equal((await describeSnapshot(alice, up.snapshotId)).Encrypted, true, 'EBS direct uploads too');

    const key = await cmk();
    assert.equal((await alice.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: key }))).KmsKeyId, key);
    assert.equal((await alice.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId, key);
    assert.equal((await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).KmsKeyId, key);
    await expectAwsError(alice.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: 'alias/no-such-key' })), { name: 'InvalidParameterValue', status: 400 });
    assert.equal((await alice.send(new ResetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId, awsEbsKey);
    assert.equal((await alice.send(new DisableEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, false);
    assert.equal((await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).Encrypted, false);
    await expectAwsError(alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1, KmsKeyId: key })),
      { name: 'InvalidParameterDependency', status: 400 });
  });

  test('CreateVolume Encrypted from an unencrypted snapshot; its snapshot keeps the key and the data', async () => {
    const { snapshotId } = await uploadSnapshot(aliceEbs, {}, SEEDS);
    const vol = await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snapshotId, Encrypted: true }));
    assert.equal(vol.Encrypted, true);
    assert.equal(vol.KmsKeyId, awsEbsKey);
    const snap = await alice.send(new CreateSnapshotCommand({ VolumeId: vol.VolumeId! }));
    assert.equal(snap.Encrypted, true);
    await wait(alice, snap.SnapshotId!);
    const s = await describeSnapshot(alice, snap.SnapshotId!);
    assert.equal(s.KmsKeyId, awsEbsKey);
    assert.deepEqual(await contents(aliceEbs, snap.SnapshotId!), expected);
    // A volume of that encrypted snapshot, asked to be unencrypted, is encrypted all the same.
    const again = await alice.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap.SnapshotId!, Encrypted: false }));
    assert.equal(again.Encrypted, true);
    assert.equal(again.KmsKeyId, awsEbsKey);
  });

  test('CopySnapshot encrypts and re-encrypts every block, never decrypts', async () => {
    const { snapshotId } = await uploadSnapshot(aliceEbs, {}, SEEDS);
    const encrypted = (await alice.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: snapshotId, Encrypted: true }))).SnapshotId!;
    await wait(alice, encrypted);
    const e = await describeSnapshot(alice, encrypted);
    assert.equal(e.Encrypted, true);
    assert.equal(e.KmsKeyId, awsEbsKey);
    assert.deepEqual(await contents(aliceEbs, encrypted), expected);

    const key = await cmk();
    const reencrypted = (await alice.send(new CopySnapshotCommand({
      SourceRegion: 'us-east-1', SourceSnapshotId: encrypted, Encrypted: true, KmsKeyId: key,
    }))).SnapshotId!;
    await wait(alice, reencrypted);
    assert.equal((await describeSnapshot(alice, reencrypted)).KmsKeyId, key);
    assert.deepEqual(await contents(aliceEbs, reencrypted), expected);

    const plainCopy = (await alice.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: encrypted }))).SnapshotId!;
    await wait(alice, plainCopy);
    assert.equal((await describeSnapshot(alice, plainCopy)).Encrypted, true, 'a copy of an encrypted snapshot stays encrypted');
    await expectAwsError(alice.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: encrypted, Encrypted: false })),
      { name: 'InvalidParameterCombination', status: 400 });
    // Into another region: re-sealed under that region's aws/ebs key.
    const west = ec2Client(server.endpoint, credentialsOf(ALICE), 'us-west-2');
    const far = (await west.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: reencrypted }))).SnapshotId!;
    await wait(west, far);
    const f = await describeSnapshot(west, far);
    assert.equal(f.Encrypted, true);
    assert.match(f.KmsKeyId!, /^arn:aws:kms:us-west-2:111111111111:key\//);
    assert.deepEqual(await contents(ebsClient(server.endpoint, credentialsOf(ALICE), 'us-west-2'), far), expected);
  });

  test('encrypted snapshots are never public; aws/ebs snapshots are never shared; CMK ones are', async () => {
    const viaDefault = (await uploadSnapshot(aliceEbs, { Encrypted: true }, SEEDS)).snapshotId;
    await expectAwsError(alice.send(new ModifySnapshotAttributeCommand({
      SnapshotId: viaDefault, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ Group: 'all' }] },
    })), { name: 'OperationNotPermitted', status: 400, message: 'Encrypted snapshots cannot be made public.' });
    await expectAwsError(alice.send(new ModifySnapshotAttributeCommand({
      SnapshotId: viaDefault, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: BOB.id }] },
    })), { name: 'OperationNotPermitted', status: 400, message: 'Encrypted snapshots with EBS default key cannot be shared' });
    const key = await cmk();
    const viaCmk = (await uploadSnapshot(aliceEbs, { Encrypted: true, KmsKeyArn: key }, SEEDS)).snapshotId;
    await alice.send(new ModifySnapshotAttributeCommand({
      SnapshotId: viaCmk, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ UserId: BOB.id }] },
    }));
    assert.equal((await describeSnapshot(bob, viaCmk)).KmsKeyId, key, 'Bob sees the shared snapshot and its key');
    await expectAwsError(alice.send(new ModifySnapshotAttributeCommand({
      SnapshotId: viaCmk, Attribute: 'createVolumePermission', CreateVolumePermission: { Add: [{ Group: 'all' }] },
    })), { name: 'OperationNotPermitted', status: 400 });
  });

  test('encrypted images are never public; images of aws/ebs snapshots are never shared; CMK ones are', async () => {
    const register = async (name: string, snapshotId: string) => (await alice.send(new RegisterImageCommand({
      Name: name, RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } }],
    }))).ImageId!;
    const viaDefault = await register('enc-default', (await uploadSnapshot(aliceEbs, { Encrypted: true }, SEEDS)).snapshotId);
    await expectAwsError(alice.send(new ModifyImageAttributeCommand({ ImageId: viaDefault, LaunchPermission: { Add: [{ Group: 'all' }] } })),
      { name: 'OperationNotPermitted', status: 400, message: /cannot be made public/ });
    await expectAwsError(alice.send(new ModifyImageAttributeCommand({ ImageId: viaDefault, LaunchPermission: { Add: [{ UserId: BOB.id }] } })),
      { name: 'OperationNotPermitted', status: 400, message: /EBS default key cannot be shared/ });
    const viaCmk = await register('enc-cmk', (await uploadSnapshot(aliceEbs, { Encrypted: true, KmsKeyArn: await cmk() }, SEEDS)).snapshotId);
    await alice.send(new ModifyImageAttributeCommand({ ImageId: viaCmk, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await expectAwsError(alice.send(new ModifyImageAttributeCommand({ ImageId: viaCmk, LaunchPermission: { Add: [{ Group: 'all' }] } })),
      { name: 'OperationNotPermitted', status: 400 });
  });
});
