// Encrypted snapshots through the EBS direct APIs (SDK v3, strict mode, two accounts): uploads
// sealed under the account's key, read back as the plaintext with the plaintext's checksums; no
// plaintext anywhere in the data directory; a tampered or swapped stored block is an error on
// read, never wrong bytes; a disabled key stops reads and writes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { EBSClient, ListSnapshotBlocksCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { blockOf, ebsClient, expectEbsError, getBlock, putBlock, uploadSnapshot } from '../support/ebs.ts';

let server: RunningServer;
let ebs: EBSClient;
let bobEbs: EBSClient;
let ec2: EC2Client;
let kms: KMSClient;

before(async () => {
  server = await startServer({ accounts: [ALICE, BOB] });
  ebs = ebsClient(server.endpoint, credentialsOf(ALICE));
  bobEbs = ebsClient(server.endpoint, credentialsOf(BOB));
  ec2 = ec2Client(server.endpoint, credentialsOf(ALICE));
  kms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
});
after(async () => {
  await server?.stop();
});

const seeds = (...pairs: [number, string][]) => new Map(pairs);

async function tokens(client: EBSClient, snapshotId: string): Promise<Map<number, string>> {
  const out = await client.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId }));
  return new Map(out.Blocks!.map((b) => [b.BlockIndex!, b.BlockToken!]));
}

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** The stored file of the block a token names (tokens carry the stored hash). */
async function blockFile(token: string): Promise<string> {
  const hash = Buffer.from(token, 'base64').toString('utf8').split(':')[2];
  const found = (await filesUnder(join(server.dataDir, 'blocks'))).filter((f) => f.includes(hash));
  assert.equal(found.length, 1, `one stored file for block ${hash}`);
  return found[0];
}

