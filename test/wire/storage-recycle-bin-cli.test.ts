// `amiforge storage report` and `storage clean-up` (the real CLI, a child process, on the data
// directory of a running server) beside the Recycle Bin: AWS bills what the bin keeps at the
// normal rate, so moving a snapshot into the bin changes nothing on the bill until its retention
// ends; clean-up never deletes a binned snapshot nor the snapshot of an image in the bin (a
// restore needs it). The resources are made and binned through the EC2 and rbin SDKs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateRuleCommand, RbinClient } from '@aws-sdk/client-rbin';
import {
  CreateTagsCommand, DeleteSnapshotCommand, DeregisterImageCommand, DescribeSnapshotsCommand, ListImagesInRecycleBinCommand,
  ListSnapshotsInRecycleBinCommand, RegisterImageCommand, RestoreImageFromRecycleBinCommand, RestoreSnapshotFromRecycleBinCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { EBSClient } from '@aws-sdk/client-ebs';
import { ALICE, BOB, type RunningServer } from '../support/server.ts';
import { amiforgeCli } from '../support/storage-cli.ts';
import { credentialsOf } from '../support/clients.ts';
import { startAliceAndBob, uploadSnapshot } from '../support/ebs.ts';
import { uploadImage } from '../support/instances.ts';

const REGION = 'us-east-1';
const DAY = 86_400;
const KEEP = [{ Key: 'keep', Value: 'yes' }];

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceEbs: EBSClient;
let bobEbs: EBSClient;

const { amiforge, json } = amiforgeCli(() => server.dataDir);

const regionOf = (report: any) => report.regions.find((r: any) => r.region === REGION);
const accountOf = (report: any, owner: string) => regionOf(report).accounts.find((a: any) => a.ownerId === owner);
const rowOf = (report: any, id: string) => regionOf(report)?.snapshots.find((s: any) => s.snapshotId === id);
const planned = (plan: any): string[] => plan.accounts.flatMap((a: any) => [...a.deletable, ...a.kept].map((x: any) => x.snapshotId));

async function snapshotExists(ec2: EC2Client, id: string): Promise<boolean> {
  try {
    await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'InvalidSnapshot.NotFound') return false;
    throw err;
  }
}

before(async () => {
  ({ server, alice, bob, aliceEbs, bobEbs } = await startAliceAndBob());
});
after(async () => {
  await server?.stop();
});

