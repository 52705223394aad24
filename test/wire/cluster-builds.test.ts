// An Image Builder build runs on the node that started it, under its lease. When that node is
// SIGKILLed, the build is failed by another node once the lease expires (and only then: a build
// of a live node is never failed by another node's recovery).
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { CreateImageCommand, GetImageCommand } from '@aws-sdk/client-imagebuilder';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { startCluster, type RunningCluster } from '../support/cluster.ts';
import { createBuildSetup, ibClient, waitForImage } from '../support/imagebuilder.ts';

const ACCOUNT = '111111111111';
// The build's parent: the shipped catalogue's Amazon Linux 2023 image, in us-east-1 only.
const shipped = JSON.parse(readFileSync(new URL('../../catalog/default.json', import.meta.url), 'utf8')).images as { name: string; regions: Record<string, string> }[];
const al2023 = shipped.find((i) => i.name.startsWith('al2023-ami-') && i.name.endsWith('-x86_64'))!;
const catalog = [{ ...al2023, regions: { 'us-east-1': al2023.regions['us-east-1'] } }];
let cluster: RunningCluster;
before(async () => {
  cluster = await startCluster({ nodes: 2, leaseSeconds: 2, extraArgs: ['--sim-boot-ms', '50'], catalog });
});
after(async () => cluster?.stop());

test('a build whose node is killed is failed by another node; a live node\'s build is left running', { timeout: 240_000 }, async () => {
  const [n1, n2] = cluster.nodes;
  const ib1 = ibClient(n1.endpoint, devCredentials(ACCOUNT));
  const ib2 = ibClient(n2.endpoint, devCredentials(ACCOUNT));
  const { Images } = await ec2Client(n1.endpoint, devCredentials(ACCOUNT)).send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-*-x86_64'] }] }));
  const setup = await createBuildSetup(ib1, { name: 'cluster-build', parentImage: Images![0].ImageId!, build: ['sleep 600'] });
  const { imageBuildVersionArn } = await ib1.send(new CreateImageCommand({ imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn }));
  await waitForImage(ib1, imageBuildVersionArn!, ['BUILDING']);
  // Three lease periods with both nodes alive (node 2's recovery looks every period): it leaves node 1's build alone.
  await new Promise((r) => setTimeout(r, 3 * 2000));
  assert.equal((await ib2.send(new GetImageCommand({ imageBuildVersionArn }))).image?.state?.status, 'BUILDING');

  await n1.kill();
  const image = await waitForImage(ib2, imageBuildVersionArn!, ['FAILED'], 120_000);
  assert.match(image.state?.reason ?? '', /interrupted/);
});
