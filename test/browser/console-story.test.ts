// The console's main story, clicked through in Chromium as a person would, two accounts in
// strict mode: Alice signs in with her keys (by keyboard), registers an image from a snapshot she
// uploaded through the EBS direct APIs, launches it and watches its serial console fill live,
// creates an image from the instance, copies that to another region and shares it with Bob. Bob
// signs in, finds it under "Shared with me" and launches it. Alice signs back in, deregisters her
// images keeping their snapshots, sees the snapshots they left behind and what clean-up would save
// on the Snapshots page, and cleans up. Every step is checked through the SDK as well as on
// screen, and leaves a screenshot in test-artifacts/console/story/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  DescribeImageAttributeCommand, DescribeImagesCommand, DescribeInstancesCommand, DescribeSnapshotsCommand, DescribeVolumesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { ebsClient, uploadSnapshot } from '../support/ebs.ts';
import { waitTerminated } from '../support/instances.ts';
import { checkAccessibility, eventually, launchBrowser, storyPage, type StoryPage } from '../support/browser.ts';

const GOLDEN = 'story-golden';
const FROM_INSTANCE = 'story-from-instance';
const WEST = 'us-west-2';

/** What has keyboard focus: its label (or aria-label, or text) and whether it is a link in a table's first body row. */
async function focused(page: Page): Promise<{ name: string; firstRowLink: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return { name: '', firstRowLink: false };
    const name = ((el as HTMLInputElement).labels?.[0]?.textContent ?? el.getAttribute('aria-label') ?? el.textContent ?? '').trim();
    const row = el.closest('tbody tr');
    return { name, firstRowLink: el.tagName === 'A' && !!row && row === row.parentElement?.firstElementChild };
  });
}

/** Presses Tab until `want` holds for the focused control (at most `limit` presses). */
async function tabUntil(page: Page, want: (f: { name: string; firstRowLink: boolean }) => boolean, what: string, limit = 120): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (want(await focused(page))) return;
  }
  assert.fail(`${what} is not reachable with Tab`);
}

const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
const status = (page: Page, text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).first().waitFor({ timeout: 30_000 });

