// A build in progress when the server process dies (SIGKILL, no clean shutdown): the next start
// marks it FAILED, interrupted by the restart, and removes its build instance, its temporary key
// pair and its temporary security group. Through @aws-sdk/client-imagebuilder and client-ec2 on
// the simulator, whose guest session's `sleep N` keeps the build step running.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, DescribeInstancesCommand, DescribeKeyPairsCommand, DescribeSecurityGroupsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { CreateImageCommand, ListWorkflowExecutionsCommand } from '@aws-sdk/client-imagebuilder';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { createBuildSetup, ibClient, waitForImage } from '../support/imagebuilder.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const ACCOUNT = '111111111111';
const dataDir = mkdtempSync(join(tmpdir(), 'amiforge-ib-restart-'));
let server: RunningServer | undefined;

after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function temporaries(ec2: EC2Client) {
  const reservations = (await ec2.send(new DescribeInstancesCommand({}))).Reservations ?? [];
  return {
    live: reservations.flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== 'terminated').map((i) => i.InstanceId),
    keyPairs: (await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs!.map((k) => k.KeyName),
    groups: (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupName),
  };
}

test('a build interrupted by a crash of the server is FAILED at the next start, and its instance, key pair and group are gone', { timeout: 180_000 }, async () => {
  server = await startServer({ dataDir, extraArgs: ['--sim-boot-ms', '50'] });
  let ib = ibClient(server.endpoint, devCredentials(ACCOUNT));
  let ec2 = ec2Client(server.endpoint, devCredentials(ACCOUNT));
  const { Images } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-*-x86_64'] }] }));
  const setup = await createBuildSetup(ib, { name: 'interrupted', parentImage: Images![0].ImageId!, build: ['sleep 600'] });
  const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({ imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn }));
  await waitForImage(ib, imageBuildVersionArn!, ['BUILDING']);
  const during = await temporaries(ec2);
  assert.equal(during.live.length, 1, 'the build instance runs');
  assert.equal(during.keyPairs.length, 1, 'the temporary key pair exists');
  assert.equal(during.groups.length, 2, 'the temporary group exists beside the default one');

  await server.kill();
  server = await startServer({ dataDir, extraArgs: ['--sim-boot-ms', '50'] });
  ib = ibClient(server.endpoint, devCredentials(ACCOUNT));
  ec2 = ec2Client(server.endpoint, devCredentials(ACCOUNT));
  const image = await waitForImage(ib, imageBuildVersionArn!, ['FAILED'], 10_000);
  assert.equal(image.state?.reason, 'The build was interrupted by a restart of the service.');
  const { workflowExecutions } = await ib.send(new ListWorkflowExecutionsCommand({ imageBuildVersionArn }));
  assert.deepEqual(workflowExecutions!.map((w) => [w.type, w.status]), [['BUILD', 'FAILED']]);
  assert.deepEqual(await temporaries(ec2), { live: [], keyPairs: [], groups: ['default'] });
});
