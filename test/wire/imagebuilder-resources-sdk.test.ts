// Image Builder's resources through @aws-sdk/client-imagebuilder against a real server in strict
// mode: components, image recipes, infrastructure and distribution configurations (full CRUD,
// errors with their codes and HTTP statuses), ClientToken idempotency, pagination, tags,
// operations amiforge does not implement, another account's isolation and an IAM-style user
// whose identity policy allows reading only.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateComponentCommand, CreateContainerRecipeCommand, CreateDistributionConfigurationCommand, CreateImageRecipeCommand,
  CreateInfrastructureConfigurationCommand, DeleteComponentCommand, DeleteDistributionConfigurationCommand, DeleteImageRecipeCommand,
  DeleteInfrastructureConfigurationCommand, GetComponentCommand, GetDistributionConfigurationCommand, GetImageRecipeCommand,
  GetInfrastructureConfigurationCommand, ImagebuilderClient, ImportComponentCommand, ListComponentBuildVersionsCommand, ListComponentsCommand,
  ListDistributionConfigurationsCommand, ListImageRecipesCommand, ListInfrastructureConfigurationsCommand, ListTagsForResourceCommand,
  TagResourceCommand, UntagResourceCommand, UpdateDistributionConfigurationCommand, UpdateInfrastructureConfigurationCommand,
  paginateListComponents,
} from '@aws-sdk/client-imagebuilder';
import { CreateKeyPairCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer, type TestUser } from '../support/server.ts';
import { credentialsOf, ec2Client, type Credentials } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { amazonInUsEast1 } from '../support/catalog.ts';

/** A user of Alice's who may only read Image Builder resources. */
const READER: TestUser = {
  name: 'ib-reader', accessKeyId: 'AKIAIBREADER00000001', secretAccessKey: 'ib-reader-secret-00000000000000000000000',
  policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['imagebuilder:Get*', 'imagebuilder:List*'], Resource: '*' }] }],
};

const DOC = [
  'name: hello', 'schemaVersion: 1.0', 'parameters:', '  - greeting:', '      type: string', '      default: hi',
  'phases:', '  - name: build', '    steps:', '      - name: Say', '        action: ExecuteBash', '        inputs:', '          commands: ["echo {{ greeting }}"]', '',
].join('\n');

let server: RunningServer;
let alice: ImagebuilderClient;
let bob: ImagebuilderClient;
let reader: ImagebuilderClient;
let aliceEc2: EC2Client;

const ibClient = (endpoint: string, credentials: Credentials) => new ImagebuilderClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

before(async () => {
  server = await startServer({ accounts: [{ ...ALICE, users: [READER] }, BOB] });
  alice = ibClient(server.endpoint, credentialsOf(ALICE));
  bob = ibClient(server.endpoint, credentialsOf(BOB));
  reader = ibClient(server.endpoint, { accessKeyId: READER.accessKeyId, secretAccessKey: READER.secretAccessKey });
  aliceEc2 = ec2Client(server.endpoint, credentialsOf(ALICE));
});
after(async () => {
  await server?.stop();
});
beforeEach(async () => {
  await server.reset();
});

const createComponent = (client: ImagebuilderClient, name: string, semanticVersion = '1.0.0', extra = {}) =>
  client.send(new CreateComponentCommand({ name, semanticVersion, platform: 'Linux', data: DOC, ...extra }));

test('components: create, get by build, version and wildcard ARNs, list, build versions, delete', async () => {
  const created = await createComponent(alice, 'Hello World', '1.0.0', { description: 'greets', tags: { team: 'a' } });
  const arn = created.componentBuildVersionArn!;
  assert.equal(arn, `arn:aws:imagebuilder:us-east-1:${ALICE.id}:component/hello-world/1.0.0/1`);
  assert.ok(created.requestId);
  await createComponent(alice, 'Hello World', '1.1.0');
  const { component } = await alice.send(new GetComponentCommand({ componentBuildVersionArn: arn }));
  assert.equal(component?.name, 'Hello World');
  assert.equal(component?.data, DOC);
  assert.equal(component?.owner, ALICE.id);
  assert.deepEqual(component?.parameters, [{ name: 'greeting', type: 'string', defaultValue: ['hi'] }]);
  assert.deepEqual(component?.tags, { team: 'a' });
  const newest = await alice.send(new GetComponentCommand({ componentBuildVersionArn: arn.replace('/1.0.0/1', '/1.x.x') }));
  assert.equal(newest.component?.version, '1.1.0');
  const list = await alice.send(new ListComponentsCommand({}));
  assert.deepEqual(list.componentVersionList?.map((c) => c.arn), [arn.replace(/\/1$/, ''), arn.replace('/1.0.0/1', '/1.1.0')]);
  const builds = await alice.send(new ListComponentBuildVersionsCommand({ componentVersionArn: arn.replace(/\/1$/, '') }));
  assert.deepEqual(builds.componentSummaryList?.map((c) => c.arn), [arn]);
  const deleted = await alice.send(new DeleteComponentCommand({ componentBuildVersionArn: arn }));
  assert.equal(deleted.componentBuildVersionArn, arn);
  await expectAwsError(alice.send(new GetComponentCommand({ componentBuildVersionArn: arn })), { name: 'ResourceNotFoundException', status: 404 });
});

