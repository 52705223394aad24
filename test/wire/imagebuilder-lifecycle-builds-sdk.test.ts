// Lifecycle policies on images Image Builder built (CreateImage, on the simulator): selection by
// recipe keeps the newest build of the recipe version and deletes the older one with its AMI and
// snapshot; StartResourceStateUpdate deprecates a build and brings it back to AVAILABLE.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeImagesCommand, DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateImageCommand, CreateLifecyclePolicyCommand, GetImageCommand, ListLifecycleExecutionResourcesCommand, ListLifecycleExecutionsCommand,
  StartResourceStateUpdateCommand, type Image, type ImagebuilderClient,
} from '@aws-sdk/client-imagebuilder';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { expectAwsError } from '../support/sdk.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { createBuildSetup, ibClient, startLifecycleRun, waitForImage, waitForLifecycleExecution } from '../support/imagebuilder.ts';

const ACCOUNT = '111111111111';
let server: RunningServer;
let ib: ImagebuilderClient;
let ec2: EC2Client;
let recipeArn: string;
let infrastructureArn: string;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '50'] });
  ib = ibClient(server.endpoint, devCredentials(ACCOUNT));
  ec2 = ec2Client(server.endpoint, devCredentials(ACCOUNT));
  const { Images } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-*-x86_64'] }] }));
  // The recipe's name is what the lifecycle policy selects.
  ({ recipeArn, infrastructureArn } = await createBuildSetup(ib, { name: 'golden', parentImage: Images![0].ImageId!, build: ['echo building'] }));
});
after(async () => {
  ib?.destroy();
  await server?.stop();
});

async function build(): Promise<Image> {
  const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({ imageRecipeArn: recipeArn, infrastructureConfigurationArn: infrastructureArn }));
  return waitForImage(ib, imageBuildVersionArn!, ['AVAILABLE']);
}

test('a policy by recipe keeps the newest build and deletes the older one with its AMI and snapshot', { timeout: 180_000 }, async () => {
  const older = await build();
  const newer = await build();
  const olderAmi = older.outputResources!.amis![0].image!;
  const [described] = (await ec2.send(new DescribeImagesCommand({ ImageIds: [olderAmi] }))).Images!;
  const olderSnapshot = described.BlockDeviceMappings!.find((m) => m.Ebs?.SnapshotId)!.Ebs!.SnapshotId!;

  const { lifecyclePolicyArn } = await ib.send(new CreateLifecyclePolicyCommand({
    name: 'golden-keep-one', executionRole: 'LifecycleRole', resourceType: 'AMI_IMAGE', clientToken: 'golden-keep-one',
    policyDetails: [{ action: { type: 'DELETE', includeResources: { amis: true, snapshots: true } }, filter: { type: 'COUNT', value: 1 } }],
    resourceSelection: { recipes: [{ name: 'golden', semanticVersion: '1.x.x' }] },
  }));
  const run = await waitForLifecycleExecution(ib, (await startLifecycleRun(server, lifecyclePolicyArn!)).lifecycleExecutionId);
  assert.equal(run.state?.status, 'SUCCESS', run.state?.reason);

  const top = (await ib.send(new ListLifecycleExecutionResourcesCommand({ lifecycleExecutionId: run.lifecycleExecutionId }))).resources!;
  assert.deepEqual(top.map((r) => [r.resourceId, r.action?.name, r.state?.status]), [[older.arn, 'DELETE', 'SUCCESS']]);
  const amis = (await ib.send(new ListLifecycleExecutionResourcesCommand({ lifecycleExecutionId: run.lifecycleExecutionId, parentResourceId: older.arn }))).resources!;
  assert.deepEqual(amis.map((r) => [r.resourceId, r.state?.status, r.snapshots?.map((s) => [s.snapshotId, s.state?.status])]), [[olderAmi, 'SUCCESS', [[olderSnapshot, 'SUCCESS']]]]);

  await expectAwsError(ib.send(new GetImageCommand({ imageBuildVersionArn: older.arn })), { name: 'ResourceNotFoundException', status: 404 });
  await expectAwsError(ec2.send(new DescribeImagesCommand({ ImageIds: [olderAmi] })), { name: 'InvalidAMIID.NotFound' });
  await expectAwsError(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [olderSnapshot] })), { name: 'InvalidSnapshot.NotFound' });
  assert.equal((await ib.send(new GetImageCommand({ imageBuildVersionArn: newer.arn }))).image?.state?.status, 'AVAILABLE');
});

test('StartResourceStateUpdate deprecates a build with its AMI, then brings both back', { timeout: 120_000 }, async () => {
  const image = await build();
  const ami = image.outputResources!.amis![0].image!;
  const deprecate = await ib.send(new StartResourceStateUpdateCommand({
    resourceArn: image.arn, state: { status: 'DEPRECATED' }, includeResources: { amis: true }, clientToken: 'deprecate-1',
  }));
  assert.equal((await waitForLifecycleExecution(ib, deprecate.lifecycleExecutionId!)).state?.status, 'SUCCESS');
  assert.equal((await ib.send(new GetImageCommand({ imageBuildVersionArn: image.arn }))).image?.state?.status, 'DEPRECATED');
  let [described] = (await ec2.send(new DescribeImagesCommand({ ImageIds: [ami] }))).Images!;
  assert.ok(described.DeprecationTime);

  const back = await ib.send(new StartResourceStateUpdateCommand({
    resourceArn: image.arn, state: { status: 'AVAILABLE' }, includeResources: { amis: true }, clientToken: 'available-1',
  }));
  assert.equal((await waitForLifecycleExecution(ib, back.lifecycleExecutionId!)).state?.status, 'SUCCESS');
  assert.equal((await ib.send(new GetImageCommand({ imageBuildVersionArn: image.arn }))).image?.state?.status, 'AVAILABLE');
  [described] = (await ec2.send(new DescribeImagesCommand({ ImageIds: [ami] }))).Images!;
  assert.equal(described.DeprecationTime, undefined);
  assert.ok(!described.Tags?.some((t) => t.Key === 'DeprecatedBy'));
  const listed = await ib.send(new ListLifecycleExecutionsCommand({ resourceArn: image.arn }));
  assert.deepEqual(listed.lifecycleExecutions!.map((e) => e.lifecycleExecutionId), [back.lifecycleExecutionId, deprecate.lifecycleExecutionId]);
  await expectAwsError(ib.send(new StartResourceStateUpdateCommand({ resourceArn: image.arn, state: { status: 'DELETED' }, clientToken: 'delete-none' })), {
    name: 'InvalidRequestException', status: 400, message: /includeResources/,
  });
});
