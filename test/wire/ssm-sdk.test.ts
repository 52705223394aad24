// Systems Manager parameters through the AWS SDK for JavaScript v3, against a server in strict
// mode with two accounts and an IAM user: every parameter operation and its errors, SecureString
// values under the AWS managed and a customer key, public parameters in two regions, aws:ec2:image
// validation, RunInstances with resolve:ssm, identity policies and isolation between accounts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AddTagsToResourceCommand, CreateDocumentCommand, DeleteParameterCommand, DeleteParametersCommand, DescribeParametersCommand,
  GetParameterCommand, GetParameterHistoryCommand, GetParametersByPathCommand, GetParametersCommand, LabelParameterVersionCommand,
  ListTagsForResourceCommand, PutParameterCommand, RemoveTagsFromResourceCommand, SSMClient, UnlabelParameterVersionCommand,
} from '@aws-sdk/client-ssm';
import { CreateKeyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer, type TestUser } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { CATALOGUE_AMI, runOne } from '../support/instances.ts';

const READER: TestUser = {
  name: 'param-reader', accessKeyId: 'AKIAUSER000000000091', secretAccessKey: 'param-reader-secret-000000000000000000000',
  policies: [{
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'], Resource: `arn:aws:ssm:*:${ALICE.id}:parameter/app/*` },
      { Effect: 'Allow', Action: 'ssm:DescribeParameters', Resource: '*' },
    ],
  }],
};

/** May run instances of the catalogue's x86_64 Amazon Linux image only, and read /golden parameters. */
const LAUNCHER: TestUser = {
  name: 'launcher', accessKeyId: 'AKIAUSER000000000092', secretAccessKey: 'launcher-secret-00000000000000000000000000',
  policies: [{
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'ec2:RunInstances', Resource: `arn:aws:ec2:us-east-1::image/${CATALOGUE_AMI}` },
      { Effect: 'Allow', Action: 'ec2:RunInstances', NotResource: 'arn:aws:ec2:*::image/*' },
      { Effect: 'Allow', Action: 'ssm:GetParameters', Resource: `arn:aws:ssm:us-east-1:${ALICE.id}:parameter/golden/*` },
    ],
  }],
};
/** May run any instance, but read no parameter. */
const NO_SSM: TestUser = {
  name: 'no-ssm', accessKeyId: 'AKIAUSER000000000093', secretAccessKey: 'no-ssm-secret-0000000000000000000000000000',
  policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] }],
};

let server: RunningServer;
let alice: SSMClient;
let bob: SSMClient;
let reader: SSMClient;
const client = (credentials: { accessKeyId: string; secretAccessKey: string }, region = 'us-east-1') =>
  new SSMClient({ endpoint: server.endpoint, region, credentials, maxAttempts: 1 });

before(async () => {
  server = await startServer({ accounts: [{ ...ALICE, users: [READER, LAUNCHER, NO_SSM] }, BOB] });
  alice = client(credentialsOf(ALICE));
  bob = client(credentialsOf(BOB));
  reader = client(READER);
});
after(async () => {
  await server?.stop();
});

const put = (ssm: SSMClient, input: ConstructorParameters<typeof PutParameterCommand>[0]) => ssm.send(new PutParameterCommand(input));
const get = async (ssm: SSMClient, Name: string, WithDecryption = false) => (await ssm.send(new GetParameterCommand({ Name, WithDecryption }))).Parameter!;

