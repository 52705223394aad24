// The web console as a person meets it: headless Chromium opens /console/ on a server whose
// account owns 1,000 and then 100,000 images, and we time navigation → the image table's first
// row visible, and add up what the first load transferred (playwright's sizes of every response:
// headers plus the body as sent, gzip-compressed where the server compressed it). Beside it, in
// the same run, the same list through the aws CLI (`aws ec2 describe-images --owners self`): a
// first page of the console's size (50 rows), one of DescribeImages' largest (1,000) and the whole
// list, each timed as a process and counted in bytes by a relay in front of the server.
//
// The images are inserted through the metadata store's repository (test/support/image-seed.ts)
// into a data directory while no server runs, and a server (`amiforge serve`, its own process, dev
// mode, an empty catalogue) is started on it: 100,000 RegisterImage calls would take longer than
// the measurements. Each load is a new browser context: an empty cache, a new session.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { parseServeOptions } from '../src/config/config.ts';
import { createApp } from '../src/server/app.ts';
import { createLogger } from '../src/server/logger.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { seedImages } from '../test/support/image-seed.ts';
import { startServer, type RunningServer } from '../test/support/server.ts';
import { Relay } from '../test/support/tcp-relay.ts';
import { parseBenchArgs } from './support/args.ts';
import { percentile } from './support/load.ts';
import { fmtCount, fmtMs, renderTable, type Row } from './support/table.ts';

export const description = 'the web console: time to the first image table row and bytes of the first load at 1,000 and 100,000 images, beside the aws CLI';

const USAGE = `usage: npm run bench -- console [--sizes N,N] [--repeat R] [--cli-repeat R]
  --sizes N,N       images the account owns, measured in increasing order (default 1000,100000)
  --repeat R        browser loads per size, each with an empty cache (default 7)
  --cli-repeat R    aws CLI runs per figure (default 3)`;

/** Dev mode's default account: the console opens signed in as it. */
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const run$ = promisify(execFile);

interface Transfer { url: string; type: string; status: number; transferred: number; raw: number }
interface Load { ms: number; transfers: Transfer[] }

/** One first load in a fresh context: the time to the first image row, and every response's sizes. */
async function loadConsole(browser: Browser, endpoint: string): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const pending: Promise<Transfer>[] = [];
    page.on('requestfinished', (req) => pending.push((async () => {
      const sizes = await req.sizes();
      const res = await req.response();
      const raw = res ? (await res.body().catch(() => Buffer.alloc(0))).length : 0;
      return { url: new URL(req.url()).pathname, type: req.resourceType(), status: res?.status() ?? 0, transferred: sizes.responseHeadersSize + sizes.responseBodySize, raw };
    })()));
    const started = performance.now();
    await page.goto(`${endpoint}/console/`);
    await page.locator('table tbody tr a[href^="#/images/"]').first().waitFor({ state: 'visible', timeout: 300_000 });
    const ms = performance.now() - started;
    // The first load is over when the network is: count every response it made.
    await page.waitForLoadState('networkidle');
    return { ms, transfers: await Promise.all(pending) };
  } finally {
    await context.close();
  }
}

/** `aws ec2 describe-images --owners self` through the relay: wall time, bytes and images returned. */
async function awsCli(relay: Relay, extra: string[]): Promise<{ ms: number; bytes: number; images: number }> {
  relay.resetCounts();
  const started = performance.now();
  const { stdout } = await run$('aws', [
    'ec2', 'describe-images', '--owners', 'self', ...extra, '--endpoint-url', `http://127.0.0.1:${relay.port}`, '--query', 'length(Images)', '--output', 'text',
  ], { env: { ...process.env, AWS_ACCESS_KEY_ID: ACCOUNT, AWS_SECRET_ACCESS_KEY: 'dev-mode-any-secret', AWS_DEFAULT_REGION: REGION }, maxBuffer: 1 << 30 });
  const ms = performance.now() - started;
  return { ms, bytes: relay.received, images: Number(stdout.trim()) };
}

