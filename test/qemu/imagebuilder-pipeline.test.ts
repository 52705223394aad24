// Image Builder end to end on real QEMU guests, through @aws-sdk/client-imagebuilder: an image
// pipeline, started on demand, with a recipe on
// Debian 12 whose component writes a file in its build phase and checks it in its test phase; the
// build instance is reached over SSH with a temporary key pair and group, cleaned up and imaged;
// a test instance from the new AMI runs the test; the image is distributed to two regions (the
// second encrypted with a customer managed KMS key) and shared with another account, which
// launches it in the second region and reads the file over SSH. The share outside the account
// passes the hygiene gate: the build's clean-up left no high-severity finding.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizeSecurityGroupIngressCommand, CreateKeyPairCommand, CreateSecurityGroupCommand, DescribeImageAttributeCommand, DescribeImagesCommand,
  DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, DescribeSnapshotsCommand, RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CreateImagePipelineCommand, GetWorkflowStepExecutionCommand, ListImagePipelineImagesCommand, StartImagePipelineExecutionCommand, ListWorkflowExecutionsCommand, ListWorkflowStepExecutionsCommand } from '@aws-sdk/client-imagebuilder';
import { CreateGrantCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { createBuildSetup, ibClient, stepSummary, waitForImage } from '../support/imagebuilder.ts';
import { buildDebianImage, sshRun, terminateAll, until, writePrivateKey } from '../support/qemu.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const BUILDER = '111111111111';
const TEAM = '222222222222';
/** Debian's own account, the owner of the catalogue's Debian 12 image. */
const DEBIAN_OWNER = '136693071363';

let server: RunningServer;
let home: string;

before(async () => {
  await buildDebianImage();
  server = await startServer({ extraArgs: ['--hypervisor', 'qemu'] });
  home = mkdtempSync(join(tmpdir(), 'amiforge-imagebuilder-'));
});

after(async () => {
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

test('a Debian build runs its component in a real guest, passes its test, lands encrypted in two regions and boots for the other account', { timeout: 3_600_000 }, async (t) => {
  const started = Date.now();
  const ib = ibClient(server.endpoint, devCredentials(BUILDER));
  const east = ec2Client(server.endpoint, devCredentials(BUILDER), 'us-east-1');
  const west = ec2Client(server.endpoint, devCredentials(BUILDER), 'us-west-2');
  const { Images = [] } = await east.send(new DescribeImagesCommand({ Owners: [DEBIAN_OWNER], Filters: [{ Name: 'name', Values: ['debian-12-amd64-*'] }] }));
  assert.ok(Images.length, 'the catalogue\'s Debian 12 image is in us-east-1');
  const parentImage = Images[0].ImageId!;

  // A customer managed key in us-west-2; the team gets a grant on it to launch what it encrypts.
  const kms = new KMSClient({ endpoint: server.endpoint, region: 'us-west-2', credentials: devCredentials(BUILDER), maxAttempts: 1 });
  const key = (await kms.send(new CreateKeyCommand({ Description: 'golden images in us-west-2' }))).KeyMetadata!;
  await kms.send(new CreateGrantCommand({
    KeyId: key.KeyId, GranteePrincipal: `arn:aws:iam::${TEAM}:root`, Name: 'team-launches',
    Operations: ['Decrypt', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'DescribeKey', 'CreateGrant'],
  }));

  const setup = await createBuildSetup(ib, {
    name: 'golden-debian', parentImage, instanceType: 't3.micro',
    build: ['echo "built by image builder" > /etc/golden-release', 'apt-get --version > /dev/null'],
    test: ['grep -q "built by image builder" /etc/golden-release'],
    distributions: [
      { region: 'us-east-1', amiDistributionConfiguration: { name: 'golden-debian-{{ imagebuilder:buildDate }}', launchPermission: { userIds: [TEAM] } } },
      { region: 'us-west-2', amiDistributionConfiguration: { name: 'golden-debian-{{ imagebuilder:buildDate }}', kmsKeyId: key.Arn, launchPermission: { userIds: [TEAM] } } },
    ],
  });
  const { imagePipelineArn } = await ib.send(new CreateImagePipelineCommand({
    name: 'golden-debian', imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn,
    distributionConfigurationArn: setup.distributionArn, imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 60 },
  }));
  const { imageBuildVersionArn } = await ib.send(new StartImagePipelineExecutionCommand({ imagePipelineArn }));
  const image = await waitForImage(ib, imageBuildVersionArn!, ['AVAILABLE'], 2_400_000, 2000);
  const listed = (await ib.send(new ListImagePipelineImagesCommand({ imagePipelineArn }))).imageSummaryList ?? [];
  assert.deepEqual(listed.map((i) => i.arn), [imageBuildVersionArn], 'the pipeline lists the image it built');
  t.diagnostic(`the build took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.diagnostic(await stepSummary(ib, imageBuildVersionArn!));

  // The test phase ran the component's test in the test instance.
  const { workflowExecutions } = await ib.send(new ListWorkflowExecutionsCommand({ imageBuildVersionArn }));
  const testWf = workflowExecutions!.find((w) => w.type === 'TEST')!;
  assert.equal(testWf.status, 'COMPLETED');
  const { steps } = await ib.send(new ListWorkflowStepExecutionsCommand({ workflowExecutionId: testWf.workflowExecutionId }));
  const suite = await ib.send(new GetWorkflowStepExecutionCommand({ stepExecutionId: steps!.find((s) => s.name === 'RunTestSuite')!.stepExecutionId }));
  assert.equal(suite.status, 'COMPLETED');

  // Shared with another account: the hygiene gate scanned the AMI first, and the clean-up left nothing HIGH.
  const distWf = workflowExecutions!.find((w) => w.type === 'DISTRIBUTION')!;
  const distSteps = (await ib.send(new ListWorkflowStepExecutionsCommand({ workflowExecutionId: distWf.workflowExecutionId }))).steps!;
  const gate = distSteps.find((s) => s.name === 'ScanBeforeSharing');
  assert.equal(gate?.status, 'COMPLETED');
  assert.doesNotMatch(JSON.parse(gate!.outputs!).log, /^HIGH /m);

  const amis = image.outputResources!.amis!;
  assert.deepEqual(amis.map((a) => a.region), ['us-east-1', 'us-west-2']);
  const westAmi = amis[1].image!;
  const [described] = (await west.send(new DescribeImagesCommand({ ImageIds: [westAmi] }))).Images!;
  assert.equal(described.State, 'available');
  const snapshotId = described.BlockDeviceMappings!.find((m) => m.Ebs?.SnapshotId)!.Ebs!.SnapshotId!;
  const [snap] = (await west.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))).Snapshots!;
  assert.equal(snap.Encrypted, true);
  assert.equal(snap.KmsKeyId, key.Arn);
  for (const [client, id] of [[east, amis[0].image!], [west, westAmi]] as const) {
    const { LaunchPermissions } = await client.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: 'launchPermission' }));
    assert.deepEqual(LaunchPermissions?.map((p) => p.UserId), [TEAM]);
  }

  // The build left nothing: its instances are terminated, its key pair and group are gone.
  const states = (await east.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!.map((i) => i.State!.Name));
  assert.ok(states.length === 2 && states.every((s) => s === 'terminated'), `the build and test instances are terminated: ${states}`);
  assert.deepEqual((await east.send(new DescribeKeyPairsCommand({}))).KeyPairs, []);
  assert.deepEqual((await east.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupName), ['default']);

  // The team launches the encrypted copy in us-west-2 and reads what the build wrote.
  const team = ec2Client(server.endpoint, devCredentials(TEAM), 'us-west-2');
  const { KeyMaterial } = await team.send(new CreateKeyPairCommand({ KeyName: 'team', KeyType: 'ed25519' }));
  const privateKey = writePrivateKey(home, 'team.pem', KeyMaterial!);
  const { GroupId } = await team.send(new CreateSecurityGroupCommand({ GroupName: 'ssh', Description: 'ssh from anywhere' }));
  await team.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  const { Instances } = await team.send(new RunInstancesCommand({
    ImageId: westAmi, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'team', SecurityGroupIds: [GroupId!],
  }));
  const instanceId = Instances![0].InstanceId!;
  const address = await until(`${instanceId} running with a public address`, async () => {
    const i = (await team.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0].Instances![0];
    return i.State?.Name === 'running' && i.PublicIpAddress ? i.PublicIpAddress : undefined;
  });
  const release = await until('ssh into the team\'s instance', async () => {
    const r = await sshRun(privateKey, 'admin', address, 'cat /etc/golden-release && sudo cat /root/.bash_history 2>/dev/null | wc -l');
    return r.code === 0 ? r.stdout : undefined;
  });
  assert.match(release, /^built by image builder\n0\n$/, 'the file the build wrote is there; the clean-up left no root shell history');
  t.diagnostic(`the team's instance answered over ssh after ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  await terminateAll(team, [instanceId]);
});