test('components: errors carry Image Builder\'s codes and statuses', async () => {
  await createComponent(alice, 'comp');
  await expectAwsError(createComponent(alice, 'comp'), { name: 'ResourceAlreadyExistsException', status: 400 });
  await expectAwsError(alice.send(new CreateComponentCommand({ name: 'comp', semanticVersion: '1.0.1', platform: 'Linux', uri: 's3://bucket/doc.yml' })),
    { name: 'InvalidParameterValueException', status: 400, message: /S3/ });
  await expectAwsError(createComponent(alice, 'comp', '1.0.2', { data: 'not: [a, document' }), { name: 'InvalidParameterValueException', status: 400 });
  await expectAwsError(createComponent(alice, 'comp', '1.0.2', { data: 'name: x\nschemaVersion: 1.0' }), { name: 'InvalidParameterValueException', status: 400, message: /phases/ });
  await expectAwsError(createComponent(alice, 'comp', '01.0.0'), { name: 'InvalidVersionNumberException', status: 400 });
  await expectAwsError(createComponent(alice, 'comp', '1.0'), { name: 'InvalidRequestException', status: 400, message: /semanticVersion/ });
  await expectAwsError(createComponent(alice, 'comp', '1.0.3', { dryRun: true }), { name: 'DryRunOperationException', status: 412 });
  await expectAwsError(alice.send(new GetComponentCommand({ componentBuildVersionArn: 'arn:aws:imagebuilder:us-east-1:111111111111:component/nope/1.0.0/1' })),
    { name: 'ResourceNotFoundException', status: 404 });
  await expectAwsError(alice.send(new GetComponentCommand({ componentBuildVersionArn: 'garbage' })), { name: 'InvalidRequestException', status: 400 });
});

test('ImportComponent stores a shell script as a component document with an ExecuteBash step', async () => {
  const { componentBuildVersionArn } = await alice.send(new ImportComponentCommand({
    name: 'script', semanticVersion: '1.0.0', type: 'BUILD', format: 'SHELL', platform: 'Linux', data: 'apt-get update\n',
  }));
  const { component } = await alice.send(new GetComponentCommand({ componentBuildVersionArn }));
  assert.match(component!.data!, /action: ExecuteBash/);
  assert.match(component!.data!, /apt-get update/);
  assert.equal(component?.type, 'BUILD');
});

test('ClientToken: a repeat gets the first answer and creates nothing more; other parameters are a mismatch', async () => {
  const first = await createComponent(alice, 'comp', '1.0.0', { clientToken: 'token-1' });
  const again = await createComponent(alice, 'comp', '1.0.0', { clientToken: 'token-1' });
  assert.equal(again.componentBuildVersionArn, first.componentBuildVersionArn);
  assert.equal(again.clientToken, 'token-1');
  await expectAwsError(createComponent(alice, 'comp', '2.0.0', { clientToken: 'token-1' }), { name: 'IdempotentParameterMismatchException', status: 400 });
  assert.equal((await alice.send(new ListComponentsCommand({}))).componentVersionList?.length, 1);
});

test('pagination: maxResults pages, the SDK paginator, a bad token', async () => {
  for (let i = 0; i < 7; i++) await createComponent(alice, `comp${i}`);
  const names: string[] = [];
  for await (const p of paginateListComponents({ client: alice, pageSize: 3 }, {})) {
    assert.ok((p.componentVersionList?.length ?? 0) <= 3);
    names.push(...p.componentVersionList!.map((c) => c.name!));
  }
  assert.deepEqual(names, ['comp0', 'comp1', 'comp2', 'comp3', 'comp4', 'comp5', 'comp6']);
  await expectAwsError(alice.send(new ListComponentsCommand({ nextToken: 'bm9wZQ' })), { name: 'InvalidPaginationTokenException', status: 400 });
  await expectAwsError(alice.send(new ListComponentsCommand({ maxResults: 26 })), { name: 'InvalidRequestException', status: 400 });
});

