// CreateTags, DeleteTags and DescribeTags through the AWS SDK for JavaScript v3 (dev mode: the
// access key id is the account). Tags belong to the account that sets them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateTagsCommand, DeleteTagsCommand, DescribeImagesCommand, DescribeTagsCommand, ModifyImageAttributeCommand,
  type DescribeTagsCommandInput, type EC2Client, type TagDescription,
} from '@aws-sdk/client-ec2';
import { startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { expectAwsError, registerEbs } from '../support/sdk.ts';

let server: RunningServer;
const client = (account: string): EC2Client => ec2Client(server.endpoint, devCredentials(account));

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

const describeTags = async (c: EC2Client, input: DescribeTagsCommandInput = {}): Promise<TagDescription[]> =>
  (await c.send(new DescribeTagsCommand(input))).Tags ?? [];
const keyValues = (tags: TagDescription[]) => tags.map((t) => `${t.ResourceId}:${t.Key}=${t.Value}`).sort();
const imageTags = async (c: EC2Client, id: string) =>
  [...((await c.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images![0].Tags ?? [])].sort((a, b) => (a.Key! < b.Key! ? -1 : 1));

describe('CreateTags and DescribeTags', () => {
  const account = '121212121212';
  let a: string;
  let b: string;

  before(async () => {
    const c = client(account);
    a = await registerEbs(c, 'tagged-a');
    b = await registerEbs(c, 'tagged-b');
    await c.send(new CreateTagsCommand({ Resources: [a, b], Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'core' }] }));
    await c.send(new CreateTagsCommand({ Resources: [b], Tags: [{ Key: 'Name', Value: 'builder' }, { Key: 'empty', Value: '' }] }));
  });

  test('DescribeTags lists every tag with its resource id and type', async () => {
    const tags = await describeTags(client(account));
    assert.deepEqual(keyValues(tags), [`${a}:env=prod`, `${a}:team=core`, `${b}:Name=builder`, `${b}:empty=`, `${b}:env=prod`, `${b}:team=core`].sort());
    for (const t of tags) assert.equal(t.ResourceType, 'image');
    assert.deepEqual(await imageTags(client(account), b),
      [{ Key: 'Name', Value: 'builder' }, { Key: 'empty', Value: '' }, { Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'core' }]);
  });

  test('filters: key, value, resource-id, resource-type, tag:KEY; AND across, OR within', async () => {
    const c = client(account);
    assert.deepEqual(keyValues(await describeTags(c, { Filters: [{ Name: 'key', Values: ['Name'] }] })), [`${b}:Name=builder`]);
    assert.deepEqual(keyValues(await describeTags(c, { Filters: [{ Name: 'key', Values: ['e*'] }] })),
      [`${a}:env=prod`, `${b}:empty=`, `${b}:env=prod`].sort());
    assert.deepEqual(keyValues(await describeTags(c, { Filters: [{ Name: 'value', Values: ['buil?er', 'core'] }] })),
      [`${a}:team=core`, `${b}:Name=builder`, `${b}:team=core`].sort());
    assert.deepEqual(keyValues(await describeTags(c, { Filters: [{ Name: 'resource-id', Values: [a] }] })), [`${a}:env=prod`, `${a}:team=core`]);
    assert.equal((await describeTags(c, { Filters: [{ Name: 'resource-type', Values: ['image'] }] })).length, 6);
    assert.deepEqual(await describeTags(c, { Filters: [{ Name: 'resource-type', Values: ['snapshot'] }] }), []);
    assert.deepEqual(keyValues(await describeTags(c, { Filters: [{ Name: 'resource-id', Values: [b] }, { Name: 'key', Values: ['env', 'team'] }] })),
      [`${b}:env=prod`, `${b}:team=core`]);
    assert.deepEqual(keyValues(await describeTags(c, { Filters: [{ Name: 'tag:team', Values: ['core'] }, { Name: 'resource-id', Values: [a] }] })),
      [`${a}:team=core`]);
    await expectAwsError(c.send(new DescribeTagsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })), { name: 'InvalidParameterValue', status: 400 });
  });

  test('CreateTags overwrites the value of an existing key', async () => {
    const c = client(account);
    await c.send(new CreateTagsCommand({ Resources: [a], Tags: [{ Key: 'team', Value: 'platform' }] }));
    assert.deepEqual(await imageTags(c, a), [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'platform' }]);
    await c.send(new CreateTagsCommand({ Resources: [a], Tags: [{ Key: 'team', Value: 'core' }] }));
  });

  test('pagination with MaxResults and NextToken returns each tag exactly once', async () => {
    const account2 = '131313131313';
    const c = client(account2);
    const ids = [await registerEbs(c, 'paged-tags-1'), await registerEbs(c, 'paged-tags-2'), await registerEbs(c, 'paged-tags-3')];
    await c.send(new CreateTagsCommand({ Resources: ids, Tags: [{ Key: 'k1', Value: '1' }, { Key: 'k2', Value: '2' }, { Key: 'k3', Value: '3' }, { Key: 'k4', Value: '4' }] }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await c.send(new DescribeTagsCommand({ MaxResults: 5, NextToken: token }));
      assert.ok(out.Tags!.length <= 5);
      seen.push(...keyValues(out.Tags!));
      token = out.NextToken;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.equal(seen.length, 12);
    assert.equal(new Set(seen).size, 12);
    await expectAwsError(c.send(new DescribeTagsCommand({ MaxResults: 4 })), { name: 'InvalidParameterValue', status: 400 });
    await expectAwsError(c.send(new DescribeTagsCommand({ MaxResults: 5, NextToken: '%%%' })), { name: 'InvalidPaginationToken', status: 400 });
  });
});

