// The console's shell in a real browser, as a person would use it: sign in with keys, see the
// image table, switch region, find hostile names and tags shown as text, sign out, and get a
// sign-in prompt (not a broken page) when the session expires mid-use.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ALICE, BOB, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { registerEbs } from '../support/sdk.ts';
import { checkAccessibility, launchBrowser, storyPage, type StoryPage } from '../support/browser.ts';

const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_TAG = '<script>window.__pwned=2</script>';

describe('console shell in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let hostileImage: string;
  before(async () => {
    [server, browser] = await Promise.all([startServer({ accounts: [ALICE, BOB] }), launchBrowser()]);
    const alice = ec2Client(server.endpoint, credentialsOf(ALICE));
    // AMI names cannot hold < or >; the Name tag, other tags and the description can.
    hostileImage = await registerEbs(alice, 'alice-hostile-image', {
      Description: HOSTILE_TAG,
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'Name', Value: HOSTILE_NAME }, { Key: 'team', Value: HOSTILE_TAG }] }],
    });
    await registerEbs(ec2Client(server.endpoint, credentialsOf(ALICE), 'eu-west-1'), 'alice-eu-image');
    await registerEbs(ec2Client(server.endpoint, credentialsOf(BOB)), 'bob-only-image');
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function signIn(s: StoryPage): Promise<void> {
    const { page } = s;
    await page.goto(`${server.endpoint}/`);
    await page.getByRole('heading', { name: 'Sign in to amiforge' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/console/');
    await s.step('sign-in page');
    await checkAccessibility(page, ['Access key ID', 'Secret access key', 'Sign in']);
    await page.getByLabel('Access key ID').fill(ALICE.accessKeyId);
    await page.getByLabel('Secret access key').fill(ALICE.secretAccessKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('table', { name: 'Images in us-east-1: Owned by me' }).waitFor();
  }

  test('sign in with keys, see the image table, switch region, sign out', async () => {
    const s = await storyPage(browser, 'shell');
    const { page } = s;
    try {
      await signIn(s);
      await page.getByRole('cell', { name: hostileImage }).waitFor();
      await s.step('images table');
      assert.equal(await page.getByRole('cell', { name: 'bob-only-image' }).count(), 0, "bob's image is not alice's");
      await checkAccessibility(page, ['Region', 'Sign out', 'Images', 'Filter rows']);

      await page.getByLabel('Region').selectOption('eu-west-1');
      await page.getByRole('table', { name: 'Images in eu-west-1: Owned by me' }).waitFor();
      await page.getByRole('cell', { name: 'alice-eu-image' }).waitFor();
      assert.equal(await page.getByRole('cell', { name: hostileImage }).count(), 0);
      await s.step('eu-west-1');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to amiforge' }).waitFor();
      await s.step('signed out');
      const session = await page.evaluate(async () => (await fetch('/console/session')).status);
      assert.equal(session, 401, 'the session is gone on the server');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('names and tags holding HTML and script are shown as text; nothing runs', async () => {
    const s = await storyPage(browser, 'escaping');
    const { page } = s;
    try {
      await signIn(s);
      await page.getByRole('cell', { name: HOSTILE_NAME, exact: true }).waitFor();
      await page.getByRole('cell', { name: HOSTILE_TAG, exact: true }).waitFor();
      await page.getByRole('cell', { name: `Name=${HOSTILE_NAME}, team=${HOSTILE_TAG}`, exact: true }).waitFor();
      await s.step('hostile image shown as text');
      const injected = await page.evaluate(() => ({
        pwned: (window as { __pwned?: number }).__pwned,
        images: document.querySelectorAll('main img').length,
        scripts: document.querySelectorAll('main script').length,
      }));
      assert.deepEqual(injected, { pwned: undefined, images: 0, scripts: 0 });
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('an expired session shows the sign-in prompt on the next action', async () => {
    const s = await storyPage(browser, 'expiry');
    const { page } = s;
    try {
      await signIn(s);
      const advanced = await server.ops(`/_amiforge/clock/advance/${13 * 3600}`, { method: 'POST' });
      assert.equal(advanced.status, 200);
      await page.getByRole('tab', { name: 'Public' }).click();
      await page.getByRole('heading', { name: 'Sign in to amiforge' }).waitFor();
      await page.getByText('Your session has ended').waitFor();
      await s.step('expired: sign in again');
      // Signing in again works and lands on the table.
      await page.getByLabel('Access key ID').fill(ALICE.accessKeyId);
      await page.getByLabel('Secret access key').fill(ALICE.secretAccessKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('table', { name: /^Images in / }).waitFor();
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });

  test('a wrong secret is refused in words', async () => {
    const s = await storyPage(browser, 'wrong-secret');
    const { page } = s;
    try {
      await page.goto(`${server.endpoint}/console/`);
      await page.getByLabel('Access key ID').fill(ALICE.accessKeyId);
      await page.getByLabel('Secret access key').fill('wrong');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'AuthFailure' }).waitFor();
      await s.step('refused');
    } finally {
      await s.close();
    }
  });
});

describe('console shell in dev mode', () => {
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    await registerEbs(ec2Client(server.endpoint, { accessKeyId: '333333333333', secretAccessKey: 'any' }), 'account-three-image');
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('opens signed in as the default account and switches to any 12-digit account', async () => {
    const s = await storyPage(browser, 'dev-mode');
    const { page } = s;
    try {
      await page.goto(`${server.endpoint}/`);
      await page.getByRole('table', { name: 'Images in us-east-1: Owned by me' }).waitFor();
      await page.getByText('Account 123456789012').waitFor();
      await s.step('default account');
      await checkAccessibility(page, ['Switch account', 'Region', 'Sign out']);
      await page.getByLabel('Switch account').fill('333333333333');
      await page.getByRole('button', { name: 'Switch', exact: true }).click();
      await page.getByText('Account 333333333333').waitFor();
      await page.getByRole('cell', { name: 'account-three-image' }).waitFor();
      await s.step('switched account');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });
});
