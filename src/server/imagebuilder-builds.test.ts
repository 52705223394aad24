// Image Builder's builds on the real EC2 services in process (the simulator hypervisor), with a
// stand-in component runner and guest access: instances, key pairs, groups, CreateImage, CopyImage
// with encryption and sharing as the account itself would do them; then a restart of the service
// in the middle of a build, which fails it and removes what it made.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeOptions } from '../config/config.ts';
import type { Caller } from '../domain/context.ts';
import { BuildService, INTERRUPTED_REASON } from '../domain/imagebuilder/builds/build-service.ts';
import { ec2ServicesBuildEc2 } from '../domain/imagebuilder/builds/ec2-services-build-ec2.ts';
import { fakeRunner, FakeGuest } from '../domain/imagebuilder/builds/build-fakes.test-support.ts';
import type { ComponentRunner } from '../domain/imagebuilder/components/executor.ts';
import type { IbKind } from '../ports/imagebuilder-repository.ts';
import { randomIds } from '../ports/ids.ts';
import { createApp, type App } from './app.ts';
import { createLogger } from './logger.ts';

const ME: Caller = { account: '111111111111', region: 'us-east-1' };
const TEAM = '222222222222';
const PARENT = 'ami-0dd4dbe59a8675ce3';
const A = (type: string, rest: string) => `arn:aws:imagebuilder:us-east-1:${ME.account}:${type}/${rest}`;
const ARNS = {
  component: A('component', 'hello/1.0.0/1'),
  recipe: A('image-recipe', 'golden/1.0.0'),
  infra: A('infrastructure-configuration', 'small'),
  dist: A('distribution-configuration', 'two-regions'),
};

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'amiforge-ib-builds-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

async function start(dataDir: string): Promise<App> {
  return createApp(parseServeOptions({ dataDir, port: 0, simBootMs: 20, logLevel: 'silent' }), createLogger('silent'));
}

function buildsOn(app: App, runComponents: ComponentRunner): BuildService {
  return new BuildService({
    records: app.store.imageBuilder, ec2: ec2ServicesBuildEc2(app.ec2, { pollMs: 20 }), clock: app.clock, ids: randomIds,
    runComponents, guestAccess: new FakeGuest(),
  });
}

async function seed(app: App): Promise<void> {
  const now = new Date().toISOString();
  const put = (kind: IbKind, arn: string, doc: Record<string, unknown>, version?: string) => app.store.imageBuilder.insert({
    arn, kind, account: ME.account, region: ME.region, name: String(doc.name), version, doc: { arn, ...doc }, createdAt: now, updatedAt: now,
  });
  await put('component', ARNS.component, { name: 'hello', version: '1.0.0/1', data: 'phases: []' }, '1.0.0');
  await put('image-recipe', ARNS.recipe, { name: 'golden', version: '1.0.0', parentImage: PARENT, components: [{ componentArn: ARNS.component }] }, '1.0.0');
  await put('infrastructure-configuration', ARNS.infra, { name: 'small', instanceTypes: ['t3.micro'] });
  await put('distribution-configuration', ARNS.dist, {
    name: 'two-regions', timeoutMinutes: 60, distributions: [
      { region: 'us-east-1', amiDistributionConfiguration: { name: 'golden {{ imagebuilder:buildDate }}' } },
      { region: 'us-west-2', amiDistributionConfiguration: { name: 'golden {{ imagebuilder:buildDate }}', kmsKeyId: 'alias/aws/ebs' } },
      { region: 'eu-west-1', amiDistributionConfiguration: { name: 'golden {{ imagebuilder:buildVersion }}', targetAccountIds: [TEAM] } },
    ],
  });
}

async function leftovers(app: App, caller: Caller) {
  const reservations = (await app.ec2.instances.describe(caller, {})).Reservations;
  return {
    live: reservations.flatMap((r) => r.Instances!).filter((i) => i.State?.Name !== 'terminated').map((i) => i.InstanceId),
    keyPairs: (await app.ec2.keyPairs.describe(caller, {})).KeyPairs.map((k) => k.KeyName),
    groups: (await app.ec2.securityGroups.describe(caller, {})).SecurityGroups.map((g) => g.GroupName),
  };
}

test('a build on EC2\'s services: AMIs in three regions (one encrypted), a copy in the target account, nothing left behind', async () => {
  const app = await start(join(dir, 'ok'));
  try {
    await seed(app);
    const builds = buildsOn(app, fakeRunner().run);
    const { imageBuildVersionArn: arn } = await builds.startBuild(ME, { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra, distributionConfigurationArn: ARNS.dist });
    await builds.idle();
    const image = await builds.get(ME, arn);
    assert.equal(image.state?.status, 'AVAILABLE', image.state?.reason);
    const amis = image.outputResources!.amis!;
    assert.deepEqual(amis.map((a) => [a.region, a.accountId]), [['us-east-1', ME.account], ['us-west-2', ME.account], ['eu-west-1', ME.account], ['eu-west-1', TEAM]]);

    const east = (await app.ec2.images.describe(ME, { ImageIds: [amis[0].image!] })).Images[0];
    assert.equal(east.State, 'available');
    assert.equal(east.Name, amis[0].name);
    assert.ok(east.Tags?.some((t) => t.Key === 'Ec2ImageBuilderArn' && t.Value === arn));
    const west = (await app.ec2.images.describe({ ...ME, region: 'us-west-2' }, { ImageIds: [amis[1].image!] })).Images[0];
    assert.equal(west.BlockDeviceMappings![0].Ebs!.Encrypted, true);
    const theirs = (await app.ec2.images.describe({ account: TEAM, region: 'eu-west-1' }, { ImageIds: [amis[3].image!] })).Images[0];
    assert.equal(theirs.OwnerId, TEAM);
    assert.equal(theirs.Name, 'golden 1.0.0/1');
    // The build's own image is the us-east-1 output: no other image of the account is left there.
    assert.equal((await app.ec2.images.describe(ME, { Owners: ['self'] })).Images.length, 1);
    assert.deepEqual(await leftovers(app, ME), { live: [], keyPairs: [], groups: ['default'] });
  } finally {
    await app.close();
  }
});

test('a restart of the service in the middle of a build fails it and removes its instance, key pair and group', async () => {
  const dataDir = join(dir, 'restart');
  const first = await start(dataDir);
  await seed(first);
  let building!: () => void;
  const reached = new Promise<void>((r) => { building = r; });
  // The build phase never ends: the process "stops" while it runs.
  const builds = buildsOn(first, async () => { building(); return new Promise(() => {}); });
  const { imageBuildVersionArn: arn } = await builds.startBuild(ME, { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra });
  await reached;
  const during = await leftovers(first, ME);
  assert.equal(during.live.length, 1);
  assert.equal(during.keyPairs.length, 1);
  assert.equal(during.groups.length, 2);
  await first.close();

  const second = await start(dataDir);
  try {
    const image = await second.imageBuilder.builds.get(ME, arn);
    assert.equal(image.state?.status, 'FAILED');
    assert.equal(image.state?.reason, INTERRUPTED_REASON);
    assert.deepEqual(await leftovers(second, ME), { live: [], keyPairs: [], groups: ['default'] });
  } finally {
    await second.close();
  }
});