describe('DeleteTags', () => {
  const account = '141414141414';

  test('by key, by key and value, and all of a resource\'s tags', async () => {
    const c = client(account);
    const id = await registerEbs(c, 'delete-tags');
    await c.send(new CreateTagsCommand({ Resources: [id], Tags: [
      { Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }, { Key: 'c', Value: '' }, { Key: 'd', Value: '4' },
    ] }));
    await c.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'a' }] }));
    assert.deepEqual((await imageTags(c, id)).map((t) => t.Key), ['b', 'c', 'd']);
    // A value that does not match leaves the tag alone; a matching one deletes it.
    await c.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'b', Value: 'other' }] }));
    assert.deepEqual((await imageTags(c, id)).map((t) => t.Key), ['b', 'c', 'd']);
    await c.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'b', Value: '2' }] }));
    assert.deepEqual((await imageTags(c, id)).map((t) => t.Key), ['c', 'd']);
    // An empty value deletes the tag only when its value is empty.
    await c.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'd', Value: '' }, { Key: 'c', Value: '' }] }));
    assert.deepEqual((await imageTags(c, id)).map((t) => t.Key), ['d']);
    await c.send(new DeleteTagsCommand({ Resources: [id] }));
    assert.deepEqual(await imageTags(c, id), []);
    assert.deepEqual(await describeTags(c), []);
  });
});

describe('tag rules', () => {
  const account = '151515151515';

  test('keys starting with aws: are reserved', async () => {
    const c = client(account);
    const id = await registerEbs(c, 'reserved-keys');
    for (const Key of ['aws:owner', 'AWS:owner']) {
      await expectAwsError(c.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key, Value: 'x' }] })),
        { name: 'InvalidParameterValue', status: 400, message: /aws:/ });
    }
    await expectAwsError(registerEbs(c, 'reserved-at-register', { TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'aws:x', Value: 'y' }] }] }),
      { name: 'InvalidParameterValue', status: 400 });
    assert.deepEqual(await describeTags(c), []);
  });

  test('unknown and malformed resource ids', async () => {
    const c = client(account);
    await expectAwsError(c.send(new CreateTagsCommand({ Resources: ['ami-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] })),
      { name: 'InvalidAMIID.NotFound', status: 400 });
    await expectAwsError(c.send(new CreateTagsCommand({ Resources: ['nonsense'], Tags: [{ Key: 'k', Value: 'v' }] })),
      { name: 'InvalidID', status: 400 });
  });

  test('at most 50 tags per resource', async () => {
    const c = client(account);
    const id = await registerEbs(c, 'many-tags');
    const tags = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: String(i) }));
    await c.send(new CreateTagsCommand({ Resources: [id], Tags: tags }));
    await expectAwsError(c.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'one-more', Value: 'x' }] })),
      { name: 'TagLimitExceeded', status: 400 });
    assert.equal((await imageTags(c, id)).length, 50);
  });
});

describe('tags are per account', () => {
  const owner = '161616161616';
  const other = '171717171717';

  test('another account\'s tags on a shared image are not visible to the owner, and the reverse', async () => {
    const id = await registerEbs(client(owner), 'shared-and-tagged', { TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'owner-tag', Value: 'o' }] }] });
    await client(owner).send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ UserId: other }] } }));
    await client(other).send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'consumer-tag', Value: 'c' }] }));

    assert.deepEqual(await imageTags(client(owner), id), [{ Key: 'owner-tag', Value: 'o' }]);
    assert.deepEqual(await imageTags(client(other), id), [{ Key: 'consumer-tag', Value: 'c' }]);
    assert.deepEqual(keyValues(await describeTags(client(owner))), [`${id}:owner-tag=o`]);
    assert.deepEqual(keyValues(await describeTags(client(other))), [`${id}:consumer-tag=c`]);
    const byTag = await client(owner).send(new DescribeImagesCommand({ Filters: [{ Name: 'tag:consumer-tag', Values: ['*'] }] }));
    assert.deepEqual(byTag.Images, []);

    // Deleting its own tags leaves the owner's alone.
    await client(other).send(new DeleteTagsCommand({ Resources: [id] }));
    assert.deepEqual(await imageTags(client(owner), id), [{ Key: 'owner-tag', Value: 'o' }]);
  });

  test('any account may tag a public catalogue image, for itself', async () => {
    const { Images } = await client(other).send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    const id = Images![0].ImageId!;
    await client(other).send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'favourite', Value: 'yes' }] }));
    assert.deepEqual(await imageTags(client(other), id), [{ Key: 'favourite', Value: 'yes' }]);
    assert.deepEqual(await imageTags(client(owner), id), []);
  });
});
