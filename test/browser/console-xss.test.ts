// Every string a user controls, holding HTML and script, on every console page, in Chromium: image
// descriptions and tags, a snapshot's description, a key pair's name, a KMS key's description and
// tags, a Recycle Bin rule's description and a deleted snapshot it keeps, a guest's console output
// (its user data echoes markup), and crafted links (#/images/<markup>,
// a malformed escape, ?region=<markup>). No script may run (a window.__pwned probe, dialogs, CSP
// violations), no element may be injected, and the text must appear literally where the page shows it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { CreateKeyPairCommand, CreateTagsCommand, DeleteSnapshotCommand, ModifyImageAttributeCommand } from '@aws-sdk/client-ec2';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateRuleCommand, RbinClient } from '@aws-sdk/client-rbin';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { ebsClient, uploadSnapshot } from '../support/ebs.ts';
import { registerEbs } from '../support/sdk.ts';
import { CATALOGUE_AMI, runOne, simUserData, waitForConsole } from '../support/instances.ts';
import { launchBrowser, storyPage, type StoryPage } from '../support/browser.ts';

/** Each sets window.__pwned to its own name if it ever runs. */
const HOSTILE = {
  img: `<img src=x onerror="window.__pwned='img';alert('img')">`,
  script: `<script>window.__pwned='script';alert('script')</script>`,
  svg: `"><svg onload="window.__pwned='svg'">`,
  attr: `' onmouseover='window.__pwned="attr"' x='`,
  href: `javascript:window.__pwned='href'//`,
  iframe: `<iframe srcdoc="<script>parent.__pwned='iframe'</script>"></iframe>`,
};

