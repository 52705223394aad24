// ImageRecipeService, InfrastructureConfigurationService and DistributionConfigurationService
// over an in-memory store with fake EC2 lookups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALICE, BOB, DOC, resources } from './test-support.ts';
import { checkAmiNameTemplate } from './distribution-service.ts';

const AMI = 'ami-0123456789abcdef0';

async function withComponent() {
  const r = resources();
  const { componentBuildVersionArn } = await r.components.create(ALICE, { name: 'c', semanticVersion: '1.0.0', platform: 'Linux', data: DOC, clientToken: 't' });
  return { r, componentArn: componentBuildVersionArn };
}

/** A pipeline record as the pipelines area stores it, using the given resources. */
async function pipelineUsing(r: ReturnType<typeof resources>, doc: Record<string, string>) {
  const now = new Date().toISOString();
  await r.store.insert({ arn: 'arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/p', kind: 'image-pipeline', account: ALICE.account, region: ALICE.region, name: 'p', doc, createdAt: now, updatedAt: now });
}

test('an image recipe resolves its components and parent image; conflicts, unknown parameters and parents are refused', async () => {
  const { r, componentArn } = await withComponent();
  const { imageRecipeArn } = await r.recipes.create(ALICE, {
    name: 'Web', semanticVersion: '1.0.0', parentImage: AMI, clientToken: 'x',
    components: [{ componentArn: componentArn.replace('/1.0.0/1', '/x.x.x'), parameters: [{ name: 'greeting', value: ['hello'] }] }],
    workingDirectory: '/var/tmp', additionalInstanceConfiguration: { userDataOverride: Buffer.from('#!/bin/sh\n').toString('base64') },
    blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 16 } }],
  });
  assert.equal(imageRecipeArn, 'arn:aws:imagebuilder:us-east-1:111111111111:image-recipe/web/1.0.0');
  const recipe = await r.recipes.get(ALICE, imageRecipeArn);
  assert.equal(recipe.platform, 'Linux');
  assert.equal(recipe.workingDirectory, '/var/tmp');
  assert.equal(recipe.blockDeviceMappings?.[0].ebs?.volumeSize, 16);
  const base = { semanticVersion: '1.0.0', parentImage: AMI, clientToken: 'y' };
  await assert.rejects(r.recipes.create(ALICE, { ...base, name: 'web' }), { code: 'ResourceAlreadyExistsException' });
  await assert.rejects(r.recipes.create(ALICE, { ...base, name: 'r2', components: [{ componentArn, parameters: [{ name: 'nope', value: ['1'] }] }] }),
    { code: 'InvalidParameterValueException', message: /nope/ });
  await assert.rejects(r.recipes.create(ALICE, { ...base, name: 'r2', components: [{ componentArn: componentArn.replace('/c/', '/missing/') }] }), { code: 'ResourceNotFoundException' });
  await assert.rejects(r.recipes.create(ALICE, { ...base, name: 'r2', parentImage: 'ami-0000000000000000f' }), { code: 'InvalidParameterValueException' });
  await assert.rejects(r.recipes.create(ALICE, { ...base, name: 'r2', parentImage: 'arn:aws:imagebuilder:us-east-1:111111111111:image/none/1.x.x' }), { code: 'InvalidParameterValueException' });
  await assert.rejects(r.recipes.create(ALICE, { ...base, name: 'r2', parentImage: 'ubuntu' }), { code: 'InvalidParameterValueException' });
  // Bob may not use Alice's component.
  await assert.rejects(r.recipes.create(BOB, { ...base, name: 'r2', components: [{ componentArn }] }), { code: 'ForbiddenException' });
  // The component is in use by the recipe; the recipe, once a pipeline uses it, too.
  await assert.rejects(r.components.delete(ALICE, componentArn), { code: 'ResourceDependencyException' });
  await pipelineUsing(r, { imageRecipeArn });
  await assert.rejects(r.recipes.delete(ALICE, imageRecipeArn), { code: 'ResourceDependencyException' });
  await r.store.delete('arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/p');
  await assert.rejects(r.recipes.delete(BOB, imageRecipeArn), { code: 'ForbiddenException' });
  await r.recipes.delete(ALICE, imageRecipeArn);
  await r.components.delete(ALICE, componentArn);
  await assert.rejects(r.recipes.get(ALICE, imageRecipeArn), { code: 'ResourceNotFoundException' });
});

test('a recipe may start from an available Image Builder image of the caller, newest matching version', async () => {
  const r = resources();
  const now = new Date().toISOString();
  for (const [version, status] of [['1.0.0', 'AVAILABLE'], ['1.1.0', 'FAILED']] as const) {
    const arn = `arn:aws:imagebuilder:us-east-1:111111111111:image/base/${version}/1`;
    await r.store.insert({ arn, kind: 'image', account: ALICE.account, region: ALICE.region, name: 'base', version, build: 1,
      doc: { arn, name: 'base', version, platform: 'Linux', state: { status } }, createdAt: now, updatedAt: now });
  }
  const { imageRecipeArn } = await r.recipes.create(ALICE, { name: 'child', semanticVersion: '1.0.0', clientToken: 'c', parentImage: 'arn:aws:imagebuilder:us-east-1:111111111111:image/base/1.x.x' });
  assert.equal((await r.recipes.get(ALICE, imageRecipeArn)).platform, 'Linux');
  const list = await r.recipes.list(ALICE, { filters: [{ name: 'name', values: ['child'] }] });
  assert.equal(list.imageRecipeSummaryList.length, 1);
});

