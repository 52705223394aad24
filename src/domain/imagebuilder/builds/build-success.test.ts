// A build that succeeds, with stand-ins for EC2, the guest and the component runner: its statuses,
// its workflow and step records, the AMIs it distributes and what it leaves behind (nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientTokenService } from '../resources/client-tokens.ts';
import { ARNS, build, ME, PARENT, seed, stepsOf, world } from './build-fakes.test-support.ts';

test('a build runs build, validate, clean-up, CreateImage, test and distribution, and ends AVAILABLE with an AMI per region', async () => {
  const w = world();
  await seed(w);
  const seen: string[] = [];
  const update = w.records.update.bind(w.records);
  w.records.update = async (arn, change) => {
    const written = await update(arn, change);
    if (written?.kind === 'image' && seen.at(-1) !== written.state) seen.push(written.state!);
    return written;
  };
  const { arn, image } = await build(w);

  assert.equal(arn, `arn:aws:imagebuilder:us-east-1:${ME.account}:image/golden/1.2.3/1`);
  assert.equal(image.state?.status, 'AVAILABLE', image.state?.reason);
  assert.equal(image.version, '1.2.3/1');
  assert.equal(image.imageRecipe?.arn, ARNS.recipe);
  assert.equal(image.infrastructureConfiguration?.arn, ARNS.infra);
  assert.equal(image.distributionConfiguration?.arn, ARNS.dist);
  assert.deepEqual(image.imageTestsConfiguration, { imageTestsEnabled: true, timeoutMinutes: 720 });
  assert.equal(image.buildType, 'USER_INITIATED');
  assert.deepEqual(image.workflows?.map((wf) => wf.workflowArn), [
    'arn:aws:imagebuilder:us-east-1:aws:workflow/build/build-image/1.0.0/1', 'arn:aws:imagebuilder:us-east-1:aws:workflow/test/test-image/1.0.0/1',
    'arn:aws:imagebuilder:us-east-1:aws:workflow/distribution/distribute-image/1.0.0/1',
  ]);
  assert.ok(!('buildResources' in image) && !('hygieneScan' in image) && !('installedPackages' in image), 'the record\'s own members are not on the wire');

  // One AMI per region: us-east-1 is the build's own image (no KMS key), us-west-2 an encrypted copy.
  const amis = image.outputResources!.amis!;
  assert.deepEqual(amis.map((a) => a.region), ['us-east-1', 'us-west-2']);
  assert.equal(amis[0].name, 'golden-2026-03-04T05-06-07.890Z');
  assert.equal(amis[1].name, 'golden-1.2.3/1');
  const east = w.ec2.images.get(amis[0].image!)!;
  const west = w.ec2.images.get(amis[1].image!)!;
  assert.equal(east.region, 'us-east-1');
  assert.equal(east.tags.stage, 'prod');
  assert.equal(east.tags.Ec2ImageBuilderArn, arn);
  assert.equal(west.region, 'us-west-2');
  assert.equal(west.kmsKeyId, 'arn:aws:kms:us-west-2:111111111111:key/k1');
  assert.equal(w.ec2.images.size, 2, 'no intermediate image is left');

  // The phases ran in order on the build instance, then the test phase on a test instance.
  assert.deepEqual(w.runner.phases, ['build:hello', 'validate:hello', 'test:hello']);
  assert.equal(w.guest.opened.length, 2);
  assert.equal(w.guest.opened[0].address, '127.100.0.9');
  assert.equal(w.guest.opened[0].privateKey, 'PRIVATE KEY');
  assert.match(w.guest.scripts[0], /cloud-config.service/, 'the session waits for cloud-init\'s config stage');
  assert.match(w.guest.scripts[1], /ssh_host_/, 'the clean-up ran on the build instance');
  const launches = [...w.ec2.instances.values()];
  assert.equal(launches[0].spec.imageId, PARENT);
  assert.equal(launches[0].spec.instanceType, 't3.micro');
  assert.equal(launches[0].spec.tags.team, 'platform');
  assert.equal(launches[1].spec.imageId, amis[0].image, 'the test instance runs the new AMI');

  // Nothing left running, no temporary key pair or group.
  assert.deepEqual(w.ec2.live(), []);
  assert.equal(w.ec2.keyPairs.size, 0);
  assert.equal(w.ec2.groups.size, 0);

  assert.deepEqual(await stepsOf(w, arn), [
    'BUILD LaunchBuildInstance COMPLETED', 'BUILD ApplyBuildComponents COMPLETED', 'BUILD RunSanitizeScript COMPLETED',
    'BUILD CreateOutputAMI COMPLETED', 'BUILD TerminateBuildInstance COMPLETED',
    'TEST LaunchTestInstance COMPLETED', 'TEST RunTestSuite COMPLETED', 'TEST TerminateTestInstance COMPLETED',
    'DISTRIBUTION DistributeImage COMPLETED',
  ]);
  assert.deepEqual(seen, ['CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING', 'AVAILABLE']);
});