describe('parameters', () => {
  test('PutParameter, GetParameter, versions with Overwrite, GetParameterHistory', async () => {
    assert.deepEqual(await put(alice, { Name: '/app/db/host', Value: 'db-1', Type: 'String', Description: 'the database' }).then((r) => [r.Version, r.Tier]), [1, 'Standard']);
    const first = await get(alice, '/app/db/host');
    assert.deepEqual([first.Name, first.Type, first.Value, first.Version, first.DataType, first.ARN],
      ['/app/db/host', 'String', 'db-1', 1, 'text', `arn:aws:ssm:us-east-1:${ALICE.id}:parameter/app/db/host`]);
    assert.ok(first.LastModifiedDate instanceof Date);
    await expectAwsError(put(alice, { Name: '/app/db/host', Value: 'db-2', Type: 'String' }), { name: 'ParameterAlreadyExists', status: 400 });
    assert.equal((await put(alice, { Name: '/app/db/host', Value: 'db-2', Overwrite: true })).Version, 2);
    assert.equal((await get(alice, '/app/db/host')).Value, 'db-2');
    const history = await alice.send(new GetParameterHistoryCommand({ Name: '/app/db/host' }));
    assert.deepEqual(history.Parameters!.map((h) => [h.Version, h.Value, h.Description]), [[1, 'db-1', 'the database'], [2, 'db-2', 'the database']]);
    const paged = await alice.send(new GetParameterHistoryCommand({ Name: '/app/db/host', MaxResults: 1 }));
    assert.equal(paged.Parameters!.length, 1);
    const rest = await alice.send(new GetParameterHistoryCommand({ Name: '/app/db/host', NextToken: paged.NextToken }));
    assert.deepEqual(rest.Parameters!.map((h) => h.Version), [2]);
    assert.equal((await get(alice, '/app/db/host:1')).Value, 'db-1');
    assert.equal((await get(alice, '/app/db/host:1')).Selector, ':1');
    await expectAwsError(alice.send(new GetParameterCommand({ Name: '/app/db/host:9' })), { name: 'ParameterVersionNotFound', status: 400 });
    await expectAwsError(alice.send(new GetParameterCommand({ Name: '/app/none' })), { name: 'ParameterNotFound', status: 400, message: 'Parameter /app/none not found.' });
    await put(alice, { Name: 'plain-list', Value: 'a,b,c', Type: 'StringList' });
    assert.equal((await get(alice, 'plain-list')).ARN, `arn:aws:ssm:us-east-1:${ALICE.id}:parameter/plain-list`);
  });

  test('concurrent overwrites each make their own version (or answer TooManyUpdates, as SSM may)', async () => {
    await put(alice, { Name: '/race/p', Value: 'v0', Type: 'String' });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => put(alice, { Name: '/race/p', Value: `v${i + 1}`, Overwrite: true })));
    const versions = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.Version!] : []));
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'TooManyUpdates');
    assert.deepEqual([...versions].sort((a, b) => a - b), Array.from({ length: versions.length }, (_, i) => i + 2), 'distinct, contiguous versions');
    const history = (await alice.send(new GetParameterHistoryCommand({ Name: '/race/p' }))).Parameters!;
    assert.equal(history.length, versions.length + 1);
  });

  test('names: reserved prefixes, hierarchy depth, characters, AllowedPattern', async () => {
    await expectAwsError(put(alice, { Name: '/aws/service/mine', Value: 'x', Type: 'String' }), { name: 'ValidationException', status: 400 });
    await expectAwsError(put(alice, { Name: 'ssm-thing', Value: 'x', Type: 'String' }), { name: 'ValidationException', status: 400 });
    await expectAwsError(put(alice, { Name: `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, Value: 'x', Type: 'String' }),
      { name: 'HierarchyLevelLimitExceededException', status: 400 });
    await put(alice, { Name: `/${Array.from({ length: 15 }, (_, i) => `l${i}`).join('/')}`, Value: 'x', Type: 'String' });
    await expectAwsError(put(alice, { Name: 'has space', Value: 'x', Type: 'String' }), { name: 'ValidationException', status: 400 });
    await expectAwsError(put(alice, { Name: 'a/b', Value: 'x', Type: 'String' }), { name: 'ValidationException', status: 400 });
    await expectAwsError(put(alice, { Name: 'digits', Value: 'abc', Type: 'String', AllowedPattern: '^\\d+$' }), { name: 'ParameterPatternMismatchException', status: 400 });
    await expectAwsError(put(alice, { Name: 'digits', Value: '1', Type: 'String', AllowedPattern: '(' }), { name: 'InvalidAllowedPatternException', status: 400 });
    // A catastrophically backtracking pattern is cut off: a mismatch, and the server keeps answering.
    await expectAwsError(put(alice, { Name: 'redos', Value: `${'a'.repeat(40)}!`, Type: 'String', AllowedPattern: '^(a+)+$' }), { name: 'ParameterPatternMismatchException', status: 400 });
    await put(alice, { Name: 'digits', Value: '123', Type: 'String', AllowedPattern: '^\\d+$' });
    await expectAwsError(put(alice, { Name: 'digits', Value: 'x1', Overwrite: true }), { name: 'ParameterPatternMismatchException', status: 400 });
    await expectAwsError(put(alice, { Name: 'typeless', Value: 'x', Type: 'Bogus' as 'String' }), { name: 'ValidationException', status: 400 });
    await expectAwsError(put(alice, { Name: 'big', Value: 'x'.repeat(4097), Type: 'String' }), { name: 'ValidationException', status: 400 });
  });

  test('labels: LabelParameterVersion moves a label, name:label selects, UnlabelParameterVersion', async () => {
    await put(alice, { Name: '/app/release', Value: 'v1', Type: 'String' });
    await put(alice, { Name: '/app/release', Value: 'v2', Overwrite: true });
    const labelled = await alice.send(new LabelParameterVersionCommand({ Name: '/app/release', ParameterVersion: 1, Labels: ['prod', '1bad', 'awsx'] }));
    assert.deepEqual([labelled.ParameterVersion, labelled.InvalidLabels], [1, ['1bad', 'awsx']]);
    assert.equal((await get(alice, '/app/release:prod')).Value, 'v1');
    await alice.send(new LabelParameterVersionCommand({ Name: '/app/release', Labels: ['prod'] }));
    assert.equal((await get(alice, '/app/release:prod')).Value, 'v2');
    const history = await alice.send(new GetParameterHistoryCommand({ Name: '/app/release' }));
    assert.deepEqual(history.Parameters!.map((h) => h.Labels), [[], ['prod']]);
    await expectAwsError(alice.send(new LabelParameterVersionCommand({ Name: '/app/release', ParameterVersion: 7, Labels: ['x'] })), { name: 'ParameterVersionNotFound', status: 400 });
    await expectAwsError(alice.send(new LabelParameterVersionCommand({ Name: '/app/release', ParameterVersion: 1, Labels: Array.from({ length: 11 }, (_, i) => `l${i}`) })),
      { name: 'ValidationException', status: 400 });
    await alice.send(new LabelParameterVersionCommand({ Name: '/app/release', ParameterVersion: 1, Labels: Array.from({ length: 10 }, (_, i) => `l${i}`) }));
    await expectAwsError(alice.send(new LabelParameterVersionCommand({ Name: '/app/release', ParameterVersion: 1, Labels: ['one-more'] })),
      { name: 'ParameterVersionLabelLimitExceeded', status: 400 });
    const removed = await alice.send(new UnlabelParameterVersionCommand({ Name: '/app/release', ParameterVersion: 2, Labels: ['prod', 'absent'] }));
    assert.deepEqual([removed.RemovedLabels, removed.InvalidLabels], [['prod'], ['absent']]);
    await expectAwsError(alice.send(new GetParameterCommand({ Name: '/app/release:prod' })), { name: 'ParameterVersionNotFound', status: 400 });
    await expectAwsError(alice.send(new LabelParameterVersionCommand({ Name: '/app/none', Labels: ['x'] })), { name: 'ParameterNotFound', status: 400 });
  });

  test('GetParameters, GetParametersByPath (recursive, filters, paging), DescribeParameters (filters, paging)', async () => {
    for (const n of ['a', 'b', 'c']) await put(alice, { Name: `/tree/${n}`, Value: n, Type: 'String' });
    await put(alice, { Name: '/tree/deep/d', Value: 'd', Type: 'StringList', Tags: [{ Key: 'team', Value: 'web' }] });
    const many = await alice.send(new GetParametersCommand({ Names: ['/tree/a', '/tree/zz', '/tree/b:1', '/tree/b:5'] }));
    assert.deepEqual(many.Parameters!.map((p) => p.Name), ['/tree/a', '/tree/b']);
    assert.deepEqual(many.InvalidParameters, ['/tree/zz', '/tree/b:5']);
    const oneLevel = await alice.send(new GetParametersByPathCommand({ Path: '/tree' }));
    assert.deepEqual(oneLevel.Parameters!.map((p) => p.Name), ['/tree/a', '/tree/b', '/tree/c']);
    const all = await alice.send(new GetParametersByPathCommand({ Path: '/tree/', Recursive: true }));
    assert.deepEqual(all.Parameters!.map((p) => p.Name), ['/tree/a', '/tree/b', '/tree/c', '/tree/deep/d']);
    const lists = await alice.send(new GetParametersByPathCommand({ Path: '/tree', Recursive: true, ParameterFilters: [{ Key: 'Type', Values: ['StringList'] }] }));
    assert.deepEqual(lists.Parameters!.map((p) => p.Name), ['/tree/deep/d']);
    const page1 = await alice.send(new GetParametersByPathCommand({ Path: '/tree', Recursive: true, MaxResults: 3 }));
    const page2 = await alice.send(new GetParametersByPathCommand({ Path: '/tree', Recursive: true, MaxResults: 3, NextToken: page1.NextToken }));
    assert.deepEqual([...page1.Parameters!, ...page2.Parameters!].map((p) => p.Name), all.Parameters!.map((p) => p.Name));
    assert.equal(page2.NextToken, undefined);
    await expectAwsError(alice.send(new GetParametersByPathCommand({ Path: '/tree', ParameterFilters: [{ Key: 'Name', Values: ['x'] }] })), { name: 'InvalidFilterKey', status: 400 });
    await expectAwsError(alice.send(new GetParametersByPathCommand({ Path: '/tree', ParameterFilters: [{ Key: 'Type', Option: 'BeginsWith', Values: ['S'] }] })), { name: 'InvalidFilterOption', status: 400 });
    await expectAwsError(alice.send(new GetParametersByPathCommand({ Path: '/tree', NextToken: 'garbage' })), { name: 'InvalidNextToken', status: 400 });
    const described = await alice.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: ['/tree'] }] }));
    assert.deepEqual(described.Parameters!.map((p) => p.Name), ['/tree/a', '/tree/b', '/tree/c', '/tree/deep/d']);
    assert.equal(described.Parameters![0].ARN, `arn:aws:ssm:us-east-1:${ALICE.id}:parameter/tree/a`);
    const tagged = await alice.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'tag:team', Values: ['web'] }] }));
    assert.deepEqual(tagged.Parameters!.map((p) => p.Name), ['/tree/deep/d']);
    const begins = await alice.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/tree/'] }], MaxResults: 2 }));
    assert.equal(begins.Parameters!.length, 2);
    const more = await alice.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/tree/'] }], NextToken: begins.NextToken }));
    assert.deepEqual([...begins.Parameters!, ...more.Parameters!].map((p) => p.Name), ['/tree/a', '/tree/b', '/tree/c', '/tree/deep/d']);
    await expectAwsError(alice.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Colour', Values: ['x'] }] })), { name: 'ValidationException', status: 400 });
  });

  test('DeleteParameter, DeleteParameters; tags', async () => {
    await put(alice, { Name: 'gone-1', Value: 'x', Type: 'String' });
    await put(alice, { Name: 'gone-2', Value: 'x', Type: 'String' });
    await alice.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: 'gone-1', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await alice.send(new RemoveTagsFromResourceCommand({ ResourceType: 'Parameter', ResourceId: 'gone-1', TagKeys: ['a'] }));
    assert.deepEqual((await alice.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: 'gone-1' }))).TagList, [{ Key: 'b', Value: '2' }]);
    await expectAwsError(alice.send(new ListTagsForResourceCommand({ ResourceType: 'Document', ResourceId: 'gone-1' })), { name: 'InvalidResourceType', status: 400 });
    await expectAwsError(alice.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: 'nothing' })), { name: 'InvalidResourceId', status: 400 });
    await expectAwsError(put(alice, { Name: 'gone-1', Value: 'y', Overwrite: true, Tags: [{ Key: 'c', Value: '3' }] }), { name: 'ValidationException', status: 400 });
    await alice.send(new DeleteParameterCommand({ Name: 'gone-1' }));
    await expectAwsError(alice.send(new DeleteParameterCommand({ Name: 'gone-1' })), { name: 'ParameterNotFound', status: 400 });
    const r = await alice.send(new DeleteParametersCommand({ Names: ['gone-2', 'gone-3'] }));
    assert.deepEqual([r.DeletedParameters, r.InvalidParameters], [['gone-2'], ['gone-3']]);
  });

  test('an operation SSM has but amiforge does not serve answers UnsupportedOperationException naming it', async () => {
    await expectAwsError(alice.send(new CreateDocumentCommand({ Name: 'doc', Content: '{}' })),
      { name: 'UnsupportedOperationException', status: 400, message: /CreateDocument/ });
  });
});

describe('SecureString', () => {
  test('under alias/aws/ssm: stored sealed, read in clear only WithDecryption, never in the data directory', async () => {
    const secret = 'sup3r-s3cret-value-7f3a9c';
    await put(alice, { Name: '/app/secret', Value: secret, Type: 'SecureString' });
    const sealed = await get(alice, '/app/secret');
    assert.equal(sealed.Type, 'SecureString');
    assert.notEqual(sealed.Value, secret);
    assert.equal((await get(alice, '/app/secret', true)).Value, secret);
    const meta = await alice.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/app/secret'] }] }));
    assert.equal(meta.Parameters![0].KeyId, 'alias/aws/ssm');
    await expectAwsError(put(alice, { Name: '/app/plain', Value: 'x', Type: 'String', KeyId: 'alias/aws/ssm' }), { name: 'ValidationException', status: 400 });
    await expectAwsError(put(alice, { Name: '/app/badkey', Value: 'x', Type: 'SecureString', KeyId: 'alias/nope' }), { name: 'InvalidKeyId', status: 400 });
    // Neither the log nor any file of the data directory holds the value in clear.
    assert.ok(!JSON.stringify(server.logs).includes(secret), 'the log never shows a SecureString value');
    const needle = Buffer.from(secret);
    const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? files(p) : [p];
    });
    for (const f of files(server.dataDir)) assert.equal(readFileSync(f).indexOf(needle), -1, `${f} holds the value in clear`);
  });

  test('under a customer key: its key policy decides; another account cannot use it', async () => {
    const kms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
    const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!;
    await put(alice, { Name: '/app/cmk', Value: 'cmk-secret', Type: 'SecureString', KeyId: key.Arn });
    assert.equal((await get(alice, '/app/cmk', true)).Value, 'cmk-secret');
    await expectAwsError(put(bob, { Name: '/bob/cmk', Value: 'x', Type: 'SecureString', KeyId: key.Arn }), { name: 'AccessDeniedException', status: 400 });
    // A policy denying the owner's own use: reads without decryption still work, decryption does not.
    await kms.send(new PutKeyPolicyCommand({
      KeyId: key.KeyId, PolicyName: 'default', Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ALICE.id}:root` }, Action: 'kms:*', Resource: '*' },
          { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*' },
        ],
      }),
    }));
    assert.equal((await get(alice, '/app/cmk')).Type, 'SecureString');
    await expectAwsError(alice.send(new GetParameterCommand({ Name: '/app/cmk', WithDecryption: true })), { name: 'AccessDeniedException', status: 400 });
  });
});

