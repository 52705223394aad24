// A session that ends while a page is open, in Chromium: another tab signs out (then the next
// read and the next action each show the sign-in prompt), the clock passes the session's expiry
// while the image page is open, and another tab signs in as another account (the page follows
// that account instead of showing its data under the first one's name). Each time the prompt says
// the session ended, and signing in again returns to the page that was open.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ALICE, BOB, startServer, type RunningServer, type TestAccount } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { registerEbs } from '../support/sdk.ts';
import { launchBrowser, storyPage, type StoryPage } from '../support/browser.ts';

describe('console sessions ending mid-use in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let aliceImage: string;
  before(async () => {
    [server, browser] = await Promise.all([startServer({ accounts: [ALICE, BOB] }), launchBrowser()]);
    aliceImage = await registerEbs(ec2Client(server.endpoint, credentialsOf(ALICE)), 'alice-session-end');
    await registerEbs(ec2Client(server.endpoint, credentialsOf(BOB)), 'bob-session-end');
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function signIn(page: Page, who: TestAccount): Promise<void> {
    await page.getByLabel('Access key ID').fill(who.accessKeyId);
    await page.getByLabel('Secret access key').fill(who.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(`Account ${who.id}`).waitFor();
  }

  async function openImagePage(s: StoryPage, who: TestAccount): Promise<void> {
    await s.page.goto(`${server.endpoint}/console/#/images/${aliceImage}`);
    await signIn(s.page, who);
    await s.page.getByRole('heading', { name: 'Summary' }).waitFor();
  }

  /** A second tab of the same browser: the same cookie jar, as a person's second tab has. */
  async function secondTab(context: BrowserContext): Promise<Page> {
    const tab = await context.newPage();
    await tab.goto(`${server.endpoint}/console/`);
    await tab.getByRole('button', { name: 'Sign out' }).waitFor();
    return tab;
  }

  async function expectPrompt(s: StoryPage, step: string): Promise<void> {
    await s.page.getByRole('heading', { name: 'Sign in to amiforge' }).waitFor();
    await s.page.getByText('Your session has ended').waitFor();
    await s.step(step);
  }

  /** Tags the open image page's image (a POST): the prompt comes instead, and signing in again returns to the page. */
  async function tagAndSignInAgain(s: StoryPage, key: string): Promise<void> {
    await s.page.getByRole('button', { name: 'Add tag' }).click();
    await s.page.getByLabel('Tag key').fill(key);
    await s.page.getByRole('button', { name: 'Save tags' }).click();
    await expectPrompt(s, `tag ${key}`);
    await signIn(s.page, ALICE);
    await s.page.getByRole('heading', { name: 'Summary' }).waitFor();
  }

  test('signed out in another tab: the next action shows the sign-in prompt, and signing in returns to the page', async () => {
    const s = await storyPage(browser, 'session-end-other-tab');
    const { page } = s;
    try {
      await openImagePage(s, ALICE);
      const tab = await secondTab(page.context());
      await tab.getByRole('button', { name: 'Sign out' }).click();
      await tab.getByRole('heading', { name: 'Sign in to amiforge' }).waitFor();
      // An action (a POST with the old CSRF token) on the page that is still open.
      await tagAndSignInAgain(s, 'after-sign-out');
      assert.match(page.url(), new RegExp(`#/images/${aliceImage}$`), 'back on the page that was open');
      await s.step('signed in again');
      // A read (the table) after another sign-out elsewhere.
      await tab.reload();
      await tab.getByRole('button', { name: 'Sign out' }).click();
      await tab.getByRole('heading', { name: 'Sign in to amiforge' }).waitFor();
      await page.getByRole('navigation', { name: 'Console pages' }).getByRole('link', { name: 'Images', exact: true }).click();
      await expectPrompt(s, 'read after sign-out elsewhere');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('the clock passes the expiry while the image page is open: the next action shows the prompt', async () => {
    const s = await storyPage(browser, 'session-end-expiry');
    const { page } = s;
    try {
      await openImagePage(s, ALICE);
      const advanced = await server.ops(`/_amiforge/clock/advance/${13 * 3600}`, { method: 'POST' });
      assert.equal(advanced.status, 200);
      await tagAndSignInAgain(s, 'after-expiry');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test("another tab signs in as another account: the page follows it, never showing that account's data as the first's", async () => {
    const s = await storyPage(browser, 'session-end-switched');
    const { page } = s;
    try {
      await page.goto(`${server.endpoint}/console/`);
      await signIn(page, ALICE);
      await page.getByRole('cell', { name: 'alice-session-end' }).waitFor();
      const tab = await secondTab(page.context());
      await tab.getByRole('button', { name: 'Sign out' }).click();
      await signIn(tab, BOB);
      // The first tab's next read is answered for Bob: it becomes Bob's page, under Bob's name.
      await page.getByRole('tab', { name: 'Public' }).click();
      await page.getByText(`Account ${BOB.id}`).waitFor();
      await page.getByRole('cell', { name: 'bob-session-end' }).waitFor();
      assert.equal(await page.getByText(`Account ${ALICE.id}`).count(), 0);
      assert.equal(await page.getByRole('cell', { name: 'alice-session-end' }).count(), 0);
      await s.step('follows the new account');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });
});
