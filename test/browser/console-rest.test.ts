// The console's key pair, KMS, Recycle Bin, copy schedule and Image Builder pages in a real
// browser, as a person would use them: each action by clicking, what it did checked through the
// SDK, names and tags holding HTML shown as text, and the accessibility basics on every page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  DeleteSnapshotCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeKeyPairsCommand, DescribeSnapshotsCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { CreateRuleCommand, ListRulesCommand, RbinClient } from '@aws-sdk/client-rbin';
import {
  CreateImagePipelineCommand, ListImagePipelineImagesCommand, ListWorkflowExecutionsCommand, ListWorkflowStepExecutionsCommand, type ImagebuilderClient,
} from '@aws-sdk/client-imagebuilder';
import { ALICE, BOB, startServer, type RunningServer, type TestUser } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { createSnapshot, registerEbs } from '../support/sdk.ts';
import { CATALOGUE_AMI } from '../support/instances.ts';
import { createBuildSetup, ibClient } from '../support/imagebuilder.ts';
import { checkAccessibility, launchBrowser, storyPage, type StoryPage } from '../support/browser.ts';

const HOSTILE_KEY_NAME = '<img src=x onerror="window.__pwned=1">key';
const HOSTILE_TAG = '<script>window.__pwned=2</script>';
const alice = credentialsOf(ALICE);
/** An IAM-style user of Alice's who may look at EC2 and nothing else. */
const EC2_VIEWER: TestUser = {
  name: 'ec2-viewer', accessKeyId: 'AKIAEC2VIEWER0000001', secretAccessKey: 'ec2-viewer-secret-0000000000000000000000',
  policies: [{ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] }],
};

/** An OpenSSH ed25519 public key line ("ssh-ed25519 AAAA..."), as a user would paste it. */
function openSshEd25519(): string {
  const raw = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')} pasted@test`;
}

/** The log (outputs.log) of a build's step, through the SDK. */
async function stepLog(ib: ImagebuilderClient, imageBuildVersionArn: string, step: string): Promise<string> {
  const { workflowExecutions } = await ib.send(new ListWorkflowExecutionsCommand({ imageBuildVersionArn }));
  for (const wf of workflowExecutions ?? []) {
    const { steps } = await ib.send(new ListWorkflowStepExecutionsCommand({ workflowExecutionId: wf.workflowExecutionId! }));
    const found = steps?.find((s) => s.name === step);
    if (found) return (JSON.parse(found.outputs!) as { log: string }).log;
  }
  assert.fail(`no step ${step}`);
}

async function nothingInjected(page: Page): Promise<void> {
  const injected = await page.evaluate(() => ({
    pwned: (window as { __pwned?: number }).__pwned,
    images: document.querySelectorAll('main img').length,
    scripts: document.querySelectorAll('main script').length,
  }));
  assert.deepEqual(injected, { pwned: undefined, images: 0, scripts: 0 });
}

