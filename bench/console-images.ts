// The console's image table at 1,000 and 100,000 images: how long one page of each view takes
// (the view called in process, as the console's session route calls it), beside DescribeImages
// of a page of the same size through the AWS SDK in the same run. The images are inserted
// through the metadata store's repository (test/support/image-seed.ts): 100,000 RegisterImage
// calls would take longer than the measurement. SQLite by default; `--database URL` for
// PostgreSQL (an empty database, e.g. from scripts/postgres.sh).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { consoleViews, type ConsoleContext } from '../src/api/console/views/index.ts';
import type { ImageTablePage } from '../src/domain/console/image-table.ts';
import { parseServeOptions } from '../src/config/config.ts';
import { createApp } from '../src/server/app.ts';
import { createHttpServer } from '../src/server/http-server.ts';
import { createLogger } from '../src/server/logger.ts';
import { seedImages } from '../test/support/image-seed.ts';
import { parseBenchArgs } from './support/args.ts';
import { percentile } from './support/load.ts';
import { fmtCount, fmtMs, renderTable, type Row } from './support/table.ts';

export const description = 'the console\'s image table: a page of each view at 1,000 and 100,000 images, beside DescribeImages of the same page size';

const USAGE = `usage: npm run bench -- console-images [--sizes N,N] [--repeat R] [--database URL]
  --sizes N,N      image counts measured, in increasing order (default 1000,100000)
  --repeat R       timed calls per figure (default 30)
  --database URL   PostgreSQL (an empty database) instead of SQLite`;

const OWNER = '111111111111';
const OTHER = '222222222222';
const REGION = 'us-east-1';
const PAGE = 50;

async function timed(repeat: number, fn: () => Promise<unknown>): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const o = parseBenchArgs(args, USAGE, {
    sizes: { type: 'string', default: '1000,100000' }, repeat: { type: 'string', default: '30' },
    database: { type: 'string' }, help: { type: 'boolean' },
  });
  if (!o) return;
  const sizes = o.sizes.split(',').map(Number);
  const repeat = Number(o.repeat);
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-bench-console-'));
  const catalog = join(dir, 'empty-catalog.json');
  writeFileSync(catalog, JSON.stringify({ images: [] }));
  const log = createLogger('silent');
  const app = await createApp(parseServeOptions({ dataDir: dir, port: 0, logLevel: 'silent', catalog, database: o.database }), log);
  const server = createHttpServer(app, log);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A client per size: a keep-alive connection left idle through minutes of seeding is reset by the server.
  const client = () => new EC2Client({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: REGION,
    credentials: { accessKeyId: OWNER, secretAccessKey: 'dev-mode-any-secret' }, maxAttempts: 1,
  });
  const ctx = (account: string): ConsoleContext => ({ requestId: 'bench', caller: { account, region: REGION }, principal: { account } });
  const page = async (account: string, query: Record<string, string>) =>
    await consoleViews.images!.handle(app, ctx(account), new URLSearchParams({ pageSize: String(PAGE), ...query })) as ImageTablePage;
  const rows: Row[] = [];
  try {
    let seeded = 0;
    for (const size of sizes) {
      const started = performance.now();
      await seedImages(app.store, {
        region: REGION, owner: OWNER, count: size - seeded, publicEvery: 10, sharedWith: { account: OTHER, every: 13 }, deprecatedEvery: 50, prefix: 's', startAt: seeded,
        onProgress: (n) => process.stderr.write(`\rseeding: ${seeded + n} of ${size}`),
      });
      process.stderr.write(`\rseeded ${fmtCount(size)} images in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
      seeded = size;
      const deep = await page(OWNER, { view: 'owned' });
      const ec2 = client();
      const cases: [string, () => Promise<unknown>][] = [
        ['owned, newest first', () => page(OWNER, { view: 'owned' })],
        ['owned, second page', () => page(OWNER, { view: 'owned', cursor: deep.nextCursor! })],
        ['owned, by name', () => page(OWNER, { view: 'owned', sort: 'name' })],
        ['owned, by architecture', () => page(OWNER, { view: 'owned', sort: 'architecture', order: 'desc' })],
        ['owned, tag team=t1', () => page(OWNER, { view: 'owned', tag: 'team=t1' })],
        ['owned, architecture arm64', () => page(OWNER, { view: 'owned', architecture: 'arm64' })],
        ['owned, name contains "-12"', () => page(OWNER, { view: 'owned', name: '-12' })],
        ['public (other account)', () => page(OTHER, { view: 'public' })],
        ['shared with me (other account)', () => page(OTHER, { view: 'shared' })],
        ['deprecated (other account)', () => page(OTHER, { view: 'deprecated' })],
        [`reference: DescribeImages Owners=self MaxResults=${PAGE} (SDK)`, () => ec2.send(new DescribeImagesCommand({ Owners: ['self'], MaxResults: PAGE }))],
      ];
      rows.push({ section: `${fmtCount(size)} images` });
      for (const [label, fn] of cases) {
        const t = await timed(repeat, fn);
        rows.push([label, fmtMs(percentile(t, 50)), fmtMs(percentile(t, 95))]);
      }
    }
    console.log(`\n${o.database ? 'PostgreSQL' : 'SQLite'}, pages of ${PAGE}, ${repeat} calls each\n`);
    console.log(renderTable(['page', 'p50 ms', 'p95 ms'], rows));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