describe('public parameters', () => {
  test('the catalogue\'s latest images by the publishers\' names, in two regions, for every account', async () => {
    const name = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
    assert.equal((await get(alice, name)).Value, CATALOGUE_AMI);
    assert.equal((await get(bob, name)).Value, CATALOGUE_AMI);
    const eu = client(credentialsOf(BOB), 'eu-west-1');
    const euValue = (await get(eu, name)).Value!;
    assert.match(euValue, /^ami-/);
    assert.notEqual(euValue, CATALOGUE_AMI);
    assert.equal((await get(alice, name)).ARN, `arn:aws:ssm:us-east-1::parameter${name}`);
    const ubuntu = await get(alice, '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id');
    assert.match(ubuntu.Value!, /^ami-/);
    assert.equal((await get(alice, '/aws/service/canonical/ubuntu/server/noble/stable/current/amd64/hvm/ebs-gp3/ami-id')).Value, ubuntu.Value);
    const al = await alice.send(new GetParametersByPathCommand({ Path: '/aws/service/ami-amazon-linux-latest' }));
    assert.deepEqual(al.Parameters!.map((p) => p.Name), [
      '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64', '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64',
      '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64', '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    ]);
    await expectAwsError(put(alice, { Name: name, Value: 'ami-12345678', Type: 'String', Overwrite: true }), { name: 'ValidationException', status: 400 });
  });
});

describe('aws:ec2:image parameters and resolve:ssm', () => {
  test('PutParameter checks the value names an image the caller can see', async () => {
    await put(alice, { Name: '/golden/web', Value: CATALOGUE_AMI, Type: 'String', DataType: 'aws:ec2:image' });
    assert.equal((await get(alice, '/golden/web')).DataType, 'aws:ec2:image');
    await expectAwsError(put(alice, { Name: '/golden/bad', Value: 'not-an-ami', Type: 'String', DataType: 'aws:ec2:image' }), { name: 'ParameterPatternMismatchException', status: 400 });
    await expectAwsError(put(alice, { Name: '/golden/bad', Value: 'ami-0123456789abcdef0', Type: 'String', DataType: 'aws:ec2:image' }), { name: 'ValidationException', status: 400, message: /ami-0123456789abcdef0/ });
    await expectAwsError(put(alice, { Name: '/golden/bad', Value: CATALOGUE_AMI, Type: 'String', DataType: 'aws:ec2:nothing' }), { name: 'ValidationException', status: 400 });
  });

  test('RunInstances with resolve:ssm (latest, version, label, public) records the image id', async () => {
    const ec2 = ec2Client(server.endpoint, credentialsOf(ALICE));
    const arm = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';
    const armId = (await get(alice, arm)).Value!;
    await put(alice, { Name: '/golden/app', Value: CATALOGUE_AMI, Type: 'String', DataType: 'aws:ec2:image' });
    await put(alice, { Name: '/golden/app', Value: armId, Overwrite: true });
    await alice.send(new LabelParameterVersionCommand({ Name: '/golden/app', ParameterVersion: 1, Labels: ['stable'] }));
    for (const [ref, expected] of [['resolve:ssm:/golden/app:1', CATALOGUE_AMI], ['resolve:ssm:/golden/app:stable', CATALOGUE_AMI],
      ['resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', CATALOGUE_AMI]] as const) {
      const instance = await runOne(ec2, { ImageId: ref });
      assert.equal(instance.ImageId, expected, ref);
      const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      assert.equal(described.Reservations![0].Instances![0].ImageId, expected);
    }
    const latest = await runOne(ec2, { ImageId: 'resolve:ssm:/golden/app', InstanceType: 't4g.micro' });
    assert.equal(latest.ImageId, armId);
    await expectAwsError(runOne(ec2, { ImageId: 'resolve:ssm:/golden/none' }), { name: 'InvalidParameterValue', status: 400 });
    await expectAwsError(runOne(ec2_of(BOB), { ImageId: 'resolve:ssm:/golden/app' }), { name: 'InvalidParameterValue', status: 400 });
  });
});

const ec2_of = (account: typeof BOB) => ec2Client(server.endpoint, credentialsOf(account));

describe('identity and isolation', () => {
  test('an IAM user gets only what its policy allows', async () => {
    await put(alice, { Name: '/app/visible', Value: 'ok', Type: 'String' });
    await put(alice, { Name: '/private/hidden', Value: 'no', Type: 'String' });
    assert.equal((await get(reader, '/app/visible')).Value, 'ok');
    await expectAwsError(reader.send(new GetParameterCommand({ Name: '/private/hidden' })), { name: 'AccessDeniedException', status: 400, message: /ssm:GetParameter/ });
    await expectAwsError(put(reader, { Name: '/app/new', Value: 'x', Type: 'String' }), { name: 'AccessDeniedException', status: 400 });
    await expectAwsError(reader.send(new DeleteParameterCommand({ Name: '/app/visible' })), { name: 'AccessDeniedException', status: 400 });
    assert.equal((await get(alice, '/app/visible')).Value, 'ok');
  });

  test('RunInstances with resolve:ssm by an IAM user: ssm:GetParameters on the parameter, EC2 rights on the image it holds', async () => {
    const arm = (await get(alice, '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64')).Value!;
    await put(alice, { Name: '/golden/allowed', Value: CATALOGUE_AMI, Type: 'String', DataType: 'aws:ec2:image' });
    await put(alice, { Name: '/golden/other', Value: arm, Type: 'String', DataType: 'aws:ec2:image' });
    await put(alice, { Name: '/elsewhere/allowed', Value: CATALOGUE_AMI, Type: 'String', DataType: 'aws:ec2:image' });
    const launcher = ec2Client(server.endpoint, LAUNCHER);
    assert.equal((await runOne(launcher, { ImageId: 'resolve:ssm:/golden/allowed' })).ImageId, CATALOGUE_AMI);
    await expectAwsError(runOne(launcher, { ImageId: 'resolve:ssm:/golden/other', InstanceType: 't4g.micro' }), { name: 'UnauthorizedOperation', status: 403, message: /image/ });
    await expectAwsError(runOne(launcher, { ImageId: 'resolve:ssm:/elsewhere/allowed' }), { name: 'UnauthorizedOperation', status: 403, message: /ssm:GetParameters/ });
    await expectAwsError(runOne(ec2Client(server.endpoint, NO_SSM), { ImageId: 'resolve:ssm:/golden/allowed' }), { name: 'UnauthorizedOperation', status: 403 });
  });

  test('one account never sees, changes or deletes another\'s parameters', async () => {
    await put(alice, { Name: '/iso/shared-name', Value: 'alice', Type: 'String' });
    await expectAwsError(bob.send(new GetParameterCommand({ Name: '/iso/shared-name' })), { name: 'ParameterNotFound', status: 400 });
    await expectAwsError(bob.send(new DeleteParameterCommand({ Name: '/iso/shared-name' })), { name: 'ParameterNotFound', status: 400 });
    await expectAwsError(bob.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: '/iso/shared-name', Tags: [{ Key: 'k', Value: 'v' }] })),
      { name: 'InvalidResourceId', status: 400 });
    assert.equal((await put(bob, { Name: '/iso/shared-name', Value: 'bob', Type: 'String' })).Version, 1);
    assert.deepEqual((await bob.send(new GetParametersByPathCommand({ Path: '/iso' }))).Parameters!.map((p) => p.Value), ['bob']);
    assert.ok(!(await bob.send(new DescribeParametersCommand({}))).Parameters!.some((p) => p.Name?.startsWith('/app')));
    assert.equal((await get(alice, '/iso/shared-name')).Value, 'alice');
    assert.deepEqual((await alice.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/iso/shared-name' }))).TagList, []);
  });
});