describe('console pages: key pairs, KMS, Recycle Bin, copy schedules, Image Builder', () => {
  let server: RunningServer;
  let browser: Browser;
  let ec2: EC2Client;
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-console-rest-'));

  before(async () => {
    const schedules = join(dir, 'copy-schedules.json');
    const schedule = { sourceRegion: 'us-east-1', image: { owners: ['self'], filters: [{ Name: 'name', Values: ['golden-*'] }] }, destinationRegions: ['eu-west-1'], every: '24h', keep: 2 };
    writeFileSync(schedules, JSON.stringify({ schedules: [
      { name: 'alice-dr', account: ALICE.id, ...schedule },
      { name: 'bob-secret-dr', account: BOB.id, ...schedule },
    ] }));
    [server, browser] = await Promise.all([
      startServer({ accounts: [{ ...ALICE, users: [EC2_VIEWER] }, BOB], extraArgs: ['--copy-schedules', schedules, '--sim-boot-ms', '50'] }),
      launchBrowser(),
    ]);
    ec2 = ec2Client(server.endpoint, alice);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(s: StoryPage, pageName: string, keys: { accessKeyId: string; secretAccessKey: string } = ALICE): Promise<void> {
    const { page } = s;
    await page.goto(`${server.endpoint}/console/`);
    await page.getByLabel('Access key ID').fill(keys.accessKeyId);
    await page.getByLabel('Secret access key').fill(keys.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('table', { name: /^Images in / }).waitFor();
    await page.getByRole('link', { name: pageName, exact: true }).click();
    await page.getByRole('heading', { name: pageName, level: 1 }).waitFor();
  }

  test('key pairs: create one and receive its private key once; import one; hostile names shown as text; delete', async () => {
    const s = await storyPage(browser, 'key-pairs');
    const { page } = s;
    // Records the Blob URLs the page lets go of (the page's CSP keeps tests from reading blob: URLs).
    await page.addInitScript(() => {
      const revoke = URL.revokeObjectURL.bind(URL);
      URL.revokeObjectURL = (url: string) => {
        const w = window as { __revoked?: string[] };
        w.__revoked = [...(w.__revoked ?? []), url];
        revoke(url);
      };
    });
    try {
      await signIn(s, 'Key pairs');
      await checkAccessibility(page, ['Create key pair', 'Import key pair']);

      // A format amiforge does not produce is refused in words.
      await page.getByRole('button', { name: 'Create key pair' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create key pair' });
      await dialog.getByLabel('Key pair name').fill('ppk-key');
      await dialog.getByLabel('Private key format').selectOption('ppk');
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialog.getByRole('alert').filter({ hasText: 'pem format only' }).waitFor();
      await s.step('ppk refused');

      await dialog.getByLabel('Key pair name').fill(HOSTILE_KEY_NAME);
      await dialog.getByLabel('Private key format').selectOption('pem');
      await dialog.getByLabel('Tag (key=value, optional)').fill(`team=${HOSTILE_TAG}`);
      await checkAccessibility(page);
      await dialog.getByRole('button', { name: 'Create' }).click();
      const link = dialog.getByRole('link', { name: 'Download private key' });
      await link.waitFor();
      await dialog.getByText('This is the only time the private key is offered').waitFor();
      await s.step('private key offered');
      const blobUrl = (await link.getAttribute('href'))!;
      assert.match(blobUrl, /^blob:/, 'the key is a Blob in the page, not a URL on the server');
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const pem = readFileSync((await download.path())!, 'utf8');
      assert.match(pem, /^-----BEGIN (RSA |OPENSSH )?PRIVATE KEY-----\n[\s\S]+-----END (RSA |OPENSSH )?PRIVATE KEY-----\n?$/);
      assert.equal(download.suggestedFilename(), `${HOSTILE_KEY_NAME}.pem`.replace(/[<>:"/\\|?*]/g, '_'));
      // Offered once: the link is gone after the download.
      await dialog.getByText('The private key was downloaded').waitFor();
      assert.equal(await link.count(), 0);
      await dialog.getByRole('button', { name: 'Close' }).click();
      await dialog.waitFor({ state: 'detached' });
      const revoked = await page.evaluate(() => (window as { __revoked?: string[] }).__revoked ?? []);
      assert.deepEqual(revoked, [blobUrl], 'the private key is gone once the dialog is');

      const { KeyPairs } = await ec2.send(new DescribeKeyPairsCommand({}));
      const created = KeyPairs!.find((k) => k.KeyName === HOSTILE_KEY_NAME);
      assert.ok(created, 'the key pair exists through the API');
      assert.deepEqual(created.Tags, [{ Key: 'team', Value: HOSTILE_TAG }]);
      await page.getByRole('cell', { name: HOSTILE_KEY_NAME, exact: true }).waitFor();
      await page.getByRole('cell', { name: `team=${HOSTILE_TAG}`, exact: true }).waitFor();
      await nothingInjected(page);
      await s.step('key pair listed, name shown as text');

      await page.getByRole('button', { name: 'Import key pair' }).click();
      const importing = page.getByRole('dialog', { name: 'Import key pair' });
      await importing.getByLabel('Key pair name').fill('pasted-key');
      await importing.getByLabel('Public key').fill(openSshEd25519());
      await importing.getByRole('button', { name: 'Import' }).click();
      await importing.getByRole('status').filter({ hasText: 'Key pair pasted-key imported' }).waitFor();
      await importing.getByRole('button', { name: 'Close' }).click();
      await page.getByRole('cell', { name: 'pasted-key', exact: true }).waitFor();
      await s.step('imported');

      const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: 'pasted-key', exact: true }) });
      await row.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('status').filter({ hasText: 'Key pair pasted-key deleted.' }).waitFor();
      const names = ((await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs ?? []).map((k) => k.KeyName);
      assert.deepEqual(names, [HOSTILE_KEY_NAME]);
      await s.step('deleted');

      // Key pairs are regional: another region's table is its own.
      await page.getByLabel('Region').selectOption('eu-west-1');
      await page.getByRole('table', { name: 'Key pairs in eu-west-1' }).getByText('No key pairs in this region.').waitFor();
      await page.getByLabel('Region').selectOption('us-east-1');
      await page.getByRole('cell', { name: HOSTILE_KEY_NAME, exact: true }).waitFor();
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('KMS: create a key and an alias, read its policy, disable it; a broken policy is refused in words', async () => {
    const s = await storyPage(browser, 'kms');
    const { page } = s;
    const kms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: alice, maxAttempts: 1 });
    try {
      await signIn(s, 'KMS keys');
      await page.getByLabel('Key description').fill(`console ${HOSTILE_TAG}`);
      await page.getByRole('button', { name: 'Create key', exact: true }).click();
      const created = await page.getByRole('status').filter({ hasText: /^Key .* created\.$/ }).textContent();
      const keyId = /^Key (\S+) created\.$/.exec(created!)![1];
      await page.getByRole('cell', { name: `console ${HOSTILE_TAG}`, exact: true }).waitFor();
      await page.getByLabel('Alias name').fill('alias/console-made');
      await page.getByLabel('Target key').selectOption(keyId);
      await page.getByRole('button', { name: 'Create alias' }).click();
      await page.getByRole('status').filter({ hasText: `Alias alias/console-made now points at key ${keyId}.` }).waitFor();
      await page.getByRole('cell', { name: 'alias/console-made', exact: true }).first().waitFor();
      await checkAccessibility(page, ['Key description', 'Create key', 'Alias name']);
      await nothingInjected(page);
      await s.step('key and alias');
      const { Aliases } = await kms.send(new ListAliasesCommand({ KeyId: keyId }));
      assert.deepEqual(Aliases!.map((a) => a.AliasName), ['alias/console-made']);

      await page.getByRole('link', { name: keyId }).first().click();
      await page.getByRole('heading', { name: `Key ${keyId}` }).waitFor();
      const policy = await page.getByLabel('Key policy').inputValue();
      assert.match(policy, /^\{\n {2}"Version": "2012-10-17",\n/);
      assert.match(policy, new RegExp(`"arn:aws:iam::${ALICE.id}:root"`));
      await checkAccessibility(page, ['Key policy', 'Disable key']);
      await s.step('key page with its policy');

      await page.getByLabel('Key policy').fill('{"Version": "2012-10-17", "Statement": [');
      await page.getByRole('button', { name: 'Save policy' }).click();
      await page.getByRole('alert').filter({ hasText: 'MalformedPolicyDocumentException' }).waitFor();
      await s.step('broken policy refused');

      await page.getByRole('button', { name: 'Disable key' }).click();
      await page.getByRole('status').filter({ hasText: `Key ${keyId} disabled.` }).waitFor();
      await page.getByRole('button', { name: 'Enable key' }).waitFor();
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState, 'Disabled');
      await page.getByRole('button', { name: 'Schedule key deletion' }).click();
      await page.getByRole('button', { name: 'Cancel key deletion' }).waitFor();
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState, 'PendingDeletion');
      await s.step('disabled, deletion scheduled');
      await page.getByRole('button', { name: 'Cancel key deletion' }).click();
      await page.getByRole('status').filter({ hasText: `Deletion of key ${keyId} cancelled` }).waitFor();
      assert.equal((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.KeyState, 'Disabled');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('Recycle Bin: create a rule; a deregistered image is kept and restored', async () => {
    const s = await storyPage(browser, 'recycle-bin');
    const { page } = s;
    const rbin = new RbinClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: alice, maxAttempts: 1 });
    try {
      await signIn(s, 'Recycle Bin');
      await page.getByLabel('Resource type').selectOption('EC2_IMAGE');
      await page.getByLabel('Retention period (days)').fill('7');
      await page.getByLabel('Rule description').fill(`keep AMIs ${HOSTILE_TAG}`);
      await page.getByRole('button', { name: 'Create rule' }).click();
      await page.getByRole('status').filter({ hasText: /Retention rule \S+ created: AMIs kept 7 days\./ }).waitFor();
      await page.getByRole('cell', { name: `keep AMIs ${HOSTILE_TAG}`, exact: true }).waitFor();
      await page.getByRole('cell', { name: 'all resources in the region' }).waitFor();
      const { Rules } = await rbin.send(new ListRulesCommand({ ResourceType: 'EC2_IMAGE' }));
      assert.equal(Rules!.length, 1);
      assert.deepEqual(Rules![0].RetentionPeriod, { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' });
      await checkAccessibility(page, ['Resource type', 'Create rule']);
      await s.step('rule created');

      const imageId = await registerEbs(ec2, 'binned-image');
      await ec2.send(new DeregisterImageCommand({ ImageId: imageId }));
      await page.reload();
      const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: imageId, exact: true }) });
      await row.waitFor();
      await row.getByRole('cell', { name: '6 days 23 hours' }).waitFor();
      await row.getByRole('cell', { name: 'binned-image', exact: true }).waitFor();
      await checkAccessibility(page);
      await nothingInjected(page);
      await s.step('image in the Recycle Bin');
      await row.getByRole('button', { name: 'Restore' }).click();
      await page.getByRole('status').filter({ hasText: `Image ${imageId} restored from the Recycle Bin.` }).waitFor();
      await row.waitFor({ state: 'detached' });
      const { Images } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
      assert.equal(Images![0].State, 'available');
      await s.step('restored');

      // A deleted snapshot, kept by a rule made through the SDK, restored the same way.
      await rbin.send(new CreateRuleCommand({ ResourceType: 'EBS_SNAPSHOT', RetentionPeriod: { RetentionPeriodValue: 3, RetentionPeriodUnit: 'DAYS' } }));
      const snapshotId = await createSnapshot(ec2, 1);
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId }));
      await page.reload();
      await page.getByRole('cell', { name: 'EBS snapshots', exact: true }).waitFor();
      const snapshotRow = page.getByRole('row').filter({ has: page.getByRole('cell', { name: snapshotId, exact: true }) });
      await snapshotRow.getByRole('cell', { name: '2 days 23 hours' }).waitFor();
      await snapshotRow.getByRole('button', { name: 'Restore' }).click();
      await page.getByRole('status').filter({ hasText: `Snapshot ${snapshotId} restored from the Recycle Bin.` }).waitFor();
      const { Snapshots } = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
      assert.equal(Snapshots![0].State, 'completed');
      await s.step('snapshot restored');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test("copy schedules: the account's own schedules only", async () => {
    const s = await storyPage(browser, 'copy-schedules');
    const { page } = s;
    try {
      await signIn(s, 'Copy schedules');
      await page.getByRole('cell', { name: 'alice-dr', exact: true }).waitFor();
      await page.getByRole('cell', { name: 'every 1d' }).waitFor();
      await page.getByRole('cell', { name: 'not run yet' }).waitFor();
      assert.equal(await page.getByText('bob-secret-dr').count(), 0, "bob's schedule is not alice's to see");
      await checkAccessibility(page);
      await s.step('schedules');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test("an IAM-style user's session is refused what its policy refuses, in the API's words", async () => {
    const s = await storyPage(browser, 'iam-viewer');
    const { page } = s;
    try {
      await signIn(s, 'Key pairs', EC2_VIEWER);
      // Reading is allowed: the table loads without an error.
      await page.getByRole('table', { name: 'Key pairs in us-east-1' }).waitFor();
      await page.getByText(/^\d+ of \d+ rows$/).waitFor();
      assert.equal(await page.getByRole('alert').count(), 0);
      await page.getByRole('button', { name: 'Create key pair' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create key pair' });
      await dialog.getByLabel('Key pair name').fill('viewer-key');
      await dialog.getByRole('button', { name: 'Create' }).click();
      await dialog.getByRole('alert').filter({ hasText: 'UnauthorizedOperation' }).waitFor();
      await s.step('key pair refused');
      await dialog.getByRole('button', { name: 'Close' }).click();
      assert.equal(((await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs ?? []).filter((k) => k.KeyName === 'viewer-key').length, 0);

      await page.getByRole('link', { name: 'KMS keys', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'AccessDeniedException' }).waitFor();
      await page.getByRole('link', { name: 'Recycle Bin', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'AccessDeniedException' }).waitFor();
      await s.step('KMS and rules refused');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('Image Builder: a pipeline made with the SDK, run from the console, its build to AVAILABLE with step logs', { timeout: 180_000 }, async () => {
    const s = await storyPage(browser, 'imagebuilder');
    const { page } = s;
    const ib = ibClient(server.endpoint, alice);
    try {
      const setup = await createBuildSetup(ib, { name: 'console-golden', parentImage: CATALOGUE_AMI, build: ['echo building from the console', 'sleep 4'] });
      const { imagePipelineArn } = await ib.send(new CreateImagePipelineCommand({
        name: 'console-nightly', description: `nightly ${HOSTILE_TAG}`, imageRecipeArn: setup.recipeArn, infrastructureConfigurationArn: setup.infrastructureArn,
        imageTestsConfiguration: { imageTestsEnabled: false }, clientToken: 'console-nightly-1',
      }));
      await signIn(s, 'Image Builder');
      await page.getByRole('cell', { name: `nightly ${HOSTILE_TAG}`, exact: true }).waitFor();
      await checkAccessibility(page, ['Pipelines', 'console-nightly']);
      await s.step('pipelines');
      await page.getByRole('tab', { name: 'Image recipes' }).click();
      await page.getByRole('cell', { name: 'console-golden', exact: true }).waitFor();
      await page.getByRole('cell', { name: `parent ${CATALOGUE_AMI}` }).waitFor();
      await page.getByRole('tab', { name: 'Pipelines' }).click();

      await page.getByRole('link', { name: 'console-nightly' }).click();
      await page.getByRole('heading', { name: 'Pipeline console-nightly' }).waitFor();
      await page.getByRole('button', { name: 'Run pipeline' }).click();
      await page.getByRole('heading', { name: 'Build console-golden/1.0.0/1' }).waitFor();
      // The build sleeps a few seconds in the guest: long enough to be seen running.
      await page.getByRole('progressbar', { name: 'Build progress' }).waitFor();
      await s.step('build running');
      await page.getByText('Status: AVAILABLE').waitFor({ timeout: 120_000 });
      assert.equal(await page.getByRole('progressbar', { name: 'Build progress' }).count(), 0);
      const builds = (await ib.send(new ListImagePipelineImagesCommand({ imagePipelineArn }))).imageSummaryList!;
      assert.deepEqual(builds.map((b) => b.state?.status), ['AVAILABLE']);
      const ami = builds[0].outputResources!.amis![0].image!;
      await page.getByRole('link', { name: ami }).waitFor();
      assert.equal(await page.getByRole('link', { name: ami }).getAttribute('href'), `#/images/${ami}`);

      // The step's log as the API has it, shown as it is.
      const log = await stepLog(ib, builds[0].arn!, 'ApplyBuildComponents');
      assert.match(log, /build\/Build \(ExecuteBash\)/);
      await page.getByText('Log of ApplyBuildComponents').click();
      assert.equal(await page.getByLabel('Log of ApplyBuildComponents').textContent(), log);
      await page.getByRole('cell', { name: 'CreateOutputAMI', exact: true }).waitFor();
      await checkAccessibility(page);
      await nothingInjected(page);
      await s.step('build available with its step logs');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });
});