test('image recipes: components with parameters on a catalogue AMI; missing components and parents refused; dependencies', async () => {
  const componentArn = (await createComponent(alice, 'comp')).componentBuildVersionArn!;
  const parentImage = amazonInUsEast1[0];
  const { imageRecipeArn } = await alice.send(new CreateImageRecipeCommand({
    name: 'web', semanticVersion: '1.0.0', parentImage, workingDirectory: '/var/tmp',
    components: [{ componentArn, parameters: [{ name: 'greeting', value: ['hello'] }] }],
    blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 12, volumeType: 'gp3', deleteOnTermination: true } }],
    additionalInstanceConfiguration: { userDataOverride: Buffer.from('#!/bin/bash\necho hi\n').toString('base64') },
  }));
  const { imageRecipe } = await alice.send(new GetImageRecipeCommand({ imageRecipeArn }));
  assert.equal(imageRecipe?.parentImage, parentImage);
  assert.equal(imageRecipe?.platform, 'Linux');
  assert.deepEqual(imageRecipe?.components, [{ componentArn, parameters: [{ name: 'greeting', value: ['hello'] }] }]);
  assert.equal(imageRecipe?.blockDeviceMappings?.[0].ebs?.volumeSize, 12);
  const summaries = await alice.send(new ListImageRecipesCommand({}));
  assert.deepEqual(summaries.imageRecipeSummaryList?.map((r) => r.arn), [imageRecipeArn]);
  const base = { semanticVersion: '1.0.0', parentImage };
  await expectAwsError(alice.send(new CreateImageRecipeCommand({ ...base, name: 'web', components: [{ componentArn }] })), { name: 'ResourceAlreadyExistsException', status: 400 });
  await expectAwsError(alice.send(new CreateImageRecipeCommand({ ...base, name: 'recipe2', components: [{ componentArn: componentArn.replace('/comp/', '/none/') }] })),
    { name: 'ResourceNotFoundException', status: 404 });
  await expectAwsError(alice.send(new CreateImageRecipeCommand({ ...base, name: 'recipe2', components: [{ componentArn, parameters: [{ name: 'xxx', value: ['1'] }] }] })),
    { name: 'InvalidParameterValueException', status: 400 });
  await expectAwsError(alice.send(new CreateImageRecipeCommand({ ...base, name: 'recipe2', parentImage: 'ami-0000000000000000f', components: [{ componentArn }] })),
    { name: 'InvalidParameterValueException', status: 400 });
  await expectAwsError(alice.send(new DeleteComponentCommand({ componentBuildVersionArn: componentArn })), { name: 'ResourceDependencyException', status: 400 });
  await alice.send(new DeleteImageRecipeCommand({ imageRecipeArn }));
  await alice.send(new DeleteComponentCommand({ componentBuildVersionArn: componentArn }));
  await expectAwsError(alice.send(new GetImageRecipeCommand({ imageRecipeArn })), { name: 'ResourceNotFoundException', status: 404 });
});

