// `amiforge storage report` and `amiforge storage clean-up`, run as the real CLI (bin/amiforge, a
// child process) on the data directory of a running server. The images are made through the EC2
// API (RegisterImage on snapshots uploaded through EBS direct, CreateImage of a simulated
// instance); the expected figures are computed here from what the EBS direct APIs return.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { GetSnapshotBlockCommand, paginateListSnapshotBlocks, type EBSClient } from '@aws-sdk/client-ebs';
import {
  CreateImageCommand, CreateVolumeCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, RegisterImageCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, type RunningServer } from '../support/server.ts';
import { CLI, amiforgeCli, type Run } from '../support/storage-cli.ts';
import { BLOCK_SIZE, startAliceAndBob } from '../support/ebs.ts';
import { bootBlock, runOne, simUserData, uploadImage, waitImage, waitRunning } from '../support/instances.ts';

const GIB = 2 ** 30;
const REGION = 'us-east-1';

let server: RunningServer;
let alice: EC2Client;
let bob: EC2Client;
let aliceEbs: EBSClient;
let bobEbs: EBSClient;

const { amiforge, json } = amiforgeCli(() => server.dataDir);

/** The SHA-256 of each block of a snapshot (as GetSnapshotBlock reports it), by block index. */
async function blockChecksums(ebs: EBSClient, snapshotId: string): Promise<string[]> {
  const sums: string[] = [];
  for await (const page of paginateListSnapshotBlocks({ client: ebs }, { SnapshotId: snapshotId })) {
    for (const b of page.Blocks ?? []) {
      const out = await ebs.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: b.BlockIndex, BlockToken: b.BlockToken }));
      await out.BlockData?.transformToByteArray();
      sums.push(out.Checksum!);
    }
  }
  return sums;
}

/** Distinct blocks over the given snapshots' maps: each stored block once, as the bill counts it. */
const distinct = (...maps: string[][]): number => new Set(maps.flat()).size;

async function snapshotExists(ec2: EC2Client, id: string): Promise<boolean> {
  try {
    await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'InvalidSnapshot.NotFound') return false;
    throw err;
  }
}

const accountOf = (report: any, owner: string) => report.regions.find((r: any) => r.region === REGION).accounts.find((a: any) => a.ownerId === owner);
const rowOf = (report: any, id: string) => report.regions.find((r: any) => r.region === REGION).snapshots.find((s: any) => s.snapshotId === id);

before(async () => {
  ({ server, alice, bob, aliceEbs, bobEbs } = await startAliceAndBob(['--sim-boot-ms', '50']));
});
after(async () => {
  await server?.stop();
});

