// The MetadataStore contract: every adapter (sqlite now, postgres later) runs this suite.
// It checks what the domain relies on: scoping by region, visibility, the pushed-down criteria
// of ImageQuery, pagination order, uniqueness, atomic deletes, tags and snapshot block maps.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImageRecord, MetadataStore, StoredImage } from '../../src/ports/metadata-store.ts';
import type { SnapshotRecord } from '../../src/ports/snapshot-repository.ts';
import type { InstanceRecord, KeyPairRecord } from '../../src/ports/instance-repository.ts';
import type { AliasRecord, GrantRecord, KeyRecord } from '../../src/ports/key-repository.ts';
import type { BinnedImage, BinnedSnapshot, RetentionRuleRecord } from '../../src/ports/recycle-bin-repository.ts';
import type { DefaultNetwork, SecurityGroupRecord } from '../../src/ports/network-repository.ts';
import type { IbRecord } from '../../src/ports/imagebuilder-repository.ts';

const A = '111111111111';
const B = '222222222222';
const R = 'us-east-1';

let seq = 0;
function image(owner: string, name: string, extra: Partial<StoredImage> = {}): ImageRecord {
  const id = `ami-0${(++seq).toString(16).padStart(16, '0')}`;
  return {
    region: R,
    image: { imageId: id, ownerId: owner, name: name, state: 'available', creationDate: new Date(0).toISOString(), ...extra },
    launchPermissions: [],
  };
}

function snapshot(owner: string, extra: Partial<SnapshotRecord> = {}): SnapshotRecord {
  const id = `snap-0${(++seq).toString(16).padStart(16, '0')}`;
  const now = new Date(0).toISOString();
  return {
    region: R, snapshotId: id, ownerId: owner, volumeSize: 1, state: 'completed', progress: 100, startTime: now,
    volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 60, lastActivity: now, createVolumePermissions: [], ...extra,
  };
}

function kmsKey(account: string, extra: Partial<KeyRecord> = {}): KeyRecord {
  const keyId = `00000000-0000-4000-8000-${(++seq).toString(16).padStart(12, '0')}`;
  return {
    region: R, account, keyId, arn: `arn:aws:kms:${R}:${account}:key/${keyId}`, description: '', keyManager: 'CUSTOMER',
    state: 'Enabled', creationDate: new Date(0).toISOString(), policy: '{}', tags: [], materialVersion: 1, ...extra,
  };
}

function kmsAlias(account: string, aliasName: string, targetKeyId: string): AliasRecord {
  const now = new Date(0).toISOString();
  return { account, region: R, aliasName, targetKeyId, creationDate: now, lastUpdatedDate: now };
}

function kmsGrant(key: KeyRecord, granteeAccount: string, extra: Partial<GrantRecord> = {}): GrantRecord {
  return {
    grantId: (++seq).toString(16).padStart(64, '0'), keyId: key.keyId, region: key.region,
    granteePrincipal: `arn:aws:iam::${granteeAccount}:root`, granteeAccount, issuingAccount: key.account,
    operations: ['Decrypt'], creationDate: new Date(0).toISOString(), ...extra,
  };
}

function network(account: string, region = R): DefaultNetwork {
  const vpcId = `vpc-0${account}0000`;
  return {
    vpc: { account, region, vpcId, cidrBlock: '172.31.0.0/16', isDefault: true, dhcpOptionsId: 'dopt-00000001' },
    subnets: ['a', 'b'].map((z, i) => ({
      account, region, subnetId: `subnet-0${account}000${i}`, vpcId, availabilityZone: `${region}${z}`, cidrBlock: `172.31.${i * 16}.0/20`,
      defaultForAz: true, mapPublicIpOnLaunch: true,
    })),
    defaultGroup: group(account, vpcId, 'default', region),
  };
}

function group(account: string, vpcId: string, groupName: string, region = R): SecurityGroupRecord {
  const groupId = `sg-0${(++seq).toString(16).padStart(16, '0')}`;
  return {
    account, region, groupId, groupName, description: groupName, vpcId,
    rules: [{ ruleId: `sgr-0${(++seq).toString(16).padStart(16, '0')}`, egress: true, protocol: '-1', fromPort: -1, toPort: -1, cidrIpv4: '0.0.0.0/0' }],
  };
}

async function collect<T>(iter: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iter) out.push(x);
  return out;
}

function instance(owner: string, instanceId: string, extra: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    region: R, instanceId, ownerId: owner, reservationId: 'r-00000000000000001', imageId: 'ami-00000000000000001', instanceType: 't3.micro',
    availabilityZone: 'us-east-1a', privateIpAddress: '172.31.0.4', launchIndex: 0, state: 'pending', stateTransitionReason: '',
    launchTime: new Date(0).toISOString(), architecture: 'x86_64', rootDeviceName: '/dev/xvda', rootDeviceType: 'ebs', virtualizationType: 'hvm',
    platformDetails: 'Linux/UNIX', disableApiTermination: false, disableApiStop: false, shutdownBehavior: 'stop', instanceStore: [], bootCount: 0,
    ...extra,
  };
}

function keyPair(owner: string, keyName: string): KeyPairRecord {
  return {
    region: R, keyPairId: `key-0${(++seq).toString(16).padStart(16, '0')}`, ownerId: owner, keyName, keyType: 'ed25519',
    publicKey: 'ssh-ed25519 AAAA', fingerprint: 'fp', createTime: new Date(0).toISOString(),
  };
}

async function ids(iter: AsyncIterable<ImageRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of iter) out.push(r.image.imageId);
  return out;
}