describe('storage report and clean-up beside the Recycle Bin', () => {
  // Alice keeps what is tagged keep=yes for 7 days (snapshots and images). `shared`: named by
  // `first` (deregistered for good: left behind) and by `second` (tagged, now in the bin).
  // `binned`: a snapshot no image ever named, deleted into the bin. `left`: left behind by
  // `third`, then deleted into the bin itself. Bob has one snapshot and no rule.
  const s: Record<string, string> = {};
  const images: Record<string, string> = {};
  let earlier: any;

  before(async () => {
    const rbin = new RbinClient({ endpoint: server.endpoint, region: REGION, credentials: credentialsOf(ALICE), maxAttempts: 1 });
    const tagged = [{ ResourceTagKey: 'keep', ResourceTagValue: 'yes' }];
    const days = { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' as const };
    await rbin.send(new CreateRuleCommand({ ResourceType: 'EBS_SNAPSHOT', RetentionPeriod: days, ResourceTags: tagged }));
    await rbin.send(new CreateRuleCommand({ ResourceType: 'EC2_IMAGE', RetentionPeriod: days, ResourceTags: tagged }));

    ({ imageId: images.first, snapshotId: s.shared } = await uploadImage(alice, aliceEbs, 'first', new Map([[0, Buffer.from('shared os')]])));
    images.second = (await alice.send(new RegisterImageCommand({
      Name: 'second', Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: s.shared } }],
    }))).ImageId!;
    ({ imageId: images.third, snapshotId: s.left } = await uploadImage(alice, aliceEbs, 'third', new Map([[0, Buffer.from('third os')]])));
    s.binned = (await uploadSnapshot(aliceEbs, {}, new Map([[0, 'binned a'], [1, 'binned b']]))).snapshotId;
    s.bob = (await uploadSnapshot(bobEbs, {}, new Map([[0, 'bobs']]))).snapshotId;
    await alice.send(new CreateTagsCommand({ Resources: [images.second, s.binned, s.left], Tags: KEEP }));

    await alice.send(new DeregisterImageCommand({ ImageId: images.first }));
    await alice.send(new DeregisterImageCommand({ ImageId: images.third }));
    earlier = await json('storage', 'report');
    await alice.send(new DeregisterImageCommand({ ImageId: images.second }));
    await alice.send(new DeleteSnapshotCommand({ SnapshotId: s.binned }));
    await alice.send(new DeleteSnapshotCommand({ SnapshotId: s.left }));
    assert.deepEqual((await alice.send(new ListImagesInRecycleBinCommand({}))).Images!.map((i) => i.ImageId), [images.second]);
    assert.equal((await alice.send(new ListSnapshotsInRecycleBinCommand({}))).Snapshots!.length, 2);
  });

  test('report: binned snapshots stay on the bill, marked with when the bin deletes them', async () => {
    const report = await json('storage', 'report');
    const exits = new Map((await alice.send(new ListSnapshotsInRecycleBinCommand({}))).Snapshots!.map((x) => [x.SnapshotId!, x.RecycleBinExitTime!.toISOString()]));
    for (const id of [s.binned, s.left]) {
      assert.equal(rowOf(report, id)?.inRecycleBinUntil, exits.get(id), `${id} is reported, with its exit time`);
      assert.equal(rowOf(report, id).blocks, rowOf(earlier, id).blocks, 'its block map is counted as before');
    }
    assert.equal(rowOf(report, s.binned).volumeSizeGiB, 1);
    assert.equal(rowOf(report, s.shared).inRecycleBinUntil, undefined, 'a live snapshot has no mark');
    const [imageInBin] = (await alice.send(new ListImagesInRecycleBinCommand({}))).Images!;
    assert.deepEqual(rowOf(report, s.shared).binnedImages, [{ imageId: images.second, until: imageInBin.RecycleBinExitTime!.toISOString() }]);
    assert.equal(rowOf(report, s.shared).leftBehindBy, undefined, 'an image in the bin may be restored: not left behind');

    const [now, then] = [accountOf(report, ALICE.id), accountOf(earlier, ALICE.id)];
    assert.equal(now.storedBytes, then.storedBytes, 'moving snapshots into the bin changes nothing on the bill');
    assert.equal(now.monthlyCost, then.monthlyCost);
    assert.equal(now.snapshots, then.snapshots);
    assert.equal(now.snapshotsInRecycleBin, 2);
    assert.equal(regionOf(report).billedBytes, regionOf(earlier).billedBytes);
    assert.equal(regionOf(report).storedBytes, regionOf(earlier).storedBytes);
    assert.equal(now.leftBehind.snapshots, 0, 'nothing left behind: one snapshot is in the bin, the other named by an image in it');
    assert.equal(accountOf(report, BOB.id).snapshotsInRecycleBin, 0);

    const human = await amiforge('storage', 'report', '--account', ALICE.id);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`${s.binned} .*in Recycle Bin until ${exits.get(s.binned)}`));
    assert.match(human.stdout, new RegExp(`${s.shared} .*image ${images.second} in Recycle Bin until`));
    assert.match(human.stdout, /3 snapshots \(2 in the Recycle Bin, billed as the others\)/);
    const bobs = await json('storage', 'report', '--account', BOB.id);
    assert.deepEqual(regionOf(bobs).snapshots.map((x: any) => x.snapshotId), [s.bob], 'another owner\'s report shows none of Alice\'s bin');
  });

  test('clean-up leaves binned snapshots and the snapshots of a binned image; the image is restored whole', async () => {
    const plan = await json('storage', 'clean-up');
    assert.deepEqual(planned(plan), [], 'nothing is left behind');
    const applied = await json('storage', 'clean-up', '--apply');
    assert.deepEqual(applied.outcomes, []);
    assert.equal(await snapshotExists(alice, s.shared), true);
    assert.equal((await alice.send(new RestoreImageFromRecycleBinCommand({ ImageId: images.second }))).Return, true);
    // Restored, the snapshot the bin kept is left behind by `third` again and clean-up finds it.
    await alice.send(new RestoreSnapshotFromRecycleBinCommand({ SnapshotId: s.left }));
    assert.deepEqual(planned(await json('storage', 'clean-up', '--account', ALICE.id)), [s.left]);
  });

  test('when the retention ends the bin deletes the snapshot for good and the bill drops', async () => {
    const billed = accountOf(await json('storage', 'report'), ALICE.id).storedBytes;
    const res = await server.ops(`/_amiforge/clock/advance/${8 * DAY}`, { method: 'POST' });
    assert.equal(res.status, 200, await res.text());
    const report = await json('storage', 'report');
    assert.equal(rowOf(report, s.binned), undefined);
    assert.equal(accountOf(report, ALICE.id).storedBytes, billed - 2 * 512 * 1024, 'its two blocks leave the bill');
    assert.equal(accountOf(report, ALICE.id).snapshotsInRecycleBin, 0);
  });
});
