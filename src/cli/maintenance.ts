// `amiforge fsck`: it opens a data directory (and --database) directly, so it works whether or
// not a server is running on it (SQLite allows concurrent readers; PostgreSQL many clients).
// `amiforge storage` is in storage.ts.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StorageMaintenance, type FsckReport, type GcReport } from '../domain/storage/storage-maintenance.ts';
import { BlockStoreUnavailableError } from '../ports/block-store.ts';
import { StoreUnavailableError, type MetadataStore } from '../ports/metadata-store.ts';
import { checkBlockStore, closeBlockStore, openStores, type Stores } from '../server/stores.ts';
import { BLOCKS_OPTION_HELP, parseBlocksOptions, type BlocksOptions } from '../config/blocks.ts';
import { DatabaseUrlError, parseDatabaseTarget, type DatabaseTarget } from '../config/database.ts';

/** The --database option of the commands that open the server's stores directly. */
export const DATABASE_OPTION_HELP = 'the server\'s PostgreSQL metadata database (postgres://USER:PASSWORD@HOST/DB); default: AMIFORGE_DATABASE_URL, else SQLite in --data-dir';

/** --database, --blocks, --s3-endpoint and --s3-region, as `amiforge serve` takes them. */
export type StoreOptions = BlocksOptions & { database?: string };

export async function openMaintenance(dataDir: string, options: StoreOptions = {}): Promise<{ maintenance: StorageMaintenance; store: MetadataStore; close(): Promise<void> }> {
  const dir = resolve(dataDir);
  let database: DatabaseTarget;
  try {
    database = parseDatabaseTarget(options.database);
  } catch (err) {
    if (!(err instanceof DatabaseUrlError)) throw err;
    console.error(`amiforge: ${err.message}`);
    process.exit(2);
  }
  if (database.kind === 'sqlite' && !existsSync(join(dir, 'metadata.sqlite'))) {
    console.error(`amiforge: no amiforge data in ${dir}; pass --data-dir with the directory the server uses.`);
    process.exit(2);
  }
  let stores: Stores;
  try {
    stores = await openStores(dir, { database, blocks: parseBlocksOptions(options, dir) });
  } catch (err) {
    // A schema too new, an unreachable database: a sentence, not a stack trace (and no password: openStores redacts).
    console.error(`amiforge: cannot open the metadata database: ${(err as Error).message}`);
    process.exit(2);
  }
  try {
    await checkBlockStore(stores.blocks);
  } catch (err) {
    console.error(`amiforge: ${(err as Error).message}`);
    process.exit(2);
  }
  const { store, blocks } = stores;
  return {
    maintenance: new StorageMaintenance(stores),
    store,
    close: async () => {
      await store.close();
      closeBlockStore(blocks);
    },
  };
}

/** --database, --blocks, --s3-endpoint and --s3-region, as `amiforge serve` takes them: the server's stores. */
export function withStoreOptions(command: Command): Command {
  return command
    .option('--database <url>', DATABASE_OPTION_HELP)
    .option('--blocks <s3-location>', BLOCKS_OPTION_HELP.blocks)
    .option('--s3-endpoint <url>', BLOCKS_OPTION_HELP.s3Endpoint)
    .option('--s3-region <region>', BLOCKS_OPTION_HELP.s3Region);
}

export const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;

export function registerMaintenanceCommands(program: Command): void {
  withStoreOptions(program.command('fsck'))
    .description('Verify every block a snapshot references (present, and its bytes match its SHA-256) and count orphaned blocks.')
    .option('--data-dir <dir>', 'the server\'s data directory', '.amiforge')
    .option('--region <region...>', 'only these regions')
    .option('--gc', 'also delete orphaned blocks (stop the server first, or keep --grace-minutes above the longest upload)')
    .option('--grace-minutes <n>', 'with --gc: spare orphans younger than this', '0')
    .option('--json', 'print the reports as JSON')
    .addHelpText('after', '\nExit status: 0 when every referenced block is intact, 1 when any is missing or corrupt.')
    .action(async (o: StoreOptions & { dataDir: string; region?: string[]; gc?: boolean; graceMinutes: string; json?: boolean }) => {
      const { maintenance, close } = await openMaintenance(o.dataDir, o);
      let reports: FsckReport[];
      let gc: GcReport[];
      try {
        reports = await maintenance.fsck({
          regions: o.region,
          onProgress: (region, done, total) => {
            if (process.stderr.isTTY && (done % 256 === 0 || done === total)) process.stderr.write(`\r${region}: verified ${done}/${total} blocks`);
          },
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        gc = o.gc ? await maintenance.collectGarbage({ regions: o.region, graceMs: Number(o.graceMinutes) * 60_000 }) : [];
      } catch (err) {
        await close().catch(() => {});
        // The object store or the database went away mid-run: say so, not a stack trace.
        if (err instanceof BlockStoreUnavailableError || err instanceof StoreUnavailableError) {
          console.error(`\namiforge fsck: stopped before the end, run it again once the store answers: ${err.message}`);
          process.exit(2);
        }
        throw err;
      }
      await close();
      const bad = reports.some((r) => r.missing.length || r.corrupt.length);
      if (o.json) {
        console.log(JSON.stringify({ fsck: reports, gc }, null, 2));
      } else {
        for (const r of reports) {
          console.log(`${r.region}: ${r.referenced} referenced blocks, ${r.missing.length} missing, ${r.corrupt.length} corrupt, ${r.orphans} orphaned (${mib(r.orphanBytes)})`);
          for (const h of r.missing) console.log(`  missing ${h}`);
          for (const h of r.corrupt) console.log(`  corrupt ${h}`);
        }
        for (const g of gc) console.log(`${g.region}: gc deleted ${g.deleted} blocks (${mib(g.bytesFreed)}), spared ${g.sparedRecent} recent`);
        if (!reports.length) console.log('no blocks stored');
        if (bad) console.log('Some referenced blocks are missing or corrupt: the snapshots that use them cannot be read in full. Restore the data directory from a backup, or delete those snapshots.');
      }
      process.exitCode = bad ? 1 : 0;
    });
}