export function metadataStoreContract(name: string, make: () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>): void {
  describe(`MetadataStore contract: ${name}`, () => {
    const withStore = (fn: (s: MetadataStore) => Promise<void>) => async () => {
      const { store, cleanup } = await make();
      try {
        await fn(store);
      } finally {
        await cleanup();
      }
    };

    test('insert, get, update and delete an image, scoped by region', withStore(async (s) => {
      const r = image(A, 'one');
      await s.images.insert(r);
      assert.deepEqual(await s.images.get(R, r.image.imageId), r);
      assert.equal(await s.images.get('eu-west-1', r.image.imageId), undefined);
      r.image.description = 'changed';
      r.launchPermissions = [{ UserId: B }];
      await s.images.update(r);
      assert.deepEqual(await s.images.get(R, r.image.imageId), r);
      assert.equal(await s.images.delete(R, r.image.imageId), true);
      assert.equal(await s.images.get(R, r.image.imageId), undefined);
      assert.equal(await s.images.delete(R, r.image.imageId), false);
    }));

    test('names are unique per owner and region', withStore(async (s) => {
      await s.images.insert(image(A, 'same'));
      await assert.rejects(s.images.insert(image(A, 'same')), { code: 'InvalidAMIName.Duplicate' });
      await s.images.insert(image(B, 'same'));
      await s.images.insert({ ...image(A, 'same'), region: 'eu-west-1' });
    }));

    test('inserts made at once: a failing one (duplicate name, missing snapshot) fails alone; the others are stored with their tags', withStore(async (s) => {
      const good = Array.from({ length: 20 }, (_, i) => image(A, `together-${i}`));
      const results = await Promise.allSettled([
        ...good.map((r, i) => s.images.insert(r, { account: A, tags: [{ Key: 'i', Value: String(i) }] })),
        s.images.insert(image(A, 'together-3')),
        s.images.insert(image(A, 'needs-a-snapshot'), undefined, { requireSnapshots: ['snap-0000000000000dead'] }),
      ]);
      // The two inserts named together-3 race: either may win (a store that runs them in
      // parallel, as PostgreSQL does, decides by commit order), and exactly one fails.
      const rivals = [results[3], results[20]];
      assert.deepEqual(rivals.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      assert.equal((rivals.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.code, 'InvalidAMIName.Duplicate');
      const others = results.slice(0, 20).filter((_, i) => i !== 3);
      assert.deepEqual(others.map((r) => r.status), others.map(() => 'fulfilled'));
      assert.equal(results[21].status, 'rejected');
      for (const [i, r] of good.entries()) {
        if (i === 3 && results[3].status === 'rejected') continue;
        assert.deepEqual(await s.images.get(R, r.image.imageId), r);
        const tags = await s.tags.forResources(A, R, [r.image.imageId]);
        assert.deepEqual(tags.get(r.image.imageId), [{ Key: 'i', Value: String(i) }]);
      }
      const names = [];
      for await (const r of s.images.scan({ region: R, visibleTo: { account: A }, ownerIds: [A] })) names.push(r.image.name);
      assert.equal(names.filter((n) => n === 'together-3').length, 1);
      assert.ok(!names.includes('needs-a-snapshot'));
    }));

    test('an image made with a ClientToken is found by it, per region and owner; the token is not reused; it goes with the image', withStore(async (s) => {
      const r = { ...image(A, 'tokened'), clientToken: { token: 'tok-1', requestDigest: 'd1' } };
      await s.images.insert(r);
      const found = await s.images.findByClientToken(R, A, 'tok-1');
      assert.equal(found?.image.imageId, r.image.imageId);
      assert.deepEqual(found?.clientToken, { token: 'tok-1', requestDigest: 'd1' });
      assert.equal(await s.images.findByClientToken(R, B, 'tok-1'), undefined);
      assert.equal(await s.images.findByClientToken('eu-west-1', A, 'tok-1'), undefined);
      await assert.rejects(s.images.insert({ ...image(A, 'other'), clientToken: { token: 'tok-1', requestDigest: 'd2' } }), { code: 'IdempotentParameterMismatch' });
      assert.equal(await s.images.count(), 1, 'nothing of the refused insert is stored');
      await s.images.delete(R, r.image.imageId);
      assert.equal(await s.images.findByClientToken(R, A, 'tok-1'), undefined);
    }));

    test('scan shows a reader its own, public and shared images only, in id order', withStore(async (s) => {
      const mine = image(A, 'mine');
      const theirs = image(B, 'theirs');
      const pub = image(B, 'public');
      pub.launchPermissions = [{ Group: 'all' }];
      const shared = image(B, 'shared');
      shared.launchPermissions = [{ UserId: A }];
      const org = image(B, 'org');
      org.launchPermissions = [{ OrganizationArn: 'arn:aws:organizations::222222222222:organization/o-abcdefghij' }];
      for (const r of [mine, theirs, pub, shared, org]) await s.images.insert(r);
      const seen = await ids(s.images.scan({ region: R, visibleTo: { account: A } }));
      assert.deepEqual(seen, [mine, pub, shared].map((r) => r.image.imageId).sort());
      const member = await ids(s.images.scan({ region: R, visibleTo: { account: A, organizationArn: 'arn:aws:organizations::222222222222:organization/o-abcdefghij' } }));
      assert.ok(member.includes(org.image.imageId));
      const b = await ids(s.images.scan({ region: R, visibleTo: { account: B } }));
      assert.deepEqual(b, [theirs, pub, shared, org].map((r) => r.image.imageId).sort());
    }));

    test('scan applies ids, owners, aliases, executable-by, names, tags and the cursor', withStore(async (s) => {
      const a1 = image(A, 'web-1');
      const a2 = image(A, 'web-2');
      const a3 = image(A, 'db-1');
      const amazon = image('137112412989', 'al2023', { ownerAlias: 'amazon' });
      amazon.launchPermissions = [{ Group: 'all' }];
      const shared = image(B, 'web-shared');
      shared.launchPermissions = [{ UserId: A }];
      for (const r of [a1, a2, a3, amazon, shared]) await s.images.insert(r);
      await s.tags.put(A, R, [{ id: a2.image.imageId, type: 'image' }], [{ Key: 'env', Value: 'prod' }]);
      await s.tags.put(B, R, [{ id: a1.image.imageId, type: 'image' }], [{ Key: 'env', Value: 'prod' }]);
      const q = { region: R, visibleTo: { account: A } };
      assert.deepEqual(await ids(s.images.scan({ ...q, imageIds: [a1.image.imageId, amazon.image.imageId] })), [a1.image.imageId, amazon.image.imageId].sort());
      assert.deepEqual(await ids(s.images.scan({ ...q, ownerIds: [A] })), [a1, a2, a3].map((r) => r.image.imageId).sort());
      assert.deepEqual(await ids(s.images.scan({ ...q, ownerAliases: ['amazon'] })), [amazon.image.imageId]);
      assert.deepEqual(await ids(s.images.scan({ ...q, executableBy: { accounts: [A], includePublic: false, orgs: [] } })), [shared.image.imageId]);
      assert.deepEqual(await ids(s.images.scan({ ...q, executableBy: { accounts: [], includePublic: true, orgs: [] } })), [amazon.image.imageId]);
      assert.deepEqual(await ids(s.images.scan({ ...q, namePatterns: ['web-?'] })), [a1, a2].map((r) => r.image.imageId).sort());
      assert.deepEqual(await ids(s.images.scan({ ...q, namePatterns: ['*shared'] })), [shared.image.imageId]);
      // Tag criteria see only the reader's own tags: B's tag on a1 does not count for A.
      assert.deepEqual(await ids(s.images.scan({ ...q, tagFilters: [{ key: 'env', values: ['pr*'] }] })), [a2.image.imageId]);
      assert.deepEqual(await ids(s.images.scan({ ...q, tagFilters: [{ key: 'env', values: null }] })), [a2.image.imageId]);
      const all = await ids(s.images.scan(q));
      assert.deepEqual(await ids(s.images.scan({ ...q, afterImageId: all[1] })), all.slice(2));
    }));

    test('scan reads lazily past its batch size without losing or repeating rows', withStore(async (s) => {
      const made: string[] = [];
      for (let i = 0; i < 1234; i++) {
        const r = image(A, `bulk-${i}`);
        made.push(r.image.imageId);
        await s.images.insert(r);
      }
      assert.deepEqual(await ids(s.images.scan({ region: R, visibleTo: { account: A } })), made.sort());
      assert.equal(await s.images.count(), 1234);
    }));

    test('deleting an image removes its tags, for every account', withStore(async (s) => {
      const r = image(A, 'tagged');
      await s.images.insert(r, { account: A, tags: [{ Key: 'k', Value: 'v' }] });
      await s.tags.put(B, R, [{ id: r.image.imageId, type: 'image' }], [{ Key: 'b', Value: '1' }]);
      await s.images.delete(R, r.image.imageId);
      assert.equal((await s.tags.forResources(A, R, [r.image.imageId])).size, 0);
      assert.equal((await s.tags.forResources(B, R, [r.image.imageId])).size, 0);
    }));

    test('tags: overwrite, per-account, remove by key or key and value, limit of 50', withStore(async (s) => {
      const res = [{ id: 'ami-0aaaaaaaaaaaaaaaa', type: 'image' }];
      await s.tags.put(A, R, res, [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);
      await s.tags.put(A, R, res, [{ Key: 'a', Value: '3' }]);
      assert.deepEqual((await s.tags.forResources(A, R, [res[0].id])).get(res[0].id), [{ Key: 'a', Value: '3' }, { Key: 'b', Value: '2' }]);
      await s.tags.remove(A, R, [res[0].id], [{ Key: 'b', Value: 'not-2' }]);
      assert.equal((await s.tags.forResources(A, R, [res[0].id])).get(res[0].id)!.length, 2);
      await s.tags.remove(A, R, [res[0].id], [{ Key: 'b' }]);
      assert.deepEqual((await s.tags.forResources(A, R, [res[0].id])).get(res[0].id), [{ Key: 'a', Value: '3' }]);
      const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: '' }));
      await assert.rejects(s.tags.put(A, R, res, many), { code: 'TagLimitExceeded' });
      assert.deepEqual((await s.tags.forResources(A, R, [res[0].id])).get(res[0].id), [{ Key: 'a', Value: '3' }], 'a refused put changes nothing');
      const rows = [];
      for await (const t of s.tags.scan({ account: A, region: R })) rows.push(t);
      assert.deepEqual(rows, [{ resourceId: res[0].id, resourceType: 'image', key: 'a', value: '3' }]);
    }));

    test('snapshots: visibility, block maps, inheritance, diffs, references', withStore(async (s) => {
      const parent = snapshot(A);
      const child = snapshot(A, { parentSnapshotId: parent.snapshotId, state: 'pending' });
      const other = snapshot(B);
      for (const r of [parent, child, other]) await s.snapshots.insert(r);
      await s.snapshots.putBlocks(parent.snapshotId, [{ index: 0, hash: 'a'.repeat(64) }, { index: 5, hash: 'b'.repeat(64) }]);
      await s.snapshots.inheritBlocks(child.snapshotId, parent.snapshotId);
      await s.snapshots.putBlock(child.snapshotId, 5, 'c'.repeat(64));
      await s.snapshots.putBlock(child.snapshotId, 9, 'd'.repeat(64));
      assert.deepEqual(await s.snapshots.blocks(child.snapshotId, 0, 10), [
        { index: 0, hash: 'a'.repeat(64) }, { index: 5, hash: 'c'.repeat(64) }, { index: 9, hash: 'd'.repeat(64) }]);
      assert.deepEqual(await s.snapshots.writtenBlocks(child.snapshotId), [{ index: 5, hash: 'c'.repeat(64) }, { index: 9, hash: 'd'.repeat(64) }]);
      assert.deepEqual(await s.snapshots.changedBlocks(parent.snapshotId, child.snapshotId, 0, 10), [
        { index: 5, firstHash: 'b'.repeat(64), secondHash: 'c'.repeat(64) }, { index: 9, firstHash: undefined, secondHash: 'd'.repeat(64) }]);
      assert.equal(await s.snapshots.block(child.snapshotId, 0), 'a'.repeat(64));
      assert.equal(await s.snapshots.countBlocks(child.snapshotId), 3);
      const visible = [];
      for await (const r of s.snapshots.scan({ region: R, visibleTo: { account: A } })) visible.push(r.snapshotId);
      assert.deepEqual(visible, [parent.snapshotId, child.snapshotId].sort());
      other.createVolumePermissions = [{ UserId: A }];
      await s.snapshots.update(other);
      const shared = [];
      for await (const r of s.snapshots.scan({ region: R, visibleTo: { account: A }, restorableBy: { self: true, accounts: [], includePublic: false } })) shared.push(r.snapshotId);
      assert.deepEqual(shared, [parent.snapshotId, child.snapshotId, other.snapshotId].sort());
      const sharedByA = [];
      for await (const r of s.snapshots.scan({ region: R, visibleTo: { account: B }, restorableBy: { self: false, accounts: [A], includePublic: false } })) sharedByA.push(r.snapshotId);
      assert.deepEqual(sharedByA, [other.snapshotId], 'B\'s own snapshots shared with A');
      assert.deepEqual([...await s.snapshots.referencedHashes(R)].sort(), ['a', 'b', 'c', 'd'].map((c) => c.repeat(64)));
      const usage = await s.snapshots.usage(R, A);
      const childUsage = usage.find((u) => u.snapshotId === child.snapshotId)!;
      assert.equal(childUsage.blocks, 3);
      assert.equal(childUsage.ownBlocks, 2, 'the inherited block is shared with the parent');
      assert.equal((await s.snapshots.inState('pending')).length, 1);
    }));

    test('an image names its snapshots; deleting a snapshot drops its map', withStore(async (s) => {
      const snap = snapshot(A);
      await s.snapshots.insert(snap);
      await s.snapshots.putBlock(snap.snapshotId, 0, 'e'.repeat(64));
      const r = image(A, 'on-snap', { blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: snap.snapshotId } }] });
      await s.images.insert(r);
      assert.deepEqual(await s.snapshots.imagesUsing(R, snap.snapshotId), [r.image.imageId]);
      await s.images.delete(R, r.image.imageId);
      assert.deepEqual(await s.snapshots.imagesUsing(R, snap.snapshotId), []);
      assert.equal(await s.snapshots.delete(R, snap.snapshotId), true);
      assert.equal((await s.snapshots.referencedHashes(R)).size, 0);
      assert.equal(await s.snapshots.get(R, snap.snapshotId), undefined);
    }));

    test('deregistering an image records its snapshots as left behind until an image names them again', withStore(async (s) => {
      const kept = snapshot(A);
      const left = snapshot(A);
      for (const snap of [kept, left]) await s.snapshots.insert(snap);
      await s.snapshots.putBlock(kept.snapshotId, 0, 'f'.repeat(64));
      await s.snapshots.putBlock(left.snapshotId, 0, 'f'.repeat(64));
      await s.snapshots.putBlock(left.snapshotId, 1, '9'.repeat(64));
      const mapping = (id: string) => ({ deviceName: '/dev/xvda', ebs: { snapshotId: id } });
      const gone = image(A, 'gone', { blockDeviceMappings: [mapping(kept.snapshotId), { ...mapping(left.snapshotId), deviceName: '/dev/xvdb' }] });
      const stays = image(A, 'stays', { blockDeviceMappings: [mapping(kept.snapshotId)] });
      await s.images.insert(gone);
      await s.images.insert(stays);
      await s.images.delete(R, gone.image.imageId);
      assert.deepEqual(await s.snapshots.leftBehind(R), [{ snapshotId: left.snapshotId, ownerId: A, imageIds: [gone.image.imageId], volumeIds: [] }]);
      assert.deepEqual(await s.snapshots.leftBehind(R, B), []);
      assert.equal(await s.snapshots.storedBlocksExcluding(R, A, [left.snapshotId]), 1, 'the shared block stays, once');
      assert.equal(await s.snapshots.storedBlocksExcluding(R, A, []), 2);
      await s.snapshots.delete(R, left.snapshotId);
      assert.deepEqual(await s.snapshots.leftBehind(R), [], 'the record goes with the snapshot');
    }));

    test('a snapshot is deleted unless an image names it, and an image is stored only on snapshots that still exist', withStore(async (s) => {
      const used = snapshot(A);
      const free = snapshot(A);
      for (const snap of [used, free]) await s.snapshots.insert(snap);
      const r = image(A, 'on-used', { blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: used.snapshotId } }] });
      await s.images.insert(r, undefined, { requireSnapshots: [used.snapshotId] });
      assert.deepEqual(await s.snapshots.deleteUnlessInUse(R, used.snapshotId), { deleted: false, inUseBy: r.image.imageId });
      assert.ok(await s.snapshots.get(R, used.snapshotId));
      assert.deepEqual(await s.snapshots.deleteUnlessInUse(R, free.snapshotId), { deleted: true });
      const late = image(A, 'on-free', { blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: free.snapshotId } }] });
      await assert.rejects(s.images.insert(late, undefined, { requireSnapshots: [free.snapshotId] }), { code: 'InvalidSnapshot.NotFound' });
      assert.equal(await s.images.get(R, late.image.imageId), undefined, 'nothing of the image is stored');
      assert.deepEqual(await s.snapshots.imagesUsing(R, free.snapshotId), []);
    }));

    test('client tokens find the snapshot they started', withStore(async (s) => {
      const r = snapshot(A, { clientToken: 'token-1', state: 'pending' });
      await s.snapshots.insert(r);
      assert.equal((await s.snapshots.findByClientToken(R, A, 'token-1'))?.snapshotId, r.snapshotId);
      assert.equal(await s.snapshots.findByClientToken(R, B, 'token-1'), undefined);
    }));

    test('kms keys: insert with material, get, update, scan per account in id order, scoped by region', withStore(async (s) => {
      const k1 = kmsKey(A);
      const k2 = kmsKey(A);
      const theirs = kmsKey(B);
      const material = Buffer.from('wrapped material, opaque to the store');
      for (const k of [k1, k2, theirs]) assert.equal(await s.keys.insert(k, material), true);
      assert.deepEqual(await s.keys.get(R, k1.keyId), k1);
      assert.equal(await s.keys.get('eu-west-1', k1.keyId), undefined);
      assert.deepEqual(Buffer.from((await s.keys.material(k1.keyId, 1))!), material);
      assert.equal(await s.keys.material(k1.keyId, 2), undefined);
      k1.state = 'PendingDeletion';
      k1.deletionDate = new Date(86400_000 * 7).toISOString();
      await s.keys.update(k1);
      assert.deepEqual(await s.keys.get(R, k1.keyId), k1);
      assert.deepEqual((await collect(s.keys.scan({ account: A, region: R }))).map((k) => k.keyId), [k1.keyId, k2.keyId]);
      assert.deepEqual((await collect(s.keys.scan({ account: A, region: R, afterKeyId: k1.keyId }))).map((k) => k.keyId), [k2.keyId]);
      assert.deepEqual(await collect(s.keys.scan({ account: A, region: 'eu-west-1' })), []);
    }));

    test('kms aliases: unique per account and region, update, delete, scan by target', withStore(async (s) => {
      const k1 = kmsKey(A);
      const k2 = kmsKey(A);
      await s.keys.insert(k1, Buffer.from('m'));
      await s.keys.insert(k2, Buffer.from('m'));
      assert.equal(await s.keys.insertAlias(kmsAlias(A, 'alias/app', k1.keyId)), true);
      assert.equal(await s.keys.insertAlias(kmsAlias(A, 'alias/app', k2.keyId)), false, 'taken');
      assert.equal(await s.keys.insertAlias(kmsAlias(B, 'alias/app', k2.keyId)), true, 'another account has its own names');
      assert.equal(await s.keys.insertAlias({ ...kmsAlias(A, 'alias/app', k2.keyId), region: 'eu-west-1' }), true);
      await s.keys.insertAlias(kmsAlias(A, 'alias/db', k2.keyId));
      assert.equal((await s.keys.getAlias(A, R, 'alias/app'))?.targetKeyId, k1.keyId);
      assert.equal(await s.keys.updateAlias({ ...kmsAlias(A, 'alias/app', k2.keyId), lastUpdatedDate: new Date(1000).toISOString() }), true);
      const updated = await s.keys.getAlias(A, R, 'alias/app');
      assert.equal(updated?.targetKeyId, k2.keyId);
      assert.equal(updated?.lastUpdatedDate, new Date(1000).toISOString());
      assert.equal(await s.keys.updateAlias(kmsAlias(A, 'alias/none', k2.keyId)), false);
      assert.deepEqual((await collect(s.keys.scanAliases({ account: A, region: R }))).map((a) => a.aliasName), ['alias/app', 'alias/db']);
      assert.deepEqual((await collect(s.keys.scanAliases({ account: A, region: R, targetKeyId: k1.keyId }))), []);
      assert.deepEqual((await collect(s.keys.scanAliases({ account: A, region: R, afterAliasName: 'alias/app' }))).map((a) => a.aliasName), ['alias/db']);
      assert.equal(await s.keys.deleteAlias(A, R, 'alias/db'), true);
      assert.equal(await s.keys.deleteAlias(A, R, 'alias/db'), false);
    }));

    test('kms: a key inserted with a taken alias is not stored at all', withStore(async (s) => {
      const k1 = kmsKey(A);
      await s.keys.insert(k1, Buffer.from('m'), kmsAlias(A, 'alias/aws/ebs', k1.keyId));
      const k2 = kmsKey(A);
      assert.equal(await s.keys.insert(k2, Buffer.from('m'), kmsAlias(A, 'alias/aws/ebs', k2.keyId)), false);
      assert.equal(await s.keys.get(R, k2.keyId), undefined);
      assert.equal(await s.keys.material(k2.keyId, 1), undefined);
      assert.equal((await s.keys.getAlias(A, R, 'alias/aws/ebs'))?.targetKeyId, k1.keyId);
    }));

    test('kms grants: by key and grantee, by retiring principal; deleting a key takes its grants, aliases and material', withStore(async (s) => {
      const key = kmsKey(A);
      await s.keys.insert(key, Buffer.from('m'));
      await s.keys.insertAlias(kmsAlias(A, 'alias/k', key.keyId));
      const g1 = kmsGrant(key, B, { retiringPrincipal: `arn:aws:iam::${A}:root`, constraints: { encryptionContextEquals: { a: '1' } } });
      const g2 = kmsGrant(key, A);
      await s.keys.insertGrant(g1);
      await s.keys.insertGrant(g2);
      assert.deepEqual(await collect(s.keys.grants(key.keyId)), [g1, g2]);
      assert.deepEqual(await collect(s.keys.grants(key.keyId, { granteeAccount: B })), [g1]);
      assert.deepEqual(await collect(s.keys.grants(key.keyId, { grantId: g2.grantId })), [g2]);
      assert.deepEqual(await collect(s.keys.grants(key.keyId, { afterGrantId: g1.grantId })), [g2]);
      assert.deepEqual(await collect(s.keys.retirableBy(R, `arn:aws:iam::${A}:root`)), [g1]);
      assert.deepEqual(await collect(s.keys.retirableBy('eu-west-1', `arn:aws:iam::${A}:root`)), []);
      assert.equal(await s.keys.deleteGrant(key.keyId, g2.grantId), true);
      assert.equal(await s.keys.deleteGrant(key.keyId, g2.grantId), false);
      assert.equal(await s.keys.delete(R, key.keyId), true);
      assert.equal(await s.keys.get(R, key.keyId), undefined);
      assert.equal(await s.keys.material(key.keyId, 1), undefined);
      assert.equal(await s.keys.getAlias(A, R, 'alias/k'), undefined);
      assert.deepEqual(await collect(s.keys.grants(key.keyId)), []);
      assert.equal(await s.keys.delete(R, key.keyId), false);
    }));

    test('kms: reset empties keys but keeps the root key fingerprint', withStore(async (s) => {
      assert.equal(await s.keys.rootKeyFingerprint(), undefined);
      await s.keys.setRootKeyFingerprint('fp-1');
      await s.keys.setRootKeyFingerprint('fp-2');
      const key = kmsKey(A);
      await s.keys.insert(key, Buffer.from('m'), kmsAlias(A, 'alias/x', key.keyId));
      await s.reset();
      assert.equal(await s.keys.get(R, key.keyId), undefined);
      assert.equal(await s.keys.getAlias(A, R, 'alias/x'), undefined);
      assert.equal(await s.keys.rootKeyFingerprint(), 'fp-2');
    }));

    test('instances: insert a reservation with tags, get, update, scan in id order per owner, client tokens, counts and states', withStore(async (s) => {
      const a1 = instance(A, 'i-00000000000000001', { clientToken: 'tok' });
      const a2 = instance(A, 'i-00000000000000002', { clientToken: 'tok' });
      const b1 = instance(B, 'i-00000000000000003');
      await s.instances.insert([a2, a1], { account: A, tags: [{ Key: 'k', Value: 'v' }] });
      await s.instances.insert([b1]);
      assert.deepEqual(await s.instances.get(R, a1.instanceId), a1);
      assert.equal(await s.instances.get('eu-west-1', a1.instanceId), undefined);
      const scanned: string[] = [];
      for await (const r of s.instances.scan({ region: R, ownerId: A })) scanned.push(r.instanceId);
      assert.deepEqual(scanned, [a1.instanceId, a2.instanceId]);
      const after: string[] = [];
      for await (const r of s.instances.scan({ region: R, ownerId: A, afterInstanceId: a1.instanceId, instanceIds: [a1.instanceId, a2.instanceId, b1.instanceId] })) after.push(r.instanceId);
      assert.deepEqual(after, [a2.instanceId]);
      assert.deepEqual((await s.instances.findByClientToken(R, A, 'tok')).map((r) => r.instanceId), [a1.instanceId, a2.instanceId]);
      assert.deepEqual(await s.instances.findByClientToken(R, B, 'tok'), []);
      assert.deepEqual((await s.tags.forResources(A, R, [a1.instanceId])).get(a1.instanceId), [{ Key: 'k', Value: 'v' }]);
      a2.state = 'terminated';
      a2.terminatedAt = '2026-01-01T00:00:00.000Z';
      await s.instances.update(a2);
      assert.equal(await s.instances.countActive(R, A), 1);
      assert.deepEqual((await s.instances.inStates(['pending'])).map((r) => r.instanceId), [a1.instanceId, b1.instanceId]);
      assert.deepEqual((await s.instances.terminatedBefore('2026-01-01T00:00:01.000Z')).map((r) => r.instanceId), [a2.instanceId]);
      assert.deepEqual(await s.instances.terminatedBefore('2025-12-31T00:00:00.000Z'), []);
      assert.equal(await s.instances.delete(R, a1.instanceId), true);
      assert.equal(await s.instances.get(R, a1.instanceId), undefined);
      assert.equal((await s.tags.forResources(A, R, [a1.instanceId])).size, 0, 'its tags go with it');
    }));

    test('instances: private addresses are unique per region, kept per instance, and given again once released', withStore(async (s) => {
      assert.equal(await s.instances.allocateAddress(R, 'i-1', 10, 12), 10);
      assert.equal(await s.instances.allocateAddress(R, 'i-1', 10, 12), 10, 'the same instance keeps its address');
      assert.equal(await s.instances.allocateAddress(R, 'i-2', 10, 12), 11);
      assert.equal(await s.instances.allocateAddress('eu-west-1', 'i-9', 10, 12), 10, 'regions are separate');
      assert.equal(await s.instances.allocateAddress(R, 'i-3', 10, 12), 12);
      assert.equal(await s.instances.allocateAddress(R, 'i-4', 10, 12), undefined, 'the range is full');
      await s.instances.releaseAddress(R, 'i-2');
      assert.equal(await s.instances.allocateAddress(R, 'i-4', 10, 12), 11);
      await s.instances.releaseAddress(R, 'i-1');
      assert.equal(await s.instances.allocateAddress(R, 'i-5', 10, 12), 10);
    }));

    test('instances: private and host addresses past 2^31 (172.31.0.0/16 as a number) are given and read back exactly', withStore(async (s) => {
      const first = (172 * 2 ** 24) + (31 * 2 ** 16) + 16;
      assert.equal(await s.instances.allocateAddress(R, 'i-1', first, first + 9), first);
      assert.equal(await s.instances.allocateAddress(R, 'i-2', first, first + 9), first + 1);
      assert.equal(await s.instances.allocateAddress(R, 'i-1', first, first + 9), first, 'kept, read back as the same number');
      const host = (192 * 2 ** 24) + 10;
      const holder = (instanceId: string) => ({ instanceId, account: A, region: R });
      assert.equal(await s.network.allocateHostAddress(holder('i-0000000000000000a'), host, host + 2), host);
      assert.equal(await s.network.allocateHostAddress(holder('i-0000000000000000b'), host, host + 2), host + 1);
      assert.equal(await s.network.allocateHostAddress(holder('i-0000000000000000a'), host, host + 2), host);
    }));

    test('key pairs: names unique per owner and region, found by name and id, listed by name, deleted with their tags', withStore(async (s) => {
      const k = keyPair(A, 'deploy');
      assert.equal(await s.keyPairs.insert(k, { account: A, tags: [{ Key: 't', Value: '1' }] }), true);
      assert.equal(await s.keyPairs.insert({ ...keyPair(A, 'deploy') }), false);
      assert.equal(await s.keyPairs.insert(keyPair(B, 'deploy')), true, 'another owner may use the name');
      assert.equal(await s.keyPairs.insert(keyPair(A, 'another')), true);
      assert.deepEqual(await s.keyPairs.byName(R, A, 'deploy'), k);
      assert.deepEqual(await s.keyPairs.byId(R, A, k.keyPairId), k);
      assert.equal(await s.keyPairs.byId(R, B, k.keyPairId), undefined);
      assert.deepEqual((await s.keyPairs.list(R, A)).map((x) => x.keyName), ['another', 'deploy']);
      assert.equal(await s.keyPairs.delete(R, k.keyPairId), true);
      assert.equal(await s.keyPairs.byName(R, A, 'deploy'), undefined);
      assert.equal((await s.tags.forResources(A, R, [k.keyPairId])).size, 0);
    }));

    test('volumes attached to instances; images by state', withStore(async (s) => {
      const base = { region: R, ownerId: A, size: 1, volumeType: 'gp2', availabilityZone: 'us-east-1a', createTime: new Date(0).toISOString(), encrypted: false };
      const attach = (instanceId: string, state: 'attached' | 'detached') => [{ instanceId, device: '/dev/sdf', state, attachTime: base.createTime, deleteOnTermination: false }];
      await s.volumes.insert({ ...base, volumeId: 'vol-00000000000000001', state: 'in-use', attachments: attach('i-1', 'attached') });
      await s.volumes.insert({ ...base, volumeId: 'vol-00000000000000002', state: 'in-use', attachments: attach('i-2', 'attached') });
      await s.volumes.insert({ ...base, volumeId: 'vol-00000000000000003', state: 'available', attachments: attach('i-1', 'detached') });
      await s.volumes.insert({ ...base, ownerId: B, volumeId: 'vol-00000000000000004', state: 'in-use', attachments: attach('i-1', 'attached') });
      assert.deepEqual((await s.volumes.attachedTo(R, A, ['i-1'])).map((v) => v.volumeId), ['vol-00000000000000001']);
      assert.deepEqual((await s.volumes.attachedTo(R, A, ['i-1', 'i-2'])).map((v) => v.volumeId), ['vol-00000000000000001', 'vol-00000000000000002']);
      assert.deepEqual(await s.volumes.attachedTo(R, A, []), []);
      const pending = image(A, 'pending-one', { state: 'pending' });
      await s.images.insert(pending);
      await s.images.insert(image(A, 'available-one'));
      assert.deepEqual((await s.images.inState('pending')).map((r) => r.image.imageId), [pending.image.imageId]);
    }));

    test('encrypted block maps: checksums beside stored hashes survive inheritance, volume snapshots and adoption', withStore(async (s) => {
      const h = (c: string) => c.repeat(64);
      const snap = snapshot(A, { encrypted: true, kmsKeyId: 'arn:aws:kms:us-east-1:111111111111:key/k', dataKey: { wrapped: 'AA==', lineage: 'snap-1' } });
      await s.snapshots.insert(snap);
      assert.deepEqual((await s.snapshots.get(R, snap.snapshotId))!.dataKey, { wrapped: 'AA==', lineage: 'snap-1' });
      await s.snapshots.putBlock(snap.snapshotId, 0, h('a'), h('1'));
      await s.snapshots.putBlocks(snap.snapshotId, [{ index: 1, hash: h('b'), checksum: h('2') }, { index: 2, hash: h('c') }]);
      assert.deepEqual(await s.snapshots.entry(snap.snapshotId, 0), { index: 0, hash: h('a'), checksum: h('1') });
      assert.deepEqual(await s.snapshots.entry(snap.snapshotId, 2), { index: 2, hash: h('c') });
      assert.equal(await s.snapshots.entry(snap.snapshotId, 3), undefined);
      assert.deepEqual(await s.snapshots.writtenBlocks(snap.snapshotId), [
        { index: 0, hash: h('a'), checksum: h('1') }, { index: 1, hash: h('b'), checksum: h('2') }, { index: 2, hash: h('c') }]);
      const child = snapshot(A, { state: 'pending' });
      await s.snapshots.insert(child);
      await s.snapshots.inheritBlocks(child.snapshotId, snap.snapshotId);
      assert.deepEqual(await s.snapshots.entry(child.snapshotId, 1), { index: 1, hash: h('b'), checksum: h('2') });
      const vol = { region: R, ownerId: A, size: 1, volumeType: 'gp2', availabilityZone: 'us-east-1a', createTime: new Date(0).toISOString(),
        encrypted: true, volumeId: 'vol-00000000000000009', state: 'available' as const, attachments: [], snapshotId: snap.snapshotId };
      await s.volumes.insert(vol);
      await s.volumes.putBlock(vol.volumeId, 1, h('d'), h('3'));
      assert.deepEqual(await s.volumes.entry(vol.volumeId, 1), { index: 1, hash: h('d'), checksum: h('3') });
      assert.deepEqual(await s.volumes.ownBlocks(vol.volumeId), [{ index: 1, hash: h('d'), checksum: h('3') }]);
      const taken = snapshot(A, { state: 'pending' });
      await s.snapshots.insert(taken);
      await s.volumes.snapshotVolumes([{ volumeId: vol.volumeId, snapshotId: taken.snapshotId, parentSnapshotId: snap.snapshotId }]);
      assert.deepEqual(await s.snapshots.blocks(taken.snapshotId, 0, 10), [
        { index: 0, hash: h('a'), checksum: h('1') }, { index: 1, hash: h('d'), checksum: h('3') }, { index: 2, hash: h('c') }]);
      await s.volumes.adoptSnapshotBlocks(snap.snapshotId);
      assert.deepEqual(await s.volumes.entry(vol.volumeId, 0), { index: 0, hash: h('a'), checksum: h('1') });
    }));

    test('volumes: the small-write journal keeps the newest page, goes when its block is mapped whole, and with the volume', withStore(async (s) => {
      const h = (c: string) => c.repeat(64);
      const vol = { region: R, ownerId: A, size: 1, volumeType: 'gp3', availabilityZone: 'us-east-1a', createTime: new Date(0).toISOString(),
        encrypted: false, volumeId: 'vol-0000000000000000a', state: 'in-use' as const, attachments: [] };
      await s.volumes.insert(vol);
      const page = (index: number, p: number, fill: number) => ({ index, page: p, data: Buffer.alloc(4096, fill) });
      await s.volumes.commitWrites(vol.volumeId, { blocks: [], pages: [page(3, 7, 1), page(3, 2, 2), page(4, 0, 3)] });
      await s.volumes.commitWrites(vol.volumeId, { blocks: [], pages: [page(3, 7, 9)] });
      const pages = await s.volumes.journalPages(vol.volumeId, 3);
      assert.deepEqual(pages.map((p) => [p.index, p.page, p.data[0], p.data.length]), [[3, 2, 2, 4096], [3, 7, 9, 4096]], 'in page order, the newest version');
      assert.deepEqual(await s.volumes.journalIndex(vol.volumeId), [{ index: 3, page: 2 }, { index: 3, page: 7 }, { index: 4, page: 0 }]);
      // Block 3 stored whole: mapped, and its pages dropped in the same transaction.
      await s.volumes.commitWrites(vol.volumeId, { blocks: [{ index: 3, hash: h('e') }], pages: [page(5, 1, 4)] });
      assert.deepEqual(await s.volumes.entry(vol.volumeId, 3), { index: 3, hash: h('e') });
      assert.deepEqual(await s.volumes.journalIndex(vol.volumeId), [{ index: 4, page: 0 }, { index: 5, page: 1 }]);
      await s.volumes.delete(R, vol.volumeId);
      assert.deepEqual(await s.volumes.journalIndex(vol.volumeId), []);
    }));

    test('account settings: EBS encryption defaults per account and region', withStore(async (s) => {
      assert.deepEqual(await s.accountSettings.ebsEncryption(A, R), { encryptByDefault: false });
      await s.accountSettings.setEbsEncryption(A, R, { encryptByDefault: true, kmsKeyId: 'arn:aws:kms:us-east-1:111111111111:key/k' });
      assert.deepEqual(await s.accountSettings.ebsEncryption(A, R), { encryptByDefault: true, kmsKeyId: 'arn:aws:kms:us-east-1:111111111111:key/k' });
      assert.deepEqual(await s.accountSettings.ebsEncryption(B, R), { encryptByDefault: false });
      assert.deepEqual(await s.accountSettings.ebsEncryption(A, 'eu-west-1'), { encryptByDefault: false });
      await s.reset();
      assert.deepEqual(await s.accountSettings.ebsEncryption(A, R), { encryptByDefault: false });
    }));

    test('recycle bin: rules are per account and region', withStore(async (s) => {
      const rule = (account: string, ruleId: string, region = R): RetentionRuleRecord => ({
        account, region, ruleId, resourceType: 'EBS_SNAPSHOT', retentionDays: 7, description: '', resourceTags: [],
        excludeResourceTags: [], tags: [], createdAt: new Date(0).toISOString(),
      });
      await s.recycleBin.insertRule(rule(A, 'bbbbbbbbbbb'));
      await s.recycleBin.insertRule(rule(A, 'aaaaaaaaaaa'));
      await s.recycleBin.insertRule(rule(B, 'ccccccccccc'));
      await s.recycleBin.insertRule(rule(A, 'ddddddddddd', 'eu-west-1'));
      assert.deepEqual((await s.recycleBin.listRules(A, R)).map((r) => r.ruleId), ['aaaaaaaaaaa', 'bbbbbbbbbbb']);
      assert.deepEqual(await s.recycleBin.listRules(A, R, 'EC2_IMAGE'), []);
      assert.equal(await s.recycleBin.getRule(B, R, 'aaaaaaaaaaa'), undefined);
      await s.recycleBin.updateRule({ ...rule(A, 'aaaaaaaaaaa'), retentionDays: 30 });
      assert.equal((await s.recycleBin.getRule(A, R, 'aaaaaaaaaaa'))?.retentionDays, 30);
      assert.equal(await s.recycleBin.deleteRule(B, R, 'aaaaaaaaaaa'), false);
      assert.equal(await s.recycleBin.deleteRule(A, R, 'aaaaaaaaaaa'), true);
      assert.equal(await s.recycleBin.getRule(A, R, 'aaaaaaaaaaa'), undefined);
    }));

    test('recycle bin: a binned snapshot leaves the snapshot tables but keeps its block map until purged', withStore(async (s) => {
      const snap = snapshot(A, { createVolumePermissions: [{ UserId: B }] });
      await s.snapshots.insert(snap, { account: A, tags: [{ Key: 'k', Value: 'v' }] });
      await s.snapshots.putBlocks(snap.snapshotId, [{ index: 0, hash: 'e'.repeat(64) }]);
      const entry: BinnedSnapshot = {
        resourceType: 'EBS_SNAPSHOT', account: A, region: R, resourceId: snap.snapshotId, snapshot: snap, tags: [{ Key: 'k', Value: 'v' }],
        enterTime: new Date(1000).toISOString(), exitTime: new Date(5000).toISOString(),
      };
      assert.deepEqual(await s.recycleBin.binSnapshot(entry), { binned: true });
      assert.equal(await s.snapshots.get(R, snap.snapshotId), undefined);
      assert.equal((await s.tags.forResources(A, R, [snap.snapshotId])).size, 0);
      assert.equal((await s.snapshots.referencedHashes(R)).size, 0);
      assert.deepEqual([...await s.recycleBin.referencedHashes(R)], ['e'.repeat(64)]);
      assert.deepEqual(await s.recycleBin.getBinned(A, R, 'EBS_SNAPSHOT', snap.snapshotId), entry);
      assert.equal(await s.recycleBin.getBinned(B, R, 'EBS_SNAPSHOT', snap.snapshotId), undefined);
      assert.deepEqual(await s.recycleBin.listBinned({ account: B, region: R, resourceType: 'EBS_SNAPSHOT', limit: 10 }), []);
      assert.deepEqual((await s.recycleBin.listBinned({ account: A, region: R, resourceType: 'EBS_SNAPSHOT', limit: 10 })).map((e) => e.resourceId), [snap.snapshotId]);
      assert.deepEqual(await s.recycleBin.expired(new Date(4999).toISOString()), []);

      await s.recycleBin.restore(entry);
      assert.deepEqual(await s.snapshots.get(R, snap.snapshotId), snap);
      assert.deepEqual((await s.tags.forResources(A, R, [snap.snapshotId])).get(snap.snapshotId), [{ Key: 'k', Value: 'v' }]);
      assert.deepEqual(await s.snapshots.blocks(snap.snapshotId, 0, 10), [{ index: 0, hash: 'e'.repeat(64) }]);
      assert.equal(await s.recycleBin.getBinned(A, R, 'EBS_SNAPSHOT', snap.snapshotId), undefined);

      await s.recycleBin.binSnapshot(entry);
      assert.deepEqual((await s.recycleBin.expired(new Date(5000).toISOString())).map((e) => e.resourceId), [snap.snapshotId]);
      await s.recycleBin.purge(entry);
      assert.equal((await s.recycleBin.referencedHashes(R)).size, 0);
      assert.deepEqual(await s.snapshots.blocks(snap.snapshotId, 0, 10), []);
    }));

    test('recycle bin: a snapshot goes to the bin unless an image names it, checked in the same transaction', withStore(async (s) => {
      const used = snapshot(A);
      const free = snapshot(A);
      for (const snap of [used, free]) await s.snapshots.insert(snap, { account: A, tags: [{ Key: 'k', Value: 'v' }] });
      const entry = (snap: SnapshotRecord): BinnedSnapshot => ({
        resourceType: 'EBS_SNAPSHOT', account: A, region: R, resourceId: snap.snapshotId, snapshot: snap, tags: [],
        enterTime: new Date(0).toISOString(), exitTime: new Date(1000).toISOString(),
      });
      const r = image(A, 'on-used', { blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: used.snapshotId } }] });
      await s.images.insert(r, undefined, { requireSnapshots: [used.snapshotId] });
      assert.deepEqual(await s.recycleBin.binSnapshot(entry(used)), { binned: false, inUseBy: r.image.imageId });
      assert.ok(await s.snapshots.get(R, used.snapshotId), 'the snapshot stays live');
      assert.equal((await s.tags.forResources(A, R, [used.snapshotId])).size, 1, 'with its tags');
      assert.equal(await s.recycleBin.getBinned(A, R, 'EBS_SNAPSHOT', used.snapshotId), undefined, 'and no bin entry');
      // Binned first, the snapshot is gone for RegisterImage: no image can name a binned snapshot.
      assert.deepEqual(await s.recycleBin.binSnapshot(entry(free)), { binned: true });
      const late = image(A, 'on-binned', { blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: free.snapshotId } }] });
      await assert.rejects(s.images.insert(late, undefined, { requireSnapshots: [free.snapshotId] }), { code: 'InvalidSnapshot.NotFound' });
      assert.equal(await s.images.get(R, late.image.imageId), undefined);
      // Already gone (binned or deleted by another request): nothing is written twice.
      assert.deepEqual(await s.recycleBin.binSnapshot(entry(free)), { binned: false });
      assert.equal((await s.recycleBin.listBinned({ account: A, region: R, resourceType: 'EBS_SNAPSHOT', limit: 10 })).length, 1);
    }));

    test('recycle bin: binned snapshots are billed; an image in the bin keeps its snapshots from clean-up', withStore(async (s) => {
      const kept = snapshot(A);
      const named = snapshot(A);
      for (const snap of [kept, named]) await s.snapshots.insert(snap);
      await s.snapshots.putBlocks(kept.snapshotId, [{ index: 0, hash: 'f'.repeat(64) }]);
      const until = new Date(1000).toISOString();
      await s.recycleBin.binSnapshot({
        resourceType: 'EBS_SNAPSHOT', account: A, region: R, resourceId: kept.snapshotId, snapshot: kept, tags: [], enterTime: new Date(0).toISOString(), exitTime: until,
      });
      // Deleting a binned snapshot's id (another request got there first) leaves its block map alone.
      assert.deepEqual(await s.snapshots.deleteUnlessInUse(R, kept.snapshotId), { deleted: false });
      assert.equal(await s.snapshots.delete(R, kept.snapshotId), false);
      assert.deepEqual([...await s.recycleBin.referencedHashes(R)], ['f'.repeat(64)]);
      assert.deepEqual((await s.snapshots.usage(R, A)).find((u) => u.snapshotId === kept.snapshotId),
        { snapshotId: kept.snapshotId, ownerId: A, blocks: 1, ownBlocks: 1, inRecycleBinUntil: until });
      assert.equal((await s.snapshots.storedBlocksByOwner(R)).get(A), 1);
      assert.equal(await s.snapshots.storedBlocksExcluding(R, A, []), 1);
      assert.deepEqual(await s.snapshots.usage(R, B), []);

      const gone = image(A, 'gone', { blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: named.snapshotId } }] });
      const binned = image(A, 'binned', { blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: named.snapshotId } }] });
      for (const i of [gone, binned]) await s.images.insert(i);
      await s.images.delete(R, gone.image.imageId);
      await s.recycleBin.binImage({
        resourceType: 'EC2_IMAGE', account: A, region: R, resourceId: binned.image.imageId, image: binned, tags: [], enterTime: new Date(0).toISOString(), exitTime: until,
      });
      assert.deepEqual(await s.snapshots.leftBehind(R), [], 'an image in the bin may be restored: its snapshot is not left behind');
      assert.deepEqual((await s.snapshots.usage(R, A)).find((u) => u.snapshotId === named.snapshotId)?.binnedImages, [{ imageId: binned.image.imageId, until }]);
      assert.deepEqual(await s.snapshots.deleteUnlessInUse(R, named.snapshotId, { binnedImagesToo: true }), { deleted: false, inUseBy: binned.image.imageId });
      assert.ok(await s.snapshots.get(R, named.snapshotId));
      assert.deepEqual(await s.snapshots.deleteUnlessInUse(R, named.snapshotId), { deleted: true }, 'DeleteSnapshot may delete it, as AWS allows');
    }));

    test('recycle bin: the owner\'s tags kept with an entry can be changed, and are restored as changed', withStore(async (s) => {
      const snap = snapshot(A);
      await s.snapshots.insert(snap, { account: A, tags: [{ Key: 'k', Value: 'v' }] });
      const entry: BinnedSnapshot = {
        resourceType: 'EBS_SNAPSHOT', account: A, region: R, resourceId: snap.snapshotId, snapshot: snap, tags: [{ Key: 'k', Value: 'v' }],
        enterTime: new Date(0).toISOString(), exitTime: new Date(1000).toISOString(),
      };
      await s.recycleBin.binSnapshot(entry);
      assert.equal(await s.recycleBin.retag(B, R, snap.snapshotId, () => []), false, 'another account has no such entry');
      assert.equal(await s.recycleBin.retag(A, 'eu-west-1', snap.snapshotId, () => []), false);
      assert.equal(await s.recycleBin.retag(A, R, snap.snapshotId, (old) => [...old, { Key: 'n', Value: 'w' }]), true);
      const kept = await s.recycleBin.getBinned(A, R, 'EBS_SNAPSHOT', snap.snapshotId);
      assert.deepEqual(kept?.tags, [{ Key: 'k', Value: 'v' }, { Key: 'n', Value: 'w' }]);
      const scanned = async (account: string) => {
        const out = [];
        for await (const t of s.tags.scan({ account, region: R, resourceIds: [snap.snapshotId] })) out.push(`${t.resourceType} ${t.key}=${t.value}`);
        return out;
      };
      assert.deepEqual(await scanned(A), ['snapshot aws:recycle-bin:resource-in-bin=true', 'snapshot k=v', 'snapshot n=w'], 'listed with the system tag');
      assert.deepEqual(await scanned(B), []);
      await s.recycleBin.restore(kept!);
      assert.deepEqual((await s.tags.forResources(A, R, [snap.snapshotId])).get(snap.snapshotId), [{ Key: 'k', Value: 'v' }, { Key: 'n', Value: 'w' }]);
      assert.deepEqual(await scanned(A), ['snapshot k=v', 'snapshot n=w'], 'restored, the system tag is gone');
    }));

    test('recycle bin: a binned image frees its name and snapshot references; restore puts them back', withStore(async (s) => {
      const snap = snapshot(A);
      await s.snapshots.insert(snap);
      const img = image(A, 'binned', { blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: snap.snapshotId } }] });
      img.launchPermissions = [{ UserId: B }];
      await s.images.insert(img, { account: A, tags: [{ Key: 'stage', Value: 'gold' }] });
      const entry: BinnedImage = {
        resourceType: 'EC2_IMAGE', account: A, region: R, resourceId: img.image.imageId, image: img, tags: [{ Key: 'stage', Value: 'gold' }],
        enterTime: new Date(0).toISOString(), exitTime: new Date(1000).toISOString(),
      };
      await s.recycleBin.binImage(entry);
      assert.equal(await s.images.get(R, img.image.imageId), undefined);
      assert.deepEqual(await s.snapshots.imagesUsing(R, snap.snapshotId), []);
      await s.recycleBin.restore(entry);
      assert.deepEqual(await s.images.get(R, img.image.imageId), img);
      assert.deepEqual(await s.snapshots.imagesUsing(R, snap.snapshotId), [img.image.imageId]);
      assert.deepEqual((await s.tags.forResources(A, R, [img.image.imageId])).get(img.image.imageId), [{ Key: 'stage', Value: 'gold' }]);
      // A name taken while the image was in the bin: the restore fails whole.
      await s.recycleBin.binImage(entry);
      await s.images.insert(image(A, 'binned'));
      await assert.rejects(s.recycleBin.restore(entry), { code: 'InvalidAMIName.Duplicate' });
      assert.ok(await s.recycleBin.getBinned(A, R, 'EC2_IMAGE', img.image.imageId));
      // Purged for good, its snapshot is left behind by a deregistered image.
      assert.deepEqual(await s.snapshots.leftBehind(R, A), []);
      await s.recycleBin.purge(entry);
      assert.deepEqual((await s.snapshots.leftBehind(R, A)).map((x) => [x.snapshotId, x.imageIds]), [[snap.snapshotId, [img.image.imageId]]]);
    }));

    test('account settings: block public access per account, region and kind of resource', withStore(async (s) => {
      assert.equal(await s.accountSettings.blockPublicAccess(A, R, 'image'), 'unblocked');
      assert.equal(await s.accountSettings.blockPublicAccess(A, R, 'snapshot'), 'unblocked');
      await s.accountSettings.setBlockPublicAccess(A, R, 'image', 'block-new-sharing');
      await s.accountSettings.setBlockPublicAccess(A, R, 'snapshot', 'block-all-sharing');
      assert.equal(await s.accountSettings.blockPublicAccess(A, R, 'image'), 'block-new-sharing');
      assert.equal(await s.accountSettings.blockPublicAccess(A, R, 'snapshot'), 'block-all-sharing');
      assert.equal(await s.accountSettings.blockPublicAccess(B, R, 'image'), 'unblocked');
      assert.equal(await s.accountSettings.blockPublicAccess(A, 'eu-west-1', 'snapshot'), 'unblocked');
      // The settings are apart from EBS encryption's, which shares the table.
      assert.deepEqual(await s.accountSettings.ebsEncryption(A, R), { encryptByDefault: false });
      await s.accountSettings.setBlockPublicAccess(A, R, 'snapshot', 'unblocked');
      assert.equal(await s.accountSettings.blockPublicAccess(A, R, 'snapshot'), 'unblocked');
      await s.reset();
      assert.equal(await s.accountSettings.blockPublicAccess(A, R, 'image'), 'unblocked');
    }));

    test('account settings: Allowed AMIs per account and region, criteria kept as given', withStore(async (s) => {
      const off = { state: 'disabled', criteria: [] };
      assert.deepEqual(await s.accountSettings.allowedImages(A, R), off);
      const criteria = [{ ImageProviders: ['amazon', B] }, { ImageNames: ['golden-*'], CreationDateCondition: { MaximumDaysSinceCreated: 30 } }];
      await s.accountSettings.setAllowedImages(A, R, { state: 'audit-mode', criteria });
      assert.deepEqual(await s.accountSettings.allowedImages(A, R), { state: 'audit-mode', criteria });
      assert.deepEqual(await s.accountSettings.allowedImages(B, R), off);
      assert.deepEqual(await s.accountSettings.allowedImages(A, 'eu-west-1'), off);
      // The two kinds of settings of one account and region are apart.
      assert.deepEqual(await s.accountSettings.ebsEncryption(A, R), { encryptByDefault: false });
      await s.accountSettings.setAllowedImages(A, R, { state: 'enabled', criteria: [] });
      assert.deepEqual(await s.accountSettings.allowedImages(A, R), { state: 'enabled', criteria: [] });
      await s.reset();
      assert.deepEqual(await s.accountSettings.allowedImages(A, R), off);
    }));

    test('network: the default network is stored once, per account and region', withStore(async (s) => {
      const n = network(A);
      await s.network.ensureDefaultNetwork(n);
      const again = network(A);
      again.defaultGroup.groupName = 'default';
      await s.network.ensureDefaultNetwork(again);
      assert.deepEqual(await s.network.vpcs(A, R), [n.vpc]);
      assert.deepEqual(await s.network.subnets(A, R), n.subnets);
      assert.deepEqual(await s.network.groups(A, R), [n.defaultGroup], 'the second call stored nothing');
      assert.deepEqual(await s.network.vpcs(B, R), []);
      assert.deepEqual(await s.network.vpcs(A, 'eu-west-1'), []);
    }));

    test('network: groups are unique by name per VPC, scoped by account and region, deleted with their tags', withStore(async (s) => {
      const n = network(A);
      await s.network.ensureDefaultNetwork(n);
      const web = group(A, n.vpc.vpcId, 'web');
      assert.equal(await s.network.insertGroup(web, [{ Key: 'team', Value: 'ops' }]), true);
      assert.equal(await s.network.insertGroup(group(A, n.vpc.vpcId, 'web')), false);
      assert.equal(await s.network.insertGroup(group(B, 'vpc-0b', 'web')), true, 'another account may use the name');
      assert.deepEqual(await s.network.group(A, R, web.groupId), web);
      assert.equal(await s.network.group(B, R, web.groupId), undefined, 'never another account\'s');
      assert.equal(await s.network.group(A, 'eu-west-1', web.groupId), undefined);
      assert.deepEqual(await s.network.groupByName(A, R, n.vpc.vpcId, 'web'), web);
      assert.deepEqual((await s.tags.forResources(A, R, [web.groupId])).get(web.groupId), [{ Key: 'team', Value: 'ops' }]);
      web.rules.push({ ruleId: 'sgr-0aaaaaaaaaaaaaaaa', egress: false, protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' });
      await s.network.updateGroup(web);
      assert.deepEqual((await s.network.group(A, R, web.groupId))!.rules, web.rules);
      assert.deepEqual((await s.network.groups(A, R)).map((g) => g.groupId), [n.defaultGroup.groupId, web.groupId].sort());
      assert.equal(await s.network.deleteGroup(B, R, web.groupId), false);
      assert.equal(await s.network.deleteGroup(A, R, web.groupId), true);
      assert.equal(await s.network.group(A, R, web.groupId), undefined);
      assert.equal((await s.tags.forResources(A, R, [web.groupId])).get(web.groupId), undefined);
    }));

    test('network: host addresses are unique across regions and accounts, kept per instance, reused once released', withStore(async (s) => {
      const holder = (instanceId: string) => ({ instanceId, account: instanceId.endsWith('a') ? A : B, region: instanceId.endsWith('c') ? 'eu-west-1' : R });
      const a = await s.network.allocateHostAddress(holder('i-0000000000000000a'), 100, 102);
      const b = await s.network.allocateHostAddress(holder('i-0000000000000000b'), 100, 102);
      assert.equal(await s.network.allocateHostAddress(holder('i-0000000000000000a'), 100, 102), a, 'the one it holds');
      const c = await s.network.allocateHostAddress(holder('i-0000000000000000c'), 100, 102);
      assert.deepEqual([a, b, c].sort(), [100, 101, 102]);
      assert.equal(await s.network.allocateHostAddress(holder('i-0000000000000000d'), 100, 102), undefined, 'full');
      await s.network.releaseHostAddress('i-0000000000000000b');
      assert.equal(await s.network.allocateHostAddress(holder('i-0000000000000000d'), 100, 102), b);
      await s.reset();
      assert.equal(await s.network.allocateHostAddress(holder('i-0000000000000000e'), 100, 102), 100);
      assert.deepEqual(await s.network.vpcs(A, R), []);
    }));

    test('image builder: records insert once, list by owner, kind, parent and state, update atomically, reset', withStore(async (s) => {
      const rec = (arn: string, account: string, extra: Partial<IbRecord> = {}): IbRecord => ({
        arn, kind: 'component', account, region: R, name: arn.split('/')[1], version: '1.0.0', build: 1,
        doc: { data: arn }, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', ...extra,
      });
      const one = rec(`arn:aws:imagebuilder:${R}:${A}:component/one/1.0.0/1`, A);
      assert.equal(await s.imageBuilder.insert(one), true);
      assert.equal(await s.imageBuilder.insert({ ...one, doc: { data: 'other' } }), false, 'the ARN is taken');
      assert.deepEqual(await s.imageBuilder.get(one.arn), one);
      const two = rec(`arn:aws:imagebuilder:${R}:${A}:component/one/1.0.0/2`, A, { build: 2, createdAt: '2026-01-02T00:00:00.000Z' });
      const theirs = rec(`arn:aws:imagebuilder:${R}:${B}:component/one/1.0.0/1`, B);
      const exec = rec('wf-1', A, { kind: 'workflow-execution', name: 'wf-1', version: undefined, build: undefined, parent: one.arn, state: 'RUNNING' });
      for (const r of [two, theirs, exec]) await s.imageBuilder.insert(r);
      assert.deepEqual((await s.imageBuilder.list({ kind: 'component', account: A, region: R })).map((r) => r.arn), [one.arn, two.arn]);
      assert.deepEqual((await s.imageBuilder.list({ kind: 'component', account: A, region: 'eu-west-1' })), []);
      assert.deepEqual((await s.imageBuilder.list({ kind: 'workflow-execution', parent: one.arn, states: ['RUNNING'] })).map((r) => r.arn), ['wf-1']);
      assert.deepEqual(await s.imageBuilder.list({ kind: 'workflow-execution', states: [] }), []);
      const updated = await s.imageBuilder.update('wf-1', (r) => ({ ...r, state: 'COMPLETED', doc: { ...r.doc, done: true } }));
      assert.equal(updated?.state, 'COMPLETED');
      assert.deepEqual((await s.imageBuilder.get('wf-1'))?.doc, { data: 'wf-1', done: true });
      assert.equal(await s.imageBuilder.update('wf-1', () => undefined), undefined, 'left as it was');
      assert.equal(await s.imageBuilder.update('missing', (r) => r), undefined);
      const tied = ['wf-z', 'wf-a', 'wf-m'].map((id) => rec(id, A, { kind: 'workflow-execution', name: id, version: undefined, build: undefined, parent: two.arn }));
      for (const r of tied) await s.imageBuilder.insert(r);
      await s.imageBuilder.update('wf-z', (r) => ({ ...r, state: 'DONE' }));
      await s.imageBuilder.put({ ...tied[1], state: 'DONE' });
      assert.deepEqual((await s.imageBuilder.list({ kind: 'workflow-execution', parent: two.arn })).map((r) => r.arn), ['wf-z', 'wf-a', 'wf-m'],
        'created in the same millisecond: in the order inserted, whatever was updated since');
      assert.equal(await s.imageBuilder.delete(two.arn), true);
      assert.equal(await s.imageBuilder.delete(two.arn), false);
      await s.reset();
      assert.equal(await s.imageBuilder.get(one.arn), undefined);
    }));

    test('a snapshot update with ifState writes only while the stored state is that one', withStore(async (s) => {
      const snap = snapshot(A, { state: 'pending', progress: 0 });
      await s.snapshots.insert(snap);
      const stale = structuredClone(snap);
      assert.equal(await s.snapshots.update({ ...snap, state: 'completed', progress: 100 }, { ifState: 'pending' }), true);
      assert.equal(await s.snapshots.update({ ...stale, progress: 40 }, { ifState: 'pending' }), false, 'a stale pending record is not written back');
      assert.equal(await s.snapshots.update({ ...stale, state: 'error' }, { ifState: 'pending' }), false);
      const now = await s.snapshots.get(R, snap.snapshotId);
      assert.equal(now?.state, 'completed');
      assert.equal(now?.progress, 100);
      assert.equal(await s.snapshots.update({ ...now!, description: 'plain update' }), true);
      assert.equal(await s.snapshots.update(snapshot(A)), false, 'nothing to update');
    }));

    test('a work lease is held by one node at a time until it expires', withStore(async (s) => {
      const t0 = new Date('2026-01-01T00:00:00Z');
      const at = (ms: number) => new Date(t0.getTime() + ms);
      assert.equal(await s.leases.acquire('gc', 'node-a', 3000, t0), true);
      assert.equal(await s.leases.acquire('gc', 'node-b', 3000, at(1000)), false, 'another holder waits for expiry');
      assert.equal(await s.leases.acquire('gc', 'node-a', 3000, at(2000)), true, 'the holder renews by acquiring again');
      assert.equal(await s.leases.acquire('gc', 'node-b', 3000, at(4999)), false, 'renewed until 5000');
      assert.equal(await s.leases.acquire('gc', 'node-b', 3000, at(5000)), true, 'expired: taken over');
      assert.deepEqual(await s.leases.held(), [{ name: 'gc', holder: 'node-b', expiresAt: at(8000) }]);
      assert.deepEqual(await s.leases.renew(['gc'], 'node-a', 3000, at(5100)), [], 'the old holder cannot renew');
      await s.leases.release('gc', 'node-a');
      assert.equal((await s.leases.held('node-b')).length, 1, 'nor release another holder\'s lease');
      await s.leases.release('gc', 'node-b');
      assert.deepEqual(await s.leases.held(), []);
      assert.equal(await s.leases.acquire('gc', 'node-a', 3000, at(5200)), true, 'released: free at once');
    }));

    test('work leases renew only what the holder holds; held lists by holder', withStore(async (s) => {
      const t0 = new Date('2026-01-01T00:00:00Z');
      await s.leases.acquire('copy:1', 'node-a', 1000, t0);
      await s.leases.acquire('copy:2', 'node-a', 1000, t0);
      await s.leases.acquire('copy:3', 'node-b', 1000, t0);
      const renewed = await s.leases.renew(['copy:1', 'copy:2', 'copy:3', 'copy:missing'], 'node-a', 5000, new Date(t0.getTime() + 500));
      assert.deepEqual(renewed.sort(), ['copy:1', 'copy:2']);
      assert.deepEqual((await s.leases.held('node-a')).map((l) => [l.name, l.expiresAt.getTime() - t0.getTime()]), [['copy:1', 5500], ['copy:2', 5500]]);
      assert.deepEqual((await s.leases.held('node-b')).map((l) => l.name), ['copy:3']);
      assert.deepEqual(await s.leases.renew([], 'node-a', 5000, t0), []);
    }));

    test('concurrent acquisitions of a free lease: exactly one wins', withStore(async (s) => {
      const now = new Date('2026-01-01T00:00:00Z');
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((n) => s.leases.acquire('sweep', `node-${n}`, 1000, now)));
      assert.equal(results.filter(Boolean).length, 1);
    }));

    test('copy schedules\' state is saved whole per schedule and read back', withStore(async (s) => {
      assert.deepEqual(await s.copyScheduleState.load(), new Map());
      await s.copyScheduleState.save('nightly', { firstSeenAt: '2026-01-01T00:00:00.000Z', runningSince: '2026-01-02T00:00:00.000Z' });
      await s.copyScheduleState.save('weekly', { firstSeenAt: '2026-01-01T00:00:00.000Z' });
      await s.copyScheduleState.save('nightly', { firstSeenAt: '2026-01-01T00:00:00.000Z' });
      assert.deepEqual(await s.copyScheduleState.load(), new Map([
        ['nightly', { firstSeenAt: '2026-01-01T00:00:00.000Z' }],
        ['weekly', { firstSeenAt: '2026-01-01T00:00:00.000Z' }],
      ]));
    }));

    test('instances record the node running them; onNode lists a node\'s instances by state', withStore(async (s) => {
      const one = instance(A, 'i-00000000000000011', { nodeId: 'node-1', state: 'running' });
      const two = instance(A, 'i-00000000000000012', { nodeId: 'node-1', state: 'stopped' });
      const three = instance(B, 'i-00000000000000013', { nodeId: 'node-2', state: 'running' });
      const legacy = instance(B, 'i-00000000000000014', { state: 'running' });
      await s.instances.insert([one, two]);
      await s.instances.insert([three]);
      await s.instances.insert([legacy]);
      assert.equal((await s.instances.get(R, one.instanceId))?.nodeId, 'node-1');
      assert.deepEqual((await s.instances.onNode('node-1', ['running', 'pending'])).map((r) => r.instanceId), [one.instanceId]);
      assert.deepEqual((await s.instances.onNode('node-1', ['running', 'stopped'])).map((r) => r.instanceId), [one.instanceId, two.instanceId]);
      // Ownership moves with a start on another node.
      await s.instances.update({ ...two, state: 'pending', nodeId: 'node-2' });
      assert.deepEqual((await s.instances.onNode('node-2', ['running', 'pending'])).map((r) => r.instanceId), [two.instanceId, three.instanceId]);
      assert.deepEqual((await s.instances.onNode('node-1', ['stopped'])), []);
    }));

    test('node registry: heartbeats insert and renew, live nodes by lease, remove', withStore(async (s) => {
      const t0 = new Date('2026-01-01T00:00:00.000Z');
      const at = (ms: number) => new Date(t0.getTime() + ms);
      const n1 = { nodeId: 'node-a', url: 'http://127.0.0.1:4566', startedAt: t0.toISOString(), hypervisor: 'sim' };
      const n2 = { nodeId: 'node-b', url: 'http://127.0.0.1:4567', startedAt: t0.toISOString(), hypervisor: 'qemu' };
      assert.equal(await s.nodes.get('node-a'), undefined);
      await s.nodes.heartbeat(n1, t0);
      await s.nodes.heartbeat(n2, at(1000));
      assert.deepEqual(await s.nodes.get('node-a'), { ...n1, lastHeartbeat: t0.toISOString() });
      assert.deepEqual((await s.nodes.live(at(2000), 3000)).map((n) => n.nodeId), ['node-a', 'node-b']);
      assert.deepEqual((await s.nodes.live(at(3500), 3000)).map((n) => n.nodeId), ['node-b'], 'node-a\'s lease ran out');
      // A renewed heartbeat (a restart with the same id: a new URL and start) replaces the record.
      await s.nodes.heartbeat({ ...n1, url: 'http://127.0.0.1:5000', startedAt: at(3000).toISOString() }, at(3500));
      const renewed = await s.nodes.get('node-a');
      assert.equal(renewed?.url, 'http://127.0.0.1:5000');
      assert.equal(renewed?.lastHeartbeat, at(3500).toISOString());
      assert.deepEqual((await s.nodes.live(at(4500), 3000)).map((n) => n.nodeId), ['node-a']);
      assert.equal(await s.nodes.remove('node-a'), true);
      assert.equal(await s.nodes.remove('node-a'), false);
      assert.deepEqual((await s.nodes.live(at(3500), 3000)).map((n) => n.nodeId), ['node-b']);
    }));

    test('reset empties everything', withStore(async (s) => {
      await s.images.insert(image(A, 'gone'));
      await s.snapshots.insert(snapshot(A));
      await s.reset();
      assert.equal(await s.images.count(), 0);
      assert.equal((await s.snapshots.usage(R)).length, 0);
    }));

    test('console sessions: created, read by id hash, deleted, and dropped once expired', withStore(async (s) => {
      const session = (idHash: string, expiresAt: string) => ({
        idHash, account: A, accessKeyId: 'AKIAEXAMPLE', csrfToken: `csrf-${idHash}`, createdAt: '2026-01-01T00:00:00.000Z', expiresAt,
      });
      await s.consoleSessions.create(session('h1', '2026-01-01T01:00:00.000Z'));
      await s.consoleSessions.create(session('h2', '2026-01-01T03:00:00.000Z'));
      assert.deepEqual(await s.consoleSessions.get('h1'), session('h1', '2026-01-01T01:00:00.000Z'));
      assert.equal(await s.consoleSessions.get('nope'), undefined);
      assert.equal(await s.consoleSessions.deleteExpired(new Date('2026-01-01T02:00:00.000Z')), 1);
      assert.equal(await s.consoleSessions.get('h1'), undefined);
      assert.equal(await s.consoleSessions.delete('h2'), true);
      assert.equal(await s.consoleSessions.delete('h2'), false);
    }));
  });
}
