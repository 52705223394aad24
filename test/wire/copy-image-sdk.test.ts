// CopyImage through @aws-sdk/client-ec2 against a real server in strict mode (ALICE owns the
// source images in us-east-1; BOB is the other account): same- and cross-region copies, what a
// copy carries (tags only with CopyImageTags, never launch permissions, SourceImageId/Region),
// pending → available, identical data read back through EBS direct, incremental copies,
// ClientToken idempotency, the rules for another account's image, and encryption.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListSnapshotBlocksCommand, type EBSClient } from '@aws-sdk/client-ebs';
import { CreateGrantCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CopyImageCommand, CreateTagsCommand, GetImageAncestryCommand, DisableAllowedImagesSettingsCommand, EnableAllowedImagesSettingsCommand, ReplaceImageCriteriaInAllowedImagesSettingsCommand, DescribeImageAttributeCommand, DescribeImagesCommand, DescribeSnapshotsCommand,
  ModifyImageAttributeCommand, ModifySnapshotAttributeCommand, RegisterImageCommand, waitUntilImageAvailable,
  type CopyImageCommandInput, type EC2Client, type Image,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { AMI_ID, expectAwsError } from '../support/sdk.ts';
import { BLOCK_SIZE, checksumOf, ebsClient, getBlock, uploadSnapshot } from '../support/ebs.ts';
import { bootBlock, CATALOGUE_AMI, runOne, simUserData, uploadImage, waitForConsole } from '../support/instances.ts';

let server: RunningServer;
const clients = new Map<string, EC2Client>();
const ebsClients = new Map<string, EBSClient>();
const ec2 = (who: typeof ALICE, region = 'us-east-1') => {
  const key = `${who.id}/${region}`;
  if (!clients.has(key)) clients.set(key, ec2Client(server.endpoint, credentialsOf(who), region));
  return clients.get(key)!;
};
const ebs = (who: typeof ALICE, region = 'us-east-1') => {
  const key = `${who.id}/${region}`;
  if (!ebsClients.has(key)) ebsClients.set(key, ebsClient(server.endpoint, credentialsOf(who), region));
  return ebsClients.get(key)!;
};

const SEEDS: [number, string][] = Array.from({ length: 12 }, (_, i) => [i * 3, `copy-image-${i}`]);
let source: { imageId: string; snapshotId: string; checksums: Map<number, string> };

/** Uploads a snapshot of `seeds` as ALICE in us-east-1 and registers an image on it. */
async function aliceImage(name: string, seeds: [number, string][]): Promise<typeof source> {
  const up = await uploadSnapshot(ebs(ALICE), { VolumeSize: 2, Description: `disk of ${name}` }, new Map(seeds));
  const reg = await ec2(ALICE).send(new RegisterImageCommand({
    Name: name, Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: up.snapshotId, VolumeType: 'gp3' } }],
  }));
  return { imageId: reg.ImageId!, snapshotId: up.snapshotId, checksums: up.checksums };
}

async function describeImage(c: EC2Client, imageId: string): Promise<Image> {
  const out = await c.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  assert.equal(out.Images?.length, 1);
  return out.Images![0];
}

async function waitAvailable(c: EC2Client, imageId: string): Promise<Image> {
  await waitUntilImageAvailable({ client: c, maxWaitTime: 60, minDelay: 0.1, maxDelay: 0.5 }, { ImageIds: [imageId] });
  return describeImage(c, imageId);
}

/** Every block of a snapshot read through EBS direct: index → checksum of the bytes returned. */
async function readBlocks(client: EBSClient, snapshotId: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  let NextToken: string | undefined;
  do {
    const page = await client.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, NextToken }));
    for (const b of page.Blocks ?? []) out.set(b.BlockIndex!, (await getBlock(client, snapshotId, b.BlockIndex!, b.BlockToken!)).checksum);
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

async function blocksMoved(): Promise<number> {
  const res = await server.ops(`/_amiforge/snapshot-copies`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { blocksMoved: number }).blocksMoved;
}

const copy = (c: EC2Client, input: Partial<CopyImageCommandInput>) =>
  c.send(new CopyImageCommand({ Name: `copy-${Math.random().toString(36).slice(2)}`, SourceRegion: 'us-east-1', SourceImageId: source.imageId, ...input } as CopyImageCommandInput));

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  source = await aliceImage('copy source', SEEDS);
  await ec2(ALICE).send(new CreateTagsCommand({ Resources: [source.imageId], Tags: [{ Key: 'team', Value: 'images' }, { Key: 'env', Value: 'prod' }] }));
});
after(async () => {
  await server?.stop();
});