test('infrastructure configurations check EC2 resources, default terminateInstanceOnFailure, and update by replacing', async () => {
  const r = resources();
  const base = { name: 'build', instanceProfileName: 'profile', clientToken: 't' };
  const { infrastructureConfigurationArn: arn } = await r.infrastructure.create(ALICE, {
    ...base, instanceTypes: ['t3.micro'], securityGroupIds: ['sg-1'], subnetId: 'subnet-1', keyPair: 'k', resourceTags: { team: 'x' },
    instanceMetadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 }, tags: { t: '1' },
  });
  const got = await r.infrastructure.get(ALICE, arn);
  assert.equal(got.terminateInstanceOnFailure, true);
  assert.deepEqual(got.resourceTags, { team: 'x' });
  await assert.rejects(r.infrastructure.create(ALICE, base), { code: 'ResourceAlreadyExistsException' });
  for (const bad of [{ instanceTypes: ['t9.huge'] }, { securityGroupIds: ['sg-9'] }, { subnetId: 'subnet-9' }, { keyPair: 'none' },
    { securityGroupIds: ['sg-2'], subnetId: 'subnet-1' }, { instanceMetadataOptions: { httpTokens: 'sometimes' } }]) {
    await assert.rejects(r.infrastructure.create(ALICE, { ...base, name: 'other', ...bad }), { code: 'InvalidParameterValueException' }, JSON.stringify(bad));
  }
  await assert.rejects(r.infrastructure.create(BOB, { ...base, keyPair: 'k' }), { code: 'InvalidParameterValueException' });
  await r.infrastructure.update(ALICE, { infrastructureConfigurationArn: arn, instanceProfileName: 'other', terminateInstanceOnFailure: false, clientToken: 'u' });
  const updated = await r.infrastructure.get(ALICE, arn);
  assert.equal(updated.instanceProfileName, 'other');
  assert.equal(updated.terminateInstanceOnFailure, false);
  assert.equal(updated.instanceTypes, undefined);
  assert.deepEqual(updated.tags, { t: '1' });
  assert.ok(updated.dateUpdated);
  assert.equal((await r.infrastructure.list(ALICE, {})).infrastructureConfigurationSummaryList.length, 1);
  await pipelineUsing(r, { infrastructureConfigurationArn: arn });
  await assert.rejects(r.infrastructure.delete(ALICE, arn), { code: 'ResourceDependencyException' });
});

test('distribution configurations: regions, outputs, AMI name variables and launch permissions', async () => {
  const r = resources();
  const ami = { name: 'web-{{ imagebuilder:buildDate }}-{{imagebuilder:buildVersion}}', launchPermission: { userGroups: ['all'], userIds: ['222222222222'] } };
  const { distributionConfigurationArn: arn } = await r.distribution.create(ALICE, {
    name: 'dist', clientToken: 't', distributions: [{ region: 'us-east-1', amiDistributionConfiguration: ami }, { region: 'eu-west-1', amiDistributionConfiguration: { targetAccountIds: ['222222222222'] } }],
  });
  const got = await r.distribution.get(ALICE, arn);
  assert.equal(got.timeoutMinutes, 720);
  assert.equal(got.distributions?.length, 2);
  const list = await r.distribution.list(ALICE, {});
  assert.deepEqual(list.distributionConfigurationSummaryList[0].regions, ['us-east-1', 'eu-west-1']);
  const one = (d: object) => r.distribution.create(ALICE, { name: 'x', clientToken: 'x', distributions: [{ region: 'us-east-1', ...d }] });
  await assert.rejects(one({}), { code: 'InvalidParameterValueException', message: /outputs/ });
  await assert.rejects(one({ region: 'mars-1', amiDistributionConfiguration: {} }), { code: 'InvalidParameterValueException' });
  await assert.rejects(one({ amiDistributionConfiguration: { launchPermission: { userGroups: ['some'] } } }), { code: 'InvalidParameterValueException' });
  await assert.rejects(one({ amiDistributionConfiguration: {}, s3ExportConfiguration: {} }), { code: 'InvalidRequestException' });
  await assert.rejects(r.distribution.create(ALICE, { name: 'x', clientToken: 'x', distributions: [
    { region: 'us-east-1', amiDistributionConfiguration: {} }, { region: 'us-east-1', amiDistributionConfiguration: {} }] }), { code: 'InvalidParameterValueException' });
  await r.distribution.update(ALICE, { distributionConfigurationArn: arn, description: 'd', clientToken: 'u', distributions: [{ region: 'us-west-2', amiDistributionConfiguration: {} }] });
  assert.deepEqual((await r.distribution.get(ALICE, arn)).distributions?.map((d) => d.region), ['us-west-2']);
  await assert.rejects(r.distribution.get(BOB, arn), { code: 'ForbiddenException' });
  await r.distribution.delete(ALICE, arn);
  await assert.rejects(r.distribution.get(ALICE, arn), { code: 'ResourceNotFoundException' });
});

test('AMI name templates accept only Image Builder\'s variables', () => {
  checkAmiNameTemplate('a-{{ imagebuilder:buildDate }}', 'n');
  checkAmiNameTemplate('{{imagebuilder:buildVersion}}-x', 'n');
  assert.throws(() => checkAmiNameTemplate('a-{{ imagebuilder:region }}', 'n'), { code: 'InvalidParameterValueException' });
  assert.throws(() => checkAmiNameTemplate('a-{{ imagebuilder:buildDate', 'n'), { code: 'InvalidParameterValueException' });
  assert.throws(() => checkAmiNameTemplate('ab', 'n'), { code: 'InvalidParameterValueException' });
});