test('infrastructure configurations: EC2 resources checked in the caller\'s account, update, list, delete', async () => {
  const [group] = (await aliceEc2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }))).SecurityGroups!;
  const subnet = (await aliceEc2.send(new DescribeSubnetsCommand({}))).Subnets!.find((s) => s.VpcId === group.VpcId)!;
  await aliceEc2.send(new CreateKeyPairCommand({ KeyName: 'builder' }));
  const { infrastructureConfigurationArn: arn } = await alice.send(new CreateInfrastructureConfigurationCommand({
    name: 'build-infra', instanceProfileName: 'ImageBuilderRole', instanceTypes: ['t3.micro'], securityGroupIds: [group.GroupId!],
    subnetId: subnet.SubnetId, keyPair: 'builder', resourceTags: { purpose: 'build' }, instanceMetadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 },
  }));
  const { infrastructureConfiguration: got } = await alice.send(new GetInfrastructureConfigurationCommand({ infrastructureConfigurationArn: arn }));
  assert.equal(got?.terminateInstanceOnFailure, true);
  assert.equal(got?.subnetId, subnet.SubnetId);
  assert.deepEqual(got?.instanceMetadataOptions, { httpTokens: 'required', httpPutResponseHopLimit: 2 });
  const base = { instanceProfileName: 'p' };
  await expectAwsError(alice.send(new CreateInfrastructureConfigurationCommand({ ...base, name: 'build-infra' })), { name: 'ResourceAlreadyExistsException', status: 400 });
  await expectAwsError(alice.send(new CreateInfrastructureConfigurationCommand({ ...base, name: 'xxx', instanceTypes: ['t9.enormous'] })), { name: 'InvalidParameterValueException', status: 400 });
  await expectAwsError(alice.send(new CreateInfrastructureConfigurationCommand({ ...base, name: 'xxx', keyPair: 'missing' })), { name: 'InvalidParameterValueException', status: 400 });
  await expectAwsError(alice.send(new CreateInfrastructureConfigurationCommand({ ...base, name: 'xxx', subnetId: 'subnet-0000000000000000f' })), { name: 'InvalidParameterValueException', status: 400 });
  // Alice's security group is not Bob's.
  await expectAwsError(bob.send(new CreateInfrastructureConfigurationCommand({ ...base, name: 'xxx', securityGroupIds: [group.GroupId!] })), { name: 'InvalidParameterValueException', status: 400 });
  await alice.send(new UpdateInfrastructureConfigurationCommand({ infrastructureConfigurationArn: arn, instanceProfileName: 'Other', terminateInstanceOnFailure: false }));
  const { infrastructureConfiguration: updated } = await alice.send(new GetInfrastructureConfigurationCommand({ infrastructureConfigurationArn: arn }));
  assert.equal(updated?.instanceProfileName, 'Other');
  assert.equal(updated?.terminateInstanceOnFailure, false);
  assert.ok(updated?.dateUpdated);
  const list = await alice.send(new ListInfrastructureConfigurationsCommand({ filters: [{ name: 'name', values: ['build-infra'] }] }));
  assert.deepEqual(list.infrastructureConfigurationSummaryList?.map((c) => c.arn), [arn]);
  await alice.send(new DeleteInfrastructureConfigurationCommand({ infrastructureConfigurationArn: arn }));
  await expectAwsError(alice.send(new GetInfrastructureConfigurationCommand({ infrastructureConfigurationArn: arn })), { name: 'ResourceNotFoundException', status: 404 });
});

test('distribution configurations: regions, AMI name variables, launch permissions, update, delete', async () => {
  const { distributionConfigurationArn: arn } = await alice.send(new CreateDistributionConfigurationCommand({
    name: 'dist', description: 'to two regions', distributions: [
      { region: 'us-east-1', amiDistributionConfiguration: { name: 'web-{{ imagebuilder:buildDate }}', amiTags: { app: 'web' }, launchPermission: { userIds: [BOB.id] } } },
      { region: 'eu-west-1', amiDistributionConfiguration: { targetAccountIds: [BOB.id] } },
    ],
  }));
  const { distributionConfiguration: got } = await alice.send(new GetDistributionConfigurationCommand({ distributionConfigurationArn: arn }));
  assert.equal(got?.distributions?.[0].amiDistributionConfiguration?.name, 'web-{{ imagebuilder:buildDate }}');
  assert.equal(got?.timeoutMinutes, 720);
  const one = (distribution: object) => alice.send(new CreateDistributionConfigurationCommand({ name: 'xxx', distributions: [{ region: 'us-east-1', ...distribution }] }));
  await expectAwsError(one({ amiDistributionConfiguration: { name: 'web-{{ imagebuilder:whatever }}' } }), { name: 'InvalidParameterValueException', status: 400 });
  await expectAwsError(one({ region: 'moon-1', amiDistributionConfiguration: {} }), { name: 'InvalidParameterValueException', status: 400 });
  await expectAwsError(one({}), { name: 'InvalidParameterValueException', status: 400 });
  await expectAwsError(one({ amiDistributionConfiguration: { launchPermission: { organizationArns: ['arn:aws:organizations::x'] } } }), { name: 'InvalidRequestException', status: 400 });
  await alice.send(new UpdateDistributionConfigurationCommand({ distributionConfigurationArn: arn, distributions: [{ region: 'us-west-2', amiDistributionConfiguration: {} }] }));
  const list = await alice.send(new ListDistributionConfigurationsCommand({}));
  assert.deepEqual(list.distributionConfigurationSummaryList?.map((c) => c.regions), [['us-west-2']]);
  await alice.send(new DeleteDistributionConfigurationCommand({ distributionConfigurationArn: arn }));
  await expectAwsError(alice.send(new GetDistributionConfigurationCommand({ distributionConfigurationArn: arn })), { name: 'ResourceNotFoundException', status: 404 });
});