describe('storage report and clean-up of snapshots deregistered images left behind', () => {
  // Alice: base (kept registered, an instance runs from it), golden (CreateImage of that
  // instance, deregistered: left behind), app (deregistered, but a second image still names its
  // snapshot), restored (deregistered, but a volume was made from its snapshot). Bob: one image,
  // deregistered, whose first block is byte-for-byte Alice's base first block.
  const s: Record<string, string> = {};
  const images: Record<string, string> = {};
  let maps: Record<string, string[]>;
  let restoredVolume: string;

  before(async () => {
    ({ imageId: images.base, snapshotId: s.base } = await uploadImage(alice, aliceEbs, 'base', new Map([[0, bootBlock('base os')], [3, Buffer.from('base data')]])));
    const builder = (await runOne(alice, { ImageId: images.base, UserData: simUserData('write /dev/xvda 2M golden build') })).InstanceId!;
    await waitRunning(alice, [builder]);
    images.golden = (await alice.send(new CreateImageCommand({ InstanceId: builder, Name: 'golden', NoReboot: true }))).ImageId!;
    await waitImage(alice, images.golden);
    s.golden = (await alice.send(new DescribeImagesCommand({ ImageIds: [images.golden] }))).Images![0].BlockDeviceMappings![0].Ebs!.SnapshotId!;

    ({ imageId: images.app, snapshotId: s.app } = await uploadImage(alice, aliceEbs, 'app', new Map([[0, bootBlock('app os')], [1, Buffer.from('app data')]])));
    images.appAgain = (await alice.send(new RegisterImageCommand({
      Name: 'app-again', Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: s.app } }],
    }))).ImageId!;
    ({ imageId: images.restored, snapshotId: s.restored } = await uploadImage(alice, aliceEbs, 'restored', new Map([[0, Buffer.from('restored os')]])));
    ({ imageId: images.bob, snapshotId: s.bob } = await uploadImage(bob, bobEbs, 'bobs', new Map([[0, bootBlock('base os')], [1, Buffer.from('bob data')]])));

    for (const id of [images.golden, images.app, images.restored]) await alice.send(new DeregisterImageCommand({ ImageId: id }));
    await bob.send(new DeregisterImageCommand({ ImageId: images.bob }));
    restoredVolume = (await alice.send(new CreateVolumeCommand({ SnapshotId: s.restored, AvailabilityZone: 'us-east-1a' }))).VolumeId!;

    maps = {};
    for (const k of ['base', 'golden', 'app', 'restored']) maps[k] = await blockChecksums(aliceEbs, s[k]);
    maps.bob = await blockChecksums(bobEbs, s.bob);
  });

  test('report: billed bytes per account count each block once, cost = bytes / GiB x price, left-behind snapshots named', async () => {
    const report = await json('storage', 'report', '--price-per-gb-month', '0.08');
    assert.equal(report.pricePerGbMonth, 0.08);
    const a = accountOf(report, ALICE.id);
    const aliceBlocks = distinct(maps.base, maps.golden, maps.app, maps.restored);
    // golden inherits base's two blocks and adds the one the build wrote: 2 + 3 + 2 + 1 mapped, 6 distinct.
    assert.equal(maps.golden.length, 3);
    assert.equal(aliceBlocks, 6, 'the blocks golden shares with base are billed once');
    assert.equal(a.snapshots, 4);
    assert.equal(a.storedBytes, aliceBlocks * BLOCK_SIZE);
    assert.equal(a.dataBytes, (2 + 3 + 2 + 1) * BLOCK_SIZE);
    assert.equal(a.monthlyCost, (aliceBlocks * BLOCK_SIZE / GIB) * 0.08);
    // golden is deletable, restored kept (a volume reads through it); only golden's own block leaves the bill.
    assert.deepEqual(a.leftBehind, { snapshots: 2, kept: 1, reclaimableBytes: BLOCK_SIZE, monthlySaving: (BLOCK_SIZE / GIB) * 0.08 });

    assert.deepEqual(rowOf(report, s.golden).leftBehindBy, [images.golden]);
    assert.deepEqual(rowOf(report, s.restored).leftBehindBy, [images.restored]);
    assert.equal(rowOf(report, s.app).leftBehindBy, undefined, 'app-again still names it');
    assert.equal(rowOf(report, s.base).leftBehindBy, undefined);
    assert.deepEqual([rowOf(report, s.golden).ownBytes, rowOf(report, s.golden).sharedBytes], [BLOCK_SIZE, 2 * BLOCK_SIZE]);

    const b = accountOf(report, BOB.id);
    assert.equal(b.storedBytes, 2 * BLOCK_SIZE, 'Bob is billed for his blocks though Alice stores one of them too');
    assert.deepEqual(b.leftBehind, { snapshots: 1, kept: 0, reclaimableBytes: 2 * BLOCK_SIZE, monthlySaving: (2 * BLOCK_SIZE / GIB) * 0.08 });
    assert.equal(rowOf(report, s.base).sharedBytes, 2 * BLOCK_SIZE, 'base shares block 0 with Bob and golden, block 3 with golden');

    const human = await amiforge('storage', 'report', '--account', ALICE.id);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`${s.golden} .* ${images.golden}`));
    assert.match(human.stdout, /left behind by deregistered images: 2 snapshots, 1 of them still in use; clean-up would reclaim 0\.5 MiB/);
    assert.doesNotMatch(human.stdout, new RegExp(BOB.id), '--account shows one owner');
  });

  test('clean-up without --apply lists what it would delete and the saving, and deletes nothing', async () => {
    const dry = await amiforge('storage', 'clean-up');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would delete ${s.golden} .*left behind by ${images.golden}`));
    assert.match(dry.stdout, new RegExp(`would delete ${s.bob}`));
    assert.match(dry.stdout, new RegExp(`keep +${s.restored} .*volume ${restoredVolume} was made from it`));
    assert.match(dry.stdout, /total: 2 snapshots to delete, 1\.5 MiB/);
    assert.match(dry.stdout, /Dry run: nothing was deleted/);
    const plan = await json('storage', 'clean-up');
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.totals, { snapshots: 2, reclaimableBytes: 3 * BLOCK_SIZE, monthlySaving: (3 * BLOCK_SIZE / GIB) * 0.05 });
    for (const [c, id] of [[alice, s.golden], [alice, s.restored], [bob, s.bob]] as const) assert.ok(await snapshotExists(c, id), `${id} still exists`);
  });

  test('clean-up --apply --account deletes that owner\'s left-behind snapshots only; the running server sees it at once', async () => {
    const out = await json('storage', 'clean-up', '--apply', '--account', ALICE.id);
    assert.equal(out.dryRun, false);
    assert.deepEqual(out.outcomes.map((o: any) => [o.snapshotId, o.result]), [[s.golden, 'deleted']]);
    assert.equal(await snapshotExists(alice, s.golden), false);
    for (const id of [s.base, s.app, s.restored]) assert.ok(await snapshotExists(alice, id), `${id} is in use and stays`);
    assert.ok(await snapshotExists(bob, s.bob), 'another account\'s snapshot is untouched unless asked');
    const a = accountOf(await json('storage', 'report'), ALICE.id);
    assert.equal(a.storedBytes, 5 * BLOCK_SIZE, 'golden\'s own block left the bill');
    assert.deepEqual(a.leftBehind, { snapshots: 1, kept: 1, reclaimableBytes: 0, monthlySaving: 0 });
  });

  test('clean-up --apply without --account reaches every owner, and a second run finds nothing', async () => {
    const r = await amiforge('storage', 'clean-up', '--apply');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^deleted ${s.bob}$`, 'm'));
    assert.match(r.stdout, /1 snapshot deleted, 0 skipped/);
    assert.equal(await snapshotExists(bob, s.bob), false);
    const again = await json('storage', 'clean-up', '--apply');
    assert.deepEqual(again.outcomes, []);
    assert.deepEqual(again.accounts.map((x: any) => [x.ownerId, x.deletable.length, x.kept.length]), [[ALICE.id, 0, 1]]);
  });

  test('clean-up racing RegisterImage on the same snapshot: either the image keeps it or the image is refused', async () => {
    const raced = await uploadImage(alice, aliceEbs, 'raced', new Map([[0, Buffer.from('raced os')]]));
    await alice.send(new DeregisterImageCommand({ ImageId: raced.imageId }));
    const [run, registered] = await Promise.all([
      amiforge('storage', 'clean-up', '--apply', '--account', ALICE.id, '--json'),
      alice.send(new RegisterImageCommand({
        Name: 'raced-again', Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: raced.snapshotId } }],
      })).then((out) => out.ImageId!, (err: Error) => err),
    ]);
    assert.equal(run.code, 0, run.stderr);
    if (typeof registered === 'string') {
      assert.ok(await snapshotExists(alice, raced.snapshotId), 'the image registered on it keeps it');
      const outcome = JSON.parse(run.stdout).outcomes.find((o: any) => o.snapshotId === raced.snapshotId);
      assert.ok(!outcome || outcome.result === 'skipped', JSON.stringify(outcome));
    } else {
      assert.equal(registered.name, 'InvalidSnapshot.NotFound', String(registered));
      assert.equal(await snapshotExists(alice, raced.snapshotId), false);
    }
  });

  test('a write lock the server holds past the busy timeout stops clean-up with what to do; run again, it resumes', async () => {
    const stuck = await uploadImage(alice, aliceEbs, 'stuck', new Map([[0, Buffer.from('stuck os')]]));
    await alice.send(new DeregisterImageCommand({ ImageId: stuck.imageId }));
    // Another writer on the same database holds its write lock, as a long server transaction would.
    const writer = new DatabaseSync(join(server.dataDir, 'metadata.sqlite'));
    writer.exec('BEGIN IMMEDIATE');
    let locked: Run;
    try {
      locked = await amiforge('storage', 'clean-up', '--apply', '--account', ALICE.id);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
    assert.equal(locked.code, 1, locked.stdout);
    assert.match(locked.stderr, /stopped: the metadata store stayed locked by another writer \(the server\) past its 5 s busy timeout\. 0 snapshots were deleted before that \(listed in the output\), nothing else\. Run clean-up --apply again/);
    assert.ok(await snapshotExists(alice, stuck.snapshotId));
    const again = await json('storage', 'clean-up', '--apply', '--account', ALICE.id);
    assert.equal(again.outcomes.find((o: any) => o.snapshotId === stuck.snapshotId)?.result, 'deleted');
    assert.equal(await snapshotExists(alice, stuck.snapshotId), false);
  });

  test('bad options are refused with what to do, before anything is opened', async () => {
    const cases: [string[], RegExp][] = [
      [['storage', 'clean-up', '--price-per-gb-month', '-1'], /--price-per-gb-month takes a non-negative number/],
      [['storage', 'report', '--price-per-gb-month', 'cheap'], /--price-per-gb-month takes a non-negative number/],
      [['storage', 'clean-up', '--region', 'mars-east-1'], /unknown region 'mars-east-1'; amiforge serves us-east-1/],
      [['storage', 'clean-up', '--account', 'alice'], /--account takes 12-digit account ids; 'alice' is not one/],
    ];
    for (const [args, message] of cases) {
      const r = await amiforge(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
    const nowhere = await new Promise<Run>((resolve) => execFile(CLI, ['storage', 'clean-up', '--data-dir', join(server.dataDir, 'nope')], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    }));
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.stderr, /no amiforge data in .*; pass --data-dir with the directory the server uses/);
  });
});