async function seed(dir: string, catalog: string, from: number, to: number): Promise<void> {
  const started = performance.now();
  const app = await createApp(parseServeOptions({ dataDir: dir, port: 0, logLevel: 'silent', catalog }), createLogger('silent'));
  try {
    await seedImages(app.store, {
      region: REGION, owner: ACCOUNT, count: to - from, startAt: from, prefix: 'c', publicEvery: 10, deprecatedEvery: 50,
      onProgress: (n) => process.stderr.write(`\rseeding: ${fmtCount(from + n)} of ${fmtCount(to)}`),
    });
  } finally {
    await app.close();
  }
  process.stderr.write(`\rseeded ${fmtCount(to)} images (${fmtCount(to - from)} inserted in ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const isBundle = (t: Transfer) => ['document', 'script', 'stylesheet'].includes(t.type);

export async function run(args: string[]): Promise<void> {
  const o = parseBenchArgs(args, USAGE, {
    sizes: { type: 'string', default: '1000,100000' }, repeat: { type: 'string', default: '7' },
    'cli-repeat': { type: 'string', default: '3' }, help: { type: 'boolean' },
  });
  if (!o) return;
  const sizes = o.sizes.split(',').map(Number);
  const repeat = Number(o.repeat);
  const cliRepeat = Number(o['cli-repeat']);
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-bench-console-'));
  const catalog = join(dir, 'empty-catalog.json');
  writeFileSync(catalog, JSON.stringify({ images: [] }));
  const browser = await launchBrowser();
  const rows: Row[] = [];
  let bundle: Transfer[] = [];
  let server: RunningServer | undefined;
  let relay: Relay | undefined;
  try {
    let seeded = 0;
    for (const size of sizes) {
      await seed(dir, catalog, seeded, size);
      seeded = size;
      server = await startServer({ dataDir: dir, extraArgs: ['--catalog', catalog] });
      relay = new Relay(new URL(server.endpoint));
      await relay.open();
      // Not timed: the server builds (or finds) the bundle and warms its caches on the first load.
      await loadConsole(browser, server.endpoint);
      const loads: Load[] = [];
      for (let i = 0; i < repeat; i++) loads.push(await loadConsole(browser, server.endpoint));
      const ms = loads.map((l) => l.ms);
      const first = loads[0].transfers;
      bundle = first.filter(isBundle);
      const data = first.filter((t) => !isBundle(t));
      rows.push({ section: `${fmtCount(size)} images owned by the account` });
      rows.push([`console: /console/ → first image row (${repeat} loads, empty cache)`, fmtMs(percentile(ms, 50)), fmtMs(Math.min(...ms)), fmtMs(Math.max(...ms)),
        kb(sum(first.map((t) => t.transferred))), `${first.length} responses`]);
      rows.push(['  of which the bundle (HTML, JS, CSS)', '', '', '', kb(sum(bundle.map((t) => t.transferred))), `${kb(sum(bundle.map((t) => t.raw)))} raw`]);
      rows.push([`  of which data (${data.map((t) => t.url.replace('/console/', '')).join(', ')})`, '', '', '', kb(sum(data.map((t) => t.transferred))), `${kb(sum(data.map((t) => t.raw)))} raw`]);
      const cliCases: [string, string[]][] = [
        ['aws CLI: first page (--max-results 50 --no-paginate)', ['--max-results', '50', '--no-paginate']],
        ['aws CLI: first page (--max-results 1000 --no-paginate)', ['--max-results', '1000', '--no-paginate']],
        ['aws CLI: the whole list', []],
      ];
      for (const [label, extra] of cliCases) {
        const runs = [];
        for (let i = 0; i < cliRepeat; i++) runs.push(await awsCli(relay, extra));
        const t = runs.map((r) => r.ms);
        rows.push([`${label}: ${fmtCount(runs[0].images)} images (${cliRepeat} runs)`, fmtMs(percentile(t, 50)), fmtMs(Math.min(...t)), fmtMs(Math.max(...t)), kb(runs[0].bytes), '']);
      }
      await relay.cut();
      relay = undefined;
      await server.stop();
      server = undefined;
    }
    const startUp = [];
    for (let i = 0; i < cliRepeat; i++) {
      const started = performance.now();
      await run$('aws', ['--version']);
      startUp.push(performance.now() - started);
    }
    rows.push({ section: 'reference' });
    rows.push(['aws --version (the CLI\'s start-up alone)', fmtMs(percentile(startUp, 50)), fmtMs(Math.min(...startUp)), fmtMs(Math.max(...startUp)), '', '']);
    console.log(`\nheadless Chromium (${browser.version()}), dev mode, SQLite; transferred = response headers + body as sent\n`);
    console.log(renderTable(['load', 'p50 ms', 'min ms', 'max ms', 'transferred', 'note'], rows));
    console.log('\nthe bundle (first load):\n');
    console.log(renderTable(['file', 'type', 'raw', 'transferred (gzip)'], bundle.map((t) => [t.url, t.type, kb(t.raw), kb(t.transferred)])));
  } finally {
    await relay?.cut();
    await server?.stop();
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