describe('console pages with hostile strings in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let imageId: string;
  let instanceId: string;
  let kmsKeyId: string;
  before(async () => {
    [server, browser] = await Promise.all([startServer({ accounts: [ALICE, BOB] }), launchBrowser()]);
    const ec2 = ec2Client(server.endpoint, credentialsOf(ALICE));
    const { snapshotId } = await uploadSnapshot(ebsClient(server.endpoint, credentialsOf(ALICE)), { Description: HOSTILE.img }, new Map([[0, 'boot']]));
    imageId = await registerEbs(ec2, 'hostile-strings', {
      Description: HOSTILE.script,
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } }],
      TagSpecifications: [{ ResourceType: 'image', Tags: [
        { Key: 'Name', Value: HOSTILE.img }, { Key: 'team', Value: HOSTILE.svg }, { Key: HOSTILE.attr, Value: HOSTILE.href }, { Key: 'frame', Value: HOSTILE.iframe },
      ] }],
    });
    await ec2.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: [{ Key: 'Name', Value: HOSTILE.svg }] }));
    // Shared with Bob: his view of the same page shows the same strings.
    await ec2.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: BOB.id }] } }));
    await ec2.send(new CreateKeyPairCommand({ KeyName: HOSTILE.svg, TagSpecifications: [{ ResourceType: 'key-pair', Tags: [{ Key: 'Name', Value: HOSTILE.img }] }] }));
    const kms = new KMSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
    kmsKeyId = (await kms.send(new CreateKeyCommand({ Description: HOSTILE.script, Tags: [{ TagKey: 'Name', TagValue: HOSTILE.img }] }))).KeyMetadata!.KeyId!;
    // A Recycle Bin rule, and a deleted snapshot it keeps: both shown on the Recycle Bin page.
    const rbin = new RbinClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: credentialsOf(ALICE), maxAttempts: 1 });
    await rbin.send(new CreateRuleCommand({ ResourceType: 'EBS_SNAPSHOT', RetentionPeriod: { RetentionPeriodValue: 7, RetentionPeriodUnit: 'DAYS' }, Description: HOSTILE.iframe }));
    const binned = await uploadSnapshot(ebsClient(server.endpoint, credentialsOf(ALICE)), { Description: HOSTILE.attr }, new Map([[0, 'gone']]));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: binned.snapshotId }));
    // The simulated guest writes its user data's echo to the serial console.
    const instance = await runOne(ec2, { ImageId: CATALOGUE_AMI, UserData: simUserData(`echo ${HOSTILE.img}`, `echo ${HOSTILE.script}`) });
    instanceId = instance.InstanceId!;
    await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: 'Name', Value: HOSTILE.iframe }] }));
    await waitForConsole(ec2, instanceId, 'window.__pwned=\'script\'');
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function openSignedIn(who: TestAccount, story: string): Promise<StoryPage> {
    const s = await storyPage(browser, story);
    // Recorded from the page's first moment: a CSP violation is a script that tried to run.
    await s.page.addInitScript(() => {
      const w = window as unknown as { __violations: string[] };
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await s.page.goto(`${server.endpoint}/console/`);
    await s.page.getByLabel('Access key ID').fill(who.accessKeyId);
    await s.page.getByLabel('Secret access key').fill(who.secretAccessKey);
    await s.page.getByRole('button', { name: 'Sign in' }).click();
    await s.page.getByText(`Account ${who.id}`).waitFor();
    return s;
  }

  /** Nothing ran and nothing was injected: no probe, no dialog, no CSP violation, no element a payload would make. */
  async function assertInert(s: StoryPage, where: string): Promise<void> {
    const found = await s.page.evaluate(() => ({
      pwned: (window as unknown as { __pwned?: string }).__pwned,
      violations: (window as unknown as { __violations: string[] }).__violations,
      handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name))).map((el) => el.outerHTML.slice(0, 80)),
      injected: [...document.querySelectorAll('img[src="x"], svg[onload], iframe, body script:not([src]), a[href^="javascript:" i], [srcdoc]')].map((el) => el.outerHTML.slice(0, 80)),
    }));
    assert.deepEqual(found, { pwned: undefined, violations: [], handlers: [], injected: [] }, where);
    assert.deepEqual(s.problems, [], where);
  }

  /** The page shows each string literally as text somewhere. */
  async function assertLiteral(page: Page, texts: string[], where: string): Promise<void> {
    for (const text of texts) {
      await page.waitForFunction((t) => document.body.innerText.includes(t), text, { timeout: 15_000 })
        .catch(() => assert.fail(`${where}: ${JSON.stringify(text)} is not shown as text`));
    }
  }

  test('the images table and the image page show the strings as text, and nothing runs', async () => {
    const s = await openSignedIn(ALICE, 'xss-images');
    const { page } = s;
    try {
      await page.getByRole('table', { name: 'Images in us-east-1: Owned by me' }).waitFor();
      await assertLiteral(page, [HOSTILE.img, HOSTILE.script, HOSTILE.svg, `${HOSTILE.attr}=${HOSTILE.href}`, HOSTILE.iframe], 'images table');
      await s.step('images table');
      await assertInert(s, 'images table');

      await page.getByRole('link', { name: imageId }).click();
      await page.getByRole('heading', { name: 'Summary' }).waitFor();
      await assertLiteral(page, [HOSTILE.script, HOSTILE.img, HOSTILE.svg, HOSTILE.attr, HOSTILE.href, HOSTILE.iframe], 'image page');
      await s.step('image page');
      // Hovering and focusing everything is what an attribute payload waits for.
      for (const cell of await page.locator('main dd, main td, main li').all()) await cell.hover({ timeout: 2000 }).catch(() => undefined);
      await assertInert(s, 'image page');
    } finally {
      await s.close();
    }
  });

  test('the account the image is shared with sees the same strings as text', async () => {
    const s = await openSignedIn(BOB, 'xss-shared');
    const { page } = s;
    try {
      await page.goto(`${server.endpoint}/console/#/images/${imageId}`);
      await page.getByRole('heading', { name: 'Summary' }).waitFor();
      await assertLiteral(page, [HOSTILE.script], 'shared image page');
      await s.step('shared image page');
      await assertInert(s, 'shared image page');
    } finally {
      await s.close();
    }
  });

  test('every page of the console runs nothing, and the pages that show the strings show them as text', async () => {
    const s = await openSignedIn(ALICE, 'xss-every-page');
    const { page } = s;
    try {
      // What each page shows of the hostile strings (pages not listed show none of them yet).
      const shown: Record<string, string[]> = {
        '#/key-pairs': [HOSTILE.svg, `Name=${HOSTILE.img}`],
        '#/kms': [HOSTILE.script],
        [`#/kms/${kmsKeyId}`]: [HOSTILE.script],
        '#/recycle-bin': [HOSTILE.iframe, HOSTILE.attr],
        '#/snapshots': [HOSTILE.img],
        '#/instances': [HOSTILE.iframe],
        // The serial console, as the guest wrote it (its shell has eaten nothing of this part).
        [`#/instances/${instanceId}`]: ["<script>window.__pwned='script'"],
      };
      const links = await page.getByRole('navigation', { name: 'Console pages' }).getByRole('link').all();
      const routes = await Promise.all(links.map((l) => l.getAttribute('href')));
      assert.ok(routes.length >= 5, 'the navigation lists the pages');
      for (const route of new Set([...routes, ...Object.keys(shown)])) {
        await page.goto(`${server.endpoint}/console/${route}`);
        await page.getByRole('main').waitFor();
        // Whatever the page loads (tables, the serial console) has come when the network is quiet.
        await page.waitForLoadState('networkidle');
        if (route && shown[route]) await assertLiteral(page, shown[route], `page ${route}`);
        await s.step(`page ${route}`);
        await assertInert(s, `page ${route}`);
      }
    } finally {
      await s.close();
    }
  });

  test('crafted links (markup or a malformed escape for an id, markup for a region) are shown in words', async () => {
    const s = await openSignedIn(ALICE, 'xss-links');
    const { page } = s;
    try {
      for (const hash of [`#/images/${encodeURIComponent(HOSTILE.img)}`, '#/images/%E0%A4%A', `#/images/${encodeURIComponent(HOSTILE.svg)}%ZZ`,
        '#/kms/%E0%A4%A', `#/kms/${encodeURIComponent(HOSTILE.img)}`, '#/imagebuilder/pipelines/%ZZ', '#/imagebuilder/builds/%E0%A4%A', '#/instances/%E0%A4%A']) {
        await page.goto(`${server.endpoint}/console/${hash}`);
        await page.getByRole('main').waitFor();
        await page.waitForLoadState('networkidle');
        await page.getByRole('alert').or(page.getByText(/not found|does not exist|Invalid/i)).first().waitFor();
        await s.step(`link ${hash.slice(0, 30)}`);
        await assertInert(s, `link ${hash}`);
      }
      await page.goto(`${server.endpoint}/console/#/images?region=${encodeURIComponent(HOSTILE.img)}`);
      await page.getByRole('table', { name: 'Images in us-east-1: Owned by me' }).waitFor();
      await assertInert(s, 'hostile region link');
      assert.ok([null, 'us-east-1'].includes(await page.evaluate(() => localStorage.getItem('amiforge.region'))), 'a crafted region is not kept');
    } finally {
      await s.close();
    }
  });
});
