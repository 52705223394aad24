// `amiforge storage report` and `amiforge storage clean-up`. Both open the data directory (and
// the --database, if the server uses PostgreSQL) directly, like fsck: they act for every account without anyone's credentials, and work with
// the server stopped or running (SQLite in WAL mode: readers never wait; clean-up's deletions
// are short transactions the server's writes wait for, and the other way round; see
// docs/storage-cost.md).
import type { Command } from 'commander';
import { allRegions, findRegion } from '../domain/regions.ts';
import { isAccountId } from '../domain/resource-ids.ts';
import { SnapshotCleanUp, type CleanUpOutcome, type CleanUpPlan } from '../domain/storage/snapshot-clean-up.ts';
import type { SnapshotUsageRow } from '../domain/storage/storage-maintenance.ts';
import { DEFAULT_PRICE_PER_GB_MONTH, parsePrice } from '../domain/storage/storage-pricing.ts';
import { mib, openMaintenance, withStoreOptions, type StoreOptions } from './maintenance.ts';

const PRICE_HELP = 'USD per GB-month (GB = 2^30 bytes) of snapshot storage';
const BILLING_NOTE = `
Cost: an account's billed bytes are the distinct blocks its snapshots store, each block once, as
AWS bills incremental snapshots (a snapshot pays for the blocks it stores itself, not for those it
shares with the account's other snapshots). Monthly cost = billed bytes / 2^30 x --price-per-gb-month;
the default, ${DEFAULT_PRICE_PER_GB_MONTH}, is AWS's EBS snapshot standard tier list price (us-east-1).

Left behind: a snapshot that a since-deregistered image named and that no image names now
(recorded when the image is deregistered; images deregistered before amiforge kept that record
are not known). \`amiforge storage clean-up\` deletes them.

Recycle Bin: AWS bills snapshots in the Recycle Bin at the normal rate, so the report counts them
(marked "in Recycle Bin until <time>"). Clean-up never deletes them, nor the snapshots of an image
in the Recycle Bin: restoring the image needs them.`;

function fail(message: string): never {
  console.error(`amiforge: ${message}`);
  process.exit(2);
}

function checkRegions(regions: string[] | undefined): string[] | undefined {
  for (const r of regions ?? []) {
    if (!findRegion(r)) fail(`unknown region '${r}'; amiforge serves ${allRegions().map((x) => x.name).join(', ')}.`);
  }
  return regions;
}

function checkAccounts(accounts: string[] | undefined): string[] | undefined {
  for (const a of accounts ?? []) if (!isAccountId(a)) fail(`--account takes 12-digit account ids; '${a}' is not one.`);
  return accounts;
}

function checkPrice(text: string): number {
  const price = parsePrice(text);
  if (price === undefined) fail(`--price-per-gb-month takes a non-negative number of USD per GB-month, such as ${DEFAULT_PRICE_PER_GB_MONTH}; '${text}' is not one.`);
  return price;
}

/** Dollars readable at any scale: cents for large sums, two significant digits for small ones. */
const usd = (n: number): string => (n === 0 ? '$0' : n >= 0.01 ? `$${n.toFixed(2)}` : `$${n.toPrecision(2)}`);

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** SQLITE_BUSY: another writer (the server) held the database past the busy timeout. */
const isBusy = (err: unknown): boolean => (err as { errcode?: number }).errcode === 5;

interface StorageOptions extends StoreOptions { dataDir: string; region?: string[]; pricePerGbMonth: string; json?: boolean }

