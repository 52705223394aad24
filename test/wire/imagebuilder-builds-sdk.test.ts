// Image Builder's builds through @aws-sdk/client-imagebuilder and @aws-sdk/client-ec2 on the
// simulator hypervisor, whose guest session runs no commands (`exit N` fails a step, `sleep N`
// waits): a build to AVAILABLE with its AMIs in two regions, its workflow and step executions;
// a failing build; a cancelled one; the lists; DeleteImage; Image Builder's errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DescribeImagesCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import {
  CancelImageCreationCommand, CreateImageCommand, DeleteImageCommand, GetImageCommand, GetWorkflowExecutionCommand,
  GetWorkflowStepExecutionCommand, ListImageBuildVersionsCommand, ListImagesCommand, ListWorkflowExecutionsCommand,
  ListWorkflowStepExecutionsCommand, type ImagebuilderClient,
} from '@aws-sdk/client-imagebuilder';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { createBuildSetup, ibClient, stepSummary, waitForImage } from '../support/imagebuilder.ts';
import { expectAwsError } from '../support/sdk.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const ACCOUNT = '111111111111';
let server: RunningServer;
let ib: ImagebuilderClient;
let ec2: EC2Client;
let parentImage: string;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '50'] });
  ib = ibClient(server.endpoint, devCredentials(ACCOUNT));
  ec2 = ec2Client(server.endpoint, devCredentials(ACCOUNT));
  const { Images } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-*-x86_64'] }] }));
  parentImage = Images![0].ImageId!;
});
after(async () => server?.stop());

async function nothingLeft(): Promise<void> {
  const reservations = (await ec2.send(new DescribeInstancesCommand({}))).Reservations ?? [];
  const live = reservations.flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== 'terminated');
  assert.deepEqual(live.map((i) => i.InstanceId), [], 'no build or test instance is left running');
  assert.deepEqual((await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs, [], 'no temporary key pair is left');
  const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupName);
  assert.deepEqual(groups, ['default'], 'no temporary security group is left');
}

test('CreateImage builds, tests and distributes to two regions; GetImage, the workflow and step executions tell how', { timeout: 180_000 }, async () => {
  const setup = await createBuildSetup(ib, {
    name: 'golden', parentImage, build: ['echo building'], test: ['echo testing'],
    distributions: [
      { region: 'us-east-1', amiDistributionConfiguration: { name: 'golden-{{ imagebuilder:buildDate }}', amiTags: { stage: 'prod' } } },
      { region: 'us-west-2', amiDistributionConfiguration: { name: 'golden-west-{{ imagebuilder:buildDate }}' } },
    ],
  });
  const created = await ib.send(new CreateImageCommand({
    imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn, distributionConfigurationArn: setup.distributionArn,
  }));
  assert.match(created.imageBuildVersionArn!, new RegExp(`^arn:aws:imagebuilder:us-east-1:${ACCOUNT}:image/golden/1\\.0\\.0/1$`));
  const image = await waitForImage(ib, created.imageBuildVersionArn!, ['AVAILABLE']);
  assert.equal(image.version, '1.0.0/1');
  assert.equal(image.imageRecipe?.arn, setup.recipeArn);
  const amis = image.outputResources!.amis!;
  assert.deepEqual(amis.map((a) => a.region), ['us-east-1', 'us-west-2']);
  for (const a of amis) {
    const client = ec2Client(server.endpoint, devCredentials(ACCOUNT), a.region);
    const [described] = (await client.send(new DescribeImagesCommand({ ImageIds: [a.image!] }))).Images!;
    assert.equal(described.State, 'available');
    assert.equal(described.Name, a.name);
    assert.ok(described.Tags?.some((t) => t.Key === 'Ec2ImageBuilderArn' && t.Value === created.imageBuildVersionArn));
  }
  await nothingLeft();

  const { workflowExecutions } = await ib.send(new ListWorkflowExecutionsCommand({ imageBuildVersionArn: created.imageBuildVersionArn }));
  assert.deepEqual(workflowExecutions!.map((w) => [w.type, w.status]), [['BUILD', 'COMPLETED'], ['TEST', 'COMPLETED'], ['DISTRIBUTION', 'COMPLETED']]);
  const buildWf = await ib.send(new GetWorkflowExecutionCommand({ workflowExecutionId: workflowExecutions![0].workflowExecutionId }));
  assert.equal(buildWf.imageBuildVersionArn, created.imageBuildVersionArn);
  const { steps } = await ib.send(new ListWorkflowStepExecutionsCommand({ workflowExecutionId: buildWf.workflowExecutionId }));
  assert.deepEqual(steps!.map((s) => s.name), ['LaunchBuildInstance', 'ApplyBuildComponents', 'RunSanitizeScript', 'CreateOutputAMI', 'TerminateBuildInstance']);
  const apply = await ib.send(new GetWorkflowStepExecutionCommand({ stepExecutionId: steps![1].stepExecutionId }));
  assert.equal(apply.status, 'COMPLETED');
  assert.match(JSON.parse(apply.outputs!).log, /building/);

  const versions = await ib.send(new ListImagesCommand({}));
  assert.ok(versions.imageVersionList!.some((v) => v.arn === `arn:aws:imagebuilder:us-east-1:${ACCOUNT}:image/golden/1.0.0`));
  const builds = await ib.send(new ListImageBuildVersionsCommand({ imageVersionArn: `arn:aws:imagebuilder:us-east-1:${ACCOUNT}:image/golden/1.0.0` }));
  assert.deepEqual(builds.imageSummaryList!.map((s) => [s.version, s.state?.status]), [['1.0.0/1', 'AVAILABLE']]);

  // DeleteImage removes the build version; its AMIs stay in EC2, as AWS documents.
  await ib.send(new DeleteImageCommand({ imageBuildVersionArn: created.imageBuildVersionArn }));
  await expectAwsError(ib.send(new GetImageCommand({ imageBuildVersionArn: created.imageBuildVersionArn })), { name: 'ResourceNotFoundException', status: 404 });
  const [still] = (await ec2.send(new DescribeImagesCommand({ ImageIds: [amis[0].image!] }))).Images!;
  assert.equal(still.State, 'available');
});

