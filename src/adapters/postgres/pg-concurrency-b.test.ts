// Rules of the snapshot, volume, KMS, instance, network and Image Builder repositories that
// SQLite kept with one writer, shown to hold with two amiforge nodes (two stores, two connection
// pools) writing one PostgreSQL database at the same moment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { twoNodesOnOneDatabase } from '../../../test/support/pg-two-nodes.ts';
import type { ImageRecord } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import type { KeyRecord } from '../../ports/key-repository.ts';
import type { DefaultNetwork, SecurityGroupRecord } from '../../ports/network-repository.ts';
import type { PgMetadataStore } from './pg-store.ts';

const A = '111111111111';
const R = 'us-east-1';
/** Races per case: enough that both orders of the two writers occur. */
const ROUNDS = 20;
const EPOCH = new Date(0).toISOString();

let nodes: [PgMetadataStore, PgMetadataStore];
twoNodesOnOneDatabase((n) => { nodes = n; });

let seq = 0;
const hex = () => (++seq).toString(16).padStart(17, '0');
const settled = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? r.value : `rejected: ${(r.reason as { code?: string }).code}`);

function snapshot(extra: Partial<SnapshotRecord> = {}): SnapshotRecord {
  return {
    region: R, snapshotId: `snap-${hex()}`, ownerId: A, volumeSize: 1, state: 'completed', progress: 100, startTime: EPOCH,
    volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 60, lastActivity: EPOCH, createVolumePermissions: [], ...extra,
  };
}

function imageOn(snapshotId: string): ImageRecord {
  return {
    region: R, launchPermissions: [],
    image: { imageId: `ami-${hex()}`, ownerId: A, name: `on-${snapshotId}`, state: 'available', creationDate: EPOCH,
      blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: snapshotId } }] },
  };
}

function volume(): VolumeRecord {
  return { region: R, ownerId: A, volumeId: `vol-${hex()}`, size: 1, volumeType: 'gp3', availabilityZone: 'us-east-1a', createTime: EPOCH,
    encrypted: false, state: 'in-use', attachments: [] };
}

test('a snapshot deleted while another node registers an image on it: never an image on a deleted snapshot', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const snap = snapshot();
    await nodes[0].snapshots.insert(snap);
    const img = imageOn(snap.snapshotId);
    const [registered, deleted] = await Promise.allSettled([
      nodes[0].images.insert(img, undefined, { requireSnapshots: [snap.snapshotId] }),
      nodes[1].snapshots.deleteUnlessInUse(R, snap.snapshotId),
    ]);
    const stored = await nodes[1].images.get(R, img.image.imageId);
    const left = await nodes[0].snapshots.get(R, snap.snapshotId);
    if (registered.status === 'fulfilled') {
      assert.deepEqual(settled(deleted), { deleted: false, inUseBy: img.image.imageId });
      assert.ok(stored && left);
    } else {
      assert.equal((registered.reason as { code?: string }).code, 'InvalidSnapshot.NotFound');
      assert.deepEqual(settled(deleted), { deleted: true });
      assert.ok(!stored && !left);
    }
  }
});

test('a volume made from a snapshot while another node deletes it: the volume keeps its data, or is refused', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const snap = snapshot();
    await nodes[0].snapshots.insert(snap);
    await nodes[0].snapshots.putBlock(snap.snapshotId, 0, 'a'.repeat(64));
    const vol = { ...volume(), snapshotId: snap.snapshotId };
    // Either request may reach the database first.
    const make = () => nodes[0].volumes.insert(vol);
    const remove = () => nodes[1].snapshots.deleteUnlessInUse(R, snap.snapshotId);
    const [made, deleted] = i % 2 ? await Promise.allSettled([make(), remove()])
      : (await Promise.allSettled([remove(), make()])).reverse() as [PromiseSettledResult<void>, PromiseSettledResult<unknown>];
    assert.deepEqual(settled(deleted), { deleted: true });
    if (made.status === 'fulfilled') {
      assert.deepEqual(await nodes[1].volumes.entry(vol.volumeId, 0), { index: 0, hash: 'a'.repeat(64) }, 'adopted as the snapshot went');
    } else {
      assert.equal((made.reason as { code?: string }).code, 'InvalidSnapshot.NotFound');
      assert.equal(await nodes[1].volumes.get(R, vol.volumeId), undefined);
    }
  }
  const gone = snapshot();
  await nodes[0].snapshots.insert(gone);
  await nodes[1].snapshots.delete(R, gone.snapshotId);
  await assert.rejects(nodes[0].volumes.insert({ ...volume(), snapshotId: gone.snapshotId }), { code: 'InvalidSnapshot.NotFound' });
});

test('two nodes starting snapshots with one client token: one snapshot', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const clientToken = `start-${i}`;
    const results = await Promise.allSettled(nodes.map((n) => n.snapshots.insert(snapshot({ clientToken, state: 'pending' }))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const stored = [];
    for await (const s of nodes[0].snapshots.scan({ region: R, visibleTo: { account: A } })) if (s.clientToken === clientToken) stored.push(s);
    assert.equal(stored.length, 1);
  }
});