test('a step\'s log and outputs are in GetWorkflowStepExecution; the workflow counts its steps', async () => {
  const w = world();
  await seed(w);
  const { arn } = await build(w);
  const [buildWf] = (await w.service.listWorkflowExecutions(ME, arn, {})).workflowExecutions!;
  assert.equal(buildWf.type, 'BUILD');
  assert.equal(buildWf.status, 'COMPLETED');
  assert.equal(buildWf.workflowBuildVersionArn, 'arn:aws:imagebuilder:us-east-1:aws:workflow/build/build-image/1.0.0/1');
  const got = await w.service.getWorkflowExecution(ME, buildWf.workflowExecutionId!);
  assert.equal(got.totalStepCount, 5);
  assert.equal(got.totalStepsSucceeded, 5);
  assert.equal(got.imageBuildVersionArn, arn);
  const steps = (await w.service.listWorkflowStepExecutions(ME, buildWf.workflowExecutionId!, {})).steps!;
  const apply = await w.service.getWorkflowStepExecution(ME, steps[1].stepExecutionId!);
  assert.equal(apply.action, 'ExecuteComponents');
  assert.match(JSON.parse(apply.outputs!).log, /running build[\s\S]*running validate/);
  const create = await w.service.getWorkflowStepExecution(ME, steps[3].stepExecutionId!);
  assert.match(JSON.parse(create.outputs!).imageId, /^ami-/);
});

test('build numbers count up per name and version; GetImage on a version ARN answers the newest build', async () => {
  const w = world();
  await seed(w);
  await build(w);
  const second = await build(w);
  assert.match(second.arn, /\/golden\/1\.2\.3\/2$/);
  const newest = await w.service.get(ME, `arn:aws:imagebuilder:us-east-1:${ME.account}:image/golden/1.2.3`);
  assert.equal(newest.arn, second.arn);
  const versions = await w.service.listImages(ME, {});
  assert.deepEqual(versions.imageVersionList!.map((v) => v.arn), [`arn:aws:imagebuilder:us-east-1:${ME.account}:image/golden/1.2.3`]);
  const builds = await w.service.listBuildVersions(ME, { imageVersionArn: versions.imageVersionList![0].arn });
  assert.deepEqual(builds.imageSummaryList!.map((s) => s.version), ['1.2.3/1', '1.2.3/2']);
  const paged = await w.service.listBuildVersions(ME, { maxResults: 1 });
  assert.equal(paged.imageSummaryList!.length, 1);
  const rest = await w.service.listBuildVersions(ME, { maxResults: 1, nextToken: paged.nextToken });
  assert.equal(rest.imageSummaryList![0].version, '1.2.3/2');
  assert.equal(rest.nextToken, undefined);
});

test('without a distribution configuration the build\'s own AMI is the output; tests disabled leave a SKIPPED test workflow', async () => {
  const w = world();
  await seed(w, { dist: null });
  const { imageBuildVersionArn: arn } = await w.service.startBuild(ME, { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra, imageTestsConfiguration: { imageTestsEnabled: false } });
  await w.service.idle();
  const image = await w.service.get(ME, arn);
  assert.equal(image.state?.status, 'AVAILABLE', image.state?.reason);
  assert.deepEqual(image.outputResources!.amis!.map((a) => [a.region, a.name]), [['us-east-1', 'golden 2026-03-04T05-06-07.890Z']]);
  assert.deepEqual(w.runner.phases, ['build:hello', 'validate:hello']);
  assert.ok((await stepsOf(w, arn)).includes('TEST SKIPPED'));
});

test('launch permissions and target accounts: the copy is shared, the target account gets its own copy, the snapshot share is withdrawn', async () => {
  const w = world({ hygiene: { scan: async (_c, imageId) => ({ imageId, findings: [{ severity: 'LOW', kind: 'tmp-file', path: '/tmp/x', detail: 'left in /tmp' }] }) } });
  await seed(w, { dist: [{ region: 'us-west-2', amiDistributionConfiguration: { name: 'shared', launchPermission: { userIds: ['333333333333'], userGroups: ['all'] }, targetAccountIds: ['222222222222'] } }] });
  const { arn, image } = await build(w);
  assert.equal(image.state?.status, 'AVAILABLE', image.state?.reason);
  const amis = image.outputResources!.amis!;
  assert.deepEqual(amis.map((a) => [a.region, a.accountId]), [['us-west-2', ME.account], ['us-west-2', '222222222222']]);
  const ours = w.ec2.images.get(amis[0].image!)!;
  assert.deepEqual(ours.launch, [{ UserId: '333333333333' }, { Group: 'all' }, { UserId: '222222222222' }]);
  assert.deepEqual(ours.sharedSnapshotsWith, []);
  assert.equal(w.ec2.images.get(amis[1].image!)!.account, '222222222222');
  assert.equal(w.ec2.images.size, 2, 'the intermediate image in us-east-1 is gone');
  assert.ok((await stepsOf(w, arn)).includes('DISTRIBUTION ScanBeforeSharing COMPLETED'));
});

test('a ClientToken repeated answers the same build; a recipe of another account is not found', async () => {
  const w = world();
  await seed(w);
  // As the dispatcher runs CreateImage: the token service answers a repeat before the build service.
  const tokens = new ClientTokenService({ store: w.records, clock: { now: () => new Date() } });
  const input = { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra };
  const createImage = () => tokens.once(ME, 'CreateImage', 't1', input, () => w.service.startBuild(ME, input)) as Promise<{ imageBuildVersionArn: string }>;
  const a = await createImage();
  const b = await createImage();
  assert.equal(a.imageBuildVersionArn, b.imageBuildVersionArn);
  await w.service.idle();
  await assert.rejects(w.service.startBuild({ account: '999999999999', region: 'us-east-1' }, { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra }),
    (err: Error & { code?: string }) => err.code === 'ResourceNotFoundException');
  await assert.rejects(w.service.startBuild(ME, { imageRecipeArn: 'arn:nope', infrastructureConfigurationArn: ARNS.infra }),
    (err: Error & { code?: string }) => err.code === 'InvalidParameterValueException');
});