test('a build step that fails fails the build with its output, and leaves nothing behind', { timeout: 120_000 }, async () => {
  const setup = await createBuildSetup(ib, { name: 'broken', parentImage, build: ['echo about to fail', 'exit 3'] });
  const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({ imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn }));
  const image = await waitForImage(ib, imageBuildVersionArn!, ['FAILED']);
  assert.ok(image.state?.reason, 'the reason says why');
  assert.match(await stepSummary(ib, imageBuildVersionArn!), /BUILD ApplyBuildComponents FAILED/);
  await nothingLeft();
});

test('CancelImageCreation stops a build in progress: CANCELLED, its instance terminated, no temporaries', { timeout: 120_000 }, async () => {
  const setup = await createBuildSetup(ib, { name: 'slow', parentImage, build: ['sleep 60'] });
  const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({ imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn }));
  await waitForImage(ib, imageBuildVersionArn!, ['BUILDING']);
  const cancelled = await ib.send(new CancelImageCreationCommand({ imageBuildVersionArn }));
  assert.equal(cancelled.imageBuildVersionArn, imageBuildVersionArn);
  const image = await waitForImage(ib, imageBuildVersionArn!, ['CANCELLED']);
  assert.match(image.state!.reason!, /cancelled/);
  await nothingLeft();
  await expectAwsError(ib.send(new CancelImageCreationCommand({ imageBuildVersionArn })), { name: 'InvalidRequestException', status: 400 });
});

test('Image Builder\'s errors: an unknown image, another account\'s recipe, a container recipe', async () => {
  await expectAwsError(ib.send(new GetImageCommand({ imageBuildVersionArn: `arn:aws:imagebuilder:us-east-1:${ACCOUNT}:image/none/1.0.0/1` })),
    { name: 'ResourceNotFoundException', status: 404 });
  const setup = await createBuildSetup(ib, { name: 'mine', parentImage, build: ['echo mine'] });
  const other = ibClient(server.endpoint, devCredentials('222222222222'));
  await expectAwsError(other.send(new CreateImageCommand({ imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn })),
    { name: 'ResourceNotFoundException', status: 404 });
  await expectAwsError(ib.send(new CreateImageCommand({
    containerRecipeArn: `arn:aws:imagebuilder:us-east-1:${ACCOUNT}:container-recipe/c/1.0.0`, infrastructureConfigurationArn: setup.infrastructureArn,
  })), { name: 'InvalidRequestException', status: 400 });
});