describe('CopyImage by the owner', () => {
  let west: Image;
  test('across regions: a new pending image, SourceImageId/Region, tags from TagSpecifications only, no launch permissions', async () => {
    await ec2(ALICE).send(new ModifyImageAttributeCommand({ ImageId: source.imageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    const before = await blocksMoved();
    const out = await copy(ec2(ALICE, 'us-west-2'), {
      Name: 'west copy', Description: 'in the west',
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'copy', Value: 'west' }] }, { ResourceType: 'snapshot', Tags: [{ Key: 'disk', Value: 'root' }] }],
    });
    assert.match(out.ImageId!, AMI_ID);
    assert.notEqual(out.ImageId, source.imageId);
    const first = await describeImage(ec2(ALICE, 'us-west-2'), out.ImageId!);
    assert.ok(first.State === 'pending' || first.State === 'available', `state ${first.State}`);
    west = await waitAvailable(ec2(ALICE, 'us-west-2'), out.ImageId!);
    assert.equal(west.Name, 'west copy');
    assert.equal(west.Description, 'in the west');
    assert.equal(west.OwnerId, ALICE.id);
    assert.equal(west.SourceImageId, source.imageId);
    assert.equal(west.SourceImageRegion, 'us-east-1');
    assert.equal(west.Public, false);
    assert.equal(west.RootDeviceName, '/dev/xvda');
    assert.equal(west.Architecture, 'x86_64');
    assert.deepEqual(west.Tags, [{ Key: 'copy', Value: 'west' }]);
    assert.equal(west.ImageLocation, `${ALICE.id}/west copy`);
    const bySource = await ec2(ALICE, 'us-west-2').send(new DescribeImagesCommand({
      Filters: [{ Name: 'source-image-id', Values: [source.imageId] }, { Name: 'source-image-region', Values: ['us-east-1'] }],
    }));
    assert.deepEqual(bySource.Images!.map((i) => i.ImageId), [west.ImageId]);
    const ancestry = (await ec2(ALICE, 'us-west-2').send(new GetImageAncestryCommand({ ImageId: west.ImageId! }))).ImageAncestryEntries ?? [];
    assert.deepEqual(ancestry.map((e) => [e.ImageId, e.SourceImageId, e.SourceImageRegion]), [
      [west.ImageId, source.imageId, 'us-east-1'], [source.imageId, undefined, undefined],
    ], 'GetImageAncestry follows the copy back to its source');
    const perms = await ec2(ALICE, 'us-west-2').send(new DescribeImageAttributeCommand({ ImageId: west.ImageId!, Attribute: 'launchPermission' }));
    assert.deepEqual(perms.LaunchPermissions ?? [], [], 'launch permissions are never copied');
    const snapId = west.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    assert.notEqual(snapId, source.snapshotId);
    const snap = (await ec2(ALICE, 'us-west-2').send(new DescribeSnapshotsCommand({ SnapshotIds: [snapId] }))).Snapshots![0];
    assert.equal(snap.State, 'completed');
    assert.equal(snap.Progress, '100%');
    assert.deepEqual(snap.Tags, [{ Key: 'disk', Value: 'root' }]);
    assert.match(snap.Description!, new RegExp(`^Copied for DestinationAmi ${west.ImageId} from SourceAmi ${source.imageId} for SourceSnapshot ${source.snapshotId}`));
    assert.deepEqual(await readBlocks(ebs(ALICE, 'us-west-2'), snapId), source.checksums, 'the copy holds the same bytes');
    assert.equal(await blocksMoved() - before, SEEDS.length, 'every block moved to the new region');
    // Bob sees the source (shared with him) but not Alice's copy.
    await expectAwsError(describeImage(ec2(BOB, 'us-west-2'), west.ImageId!), { name: 'InvalidAMIID.NotFound', status: 400 });
  });

  test('CopyImageTags carries the caller\'s tags on the source; a second copy to the region moves no block', async () => {
    const before = await blocksMoved();
    const out = await copy(ec2(ALICE, 'us-west-2'), { CopyImageTags: true, TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'env', Value: 'dr' }] }] });
    const img = await waitAvailable(ec2(ALICE, 'us-west-2'), out.ImageId!);
    const tags = [...(img.Tags ?? [])].sort((a, b) => a.Key!.localeCompare(b.Key!));
    assert.deepEqual(tags, [{ Key: 'env', Value: 'dr' }, { Key: 'team', Value: 'images' }], 'TagSpecifications win over copied tags');
    assert.equal(await blocksMoved() - before, 0, 'the region already holds every block');
  });

  test('an image of a changed disk copies only its changed block', async () => {
    const changed = await aliceImage('changed source', SEEDS.map(([i, s], k) => [i, k === 5 ? 'changed' : s]));
    const before = await blocksMoved();
    const out = await copy(ec2(ALICE, 'us-west-2'), { SourceImageId: changed.imageId });
    const img = await waitAvailable(ec2(ALICE, 'us-west-2'), out.ImageId!);
    assert.equal(await blocksMoved() - before, 1);
    assert.deepEqual(await readBlocks(ebs(ALICE, 'us-west-2'), img.BlockDeviceMappings![0].Ebs!.SnapshotId!), changed.checksums);
  });

  test('within the region: a new image and new snapshot ids on the same bytes', async () => {
    const out = await copy(ec2(ALICE), { Name: 'east copy' });
    const img = await waitAvailable(ec2(ALICE), out.ImageId!);
    assert.equal(img.SourceImageRegion, 'us-east-1');
    const snapId = img.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    assert.notEqual(snapId, source.snapshotId);
    assert.deepEqual(await readBlocks(ebs(ALICE), snapId), source.checksums);
  });

  test('an image of two snapshots gets two new copies, one per mapping, each with the same bytes', async () => {
    const data = await uploadSnapshot(ebs(ALICE), { VolumeSize: 1 }, new Map([[2, 'data-2'], [9, 'data-9']]));
    const reg = await ec2(ALICE).send(new RegisterImageCommand({
      Name: 'two disks', RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { SnapshotId: source.snapshotId } },
        { DeviceName: '/dev/sdf', Ebs: { SnapshotId: data.snapshotId, DeleteOnTermination: false } },
        { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' },
      ],
    }));
    const out = await copy(ec2(ALICE, 'sa-east-1'), { SourceImageId: reg.ImageId! });
    const img = await waitAvailable(ec2(ALICE, 'sa-east-1'), out.ImageId!);
    const byDevice = new Map(img.BlockDeviceMappings!.map((m) => [m.DeviceName!, m]));
    assert.deepEqual([...byDevice.keys()].sort(), ['/dev/sdb', '/dev/sdf', '/dev/xvda']);
    assert.equal(byDevice.get('/dev/sdb')!.VirtualName, 'ephemeral0');
    assert.equal(byDevice.get('/dev/sdf')!.Ebs!.DeleteOnTermination, false);
    const root = byDevice.get('/dev/xvda')!.Ebs!.SnapshotId!;
    const second = byDevice.get('/dev/sdf')!.Ebs!.SnapshotId!;
    assert.notEqual(root, second);
    assert.ok(![source.snapshotId, data.snapshotId].includes(root) && ![source.snapshotId, data.snapshotId].includes(second));
    assert.deepEqual(await readBlocks(ebs(ALICE, 'sa-east-1'), root), source.checksums);
    assert.deepEqual(await readBlocks(ebs(ALICE, 'sa-east-1'), second), data.checksums);
  });

  test('ClientToken: the same request gives the same image; other arguments with the token are IdempotentParameterMismatch', async () => {
    const token = `token-${Date.now()}`;
    const a = await copy(ec2(ALICE, 'eu-west-1'), { Name: 'idempotent', ClientToken: token });
    const b = await copy(ec2(ALICE, 'eu-west-1'), { Name: 'idempotent', ClientToken: token });
    assert.equal(b.ImageId, a.ImageId);
    await expectAwsError(copy(ec2(ALICE, 'eu-west-1'), { Name: 'other name', ClientToken: token }), {
      name: 'IdempotentParameterMismatch', status: 400, message: 'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).',
    });
    // The token belongs to the region and account it was used in.
    const c = await copy(ec2(ALICE, 'eu-central-1'), { Name: 'idempotent', ClientToken: token });
    assert.notEqual(c.ImageId, a.ImageId);
    await waitAvailable(ec2(ALICE, 'eu-west-1'), a.ImageId!);
  });

  test('bad requests get AWS\'s errors', async () => {
    const c = ec2(ALICE, 'us-west-2');
    await expectAwsError(copy(c, { Name: undefined }), { name: 'MissingParameter', status: 400, message: 'The request must contain the parameter Name' });
    await expectAwsError(copy(c, { SourceRegion: 'mars-1' }), { name: 'InvalidParameterValue', status: 400 });
    await expectAwsError(copy(c, { SourceImageId: 'ami-zz' }), { name: 'InvalidAMIID.Malformed', status: 400 });
    await expectAwsError(copy(c, { SourceImageId: 'ami-0000000000000000f' }), { name: 'InvalidAMIID.NotFound', status: 400 });
    await expectAwsError(copy(c, { KmsKeyId: 'alias/aws/ebs' }), {
      name: 'InvalidParameterDependency', status: 400, message: 'The parameter KmsKeyId requires the parameter Encrypted to be set.',
    });
    await expectAwsError(copy(c, { TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'a', Value: 'b' }] }] }), { name: 'InvalidParameterValue', status: 400 });
    await expectAwsError(copy(c, { Name: 'west copy' }), { name: 'InvalidAMIName.Duplicate', status: 400 });
    await expectAwsError(copy(c, { DryRun: true }), { name: 'DryRunOperation', status: 412 });
    // An empty KmsKeyId with Encrypted=false is no key (what Packer's Go SDK sends): a plain copy.
    const plain = await copy(c, { Name: 'empty key id', Encrypted: false, KmsKeyId: '' });
    assert.match(plain.ImageId!, /^ami-/);
  });
});

