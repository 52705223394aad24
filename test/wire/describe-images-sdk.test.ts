// DescribeImages through the AWS SDK for JavaScript v3 against a real server (dev mode: the access
// key id is the account): Owners, ExecutableUsers, every documented filter kind, and pagination.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeImagesCommand, ModifyImageAttributeCommand, RegisterImageCommand, paginateDescribeImages,
  type DescribeImagesCommandInput, type EC2Client, type Image,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { amazonInUsEast1, describeIds, publicInUsEast1 } from '../support/catalog.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { createSnapshot, expectAwsError, registerEbs } from '../support/sdk.ts';


let server: RunningServer;
const client = (account: string, region = 'us-east-1'): EC2Client => ec2Client(server.endpoint, devCredentials(account), region);

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe('DescribeImages: Owners and ExecutableUsers', () => {
  const owner = '666666666666';
  const other = '777777777777';
  let privateId: string;
  let sharedId: string;
  let publicId: string;

  before(async () => {
    privateId = await registerEbs(client(owner), 'owners-private');
    sharedId = await registerEbs(client(owner), 'owners-shared');
    publicId = await registerEbs(client(owner), 'owners-public');
    await client(owner).send(new ModifyImageAttributeCommand({ ImageId: sharedId, LaunchPermission: { Add: [{ UserId: other }] } }));
    await client(owner).send(new ModifyImageAttributeCommand({ ImageId: publicId, LaunchPermission: { Add: [{ Group: 'all' }] } }));
  });

  test('no Owners: own images, public images and images shared with the caller', async () => {
    const mine = await describeIds(client(owner), {});
    for (const id of [privateId, sharedId, publicId, ...publicInUsEast1]) assert.ok(mine.includes(id), id);
    const theirs = await describeIds(client(other), {});
    assert.ok(theirs.includes(sharedId) && theirs.includes(publicId));
    assert.ok(!theirs.includes(privateId));
  });

  test('Owners self is exactly the caller\'s images', async () => {
    assert.deepEqual(await describeIds(client(owner), { Owners: ['self'] }), [privateId, sharedId, publicId].sort());
    assert.deepEqual(await describeIds(client(other), { Owners: ['self'] }), []);
  });

  test('Owners with an account id shows only what the caller may see of that owner', async () => {
    assert.deepEqual(await describeIds(client(other), { Owners: [owner] }), [sharedId, publicId].sort());
    assert.deepEqual(await describeIds(client(owner), { Owners: [owner] }), [privateId, sharedId, publicId].sort());
  });

  test('Owners amazon is the catalogue\'s amazon-owned public images', async () => {
    const { Images } = await client(other).send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    assert.deepEqual(Images!.map((i) => i.ImageId).sort(), amazonInUsEast1);
    assert.ok(amazonInUsEast1.length >= 2);
    for (const img of Images!) {
      assert.equal(img.ImageOwnerAlias, 'amazon');
      assert.equal(img.Public, true);
      assert.equal(img.ImageLocation, `amazon/${img.Name}`);
    }
    // Several owners OR together.
    assert.deepEqual(await describeIds(client(other), { Owners: ['amazon', owner] }), [...amazonInUsEast1, sharedId, publicId].sort());
  });

  test('an owner that is neither an account id nor an alias is rejected', async () => {
    await expectAwsError(client(other).send(new DescribeImagesCommand({ Owners: ['not-an-owner'] })),
      { name: 'InvalidUserID.Malformed', status: 400 });
  });

  test('ExecutableUsers self: images explicitly shared with the caller', async () => {
    assert.deepEqual(await describeIds(client(other), { ExecutableUsers: ['self'] }), [sharedId]);
    assert.deepEqual(await describeIds(client(other), { ExecutableUsers: [other] }), [sharedId]);
    // The owner's own images are not "shared with" it.
    assert.deepEqual(await describeIds(client(owner), { ExecutableUsers: ['self'] }), []);
  });

  test('ExecutableUsers all: the public images', async () => {
    const ids = await describeIds(client(other), { ExecutableUsers: ['all'] });
    assert.deepEqual(ids, [...publicInUsEast1, publicId].sort());
  });

  test('ExecutableUsers with another account id: what the caller sees that is shared with it', async () => {
    assert.deepEqual(await describeIds(client(owner), { ExecutableUsers: [other] }), [sharedId]);
    assert.deepEqual(await describeIds(client(owner), { Owners: ['self'], ExecutableUsers: ['all', other] }), [sharedId, publicId].sort());
  });
});

