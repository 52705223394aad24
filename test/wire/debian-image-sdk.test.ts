// The catalogue's Debian 12 image stands on the built disk (scripts/build-debian-image.sh): its
// root snapshot, read back through the EBS direct APIs in two regions, is that disk block for
// block: an MBR with GRUB's boot code, the EFI system partition and the ext4 root. Needs the build
// (npm test's setup makes it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { DescribeImagesCommand, DescribeSnapshotsCommand } from '@aws-sdk/client-ec2';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { ebsClient, getBlock } from '../support/ebs.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const build = new URL('../../.amiforge-build/debian-12/', import.meta.url).pathname;
const DEBIAN = '136693071363';
let server: RunningServer;

before(async () => {
  assert.ok(existsSync(join(build, 'blocks.json')), `the Debian image is not built: run bash scripts/build-debian-image.sh (as root)`);
  server = await startServer();
});
after(() => server?.stop());

for (const region of ['us-east-1', 'ap-northeast-1']) {
  test(`debian-12-amd64 in ${region}: the root snapshot is the built disk, block for block`, async () => {
    const creds = devCredentials();
    const ec2 = ec2Client(server.endpoint, creds, region);
    const images = (await ec2.send(new DescribeImagesCommand({ Owners: [DEBIAN], Filters: [{ Name: 'name', Values: ['debian-12-amd64-*'] }] }))).Images ?? [];
    assert.equal(images.length, 1);
    const [image] = images;
    assert.match(image.Name!, /^debian-12-amd64-\d{8}-\d{4}$/);
    assert.equal(image.VirtualizationType, 'hvm');
    assert.equal(image.RootDeviceName, '/dev/xvda');
    const snapshotId = image.BlockDeviceMappings![0].Ebs!.SnapshotId!;
    const [snapshot] = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots!;
    assert.equal(snapshot.State, 'completed');
    assert.equal(snapshot.VolumeSize, 8);

    const manifest: { blocks: [number, string][] } = JSON.parse(readFileSync(join(build, 'blocks.json'), 'utf8'));
    const ebs = ebsClient(server.endpoint, creds, region);
    const listed: { BlockIndex?: number; BlockToken?: string }[] = [];
    let next: string | undefined;
    do {
      const page = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, NextToken: next, MaxResults: 10000 }));
      listed.push(...(page.Blocks ?? []));
      next = page.NextToken;
    } while (next);
    assert.deepEqual(listed.map((b) => b.BlockIndex), manifest.blocks.map(([i]) => i));

    // Block 0: GRUB's boot code, the partition table (an ESP, then the bootable Linux root).
    const first = await getBlock(ebs, snapshotId, 0, listed[0].BlockToken!);
    assert.equal(createHash('sha256').update(first.data).digest('hex'), manifest.blocks[0][1]);
    const mbr = first.data;
    assert.equal(mbr.readUInt16LE(510), 0xaa55);
    assert.ok(mbr.subarray(0, 440).equals(readFileSync('/usr/lib/grub/i386-pc/boot.img').subarray(0, 440)));
    assert.equal(mbr[446 + 4], 0xef, 'partition 1: EFI system partition');
    assert.equal(mbr[446 + 16 + 4], 0x83, 'partition 2: Linux');
    assert.equal(mbr[446 + 16], 0x80, 'partition 2 is the active one');
    // And a block deep in the root filesystem.
    const last = listed.at(-1)!;
    const block = await getBlock(ebs, snapshotId, last.BlockIndex!, last.BlockToken!);
    assert.equal(createHash('sha256').update(block.data).digest('hex'), manifest.blocks.at(-1)![1]);
  });
}
