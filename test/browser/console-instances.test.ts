// The console's instance, snapshot and volume pages in Chromium, as a person would use them:
// follow an instance's boot on its live serial console, stop, start, image and terminate it by
// clicking; read the snapshot bill (the storage report's figures) and clean up what a
// deregistered image left behind; create and delete a volume. Each action is checked through the SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  AuthorizeSecurityGroupIngressCommand, CreateKeyPairCommand, DeregisterImageCommand, DescribeImagesCommand, DescribeSnapshotsCommand, DescribeVolumesCommand, StopInstancesCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { CompleteSnapshotCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { ebsClient } from '../support/ebs.ts';
import { CATALOGUE_AMI, runOne, simUserData, uploadImage, waitRunning, waitStopped, waitTerminated } from '../support/instances.ts';
import { expectAwsError } from '../support/sdk.ts';
import { checkAccessibility, launchBrowser, storyPage, type StoryPage } from '../support/browser.ts';

const LATE_LINE = 'user data wrote this after a pause';

describe('console instances, snapshots and volumes in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let alice: EC2Client;
  before(async () => {
    [server, browser] = await Promise.all([startServer({ accounts: [ALICE, BOB], extraArgs: ['--sim-boot-ms', '200'] }), launchBrowser()]);
    alice = ec2Client(server.endpoint, credentialsOf(ALICE));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function signIn(s: StoryPage, route: string): Promise<void> {
    const { page } = s;
    await page.goto(`${server.endpoint}/console/#${route}`);
    await page.getByLabel('Access key ID').fill(ALICE.accessKeyId);
    await page.getByLabel('Secret access key').fill(ALICE.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  const stateShown = (page: Page) => page.getByTestId('instance-state');

  test('an instance: live serial console, stop and start, create an image, terminate', async () => {
    const key = await alice.send(new CreateKeyPairCommand({ KeyName: 'alice-key' }));
    assert.ok(key.KeyMaterial);
    const launched = await runOne(alice, {
      ImageId: CATALOGUE_AMI, KeyName: 'alice-key',
      UserData: simUserData('echo first line of user data', 'sleep 2000', `echo ${LATE_LINE}`),
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'console-box' }] }],
    });
    const id = launched.InstanceId!;
    const s = await storyPage(browser, 'instance');
    const { page } = s;
    try {
      await signIn(s, '/instances');
      await page.getByRole('table', { name: 'Instances in us-east-1' }).waitFor();
      await page.getByRole('cell', { name: 'console-box' }).waitFor();
      await s.step('instances list');
      await checkAccessibility(page, ['Instances', 'Filter rows']);
      await page.getByRole('link', { name: id }).click();
      await page.getByRole('heading', { name: `console-box (${id})` }).waitFor();
      // A mark in the page's memory: a reload would lose it.
      await page.evaluate(() => { (window as unknown as { stillThisPage: boolean }).stillThisPage = true; });

      const serial = page.getByRole('log', { name: 'Serial console' });
      // The terminal draws only while on screen (xterm pauses when scrolled out of view), as a person would look at it.
      await serial.scrollIntoViewIfNeeded();
      await serial.getByText('first line of user data').waitFor();
      await s.step('serial console booting');
      await serial.getByText(LATE_LINE).waitFor({ timeout: 20_000 });
      assert.equal(await page.evaluate(() => (window as unknown as { stillThisPage?: boolean }).stillThisPage), true, 'the lines arrived without a reload');
      await waitRunning(alice, [id]);
      await page.getByText('running', { exact: true }).waitFor();
      await s.step('running, console live');

      const ip = (await page.evaluate(() => document.querySelector('code')?.textContent)) ?? '';
      assert.match(ip, /^ssh -i alice-key\.pem ec2-user@\d+\.\d+\.\d+\.\d+$/, 'the catalogue image is Amazon Linux: ec2-user');
      // The default group lets in only its own members: ssh from outside needs a rule.
      const groupId = launched.SecurityGroups![0].GroupId!;
      await page.getByText(`Port 22 is not allowed in by its security groups (${groupId})`).waitFor();
      await alice.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      await page.reload();
      await page.getByRole('heading', { name: `console-box (${id})` }).waitFor();
      await page.getByText('Its security groups let TCP port 22 in.').waitFor();
      assert.equal(await page.getByText('Port 22 is not allowed').count(), 0, 'with port 22 open the page says nothing more');
      await page.getByRole('table', { name: `Volumes attached to ${id}` }).getByRole('cell', { name: '/dev/xvda' }).waitFor();
      await checkAccessibility(page, ['Stop', 'Reboot', 'Terminate', 'Create image', 'Serial console']);

      await page.getByRole('button', { name: 'Stop' }).click();
      await page.getByRole('status').getByText(`Stopping ${id}.`).waitFor();
      await expectState(page, 'stopped');
      await waitStopped(alice, [id]);
      await s.step('stopped');
      await page.getByRole('button', { name: 'Start' }).click();
      await expectState(page, 'running');
      await waitRunning(alice, [id]);
      await s.step('started again');

      await page.getByRole('button', { name: 'Create image' }).click();
      await page.getByLabel('Image name').fill('console-box-image');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const status = page.getByRole('status').getByText(/Creating image ami-[0-9a-f]+ from/);
      await status.waitFor();
      const imageId = /ami-[0-9a-f]+/.exec((await status.textContent()) ?? '')![0];
      const newImage = page.locator('.new-image');
      assert.equal(await newImage.getByRole('link', { name: imageId }).getAttribute('href'), `#/images/${imageId}`);
      await newImage.getByText('available', { exact: true }).waitFor({ timeout: 30_000 });
      await s.step('image available');
      const image = (await alice.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
      assert.equal(image.State, 'available');
      assert.equal(image.Name, 'console-box-image');

      await page.getByRole('button', { name: 'Terminate' }).click();
      await s.step('terminate asks first');
      await page.getByRole('button', { name: 'Confirm terminate' }).click();
      await page.getByRole('status').getByText(`Terminating ${id}.`).waitFor();
      await waitTerminated(alice, [id]);
      await expectState(page, 'terminated');
      await s.step('terminated');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('a server without the console stream: the page reads GetConsoleOutput and the state by itself', async () => {
    const launched = await runOne(alice, { ImageId: CATALOGUE_AMI, UserData: simUserData('echo read by polling') });
    const id = launched.InstanceId!;
    await waitRunning(alice, [id]);
    const s = await storyPage(browser, 'instance-without-stream');
    const { page } = s;
    try {
      // As an older server answers: no such stream.
      await page.route('**/console/stream/console?*', (route) => route.fulfill({
        status: 404, contentType: 'application/json', body: JSON.stringify({ error: { code: 'NotFound', message: 'No such console route.' } }),
      }));
      await signIn(s, `/instances/${id}`);
      const serial = page.getByRole('log', { name: 'Serial console' });
      await serial.scrollIntoViewIfNeeded();
      await page.getByText('Read from GetConsoleOutput every second.').waitFor();
      await serial.getByText('read by polling').waitFor();
      await expectState(page, 'running');
      await page.evaluate(() => { (window as unknown as { stillThisPage: boolean }).stillThisPage = true; });
      await alice.send(new StopInstancesCommand({ InstanceIds: [id] }));
      await expectState(page, 'stopped');
      assert.equal(await page.evaluate(() => (window as unknown as { stillThisPage?: boolean }).stillThisPage), true, 'the state arrived without a reload');
      await s.step('stopped elsewhere, seen by polling');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  async function expectState(page: Page, state: string): Promise<void> {
    await page.waitForFunction((want) => document.querySelector('[data-testid="instance-state"]')?.textContent?.startsWith(want), state, { timeout: 30_000 });
    assert.match((await stateShown(page).textContent()) ?? '', new RegExp(`^${state}`));
  }

  async function storageReportFor(account: string): Promise<{ storedBytes: number; monthlyCost: number }> {
    // An operator endpoint: strict mode opens it to the operator's token only.
    const res = await fetch(`${server.endpoint}/_amiforge/storage`, { headers: { authorization: `Bearer ${server.operatorToken}` } });
    assert.equal(res.status, 200);
    const report = await res.json() as { regions: { region: string; accounts: { ownerId: string; storedBytes: number; monthlyCost: number }[] }[] };
    const row = report.regions.find((r) => r.region === 'us-east-1')?.accounts.find((a) => a.ownerId === account);
    return row ?? { storedBytes: 0, monthlyCost: 0 };
  }

  async function figure(page: Page, label: string): Promise<number> {
    return Number(await page.getByLabel(label, { exact: true }).getAttribute('data-value'));
  }

  test('snapshots: the bill equals the storage report, and clean-up deletes what a deregistered image left behind', async () => {
    const ebs = ebsClient(server.endpoint, credentialsOf(ALICE));
    const kept = await uploadImage(alice, ebs, 'kept image', new Map([[0, Buffer.from('kept')], [3, Buffer.from('kept too')]]));
    const dropped = await uploadImage(alice, ebs, 'dropped image', new Map([[0, Buffer.from('dropped')], [1, Buffer.from('dropped too')]]));
    await alice.send(new DeregisterImageCommand({ ImageId: dropped.imageId }));
    const pending = await ebs.send(new StartSnapshotCommand({ VolumeSize: 1, Timeout: 60, Description: 'being written' }));
    const s = await storyPage(browser, 'snapshots');
    const { page } = s;
    try {
      await signIn(s, '/snapshots');
      const table = page.getByRole('table', { name: 'Snapshots in us-east-1' });
      await table.getByRole('cell', { name: kept.snapshotId }).waitFor();
      await table.getByRole('cell', { name: dropped.snapshotId, exact: true }).waitFor();

      // A snapshot being written shows its progress until it completes, without a reload.
      await table.getByRole('row').filter({ hasText: pending.SnapshotId! }).getByRole('progressbar', { name: `Progress of ${pending.SnapshotId}` }).waitFor();
      await s.step('pending snapshot');
      await ebs.send(new CompleteSnapshotCommand({ SnapshotId: pending.SnapshotId, ChangedBlocksCount: 0 }));
      await table.getByRole('row').filter({ hasText: pending.SnapshotId! }).getByText('completed').waitFor();
      assert.equal(await page.getByRole('progressbar').count(), 0);

      await page.getByLabel('Billed bytes', { exact: true }).waitFor();
      await s.step('snapshots and bill');
      await checkAccessibility(page, ['Snapshots', 'Preview clean-up']);
      const before = await storageReportFor(ALICE.id);
      assert.ok(before.storedBytes > 0);
      assert.equal(await figure(page, 'Billed bytes'), before.storedBytes);
      assert.equal(await figure(page, 'Monthly cost'), before.monthlyCost);
      assert.equal(await table.getByRole('row').filter({ hasText: dropped.snapshotId }).getByText(dropped.imageId).count(), 1, 'left behind by the deregistered image');

      await page.getByRole('button', { name: 'Preview clean-up' }).click();
      const deletable = page.getByRole('list', { name: 'Would be deleted' });
      await deletable.getByText(dropped.snapshotId).waitFor();
      assert.equal(await deletable.getByText(kept.snapshotId).count(), 0, "the registered image's snapshot stays");
      assert.ok(await figure(page, 'Reclaimable') > 0);
      await s.step('clean-up preview');

      await page.getByRole('button', { name: 'Clean up', exact: true }).click();
      await page.getByRole('button', { name: 'Confirm clean up' }).click();
      await page.getByRole('status').getByText(`Deleted 1 snapshot(s) (${dropped.snapshotId})`).waitFor();
      await s.step('cleaned up');
      await expectAwsError(alice.send(new DescribeSnapshotsCommand({ SnapshotIds: [dropped.snapshotId] })), { name: 'InvalidSnapshot.NotFound' });
      await table.getByRole('cell', { name: dropped.snapshotId, exact: true }).waitFor({ state: 'detached' });
      const after = await storageReportFor(ALICE.id);
      assert.ok(after.storedBytes < before.storedBytes);
      await page.waitForFunction((want) => document.querySelector('[aria-labelledby="billed-bytes"]')?.getAttribute('data-value') === String(want), after.storedBytes);
      assert.equal(await figure(page, 'Monthly cost'), after.monthlyCost);
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('a server without the storage views: the table from DescribeSnapshots, the figures and clean-up said to be missing', async () => {
    const source = await uploadImage(alice, ebsClient(server.endpoint, credentialsOf(ALICE)), 'older server', new Map([[0, Buffer.from('older')]]));
    const s = await storyPage(browser, 'snapshots-without-views');
    const { page } = s;
    try {
      // As an older server answers: no such views.
      await page.route(/\/console\/data\/(storage|cleanup-preview)(\?|$)/, (route) => route.fulfill({
        status: 404, contentType: 'application/json', body: JSON.stringify({ error: { code: 'NotFound', message: 'No such console route.' } }),
      }));
      await signIn(s, '/snapshots');
      await page.getByRole('table', { name: 'Snapshots in us-east-1' }).getByRole('cell', { name: source.snapshotId }).waitFor();
      await page.getByText('Storage figures are not available on this server').waitFor();
      assert.equal(await page.getByLabel('Billed bytes', { exact: true }).count(), 0);
      await page.getByRole('button', { name: 'Preview clean-up' }).click();
      await page.getByRole('status').getByText('Clean-up is not available on this server.').waitFor();
      await s.step('without storage views');
      await checkAccessibility(page, ['Snapshots', 'Preview clean-up']);
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('volumes: create one from a snapshot, see it listed, delete it', async () => {
    const ebs = ebsClient(server.endpoint, credentialsOf(ALICE));
    const source = await uploadImage(alice, ebs, 'volume source', new Map([[0, Buffer.from('volume')]]));
    const s = await storyPage(browser, 'volumes');
    const { page } = s;
    try {
      await signIn(s, '/volumes');
      await page.getByRole('table', { name: 'Volumes in us-east-1' }).waitFor();
      await page.getByRole('button', { name: 'Create volume' }).click();
      await page.getByLabel('Snapshot ID (optional)').fill(source.snapshotId);
      await checkAccessibility(page, ['Availability Zone', 'Snapshot ID (optional)', 'Size (GiB)', 'Volume type']);
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const status = page.getByRole('status').getByText(/Created volume vol-[0-9a-f]+ from/);
      await status.waitFor();
      const volumeId = /vol-[0-9a-f]+/.exec((await status.textContent()) ?? '')![0];
      const row = page.getByRole('row').filter({ hasText: volumeId });
      await row.getByRole('cell', { name: source.snapshotId }).waitFor();
      await s.step('volume created');
      const v = (await alice.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0];
      assert.equal(v.SnapshotId, source.snapshotId);

      await page.waitForFunction((vid) => [...document.querySelectorAll('tr')].some((tr) => tr.textContent?.includes(vid) && tr.textContent.includes('available')), volumeId);
      await row.getByRole('button', { name: `Delete ${volumeId}` }).click();
      await row.getByRole('button', { name: `Confirm delete ${volumeId}` }).click();
      await page.getByRole('status').getByText(`Deleted volume ${volumeId}.`).waitFor();
      await s.step('volume deleted');
      await expectAwsError(alice.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] })), { name: 'InvalidVolume.NotFound' });
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });
});