export function registerStorageCommands(program: Command): void {
  const storage = program.command('storage').description('Storage accounting, cost and clean-up of left-behind snapshots.');

  withStoreOptions(storage.command('report'))
    .description('Per snapshot: size, blocks, bytes it stores itself and bytes it shares, and the deregistered images that left it behind; per account and region: billed bytes, monthly cost and what clean-up would reclaim.')
    .option('--data-dir <dir>', 'the server\'s data directory', '.amiforge')
    .option('--region <region...>', 'only these regions')
    .option('--account <id>', 'only this owner\'s snapshots')
    .option('--price-per-gb-month <usd>', PRICE_HELP, String(DEFAULT_PRICE_PER_GB_MONTH))
    .option('--json', 'print the report as JSON')
    .addHelpText('after', BILLING_NOTE)
    .action(async (o: StorageOptions & { account?: string }) => {
      const regions = checkRegions(o.region);
      checkAccounts(o.account ? [o.account] : undefined);
      const pricePerGbMonth = checkPrice(o.pricePerGbMonth);
      const { maintenance, close } = await openMaintenance(o.dataDir, o);
      const reports = await maintenance.usage({ regions, ownerId: o.account, pricePerGbMonth });
      await close();
      if (o.json) {
        console.log(JSON.stringify({ pricePerGbMonth, regions: reports }, null, 2));
        return;
      }
      for (const r of reports) {
        console.log(`${r.region}  (stored: ${mib(r.storedBytes)}; billed: ${mib(r.billedBytes)}, ${usd(r.monthlyCost)} a month at ${usd(pricePerGbMonth)} per GB-month)`);
        console.log('  snapshot               owner         size   blocks   own          shared       notes');
        for (const s of r.snapshots) {
          console.log(`  ${s.snapshotId.padEnd(22)} ${s.ownerId}  ${String(s.volumeSizeGiB).padStart(4)}G  ${String(s.blocks).padStart(6)}   ${mib(s.ownBytes).padEnd(12)} ${mib(s.sharedBytes).padEnd(12)} ${notes(s)}`.trimEnd());
        }
        for (const a of r.accounts) {
          const binned = a.snapshotsInRecycleBin ? ` (${a.snapshotsInRecycleBin} in the Recycle Bin, billed as the others)` : '';
          console.log(`  account ${a.ownerId}: ${count(a.snapshots, 'snapshot')}${binned}, ${mib(a.storedBytes)} billed (${usd(a.monthlyCost)} a month), ${mib(a.dataBytes)} of snapshot data`);
          if (a.leftBehind.snapshots) {
            const kept = a.leftBehind.kept ? `, ${a.leftBehind.kept} of them still in use` : '';
            console.log(`    left behind by deregistered images: ${count(a.leftBehind.snapshots, 'snapshot')}${kept}; clean-up would reclaim ${mib(a.leftBehind.reclaimableBytes)} (${usd(a.leftBehind.monthlySaving)} a month)`);
          }
        }
      }
      if (!reports.length) console.log('no snapshots');
    });

  withStoreOptions(storage.command('clean-up'))
    .description('Delete the snapshots deregistered images left behind (a dry run unless --apply): never one an image uses, one still being taken or copied, or one a volume was made from.')
    .option('--data-dir <dir>', 'the server\'s data directory', '.amiforge')
    .option('--region <region...>', 'only these regions')
    .option('--account <id...>', 'only these owners\' snapshots')
    .option('--apply', 'delete them (without it, only list what would be deleted)')
    .option('--price-per-gb-month <usd>', PRICE_HELP, String(DEFAULT_PRICE_PER_GB_MONTH))
    .option('--json', 'print the plan (and with --apply, what was done) as JSON')
    .addHelpText('after', `${BILLING_NOTE}

The saving is the bytes that leave the owner's bill: blocks only the deleted snapshots stored.
Their blocks are freed from disk by garbage collection afterwards (POST /_amiforge/gc on the
running server, or \`amiforge fsck --gc\` with it stopped).

Safe while the server runs: each snapshot is deleted by DeleteSnapshot's rule, checked and
removed in one transaction (never while an image names it; an image registered on it at the same
moment either keeps it or is refused with InvalidSnapshot.NotFound). With SQLite the server's
writes wait for each such transaction and it for theirs, up to 5 s. Give the server's --database
when it keeps its metadata in PostgreSQL.`)
    .action(async (o: StorageOptions & { account?: string[]; apply?: boolean }) => {
      const regions = checkRegions(o.region);
      const ownerIds = checkAccounts(o.account);
      const pricePerGbMonth = checkPrice(o.pricePerGbMonth);
      const { store, close } = await openMaintenance(o.dataDir, o);
      const cleanUp = new SnapshotCleanUp({ store });
      const plan = await cleanUp.plan({ regions, ownerIds, pricePerGbMonth });
      if (!o.json) printPlan(plan, !o.apply);
      const outcomes: CleanUpOutcome[] = [];
      if (o.apply) {
        try {
          await cleanUp.apply(plan, (done, total, outcome) => {
            outcomes.push(outcome);
            if (!o.json) console.log(outcome.result === 'deleted' ? `deleted ${outcome.snapshotId}` : `skipped ${outcome.snapshotId}: ${outcome.reason}`);
            if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} snapshots done${done === total ? '\n' : ''}`);
          });
        } catch (err) {
          await close();
          if (!isBusy(err)) throw err;
          if (o.json) console.log(JSON.stringify({ dryRun: false, ...plan, outcomes }, null, 2));
          const deleted = outcomes.filter((x) => x.result === 'deleted').length;
          console.error('amiforge: stopped: the metadata store stayed locked by another writer (the server) past its 5 s busy timeout. '
            + `${count(deleted, 'snapshot')} ${deleted === 1 ? 'was' : 'were'} deleted before that (listed in the output), nothing else. `
            + 'Run clean-up --apply again (it resumes), or stop the server first.');
          process.exit(1);
        }
      }
      await close();
      if (o.json) {
        console.log(JSON.stringify({ dryRun: !o.apply, ...plan, ...(o.apply ? { outcomes } : {}) }, null, 2));
        return;
      }
      if (o.apply) {
        const deleted = outcomes.filter((x) => x.result === 'deleted').length;
        console.log(`${count(deleted, 'snapshot')} deleted, ${outcomes.length - deleted} skipped. Their blocks are freed by garbage collection: POST /_amiforge/gc on the running server, or amiforge fsck --gc with it stopped.`);
      }
    });
}

/** The report's last column: in the bin, named by images in the bin, left behind. */
function notes(s: SnapshotUsageRow): string {
  const out: string[] = [];
  if (s.inRecycleBinUntil) out.push(`in Recycle Bin until ${s.inRecycleBinUntil}`);
  for (const i of s.binnedImages ?? []) out.push(`image ${i.imageId} in Recycle Bin until ${i.until}`);
  if (s.leftBehindBy) out.push(`left behind by ${s.leftBehindBy.join(', ')}`);
  return out.join('; ');
}

function printPlan(plan: CleanUpPlan, dryRun: boolean): void {
  for (const a of plan.accounts) {
    console.log(`${a.region}  account ${a.ownerId}`);
    for (const s of a.deletable) console.log(`  ${dryRun ? 'would delete' : 'delete'} ${s.snapshotId}  ${String(s.volumeSizeGiB).padStart(4)}G  left behind by ${s.imageIds.join(', ')}`);
    for (const s of a.kept) console.log(`  keep         ${s.snapshotId}  ${String(s.volumeSizeGiB).padStart(4)}G  left behind by ${s.imageIds.join(', ')}, but ${s.keptBecause}`);
    console.log(`  reclaims ${mib(a.reclaimableBytes)}: ${usd(a.monthlySaving)} a month`);
  }
  const t = plan.totals;
  console.log(t.snapshots || plan.accounts.length
    ? `total: ${count(t.snapshots, 'snapshot')} to delete, ${mib(t.reclaimableBytes)}, saving ${usd(t.monthlySaving)} a month at ${usd(plan.pricePerGbMonth)} per GB-month`
    : 'no snapshots left behind by deregistered images');
  if (dryRun && t.snapshots) console.log('Dry run: nothing was deleted. Run again with --apply to delete them.');
}
