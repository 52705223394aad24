// Headless Chromium (Debian's package) driven by playwright-core for the console's browser
// tests: a page per test, a screenshot of each story step in test-artifacts/console/, and an
// accessibility check of what is on screen.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = new URL('../../', import.meta.url).pathname;
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
}

export interface StoryPage {
  page: Page;
  /** Saves a screenshot named after the story and the step, in order. */
  step(name: string): Promise<void>;
  /** Every dialog, console error and page error seen (a script injected by data would show here). */
  problems: string[];
  close(): Promise<void>;
}

/** `options.dir`: a folder under test-artifacts/console/ for the screenshots (a long story's own). */
export async function storyPage(browser: Browser, story: string, options: { dir?: string } = {}): Promise<StoryPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    // A refused request (401 after sign-out) is logged by the browser itself: not a script's fault.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  const dir = options.dir ? join(ARTIFACTS, options.dir) : ARTIFACTS;
  mkdirSync(dir, { recursive: true });
  let n = 0;
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
  return {
    page,
    problems,
    async step(name) {
      n += 1;
      await page.screenshot({ path: join(dir, `${slug(story)}-${String(n).padStart(2, '0')}-${slug(name)}.png`), fullPage: true });
    },
    close: () => context.close(),
  };
}

/**
 * Accessibility basics: every visible button, link, input and select has an accessible name
 * (text, label, aria-label), and the given controls are reachable with Tab from the page's start.
 */
export async function checkAccessibility(page: Page, reachable: string[] = []): Promise<void> {
  const unnamed = await page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('button, a[href], input, select, textarea')) {
      if (el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
      const id = el.getAttribute('id');
      const labelled = (el as HTMLInputElement).labels?.length
        || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title')
        || (id && document.querySelector(`label[for="${CSS.escape(id)}"]`));
      const text = el.tagName === 'BUTTON' || el.tagName === 'A' ? (el.textContent ?? '').trim() : '';
      if (!labelled && !text) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
  assert.deepEqual(unnamed, [], 'every control has an accessible name');
  if (!reachable.length) return;
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.locator('body').focus();
  const seen = new Set<string>();
  for (let i = 0; i < 80 && seen.size < reachable.length; i++) {
    await page.keyboard.press('Tab');
    const name = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el) return '';
      const label = (el as HTMLInputElement).labels?.[0]?.textContent ?? el.getAttribute('aria-label') ?? el.textContent ?? '';
      return label.trim();
    });
    for (const want of reachable) if (name.startsWith(want)) seen.add(want);
  }
  assert.deepEqual(reachable.filter((r) => !seen.has(r)), [], 'key controls are reachable with Tab');
}

/** Waits until `check` passes (the server finishing something the page started). */
export async function eventually<T>(check: () => Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
