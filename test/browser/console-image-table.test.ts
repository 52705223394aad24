// The Images table over more images than a page holds, in Chromium: the server sorts and pages
// (the console's `images` view), so clicking a header reorders all images, not just the rows
// already loaded, and Next/Previous walk the server's pages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { ALICE, startServer, type RunningServer } from '../support/server.ts';
import { credentialsOf, ec2Client } from '../support/clients.ts';
import { registerEbs } from '../support/sdk.ts';
import { eventually, launchBrowser, storyPage } from '../support/browser.ts';

const COUNT = 120;
const name = (i: number) => `table-image-${String(i).padStart(3, '0')}`;

describe('console image table, sorted and paged by the server', () => {
  let server: RunningServer;
  let browser: Browser;
  before(async () => {
    [server, browser] = await Promise.all([startServer({ accounts: [ALICE] }), launchBrowser()]);
    const alice = ec2Client(server.endpoint, credentialsOf(ALICE));
    // Registered out of name order, so creation order and name order differ.
    const order = Array.from({ length: COUNT }, (_, i) => (i * 37) % COUNT);
    for (let at = 0; at < order.length; at += 10) {
      await Promise.all(order.slice(at, at + 10).map((i) => registerEbs(alice, name(i))));
    }
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The AMI names in the table, top to bottom. */
  const amiNames = (page: Page) => page.locator('table tbody tr td:nth-child(2)').allTextContents();
  /** Waits until the table shows exactly these names (a page replaces the last one when its answer arrives). */
  const shows = (page: Page, names: string[], what: string) =>
    eventually(async () => assert.deepEqual(await amiNames(page), names), what);
  const names = (from: number, n: number) => Array.from({ length: n }, (_, i) => name(from + i));

  test('sorting by AMI name orders every image; Next and Previous walk the pages', async () => {
    const s = await storyPage(browser, 'image-table');
    const { page } = s;
    try {
      await page.goto(`${server.endpoint}/console/`);
      await page.getByLabel('Access key ID').fill(ALICE.accessKeyId);
      await page.getByLabel('Secret access key').fill(ALICE.secretAccessKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const table = page.getByRole('table', { name: 'Images in us-east-1: Owned by me' });
      await table.waitFor();
      await page.getByText(`Page 1 · ${COUNT} images`).waitFor();
      assert.equal((await amiNames(page)).length, 50, 'one page of 50');

      await page.getByRole('button', { name: 'AMI name' }).click();
      await shows(page, names(0, 50), 'the first 50 names in order');
      assert.equal(await page.getByRole('columnheader', { name: 'AMI name' }).getAttribute('aria-sort'), 'ascending');
      await s.step('sorted by name');

      await page.getByRole('button', { name: 'Next page' }).click();
      await shows(page, names(50, 50), 'the second page');
      await page.getByRole('button', { name: 'Next page' }).click();
      await shows(page, names(100, COUNT - 100), 'the last page');
      assert.equal(await page.getByRole('button', { name: 'Next page' }).isDisabled(), true, 'the last page');
      await s.step('last page');

      await page.getByRole('button', { name: 'Previous page' }).click();
      await shows(page, names(50, 50), 'back to the second page');

      await page.getByRole('button', { name: 'AMI name' }).click();
      await shows(page, names(COUNT - 50, 50).reverse(), 'descending starts again at the first page');
      assert.equal(await page.getByRole('columnheader', { name: 'AMI name' }).getAttribute('aria-sort'), 'descending');

      await page.getByLabel('Name', { exact: true }).fill('image-11');
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.getByText('Page 1 · 10 images').waitFor();
      await shows(page, names(110, 10).reverse(), 'the filtered images, still descending');
      await s.step('filtered');
      assert.deepEqual(s.problems, []);
    } finally {
      await s.close();
    }
  });
});