test('a multi-volume snapshot taken while another node writes to both volumes is of one instant', async () => {
  const [first, second] = [volume(), volume()];
  // Maps long enough that copying one takes a while: the writer gets between the two copies.
  const filler = Array.from({ length: 5_000 }, (_, k) => ({ index: k + 1, hash: 'f'.repeat(64) }));
  for (const v of [first, second]) {
    await nodes[0].volumes.insert(v);
    await nodes[0].volumes.commitWrites(v.volumeId, { blocks: filler, pages: [] });
  }
  // The writer writes generation k to the first volume, then to the second: any instant holds
  // the second volume at generation k only if the first holds k (or later).
  let writing = true;
  const writer = (async () => {
    for (let k = 1; writing; k++) {
      const hash = k.toString(16).padStart(64, '0');
      await nodes[1].volumes.commitWrites(first.volumeId, { blocks: [{ index: 0, hash }], pages: [] });
      await nodes[1].volumes.commitWrites(second.volumeId, { blocks: [{ index: 0, hash }], pages: [] });
    }
  })();
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const [a, b] = [snapshot({ state: 'pending' }), snapshot({ state: 'pending' })];
      await nodes[0].snapshots.insert(a);
      await nodes[0].snapshots.insert(b);
      await nodes[0].volumes.snapshotVolumes([{ volumeId: first.volumeId, snapshotId: a.snapshotId }, { volumeId: second.volumeId, snapshotId: b.snapshotId }]);
      const generation = async (id: string) => parseInt(await nodes[0].snapshots.block(id, 0) ?? '0', 16);
      assert.ok(await generation(a.snapshotId) >= await generation(b.snapshotId), 'the second volume is never ahead of the first');
    }
  } finally {
    writing = false;
    await writer;
  }
});

test('two nodes allocating private and host addresses at once: each address is given once', async () => {
  const ids = Array.from({ length: 2 * ROUNDS }, () => `i-${hex()}`);
  const privates = await Promise.all(ids.map((id, k) => nodes[k % 2].instances.allocateAddress(R, id, 4, 1000)));
  assert.equal(new Set(privates).size, ids.length);
  const hosts = await Promise.all(ids.map((id, k) => nodes[k % 2].network.allocateHostAddress({ instanceId: id, account: A, region: R }, 2, 1000)));
  assert.equal(new Set(hosts).size, ids.length);
  // The same instance asking on both nodes gets one address.
  const again = await Promise.all(nodes.map((n) => n.instances.allocateAddress(R, 'i-both', 4, 1000)));
  assert.equal(again[0], again[1]);
});

test('two nodes creating one key pair name, KMS alias or security group name at once: one wins', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const pairs = await Promise.all(nodes.map((n) => n.keyPairs.insert({ region: R, keyPairId: `key-${hex()}`, ownerId: A, keyName: `pair-${i}`,
      keyType: 'ed25519', publicKey: 'ssh-ed25519 AAAA', fingerprint: 'fp', createTime: EPOCH })));
    assert.deepEqual(pairs.sort(), [false, true]);
    const keys = nodes.map((): KeyRecord => {
      const keyId = `00000000-0000-4000-8000-${hex().slice(-12)}`;
      return { region: R, account: A, keyId, arn: `arn:aws:kms:${R}:${A}:key/${keyId}`, description: '', keyManager: 'CUSTOMER', state: 'Enabled',
        creationDate: EPOCH, policy: '{}', tags: [], materialVersion: 1 };
    });
    const alias = `alias/race-${i}`;
    const made = await Promise.all(nodes.map((n, k) => n.keys.insert(keys[k], new Uint8Array([k]),
      { account: A, region: R, aliasName: alias, targetKeyId: keys[k].keyId, creationDate: EPOCH, lastUpdatedDate: EPOCH })));
    assert.deepEqual([...made].sort(), [false, true]);
    const loser = keys[made.indexOf(false)];
    assert.equal(await nodes[0].keys.get(R, loser.keyId), undefined, 'the key with the taken alias is not stored');
    const group = (): SecurityGroupRecord => ({ account: A, region: R, groupId: `sg-${hex()}`, groupName: `g-${i}`, description: '', vpcId: 'vpc-1', rules: [] });
    assert.deepEqual((await Promise.all(nodes.map((n) => n.network.insertGroup(group())))).sort(), [false, true]);
  }
});

test('two nodes making the default network at once: stored once', async () => {
  const account = '333333333333';
  const net = (): DefaultNetwork => ({
    vpc: { account, region: R, vpcId: 'vpc-0default', cidrBlock: '172.31.0.0/16', isDefault: true, dhcpOptionsId: 'dopt-1' },
    subnets: [{ account, region: R, subnetId: 'subnet-0a', vpcId: 'vpc-0default', availabilityZone: 'us-east-1a', cidrBlock: '172.31.0.0/20',
      defaultForAz: true, mapPublicIpOnLaunch: true }],
    defaultGroup: { account, region: R, groupId: `sg-${hex()}`, groupName: 'default', description: 'default', vpcId: 'vpc-0default', rules: [] },
  });
  await Promise.all(nodes.map((n) => n.network.ensureDefaultNetwork(net())));
  assert.equal((await nodes[0].network.vpcs(account, R)).length, 1);
  assert.equal((await nodes[0].network.subnets(account, R)).length, 1);
  assert.equal((await nodes[0].network.groups(account, R)).length, 1);
});

test('two nodes updating one Image Builder record at once: no update is lost', async () => {
  const arn = `arn:aws:imagebuilder:${R}:${A}:workflow-execution/race`;
  await nodes[0].imageBuilder.insert({ arn, kind: 'workflow-execution', account: A, region: R, name: 'race', doc: { count: 0 },
    createdAt: EPOCH, updatedAt: EPOCH });
  await Promise.all(Array.from({ length: 2 * ROUNDS }, (_, k) => nodes[k % 2].imageBuilder.update(arn,
    (r) => ({ ...r, doc: { count: (r.doc as { count: number }).count + 1 } }))));
  assert.deepEqual((await nodes[1].imageBuilder.get(arn))?.doc, { count: 2 * ROUNDS });
});