describe('DescribeImages filters', () => {
  const account = '333333333333';
  const ids: Record<string, string> = {};
  let bigSnapshot: string;

  before(async () => {
    const c = client(account);
    bigSnapshot = await createSnapshot(c, 30);
    ids['web-1'] = await registerEbs(c, 'web-1', { Architecture: 'x86_64', Description: 'frontend one',
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'role', Value: 'web' }] }] });
    ids['web-2'] = await registerEbs(c, 'web-2', { Architecture: 'arm64', Description: 'frontend two',
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'env', Value: 'staging' }] }] });
    ids['web-10'] = await registerEbs(c, 'web-10', { Architecture: 'x86_64',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: bigSnapshot } }] });
    ids['db-1'] = await registerEbs(c, 'db-1', { Architecture: 'arm64', Description: 'database',
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'env', Value: 'prod' }] }] });
    ids['store-1'] = (await c.send(new RegisterImageCommand({ Name: 'store-1', ImageLocation: 'bucket/store-1.manifest.xml' }))).ImageId!;
  });

  const names = async (filters: { Name: string; Values: string[] }[], input: DescribeImagesCommandInput = { Owners: ['self'] }) => {
    const { Images } = await client(account).send(new DescribeImagesCommand({ ...input, Filters: filters }));
    return (Images ?? []).map((i: Image) => i.Name!).sort();
  };

  test('name with * and ? wildcards', async () => {
    assert.deepEqual(await names([{ Name: 'name', Values: ['web-*'] }]), ['web-1', 'web-10', 'web-2']);
    assert.deepEqual(await names([{ Name: 'name', Values: ['web-?'] }]), ['web-1', 'web-2']);
    assert.deepEqual(await names([{ Name: 'name', Values: ['web-1'] }]), ['web-1']);
    assert.deepEqual(await names([{ Name: 'name', Values: ['WEB-*'] }]), [], 'filters are case-sensitive');
  });

  test('architecture, image-id, state, root-device-type, description', async () => {
    assert.deepEqual(await names([{ Name: 'architecture', Values: ['arm64'] }]), ['db-1', 'web-2']);
    assert.deepEqual(await names([{ Name: 'image-id', Values: [ids['web-2'], ids['db-1']] }]), ['db-1', 'web-2']);
    assert.deepEqual(await names([{ Name: 'state', Values: ['available'] }]), ['db-1', 'store-1', 'web-1', 'web-10', 'web-2']);
    assert.deepEqual(await names([{ Name: 'state', Values: ['pending'] }]), []);
    assert.deepEqual(await names([{ Name: 'root-device-type', Values: ['instance-store'] }]), ['store-1']);
    assert.deepEqual(await names([{ Name: 'description', Values: ['frontend*'] }]), ['web-1', 'web-2']);
  });

  test('is-public, owner-id and owner-alias', async () => {
    assert.deepEqual(await names([{ Name: 'is-public', Values: ['false'] }]), ['db-1', 'store-1', 'web-1', 'web-10', 'web-2']);
    assert.deepEqual(await names([{ Name: 'is-public', Values: ['true'] }]), []);
    assert.deepEqual(await names([{ Name: 'owner-id', Values: [account] }], {}), ['db-1', 'store-1', 'web-1', 'web-10', 'web-2']);
    const amazon = await client(account).send(new DescribeImagesCommand({ Filters: [{ Name: 'owner-alias', Values: ['amazon'] }] }));
    assert.deepEqual(amazon.Images!.map((i) => i.ImageId).sort(), amazonInUsEast1);
    const publicOnes = await client(account).send(new DescribeImagesCommand({ Filters: [{ Name: 'is-public', Values: ['true'] }] }));
    // The catalogue's images and any image another test in this file made public.
    for (const id of publicInUsEast1) assert.ok(publicOnes.Images!.some((i) => i.ImageId === id), id);
    assert.ok(publicOnes.Images!.every((i) => i.Public === true));
  });

  test('block-device-mapping.snapshot-id and block-device-mapping.volume-size', async () => {
    assert.deepEqual(await names([{ Name: 'block-device-mapping.snapshot-id', Values: [bigSnapshot] }]), ['web-10']);
    assert.deepEqual(await names([{ Name: 'block-device-mapping.volume-size', Values: ['30'] }]), ['web-10']);
    assert.deepEqual(await names([{ Name: 'block-device-mapping.volume-size', Values: ['8'] }]), ['db-1', 'web-1', 'web-2']);
  });

  test('tag:KEY, tag-key and tag-value use the caller\'s tags', async () => {
    assert.deepEqual(await names([{ Name: 'tag:env', Values: ['prod'] }]), ['db-1', 'web-1']);
    assert.deepEqual(await names([{ Name: 'tag:env', Values: ['prod', 'stag*'] }]), ['db-1', 'web-1', 'web-2']);
    assert.deepEqual(await names([{ Name: 'tag-key', Values: ['role'] }]), ['web-1']);
    assert.deepEqual(await names([{ Name: 'tag-key', Values: ['env'] }]), ['db-1', 'web-1', 'web-2']);
    assert.deepEqual(await names([{ Name: 'tag-value', Values: ['staging'] }]), ['web-2']);
    // Another account sees none of these tags, so none of these images match for it.
    const other = await client('888888888888').send(new DescribeImagesCommand({ Filters: [{ Name: 'tag-key', Values: ['env'] }] }));
    assert.deepEqual(other.Images, []);
  });

  test('creation-date', async () => {
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(await names([{ Name: 'creation-date', Values: [`${today}*`] }]), ['db-1', 'store-1', 'web-1', 'web-10', 'web-2']);
    assert.deepEqual(await names([{ Name: 'creation-date', Values: ['1999-*'] }]), []);
    const catalogue = await client(account).send(new DescribeImagesCommand({ Filters: [{ Name: 'creation-date', Values: ['2024-12-12T*'] }] }));
    assert.deepEqual(catalogue.Images!.map((i) => i.ImageId).sort(), publicInUsEast1);
  });

  test('several filters AND together; several values of one filter OR together', async () => {
    assert.deepEqual(await names([{ Name: 'name', Values: ['web-*'] }, { Name: 'architecture', Values: ['x86_64'] }]), ['web-1', 'web-10']);
    assert.deepEqual(await names([{ Name: 'name', Values: ['web-*', 'db-*'] }, { Name: 'tag:env', Values: ['prod'] }]), ['db-1', 'web-1']);
    assert.deepEqual(await names([{ Name: 'architecture', Values: ['arm64'] }, { Name: 'tag-key', Values: ['role'] }]), []);
  });

  test('an unknown filter name is InvalidParameterValue', async () => {
    await expectAwsError(client(account).send(new DescribeImagesCommand({ Filters: [{ Name: 'colour', Values: ['blue'] }] })),
      { name: 'InvalidParameterValue', status: 400, message: /colour/ });
  });
});