describe('the console story in Chromium: Alice and Bob', () => {
  let server: RunningServer;
  let browser: Browser;
  let alice: EC2Client;
  let aliceWest: EC2Client;
  let bob: EC2Client;
  let uploadedSnapshot: string;
  before(async () => {
    // Guests take a moment to boot, so the serial console is watched filling rather than found full.
    [server, browser] = await Promise.all([startServer({ accounts: [ALICE, BOB], extraArgs: ['--sim-boot-ms', '1500'] }), launchBrowser()]);
    alice = ec2Client(server.endpoint, credentialsOf(ALICE));
    aliceWest = ec2Client(server.endpoint, credentialsOf(ALICE), WEST);
    bob = ec2Client(server.endpoint, credentialsOf(BOB));
    // A 1 GiB disk uploaded block by block, as `amiforge snapshot upload` does: 4 MiB of data,
    // enough for clean-up's saving to show in a month's cost; its first block is blank, which the
    // simulator boots as if it held a boot loader.
    const upload = await uploadSnapshot(ebsClient(server.endpoint, credentialsOf(ALICE)), { VolumeSize: 1, Description: 'story root disk' },
      new Map([1, 2, 3, 4, 5, 6, 7, 8].map((i) => [i, `story-root-${i}`])));
    uploadedSnapshot = upload.snapshotId;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Signs in with the mouse, from wherever the page is (signed out). */
  async function signIn(s: StoryPage, who: TestAccount): Promise<void> {
    const { page } = s;
    await page.getByRole('heading', { name: 'Sign in to amiforge' }).waitFor();
    await page.getByLabel('Access key ID').fill(who.accessKeyId);
    await page.getByLabel('Secret access key').fill(who.secretAccessKey);
    await button(page, 'Sign in').click();
    await page.getByText(`Account ${who.id}`).waitFor();
  }

  async function signOut(s: StoryPage, who: string): Promise<void> {
    await button(s.page, 'Sign out').click();
    await s.page.getByRole('heading', { name: 'Sign in to amiforge' }).waitFor();
    await s.step(`${who} signed out`);
    // The next person starts from the console's address, not from the page the last one left open.
    await s.page.goto(`${server.endpoint}/console/`);
  }

  const openImage = async (page: Page, imageId: string, name: string, region = 'us-east-1') => {
    await page.goto(`${server.endpoint}/console/#/images/${imageId}?region=${region}`);
    await page.getByRole('heading', { name, level: 1 }).waitFor();
  };

  test('sign in, register, launch, watch, image, copy, share; Bob launches it; deregister and clean up', async () => {
    const s = await storyPage(browser, 'story', { dir: 'story' });
    const { page } = s;
    try {
      // 1. Alice signs in with her keys, by keyboard alone: Tab to each field, Enter to submit.
      await page.goto(`${server.endpoint}/`);
      await page.getByRole('heading', { name: 'Sign in to amiforge' }).waitFor();
      await checkAccessibility(page, ['Access key ID', 'Secret access key', 'Sign in']);
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await tabUntil(page, (f) => f.name === 'Access key ID', 'the access key field');
      await page.keyboard.type(ALICE.accessKeyId);
      await tabUntil(page, (f) => f.name === 'Secret access key', 'the secret field');
      await page.keyboard.type(ALICE.secretAccessKey);
      await s.step('alice signs in by keyboard');
      await page.keyboard.press('Enter');
      await page.getByRole('table', { name: 'Images in us-east-1: Owned by me' }).waitFor();
      await page.getByText(`Account ${ALICE.id}`).waitFor();
      await s.step('alice signed in');

      // 2. Register an image from the uploaded snapshot.
      await button(page, 'Register image').click();
      await page.getByLabel('Name').first().fill(GOLDEN);
      await page.getByLabel('Root snapshot ID').fill(uploadedSnapshot);
      await page.getByLabel('Architecture').first().selectOption('x86_64');
      await page.getByLabel('Description').fill('registered from an uploaded snapshot');
      await checkAccessibility(page, ['Name', 'Root snapshot ID', 'Register']);
      await s.step('register form');
      await button(page, 'Register').click();
      await status(page, new RegExp(`^Registered ami-[0-9a-f]{17} \\(${GOLDEN}\\)`));
      const [golden] = (await alice.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [GOLDEN] }] }))).Images!;
      const goldenId = golden.ImageId!;
      assert.equal(golden.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId, uploadedSnapshot);
      const table = page.getByRole('table', { name: /^Images in us-east-1/ });
      await table.getByRole('link', { name: goldenId }).waitFor();
      await s.step('registered');

      // Keyboard: the table's first row link is reachable with Tab and opens the image with Enter.
      await page.locator('body').focus();
      await tabUntil(page, (f) => f.firstRowLink, "the image table's first row link");
      assert.equal((await focused(page)).name, goldenId);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: GOLDEN, level: 1 }).waitFor();
      assert.match(page.url(), new RegExp(`#/images/${goldenId}$`));
      await page.getByRole('link', { name: uploadedSnapshot }).waitFor();
      await s.step('image page opened by keyboard');

      // 3. Launch it.
      await button(page, 'Launch instance').click();
      await page.getByLabel('Instance type').selectOption('t3.micro');
      await s.step('launch form');
      await button(page, 'Launch').click();
      await page.waitForURL(/#\/instances\/i-[0-9a-f]{17}$/);
      const instanceId = /#\/instances\/(i-\w+)$/.exec(page.url())![1];
      const launched = (await alice.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0].Instances![0];
      assert.equal(launched.ImageId, goldenId);

      // 4. Its serial console fills as the guest boots, without a reload of the page.
      await page.evaluate(() => { (window as unknown as { storyMark: boolean }).storyMark = true; });
      const serial = page.getByRole('log', { name: 'Serial console' });
      await serial.waitFor();
      await s.step('instance page, guest booting');
      await page.getByText('Live: lines appear as the guest writes them.').waitFor();
      await serial.getByText(/Linux version/).first().waitFor({ timeout: 20_000 });
      await serial.getByText(/login:/).first().waitFor({ timeout: 20_000 });
      assert.equal(await page.evaluate(() => (window as unknown as { storyMark?: boolean }).storyMark), true, 'the console filled without a reload');
      await page.waitForFunction(() => document.querySelector('[data-testid="instance-state"]')?.textContent?.startsWith('running'), undefined, { timeout: 30_000 });
      await s.step('serial console live, running');

      // 5. Create an image from the instance; follow it to available, then open it.
      await button(page, 'Create image').click();
      await page.getByLabel('Image name').fill(FROM_INSTANCE);
      await button(page, 'Create').click();
      const creating = page.getByRole('status').getByText(/Creating image ami-[0-9a-f]+ from/);
      await creating.waitFor();
      const imageId = /ami-[0-9a-f]+/.exec((await creating.textContent()) ?? '')![0];
      await page.locator('.new-image').getByText('available', { exact: true }).waitFor({ timeout: 30_000 });
      await s.step('image from instance available');
      const made = (await alice.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0];
      assert.equal(made.State, 'available');
      assert.equal(made.Name, FROM_INSTANCE);
      await page.locator('.new-image').getByRole('link', { name: imageId }).click();
      await page.getByRole('heading', { name: FROM_INSTANCE, level: 1 }).waitFor();
      await checkAccessibility(page, ['Launch instance', 'Copy to region', 'Edit launch permissions', 'Deregister']);
      await s.step('image from instance');

      // 6. Copy it to another region: progress until the copy is available.
      await button(page, 'Copy to region').click();
      await page.getByLabel('Destination region').selectOption(WEST);
      await page.getByRole('form', { name: 'Copy the image to a region' }).getByLabel('Name').fill(`${FROM_INSTANCE}-west`);
      await s.step('copy form');
      await button(page, 'Copy').click();
      // The status says "Copying ... as ami-..." and then, soon after, that the copy is available.
      const copyId = await eventually(async () => {
        const [started] = (await aliceWest.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [`${FROM_INSTANCE}-west`] }] }))).Images ?? [];
        assert.ok(started?.ImageId, 'the copy exists');
        return started.ImageId;
      }, 'the copy is started');
      await status(page, new RegExp(`^Copying ${imageId} to ${WEST} as ${copyId}\\.$|^Copy ${copyId} in ${WEST} is available\\.$`));
      await s.step('copy started');
      await status(page, `Copy ${copyId} in ${WEST} is available.`);
      // The image's lineage shows where it came from and its copy in the other region.
      const lineage = page.getByRole('list', { name: 'Lineage as a list' });
      await lineage.getByRole('link', { name: new RegExp(copyId) }).first().waitFor();
      await lineage.getByRole('link', { name: new RegExp(instanceId) }).first().waitFor();
      await s.step('copy available, in the lineage');
      const copy = (await aliceWest.send(new DescribeImagesCommand({ ImageIds: [copyId] }))).Images![0];
      assert.equal(copy.State, 'available');
      assert.equal(copy.SourceImageId, imageId);

      // 7. Share it with Bob (a launch permission for his account).
      await button(page, 'Edit launch permissions').click();
      await page.getByLabel('Account ID').fill(BOB.id);
      await button(page, 'Add account').click();
      await page.getByText(`Account ${BOB.id}`).first().waitFor();
      await s.step('sharing with bob');
      await button(page, 'Save permissions').click();
      await status(page, `Launch permissions of ${imageId} saved: 1 added, 0 removed.`);
      const perms = await alice.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }));
      assert.deepEqual(perms.LaunchPermissions, [{ UserId: BOB.id }]);
      await s.step('shared with bob');
      await signOut(s, 'alice');

      // 8. Bob signs in, finds the image under "Shared with me" and launches it.
      await signIn(s, BOB);
      await page.getByRole('tab', { name: 'Shared with me' }).click();
      const shared = page.getByRole('table', { name: 'Images in us-east-1: Shared with me' });
      await shared.getByRole('link', { name: imageId }).waitFor();
      assert.equal(await shared.getByRole('link', { name: goldenId }).count(), 0, "alice's unshared image is not bob's to see");
      await s.step('bob: shared with me');
      await shared.getByRole('link', { name: imageId }).click();
      await page.getByRole('heading', { name: FROM_INSTANCE, level: 1 }).waitFor();
      await page.getByText(`Owned by account ${ALICE.id} and shared with you`).waitFor();
      assert.equal(await button(page, 'Deregister').count(), 0, 'bob cannot deregister alice\'s image');
      await button(page, 'Launch instance').click();
      await page.getByLabel('Instance type').selectOption('t3.micro');
      await button(page, 'Launch').click();
      await page.waitForURL(/#\/instances\/i-[0-9a-f]{17}$/);
      const bobInstance = /#\/instances\/(i-\w+)$/.exec(page.url())![1];
      const bobs = (await bob.send(new DescribeInstancesCommand({ InstanceIds: [bobInstance] }))).Reservations![0].Instances![0];
      assert.equal(bobs.ImageId, imageId);
      await page.getByRole('log', { name: 'Serial console' }).getByText(/login:/).first().waitFor({ timeout: 20_000 });
      await s.step('bob launched it');
      // Bob is done with it: his volume, made from Alice's snapshot, goes with the instance.
      await button(page, 'Terminate').click();
      await button(page, 'Confirm terminate').click();
      await status(page, `Terminating ${bobInstance}.`);
      await waitTerminated(bob, [bobInstance]);
      await s.step('bob terminated his instance');
      await signOut(s, 'bob');

      // 9. Alice again: her instance ends, her two images are deregistered keeping their snapshots.
      await signIn(s, ALICE);
      await page.getByRole('link', { name: 'Instances', exact: true }).click();
      await page.getByRole('table', { name: 'Instances in us-east-1' }).getByRole('link', { name: instanceId }).click();
      await button(page, 'Terminate').click();
      await button(page, 'Confirm terminate').click();
      await status(page, `Terminating ${instanceId}.`);
      await waitTerminated(alice, [instanceId]);
      await s.step('alice terminated her instance');
      const snapshotOf = (id: string) => (id === goldenId ? golden : made).BlockDeviceMappings![0].Ebs!.SnapshotId!;
      for (const [id, name] of [[imageId, FROM_INSTANCE], [goldenId, GOLDEN]] as const) {
        await openImage(page, id, name);
        await button(page, 'Deregister').click();
        assert.equal(await page.getByLabel('Also delete its snapshots').isChecked(), false, 'snapshots are kept unless asked');
        await s.step(`deregister ${name}`);
        await button(page, 'Confirm deregister').click();
        await status(page, `Deregistered ${id}; its snapshots ${snapshotOf(id)} are kept.`);
        await s.step(`${name} deregistered`);
      }
      assert.deepEqual((await alice.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images?.map((i) => i.ImageId), []);
      const leftBehind = [snapshotOf(goldenId), snapshotOf(imageId)];
      const stillThere = await alice.send(new DescribeSnapshotsCommand({ SnapshotIds: leftBehind }));
      assert.equal(stillThere.Snapshots?.length, 2, 'deregistering kept the snapshots');

      // 10. The Snapshots page: each left behind by its image, the bill, and what clean-up saves.
      await page.getByRole('link', { name: 'Snapshots', exact: true }).click();
      const snapshots = page.getByRole('table', { name: 'Snapshots in us-east-1' });
      for (const [snapshotId, by] of [[snapshotOf(goldenId), goldenId], [snapshotOf(imageId), imageId]]) {
        await snapshots.getByRole('row').filter({ hasText: snapshotId }).getByText(by, { exact: true }).waitFor();
      }
      const billed = Number(await page.getByLabel('Billed bytes', { exact: true }).getAttribute('data-value'));
      assert.ok(billed > 0);
      await s.step('snapshots left behind');
      await checkAccessibility(page, ['Snapshots', 'Preview clean-up']);
      await button(page, 'Preview clean-up').click();
      const deletable = page.getByRole('list', { name: 'Would be deleted' });
      for (const snapshotId of leftBehind) await deletable.getByText(snapshotId).waitFor();
      const reclaimable = Number(await page.getByLabel('Reclaimable', { exact: true }).getAttribute('data-value'));
      assert.ok(reclaimable > 0, 'clean-up saves something');
      assert.match((await page.getByLabel('Reclaimable', { exact: true }).textContent())!, /saving \$0\.000[1-9] a month/);
      await s.step('clean-up preview and saving');

      // 11. Clean up: the left-behind snapshots are deleted and the bill drops by what was reclaimable.
      await button(page, 'Clean up').click();
      await button(page, 'Confirm clean up').click();
      await status(page, /^Deleted 2 snapshot\(s\)/);
      await s.step('cleaned up');
      for (const snapshotId of leftBehind) await snapshots.getByRole('cell', { name: snapshotId, exact: true }).waitFor({ state: 'detached' });
      const left = await alice.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'snapshot-id', Values: leftBehind }] }));
      assert.deepEqual(left.Snapshots, []);
      await eventually(async () => {
        const after = Number(await page.getByLabel('Billed bytes', { exact: true }).getAttribute('data-value'));
        assert.equal(after, billed - reclaimable);
      }, 'the bill drops by what clean-up reclaimed');
      const volumes = await alice.send(new DescribeVolumesCommand({}));
      assert.deepEqual(volumes.Volumes?.filter((v) => v.State !== 'deleted').map((v) => v.VolumeId), [], 'no volume of alice\'s is left');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });
});
