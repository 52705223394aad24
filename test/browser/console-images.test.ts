// The console's image pages in a real browser, as a person would use them: register an image
// from an uploaded snapshot, open its page, tag it, share it with another account, copy it to
// another region (following the copy to available and into its region), launch it, deregister it
// with its snapshots; the shared account sees the page without the owner's actions; the API's
// refusals (an encrypted image made public) are shown in words. Each action is checked through
// the SDK as well as on screen.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  DescribeImageAttributeCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeSnapshotsCommand,
  EnableImageBlockPublicAccessCommand, ModifyImageAttributeCommand, type EC2Client,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { ebsClient, uploadSnapshot } from '../support/ebs.ts';
import { registerEbs } from '../support/sdk.ts';
import { checkAccessibility, eventually, launchBrowser, storyPage, type StoryPage } from '../support/browser.ts';

const NAME = 'web-golden-2026';
const HOSTILE_TAG = '<img src=x onerror="window.__pwned=1">';

describe('console image pages in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let alice: EC2Client;
  let aliceWest: EC2Client;
  let bob: EC2Client;
  let snapshotId: string;
  before(async () => {
    [server, browser] = await Promise.all([startServer({ accounts: [ALICE, BOB] }), launchBrowser()]);
    alice = ec2Client(server.endpoint, credentialsOf(ALICE));
    aliceWest = ec2Client(server.endpoint, credentialsOf(ALICE), 'us-west-2');
    bob = ec2Client(server.endpoint, credentialsOf(BOB));
    // A disk uploaded through the EBS direct APIs, as `amiforge snapshot upload` does.
    const upload = await uploadSnapshot(ebsClient(server.endpoint, credentialsOf(ALICE)), { VolumeSize: 1, Description: 'uploaded root disk' },
      new Map([[0, 'boot'], [1, 'root-a'], [7, 'root-b']]));
    snapshotId = upload.snapshotId;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function signIn(s: StoryPage, who: TestAccount, hash = ''): Promise<void> {
    const { page } = s;
    await page.goto(`${server.endpoint}/console/${hash}`);
    await page.getByLabel('Access key ID').fill(who.accessKeyId);
    await page.getByLabel('Secret access key').fill(who.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Account ${who.id}`).waitFor();
  }

  const status = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor({ timeout: 30_000 });
  const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
  const lineageServed = (page: Page, imageId: string) =>
    page.evaluate(async (id) => (await fetch(`/console/data/lineage?imageId=${id}`, { headers: { 'x-amiforge-region': 'us-east-1' } })).status !== 404, imageId);

  test('register, tag, share, copy, launch and deregister an image', async () => {
    const s = await storyPage(browser, 'images');
    const { page } = s;
    try {
      await signIn(s, ALICE);
      await page.getByRole('table', { name: 'Images in us-east-1: Owned by me' }).waitFor();

      // Register from the uploaded snapshot.
      await checkAccessibility(page, ['Register image']);
      await button(page, 'Register image').click();
      await page.getByLabel('Name').first().fill(NAME);
      await page.getByLabel('Root snapshot ID').fill(snapshotId);
      await page.getByLabel('Architecture').first().selectOption('x86_64');
      await page.getByLabel('Boot mode').selectOption('uefi-preferred');
      await page.getByLabel('Description').fill('built <by> the console');
      await checkAccessibility(page, ['Root snapshot ID', 'Boot mode', 'Register']);
      await s.step('register form');
      await button(page, 'Register').click();
      await status(page, /^Registered ami-[0-9a-f]{17} \(web-golden-2026\)/);
      const [registered] = (await alice.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [NAME] }] }))).Images!;
      const imageId = registered.ImageId!;
      assert.equal(registered.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId, snapshotId);
      assert.equal(registered.BootMode, 'uefi-preferred');
      assert.equal(registered.Description, 'built <by> the console');
      await page.getByRole('link', { name: imageId, exact: true }).first().waitFor();
      await s.step('registered');

      // Its page, from the table's link.
      await page.getByRole('table', { name: /^Images in us-east-1/ }).getByRole('link', { name: imageId }).click();
      await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
      assert.match(page.url(), new RegExp(`#/images/${imageId}$`));
      for (const section of ['Summary', 'Block devices', 'Snapshots', 'Launch permissions', 'Tags', 'Lineage']) {
        await page.getByRole('heading', { name: section, level: 2 }).waitFor();
      }
      await page.getByRole('link', { name: snapshotId }).waitFor();
      await page.getByText('Private: only your account may launch it').waitFor();
      await checkAccessibility(page, ['Launch instance', 'Copy to region', 'Deregister', 'Add tag']);
      await s.step('image page');

      // A tag holding markup, shown as text.
      await button(page, 'Add tag').click();
      await page.getByLabel('Tag key').fill('team');
      await page.getByLabel('Tag value').fill(HOSTILE_TAG);
      await button(page, 'Save tags').click();
      await status(page, `Tag team saved on ${imageId}.`);
      await page.getByRole('cell', { name: HOSTILE_TAG, exact: true }).waitFor();
      const tagged = (await alice.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
      assert.deepEqual(tagged.Tags, [{ Key: 'team', Value: HOSTILE_TAG }]);
      await s.step('tagged');

      // Shared with Bob.
      await button(page, 'Edit launch permissions').click();
      await page.getByLabel('Account ID').fill(BOB.id);
      await button(page, 'Add account').click();
      await page.getByText(`Account ${BOB.id}`).first().waitFor();
      await s.step('sharing form');
      await button(page, 'Save permissions').click();
      await status(page, `Launch permissions of ${imageId} saved: 1 added, 0 removed.`);
      const perms = await alice.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }));
      assert.deepEqual(perms.LaunchPermissions, [{ UserId: BOB.id }]);
      const bobSees = await bob.send(new DescribeImagesCommand({ ExecutableUsers: ['self'] }));
      assert.deepEqual(bobSees.Images?.map((i) => i.ImageId), [imageId]);
      await s.step('shared with bob');

      // Copied to us-west-2: progress to available, then the link opens the copy in its region.
      await button(page, 'Copy to region').click();
      await page.getByLabel('Destination region').selectOption('us-west-2');
      await page.getByRole('form', { name: 'Copy the image to a region' }).getByLabel('Name').fill(`${NAME}-west`);
      await s.step('copy form');
      await button(page, 'Copy').click();
      // The simulator's copy can finish before the first line is seen: either line will do.
      await status(page, /^Copying ami-\w+ to us-west-2 as ami-\w+\.$|^Copy ami-\w+ in us-west-2 is available\.$/);
      // The copy may already be available when the line is read: both lines name it.
      const line = (await page.getByRole('status').textContent())!;
      const named = /as (ami-\w+)\.$|^Copy (ami-\w+) in us-west-2 is available\.$/.exec(line);
      assert.ok(named, `the status line names the copy: ${line}`);
      const copyId = named[1] ?? named[2];
      await status(page, `Copy ${copyId} in us-west-2 is available.`);
      await s.step('copy available');
      const copy = (await aliceWest.send(new DescribeImagesCommand({ ImageIds: [copyId] }))).Images![0];
      assert.equal(copy.State, 'available');
      assert.equal(copy.Name, `${NAME}-west`);
      assert.equal(copy.SourceImageId, imageId);

      // The lineage shows the copy (when this server has the lineage view).
      if (await lineageServed(page, imageId)) {
        await page.getByRole('list', { name: 'Lineage as a list' }).getByRole('link', { name: new RegExp(copyId) }).first().waitFor();
      } else {
        await page.getByText('Lineage is not available on this server.').waitFor();
      }
      await s.step('lineage');

      await page.getByRole('link', { name: copyId, exact: true }).click();
      await page.getByRole('heading', { name: `${NAME}-west`, level: 1 }).waitFor();
      assert.equal(await page.getByLabel('Region').inputValue(), 'us-west-2');
      await s.step('the copy in us-west-2');

      // Back to the original, in its region, and launch it.
      await page.goto(`${server.endpoint}/console/#/images/${imageId}?region=us-east-1`);
      await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
      await button(page, 'Launch instance').click();
      await page.getByLabel('Instance type').selectOption('t3.micro');
      assert.equal(await page.getByLabel('Key pair').inputValue(), '');
      await s.step('launch form');
      await button(page, 'Launch').click();
      await page.waitForURL(/#\/instances\/i-[0-9a-f]{17}$/);
      const instanceId = /#\/instances\/(i-\w+)$/.exec(page.url())![1];
      const launched = (await alice.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0].Instances![0];
      assert.equal(launched.ImageId, imageId);
      assert.equal(launched.InstanceType, 't3.micro');
      await s.step('launched');

      // Deregistered with its snapshots.
      await page.goto(`${server.endpoint}/console/#/images/${imageId}`);
      await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
      await button(page, 'Deregister').click();
      await page.getByLabel('Also delete its snapshots').check();
      await s.step('deregister form');
      await button(page, 'Confirm deregister').click();
      await status(page, new RegExp(`^Deregistered ${imageId}; snapshots: ${snapshotId} `));
      await page.getByText(`No image ${imageId} is visible to you in us-east-1`).waitFor();
      await s.step('deregistered');
      assert.deepEqual((await alice.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images?.map((i) => i.ImageId), []);
      const left = await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'snapshot-id', Values: [snapshotId] }] }));
      const said = (await page.getByRole('status').textContent())!;
      assert.equal(left.Snapshots!.length === 0, said.includes(`${snapshotId} deleted`), `the status line tells what happened to the snapshot: ${said}`);

      const injected = await page.evaluate(() => (window as { __pwned?: number }).__pwned);
      assert.equal(injected, undefined);
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('an image shared with the viewer shows no owner actions', async () => {
    const imageId = await registerEbs(alice, 'alice-shared-with-bob', { Description: 'for bob' });
    await alice.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    const s = await storyPage(browser, 'shared-image');
    const { page } = s;
    try {
      await signIn(s, BOB, `#/images/${imageId}`);
      await page.getByRole('heading', { name: 'alice-shared-with-bob', level: 1 }).waitFor();
      await page.getByText(`Owned by account ${ALICE.id} and shared with you`).waitFor();
      await button(page, 'Launch instance').waitFor();
      await button(page, 'Copy to region').waitFor();
      for (const ownerOnly of ['Deregister', 'Disable', 'Deprecate', 'Deregistration protection', 'Edit launch permissions', 'Create scheduled copy']) {
        assert.equal(await button(page, ownerOnly).count(), 0, `${ownerOnly} is not offered to bob`);
      }
      await checkAccessibility(page, ['Launch instance', 'Copy to region']);
      await s.step('bob sees alice image');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('owner actions: deprecate, disable and enable, protection, scheduled copy; refusals in words', async () => {
    // An image on an encrypted snapshot, with image block public access on in the region.
    const encrypted = await uploadSnapshot(ebsClient(server.endpoint, credentialsOf(ALICE)), { VolumeSize: 1, Encrypted: true }, new Map([[0, 'secret']]));
    const imageId = await registerEbs(alice, 'alice-encrypted', {
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: encrypted.snapshotId } }],
    });
    await alice.send(new EnableImageBlockPublicAccessCommand({ ImageBlockPublicAccessState: 'block-new-sharing' }));
    const s = await storyPage(browser, 'owner-actions');
    const { page } = s;
    const image = async () => (await alice.send(new DescribeImagesCommand({ ImageIds: [imageId], IncludeDisabled: true, IncludeDeprecated: true }))).Images![0];
    try {
      await signIn(s, ALICE, `#/images/${imageId}`);
      await page.getByRole('heading', { name: 'alice-encrypted', level: 1 }).waitFor();
      await page.getByText('Image block public access is on').waitFor();
      await page.getByText('EC2 never makes such an image public').waitFor();

      await button(page, 'Edit launch permissions').click();
      await page.getByLabel('Public').check();
      await button(page, 'Save permissions').click();
      const refusal = page.getByRole('alert');
      await refusal.waitFor();
      assert.match((await refusal.textContent())!, /\(\w+\)$/, 'the refusal names EC2\'s error code');
      await s.step('public refused');
      assert.equal((await image()).Public, false);
      await button(page, 'Cancel').click();

      await button(page, 'Deprecate').click();
      await page.getByLabel('Deprecation date').fill('2030-01-02T03:04');
      await button(page, 'Set deprecation date').click();
      await status(page, new RegExp(`^${imageId} deprecates at 2030-01-02T`));
      assert.match((await image()).DeprecationTime ?? '', /^2030-01-02T/);

      await button(page, 'Disable').click();
      await status(page, `${imageId} is disabled: nobody can launch it until it is enabled.`);
      assert.equal((await image()).State, 'disabled');
      await button(page, 'Launch instance').waitFor({ state: 'detached' });
      await button(page, 'Enable').click();
      await status(page, `${imageId} is enabled again.`);
      assert.equal((await image()).State, 'available');

      await button(page, 'Deregistration protection').click();
      await status(page, `Deregistration protection of ${imageId} is on.`);
      assert.notEqual((await image()).DeregistrationProtection ?? 'disabled', 'disabled');
      await page.getByRole('button', { name: 'Deregistration protection', exact: true, pressed: true }).waitFor();
      await button(page, 'Deregister').click();
      await button(page, 'Confirm deregister').click();
      await page.getByRole('alert').filter({ hasText: /protect/i }).waitFor();
      await s.step('protected from deregistration');
      assert.equal((await image()).State, 'available');
      await button(page, 'Cancel').click();

      await button(page, 'Create scheduled copy').click();
      const entry = page.getByLabel('Schedule entry for this image');
      await entry.waitFor();
      assert.equal(JSON.parse((await entry.textContent())!).image.imageId, imageId);
      await s.step('scheduled copy');
      await eventually(async () => assert.deepEqual(s.problems, []), 'no problems');
    } finally {
      await s.close();
    }
  });
});