describe('DescribeImages pagination', () => {
  const account = '444444444444';
  const registered: string[] = [];

  before(async () => {
    for (let i = 0; i < 25; i++) registered.push(await registerEbs(client(account), `page-${String(i).padStart(2, '0')}`));
    registered.sort();
  });

  test('MaxResults and NextToken return each image exactly once', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await client(account).send(new DescribeImagesCommand({ Owners: ['self'], MaxResults: 7, NextToken: token }));
      assert.ok(out.Images!.length <= 7);
      seen.push(...out.Images!.map((i) => i.ImageId!));
      token = out.NextToken;
      pages++;
    } while (token);
    assert.equal(pages, 4);
    assert.equal(new Set(seen).size, seen.length, 'no image twice');
    assert.deepEqual([...seen].sort(), registered);
  });

  test('pagination composes with filters', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const out = await client(account).send(new DescribeImagesCommand({
        Owners: ['self'], Filters: [{ Name: 'name', Values: ['page-1?'] }], MaxResults: 3, NextToken: token,
      }));
      seen.push(...out.Images!.map((i) => i.Name!));
      token = out.NextToken;
    } while (token);
    assert.deepEqual(seen.sort(), Array.from({ length: 10 }, (_, i) => `page-1${i}`));
  });

  test('the SDK paginator walks every page', async () => {
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeImages({ client: client(account), pageSize: 10 }, { Owners: ['self'] })) {
      pages++;
      seen.push(...(page.Images ?? []).map((i) => i.ImageId!));
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), registered);
  });

  test('a malformed NextToken is an error', async () => {
    await expectAwsError(client(account).send(new DescribeImagesCommand({ Owners: ['self'], MaxResults: 5, NextToken: 'not-a-token' })),
      { name: 'InvalidPaginationToken', status: 400 });
  });
});