describe('CopyImage of another account\'s image', () => {
  test('not shared: InvalidAMIID.NotFound; shared without its snapshots: InvalidRequest; with them: Bob\'s own copy', async () => {
    const own = await aliceImage('for bob', [[0, 'bob-0'], [7, 'bob-7']]);
    await expectAwsError(copy(ec2(BOB, 'us-west-2'), { SourceImageId: own.imageId }), { name: 'InvalidAMIID.NotFound', status: 400 });
    await ec2(ALICE).send(new ModifyImageAttributeCommand({ ImageId: own.imageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await expectAwsError(copy(ec2(BOB, 'us-west-2'), { SourceImageId: own.imageId }), {
      name: 'InvalidRequest', status: 400, message: 'You do not have permission to access the storage of this ami.',
    });
    await ec2(ALICE).send(new ModifySnapshotAttributeCommand({ SnapshotId: own.snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [BOB.id] }));
    const out = await copy(ec2(BOB, 'us-west-2'), { SourceImageId: own.imageId, CopyImageTags: true });
    const img = await waitAvailable(ec2(BOB, 'us-west-2'), out.ImageId!);
    assert.equal(img.OwnerId, BOB.id);
    assert.equal(img.Tags, undefined, 'Alice\'s tags are hers: Bob has none on the source to copy');
    assert.deepEqual(await readBlocks(ebs(BOB, 'us-west-2'), img.BlockDeviceMappings![0].Ebs!.SnapshotId!), own.checksums);
    // Alice cannot see Bob's copy.
    await expectAwsError(describeImage(ec2(ALICE, 'us-west-2'), img.ImageId!), { name: 'InvalidAMIID.NotFound', status: 400 });
  });

  test('with Allowed AMIs enabled in the destination region, an image its criteria do not allow cannot be copied there', async () => {
    const bobWest = ec2(BOB, 'us-west-2');
    await ec2(ALICE).send(new ModifyImageAttributeCommand({ ImageId: source.imageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await bobWest.send(new ReplaceImageCriteriaInAllowedImagesSettingsCommand({ ImageCriteria: [{ ImageProviders: ['amazon'] }] }));
    await bobWest.send(new EnableAllowedImagesSettingsCommand({ AllowedImagesSettingsState: 'enabled' }));
    try {
      await expectAwsError(copy(bobWest, {}), { name: 'InvalidAMIID.NotFound', status: 400, message: /not allowed by this account's Allowed AMIs settings in us-west-2/ });
      // Amazon's images are allowed; so are the account's own (its copies included).
      const out = await copy(bobWest, { SourceImageId: CATALOGUE_AMI });
      assert.equal((await waitAvailable(bobWest, out.ImageId!)).OwnerId, BOB.id);
    } finally {
      await bobWest.send(new DisableAllowedImagesSettingsCommand({}));
    }
  });
});

describe('CopyImage and encryption', () => {
  test('Encrypted=true encrypts an unencrypted source under the default key; a copy of that stays encrypted', async () => {
    const out = await copy(ec2(ALICE, 'us-west-2'), { Encrypted: true });
    const img = await waitAvailable(ec2(ALICE, 'us-west-2'), out.ImageId!);
    const ebsMap = img.BlockDeviceMappings![0].Ebs!;
    assert.equal(ebsMap.Encrypted, true);
    const snap = (await ec2(ALICE, 'us-west-2').send(new DescribeSnapshotsCommand({ SnapshotIds: [ebsMap.SnapshotId!] }))).Snapshots![0];
    assert.equal(snap.Encrypted, true);
    assert.match(snap.KmsKeyId!, /^arn:aws:kms:us-west-2:111111111111:key\//);
    assert.deepEqual(await readBlocks(ebs(ALICE, 'us-west-2'), snap.SnapshotId!), source.checksums, 'decrypted on read, the same bytes');
    // Copying the encrypted image back without asking keeps it encrypted (under us-east-1's default key).
    const back = await copy(ec2(ALICE), { SourceRegion: 'us-west-2', SourceImageId: img.ImageId!, Encrypted: false });
    const backImg = await waitAvailable(ec2(ALICE), back.ImageId!);
    assert.equal(backImg.BlockDeviceMappings![0].Ebs!.Encrypted, true);
    assert.match(backImg.BlockDeviceMappings![0].Ebs!.KmsKeyId!, /^arn:aws:kms:us-east-1:111111111111:key\//);
    assert.deepEqual(await readBlocks(ebs(ALICE), backImg.BlockDeviceMappings![0].Ebs!.SnapshotId!), source.checksums);
  });
});

describe('CopyImage with customer managed keys', () => {
  const kms = (who: typeof ALICE, region = 'us-east-1') => new KMSClient({ endpoint: server.endpoint, region, credentials: credentialsOf(who), maxAttempts: 1 });

  test('Encrypted with KmsKeyId puts every snapshot copy under that key', async () => {
    const key = (await kms(ALICE, 'us-west-2').send(new CreateKeyCommand({}))).KeyMetadata!;
    const out = await copy(ec2(ALICE, 'us-west-2'), { Encrypted: true, KmsKeyId: key.KeyId });
    const img = await waitAvailable(ec2(ALICE, 'us-west-2'), out.ImageId!);
    const m = img.BlockDeviceMappings![0].Ebs!;
    assert.deepEqual([m.Encrypted, m.KmsKeyId], [true, key.Arn]);
    const snap = (await ec2(ALICE, 'us-west-2').send(new DescribeSnapshotsCommand({ SnapshotIds: [m.SnapshotId!] }))).Snapshots![0];
    assert.deepEqual([snap.Encrypted, snap.KmsKeyId], [true, key.Arn]);
    assert.deepEqual(await readBlocks(ebs(ALICE, 'us-west-2'), m.SnapshotId!), source.checksums);
  });

  test('another account copies an image under the owner\'s key only with a grant on it; the copy is under its own default key', async () => {
    const key = (await kms(ALICE).send(new CreateKeyCommand({}))).KeyMetadata!;
    const up = await uploadSnapshot(ebs(ALICE), { VolumeSize: 1, Encrypted: true, KmsKeyArn: key.Arn }, new Map([[0, 'enc-0'], [5, 'enc-5']]));
    const reg = await ec2(ALICE).send(new RegisterImageCommand({
      Name: 'encrypted for bob', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: up.snapshotId } }],
    }));
    await ec2(ALICE).send(new ModifyImageAttributeCommand({ ImageId: reg.ImageId!, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await ec2(ALICE).send(new ModifySnapshotAttributeCommand({ SnapshotId: up.snapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [BOB.id] }));
    await expectAwsError(copy(ec2(BOB, 'us-west-2'), { SourceImageId: reg.ImageId! }), {
      name: 'InvalidParameterValue', status: 400, message: /does not exist, or you do not have access to it/,
    });
    await kms(ALICE).send(new CreateGrantCommand({
      KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${BOB.id}:root`, Name: 'bob-copies', Operations: ['Decrypt', 'DescribeKey'],
    }));
    const out = await copy(ec2(BOB, 'us-west-2'), { SourceImageId: reg.ImageId! });
    const img = await waitAvailable(ec2(BOB, 'us-west-2'), out.ImageId!);
    const m = img.BlockDeviceMappings![0].Ebs!;
    assert.equal(m.Encrypted, true);
    assert.match(m.KmsKeyId!, new RegExp(`^arn:aws:kms:us-west-2:${BOB.id}:key/`), 'Bob\'s default EBS key in the destination region');
    assert.deepEqual(await readBlocks(ebs(BOB, 'us-west-2'), m.SnapshotId!), up.checksums);
  });
});

describe('CopyImage across a restart', () => {
  test('a copy cut short by a crash resumes at start-up: DescribeSnapshots shows it pending with its progress, then the image is available', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-copy-restart-'));
    let s = await startServer({ accounts: [ALICE], dataDir });
    try {
      const east = ec2Client(s.endpoint, credentialsOf(ALICE));
      const seeds = new Map(Array.from({ length: 48 }, (_, i): [number, string] => [i, `restart-${i}`]));
      const up = await uploadSnapshot(ebsClient(s.endpoint, credentialsOf(ALICE)), { VolumeSize: 1 }, seeds);
      const reg = await east.send(new RegisterImageCommand({
        Name: 'restart source', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: up.snapshotId } }],
      }));
      const out = await ec2Client(s.endpoint, credentialsOf(ALICE), 'us-west-2').send(new CopyImageCommand({ Name: 'restarted copy', SourceRegion: 'us-east-1', SourceImageId: reg.ImageId! }));
      await s.kill();
      s = await startServer({ accounts: [ALICE], dataDir });
      const west = ec2Client(s.endpoint, credentialsOf(ALICE), 'us-west-2');
      const snapId = (await describeImage(west, out.ImageId!)).BlockDeviceMappings![0].Ebs!.SnapshotId!;
      // Until the copy completes, the snapshot is pending with a progress below 100% and the image pending.
      for (;;) {
        const snap = (await west.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapId] }))).Snapshots![0];
        if (snap.State === 'completed') {
          assert.equal(snap.Progress, '100%');
          break;
        }
        assert.equal(snap.State, 'pending');
        assert.match(snap.Progress!, /^\d{1,2}%$/);
        assert.ok(['pending', 'available'].includes((await describeImage(west, out.ImageId!)).State!));
        await new Promise((r) => setTimeout(r, 20));
      }
      const img = await waitAvailable(west, out.ImageId!);
      assert.deepEqual(await readBlocks(ebsClient(s.endpoint, credentialsOf(ALICE), 'us-west-2'), snapId), up.checksums);
      assert.equal(img.SourceImageId, reg.ImageId);
    } finally {
      await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('each region keeps its own bytes', () => {
  test('after the copy, losing the source region\'s block store leaves the copy readable and launchable', async () => {
    const texts = new Map([[3, 'fourth block, still here'], [40, 'far block']]);
    // Block 0 carries a boot signature: the simulator boots an HVM disk only with one.
    const blocks = new Map([[0, bootBlock('first block of the lost region')], ...[...texts].map(([i, t]) => [i, Buffer.from(t)] as const)]);
    const own = await uploadImage(ec2(ALICE), ebs(ALICE), 'lost region', blocks);
    const out = await copy(ec2(ALICE, 'ap-southeast-2'), { SourceImageId: own.imageId });
    const img = await waitAvailable(ec2(ALICE, 'ap-southeast-2'), out.ImageId!);
    rmSync(join(server.dataDir, 'blocks', 'us-east-1'), { recursive: true, force: true });
    const expected = new Map([...blocks].map(([i, b]) => {
      const block = Buffer.alloc(BLOCK_SIZE);
      b.copy(block);
      return [i, checksumOf(block)];
    }));
    assert.deepEqual(await readBlocks(ebs(ALICE, 'ap-southeast-2'), img.BlockDeviceMappings![0].Ebs!.SnapshotId!), expected);
    const reader = await runOne(ec2(ALICE, 'ap-southeast-2'), {
      ImageId: img.ImageId!, UserData: simUserData('read /dev/xvda 0 30', 'read /dev/xvda 1536K 24', 'read /dev/xvda 20M 9'),
    });
    const console = await waitForConsole(ec2(ALICE, 'ap-southeast-2'), reader.InstanceId!, 'far block');
    assert.match(console, /first block of the lost region/);
    assert.match(console, /fourth block, still here/);
  });
});