describe('encrypted snapshots through EBS direct', () => {
  test('StartSnapshot Encrypted: sealed under aws/ebs, read back as plaintext with its checksums; a child keeps the data key', async () => {
    const started = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Encrypted: true }));
    assert.match(started.KmsKeyArn!, /^arn:aws:kms:us-east-1:111111111111:key\//);
    await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Encrypted: true, ClientToken: 'enc-1' }));
    const { snapshotId, checksums } = await uploadSnapshot(ebs, { Encrypted: true }, seeds([0, 'e0'], [3, 'e3'], [7, 'e0']));
    const [s] = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots!;
    assert.equal(s.Encrypted, true);
    assert.equal(s.KmsKeyId, started.KmsKeyArn);
    const t = await tokens(ebs, snapshotId);
    for (const [index, seed] of [[0, 'e0'], [3, 'e3'], [7, 'e0']] as const) {
      const got = await getBlock(ebs, snapshotId, index, t.get(index)!);
      assert.deepEqual(got.data, blockOf(seed));
      assert.equal(got.checksum, checksums.get(index), 'x-amz-Checksum is the SHA-256 of the plaintext');
    }
    // The same plaintext at two indexes is sealed twice (each block's identity is bound in).
    assert.notEqual(await blockFile(t.get(0)!), await blockFile(t.get(7)!));

    const child = await uploadSnapshot(ebs, { ParentSnapshotId: snapshotId }, seeds([1, 'c1']));
    const [c] = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [child.snapshotId] }))).Snapshots!;
    assert.equal(c.Encrypted, true, 'a child of an encrypted parent is encrypted');
    assert.equal(c.KmsKeyId, started.KmsKeyArn);
    const ct = await tokens(ebs, child.snapshotId);
    assert.deepEqual((await getBlock(ebs, child.snapshotId, 3, ct.get(3)!)).data, blockOf('e3'), 'inherited block, same data key');
    assert.deepEqual((await getBlock(ebs, child.snapshotId, 1, ct.get(1)!)).data, blockOf('c1'));
  });

  test('no plaintext of an encrypted snapshot anywhere in the data directory', async () => {
    const marker = blockOf('plaintext-marker-that-must-not-be-stored');
    const { snapshotId } = await uploadSnapshot(ebs, { Encrypted: true }, seeds([0, 'plaintext-marker-that-must-not-be-stored']));
    assert.ok((await tokens(ebs, snapshotId)).size === 1);
    const needle = marker.subarray(0, 96);
    const files = await filesUnder(server.dataDir);
    assert.ok(files.some((f) => f.includes(`${join(server.dataDir, 'blocks')}`)));
    for (const f of files) {
      const bytes = await readFile(f);
      assert.equal(bytes.indexOf(needle), -1, `plaintext found in ${f}`);
    }
    // The control: an unencrypted upload of the same bytes is found (the scan can see it).
    await uploadSnapshot(ebs, {}, seeds([0, 'plaintext-marker-that-must-not-be-stored']));
    let seen = false;
    for (const f of await filesUnder(join(server.dataDir, 'blocks'))) if ((await readFile(f)).indexOf(needle) !== -1) seen = true;
    assert.ok(seen, 'the unencrypted control copy is visible to the scan');
  });

  test('a tampered stored block, or a sealed block moved to another index, is an error on read, never wrong bytes', async () => {
    const { snapshotId } = await uploadSnapshot(ebs, { Encrypted: true }, seeds([0, 't0'], [1, 't1'], [2, 't2']));
    let t = await tokens(ebs, snapshotId);
    // Bytes changed on disk.
    const file = await blockFile(t.get(0)!);
    const bytes = await readFile(file);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(file, bytes);
    await expectEbsError(getBlock(ebs, snapshotId, 0, t.get(0)!), { name: 'InternalServerException', status: 500 });
    // A valid sealed block of index 2 mapped at index 1 (metadata swapped): its AAD does not match.
    const db = new DatabaseSync(join(server.dataDir, 'metadata.sqlite'));
    db.exec('PRAGMA busy_timeout=5000');
    const row = db.prepare('SELECT hash, checksum FROM snapshot_blocks WHERE snapshot_id = ? AND block_index = 2').get(snapshotId) as { hash: string; checksum: string };
    db.prepare('UPDATE snapshot_blocks SET hash = ?, checksum = ? WHERE snapshot_id = ? AND block_index = 1').run(row.hash, row.checksum, snapshotId);
    db.close();
    t = await tokens(ebs, snapshotId);
    await expectEbsError(getBlock(ebs, snapshotId, 1, t.get(1)!), { name: 'InternalServerException', status: 500, message: /failed authentication/ });
    assert.deepEqual((await getBlock(ebs, snapshotId, 2, t.get(2)!)).data, blockOf('t2'));
  });

  test('a customer managed key: KmsKeyArn; disabled, writes and reads are refused; Bob cannot read a snapshot he cannot see', async () => {
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    const started = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Encrypted: true, KmsKeyArn: key.Arn }));
    assert.equal(started.KmsKeyArn, key.Arn);
    await putBlock(ebs, started.SnapshotId!, 0, blockOf('k0'));
    const done = await uploadSnapshot(ebs, { Encrypted: true, KmsKeyArn: key.Arn }, seeds([0, 'k0']));
    const t = await tokens(ebs, done.snapshotId);
    await kms.send(new DisableKeyCommand({ KeyId: key.KeyId }));
    await expectEbsError(putBlock(ebs, started.SnapshotId!, 1, blockOf('k1')), { name: 'ValidationException', status: 400, reason: 'INVALID_CUSTOMER_KEY' });
    await expectEbsError(getBlock(ebs, done.snapshotId, 0, t.get(0)!), { name: 'ValidationException', status: 400, reason: 'INVALID_CUSTOMER_KEY' });
    await expectEbsError(ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Encrypted: true, KmsKeyArn: key.Arn })),
      { name: 'ValidationException', status: 400, reason: 'INVALID_CUSTOMER_KEY' });
    await kms.send(new EnableKeyCommand({ KeyId: key.KeyId }));
    assert.deepEqual((await getBlock(ebs, done.snapshotId, 0, t.get(0)!)).data, blockOf('k0'));
    // Bob may not use Alice's key (its default policy admits only Alice's account).
    await expectEbsError(bobEbs.send(new StartSnapshotCommand({ VolumeSize: 1, Encrypted: true, KmsKeyArn: key.Arn })),
      { name: 'AccessDeniedException', status: 403, reason: 'DEPENDENCY_ACCESS_DENIED' });
  });
});