test('tags: tag, list, untag on any owned ARN; shown by Get', async () => {
  const { componentBuildVersionArn: resourceArn } = await createComponent(alice, 'comp', '1.0.0', { tags: { a: '1' } });
  await alice.send(new TagResourceCommand({ resourceArn, tags: { b: '2' } }));
  assert.deepEqual((await alice.send(new ListTagsForResourceCommand({ resourceArn }))).tags, { a: '1', b: '2' });
  await alice.send(new UntagResourceCommand({ resourceArn, tagKeys: ['a'] }));
  assert.deepEqual((await alice.send(new GetComponentCommand({ componentBuildVersionArn: resourceArn }))).component?.tags, { b: '2' });
  await expectAwsError(alice.send(new TagResourceCommand({ resourceArn, tags: { 'aws:x': '1' } })), { name: 'InvalidParameterException', status: 400 });
  await expectAwsError(bob.send(new ListTagsForResourceCommand({ resourceArn })), { name: 'ResourceNotFoundException', status: 404 });
  await expectAwsError(bob.send(new TagResourceCommand({ resourceArn, tags: { x: 'y' } })), { name: 'ResourceNotFoundException', status: 404 });
});

test('another account sees nothing of Alice\'s and changes nothing', async () => {
  const { componentBuildVersionArn } = await createComponent(alice, 'comp');
  const { distributionConfigurationArn } = await alice.send(new CreateDistributionConfigurationCommand({ name: 'dist-d', distributions: [{ region: 'us-east-1', amiDistributionConfiguration: {} }] }));
  await expectAwsError(bob.send(new GetComponentCommand({ componentBuildVersionArn })), { name: 'ForbiddenException', status: 403 });
  await expectAwsError(bob.send(new DeleteComponentCommand({ componentBuildVersionArn })), { name: 'ForbiddenException', status: 403 });
  await expectAwsError(bob.send(new GetDistributionConfigurationCommand({ distributionConfigurationArn })), { name: 'ForbiddenException', status: 403 });
  await expectAwsError(bob.send(new DeleteDistributionConfigurationCommand({ distributionConfigurationArn })), { name: 'ForbiddenException', status: 403 });
  assert.deepEqual((await bob.send(new ListComponentsCommand({}))).componentVersionList, []);
  assert.deepEqual((await bob.send(new ListDistributionConfigurationsCommand({}))).distributionConfigurationSummaryList, []);
  // Bob's own component of the same name and version is his own.
  assert.match((await createComponent(bob, 'comp')).componentBuildVersionArn!, new RegExp(`:${BOB.id}:component/comp/1.0.0/1$`));
  assert.ok((await alice.send(new GetComponentCommand({ componentBuildVersionArn }))).component);
});

test('an IAM user whose policy allows reading only may list and get, not create or tag', async () => {
  const { componentBuildVersionArn } = await createComponent(alice, 'comp');
  assert.equal((await reader.send(new ListComponentsCommand({}))).componentVersionList?.length, 1);
  assert.ok((await reader.send(new GetComponentCommand({ componentBuildVersionArn }))).component);
  await expectAwsError(createComponent(reader, 'other'), { name: 'AccessDeniedException', status: 403, message: /imagebuilder:CreateComponent/ });
  await expectAwsError(reader.send(new TagResourceCommand({ resourceArn: componentBuildVersionArn, tags: { a: 'b' } })),
    { name: 'AccessDeniedException', status: 403, message: /imagebuilder:TagResource/ });
  assert.equal((await alice.send(new ListComponentsCommand({}))).componentVersionList?.length, 1);
});

test('an operation amiforge does not implement answers the model\'s error, naming it', async () => {
  await expectAwsError(alice.send(new CreateContainerRecipeCommand({
    name: 'xxx', semanticVersion: '1.0.0', containerType: 'DOCKER', parentImage: 'amazonlinux:latest', components: [],
    targetRepository: { service: 'ECR', repositoryName: 'r' },
  })), { name: 'InvalidRequestException', status: 400, message: /CreateContainerRecipe is not supported/ });
});
