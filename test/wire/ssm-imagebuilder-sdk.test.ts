// Image Builder distributions' ssmParameterConfigurations: a build writes its output AMI id to a
// Systems Manager parameter (data type aws:ec2:image) in each distribution region, a new version
// per build, which RunInstances then launches by resolve:ssm.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { CreateImageCommand, type ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { devCredentials, ec2Client } from '../support/clients.ts';
import { createBuildSetup, ibClient, waitForImage } from '../support/imagebuilder.ts';
import { runOne } from '../support/instances.ts';
import { expectAwsError } from '../support/sdk.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const ACCOUNT = '111111111111';
let server: RunningServer;
let ib: ImagebuilderClient;

before(async () => {
  server = await startServer({ extraArgs: ['--sim-boot-ms', '50'] });
  ib = ibClient(server.endpoint, devCredentials(ACCOUNT));
});
after(async () => server?.stop());

const ssm = (region: string) => new SSMClient({ endpoint: server.endpoint, region, credentials: devCredentials(ACCOUNT), maxAttempts: 1 });

test('a build writes its AMI id to the distribution\'s parameters in each region', { timeout: 180_000 }, async () => {
  const ec2 = ec2Client(server.endpoint, devCredentials(ACCOUNT));
  const { Images } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-*-x86_64'] }] }));
  const setup = await createBuildSetup(ib, {
    name: 'golden-ssm', parentImage: Images![0].ImageId!, build: ['echo building'],
    distributions: ['us-east-1', 'us-west-2'].map((region) => ({
      region, amiDistributionConfiguration: { name: `golden-ssm-${region}-{{ imagebuilder:buildDate }}` },
      ssmParameterConfigurations: [{ parameterName: '/golden/web/latest', dataType: 'aws:ec2:image' as const }],
    })),
  });
  const build = async () => {
    const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({
      imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn, distributionConfigurationArn: setup.distributionArn,
    }));
    return (await waitForImage(ib, imageBuildVersionArn!, ['AVAILABLE'])).outputResources!.amis!;
  };
  const first = await build();
  for (const ami of first) {
    const p = (await ssm(ami.region!).send(new GetParameterCommand({ Name: '/golden/web/latest' }))).Parameter!;
    assert.deepEqual([p.Value, p.DataType, p.Version], [ami.image, 'aws:ec2:image', 1], ami.region);
  }
  const second = await build();
  const east = (await ssm('us-east-1').send(new GetParameterCommand({ Name: '/golden/web/latest' }))).Parameter!;
  assert.deepEqual([east.Value, east.Version], [second.find((a) => a.region === 'us-east-1')!.image, 2]);
  const launched = await runOne(ec2, { ImageId: 'resolve:ssm:/golden/web/latest:1' });
  assert.equal(launched.ImageId, first.find((a) => a.region === 'us-east-1')!.image);
});

test('an amiAccountId that is not one of the region\'s target accounts is refused', async () => {
  await expectAwsError(createBuildSetup(ib, {
    name: 'bad-ssm', parentImage: 'ami-0dd4dbe59a8675ce3', build: ['echo x'],
    distributions: [{ region: 'us-east-1', amiDistributionConfiguration: { name: 'bad-ssm-{{ imagebuilder:buildDate }}' },
      ssmParameterConfigurations: [{ parameterName: '/x', amiAccountId: '999999999999' }] }],
  }), { name: 'InvalidParameterValueException', status: 400 });
});
