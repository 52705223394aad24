// The hygiene gate of Image Builder's distribution, through @aws-sdk/client-imagebuilder on the
// simulator hypervisor: a recipe whose parent image carries planted keys and credentials (an
// imported disk, which the simulator's build keeps as it is) cannot be shared publicly: the build
// fails naming the findings, no public AMI is left, and ListImageScanFindings shows them. Sharing
// it with one account is blocked the same way until the recipe opts out with the tag
// amiforge:hygiene=skip; a distribution that stays in the account is not scanned.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { CreateImageCommand, ListImageScanFindingsCommand, type ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { createBuildSetup, ibClient, waitForImage } from '../support/imagebuilder.ts';
import { plantedDisk } from '../support/planted-disk.ts';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';

const CLI = new URL('../../bin/amiforge', import.meta.url).pathname;
const MIB = 1024 * 1024;

let server: RunningServer;
let dir: string;
let ib: ImagebuilderClient;
let ec2: EC2Client;
let bobEc2: EC2Client;
let planted: string;

function importDisk(disk: string, name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(CLI, ['image', 'import', disk, '--name', name], {
      env: {
        ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey,
        AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AMIFORGE_CACHE_DIR: join(dir, 'cache'), TMPDIR: join(dir, 'tmp'),
      },
    }, (err, stdout, stderr) => (err ? reject(new Error(`amiforge image import: ${stderr}`)) : resolve(stdout.trim())));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hygiene-gate-'));
  mkdirSync(join(dir, 'tmp'));
  server = await startServer({ accounts: [ALICE, BOB], extraArgs: ['--sim-boot-ms', '50'] });
  ib = ibClient(server.endpoint, credentialsOf(ALICE));
  ec2 = ec2Client(server.endpoint, credentialsOf(ALICE));
  bobEc2 = ec2Client(server.endpoint, credentialsOf(BOB));
  planted = await importDisk(await plantedDisk(dir, { planted: true, table: 'mbr', diskBytes: 256 * MIB }), 'planted-parent');
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function build(name: string, amiDistributionConfiguration: Record<string, unknown>, recipeTags?: Record<string, string>) {
  const setup = await createBuildSetup(ib, {
    name, parentImage: planted, build: ['echo building'], recipeTags,
    distributions: [{ region: 'us-east-1', amiDistributionConfiguration: { name: `${name}-{{ imagebuilder:buildDate }}`, ...amiDistributionConfiguration } }],
  });
  const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({
    imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn, distributionConfigurationArn: setup.distributionArn,
  }));
  return imageBuildVersionArn!;
}

const amisNamed = async (client: EC2Client, prefix: string, owners?: string[], executableUsers?: string[]) =>
  ((await client.send(new DescribeImagesCommand({ Owners: owners, ExecutableUsers: executableUsers, Filters: [{ Name: 'name', Values: [`${prefix}-*`] }] }))).Images ?? []);

test('a public share of an image with planted secrets fails with the findings; no public AMI is left', { timeout: 120_000 }, async () => {
  const arn = await build('public', { launchPermission: { userGroups: ['all'] } });
  const image = await waitForImage(ib, arn, ['FAILED']);
  assert.match(image.state!.reason!, /high-severity hygiene finding/);
  assert.match(image.state!.reason!, /\/etc\/shadow|\.aws\/credentials|ssh_host_ed25519_key/);
  assert.match(image.state!.reason!, /amiforge:hygiene=skip/, 'the message says how to opt out');
  assert.deepEqual(await amisNamed(ec2, 'public', ['self']), [], 'the build deregistered what it made');
  assert.deepEqual(await amisNamed(bobEc2, 'public', undefined, ['all']), [], 'nothing was made public');
  const { findings } = await ib.send(new ListImageScanFindingsCommand({ filters: [{ name: 'imageBuildVersionArn', values: [arn] }] }));
  assert.ok((findings ?? []).some((f) => f.severity === 'HIGH'), 'ListImageScanFindings lists the HIGH findings');
});

test('sharing with another account is gated too, until the recipe opts out; a private distribution is not scanned', { timeout: 180_000 }, async () => {
  const shared = { launchPermission: { userIds: [BOB.id] } };
  const blocked = await waitForImage(ib, await build('to-bob', shared), ['FAILED']);
  assert.match(blocked.state!.reason!, /high-severity hygiene finding/);
  assert.deepEqual(await amisNamed(bobEc2, 'to-bob', [ALICE.id]), [], 'Bob sees nothing');

  const allowed = await waitForImage(ib, await build('opted-out', shared, { 'amiforge:hygiene': 'skip' }), ['AVAILABLE']);
  const ami = allowed.outputResources!.amis![0].image!;
  assert.deepEqual((await amisNamed(bobEc2, 'opted-out', [ALICE.id])).map((i) => i.ImageId), [ami], 'Bob can launch what the opted-out build shared');

  const privateBuild = await waitForImage(ib, await build('private', {}), ['AVAILABLE']);
  const { findings } = await ib.send(new ListImageScanFindingsCommand({ filters: [{ name: 'imageBuildVersionArn', values: [privateBuild.arn!] }] }));
  assert.deepEqual(findings ?? [], [], 'a build that shares nothing is not scanned');
});
