// Keeping the block store honest: garbage collection frees exactly the blocks no snapshot
// references; fsck proves every referenced block is present and intact and counts orphans;
// usage tells what each snapshot stores itself and what it shares, what each account's snapshots
// cost a month (those in the Recycle Bin included: AWS bills them), and which snapshots
// deregistered images left behind.
import { BLOCK_SIZE, BlockCorruptError, BlockMissingError, type BlockStore } from '../../ports/block-store.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { allRegions } from '../regions.ts';
import { SnapshotCleanUp } from './snapshot-clean-up.ts';
import { DEFAULT_PRICE_PER_GB_MONTH, monthlyCost } from './storage-pricing.ts';

export interface GcReport { region: string; blocks: number; deleted: number; bytesFreed: number; sparedRecent: number }
export interface FsckReport {
  region: string;
  referenced: number;
  missing: string[];
  corrupt: string[];
  orphans: number;
  orphanBytes: number;
}
export interface SnapshotUsageRow {
  snapshotId: string;
  ownerId: string;
  volumeSizeGiB: number;
  blocks: number;
  /** Bytes of blocks only this snapshot references (what deleting it would free). */
  ownBytes: number;
  /** Bytes of blocks other snapshots reference too. */
  sharedBytes: number;
  /** Set when deregistered images left it behind: those images. */
  leftBehindBy?: string[];
  /** Set for a snapshot in the Recycle Bin (AWS bills it at the normal rate): when the bin deletes it. */
  inRecycleBinUntil?: string;
  /** Images in the Recycle Bin that name it: a restore needs it, so clean-up leaves it. */
  binnedImages?: { imageId: string; until: string }[];
}
export interface AccountUsage {
  ownerId: string;
  snapshots: number;
  /** Of those, in the Recycle Bin (billed as the others). */
  snapshotsInRecycleBin: number;
  /** Distinct bytes the owner's snapshots store, each block once: what AWS bills. */
  storedBytes: number;
  /** The owner's snapshots' logical data, summed (shared blocks counted in each). */
  dataBytes: number;
  monthlyCost: number;
  /** Snapshots deregistered images left behind, and what clean-up would take off the bill. */
  leftBehind: { snapshots: number; kept: number; reclaimableBytes: number; monthlySaving: number };
}
export interface UsageReport {
  region: string;
  pricePerGbMonth: number;
  snapshots: SnapshotUsageRow[];
  accounts: AccountUsage[];
  /** Distinct bytes stored for the region's snapshots, live and binned (a block shared by accounts counts once). */
  storedBytes: number;
  /** The accounts' billed bytes and cost, summed. */
  billedBytes: number;
  monthlyCost: number;
}

export interface MaintenanceDeps { store: MetadataStore; blocks: BlockStore }

/** Blocks fsck reads at once. */
const FSCK_READS_IN_FLIGHT = 16;

const regionNames = (only?: string[]) => only ?? allRegions().map((r) => r.name);

export class StorageMaintenance {
  private readonly deps: MaintenanceDeps;
  constructor(deps: MaintenanceDeps) {
    this.deps = deps;
  }

  /**
   * Deletes unreferenced blocks older than `graceMs`. Blocks are listed before references are
   * read, and an upload writes its block before its reference, so a block being uploaded right
   * now is either recent (spared) or already referenced. Grace 0 is for a stopped server.
   */
  async collectGarbage(options: { regions?: string[]; graceMs: number; dryRun?: boolean }): Promise<GcReport[]> {
    const reports: GcReport[] = [];
    for (const region of regionNames(options.regions)) {
      const listed = [];
      for await (const b of this.deps.blocks.list(region)) listed.push(b);
      if (!listed.length) continue;
      const referenced = await this.referenced(region);
      const cutoff = Date.now() - options.graceMs;
      const report: GcReport = { region, blocks: listed.length, deleted: 0, bytesFreed: 0, sparedRecent: 0 };
      for (const b of listed) {
        if (referenced.has(b.hash)) continue;
        if (b.modified.getTime() > cutoff) {
          report.sparedRecent++;
          continue;
        }
        if (!options.dryRun) await this.deps.blocks.delete(region, b.hash);
        report.deleted++;
        report.bytesFreed += b.size;
      }
      reports.push(report);
    }
    return reports;
  }

  /** Blocks in use: mapped by a snapshot (one in the Recycle Bin too) or written to a volume. */
  private async referenced(region: string): Promise<Set<string>> {
    const refs = await this.deps.store.snapshots.referencedHashes(region);
    for (const h of await this.deps.store.volumes.referencedHashes(region)) refs.add(h);
    for (const h of await this.deps.store.recycleBin.referencedHashes(region)) refs.add(h);
    return refs;
  }

  /** Block hashes of the region's billed snapshots: live ones and those in the Recycle Bin. */
  private async billedHashes(region: string): Promise<Set<string>> {
    const refs = await this.deps.store.snapshots.referencedHashes(region);
    for (const h of await this.deps.store.recycleBin.referencedHashes(region)) refs.add(h);
    return refs;
  }

  private async binnedSnapshot(ownerId: string, region: string, snapshotId: string) {
    const e = await this.deps.store.recycleBin.getBinned(ownerId, region, 'EBS_SNAPSHOT', snapshotId);
    return e?.resourceType === 'EBS_SNAPSHOT' ? e.snapshot : undefined;
  }

  /** Start-up recovery: removes partial block writes a crash left behind. */
  async cleanCrashLeftovers(before: Date): Promise<number> {
    let removed = 0;
    for (const region of regionNames()) removed += await this.deps.blocks.cleanTemp(region, before);
    return removed;
  }

  /** Reads and verifies every referenced block; lists missing and corrupt ones; counts orphans. */
  async fsck(options: { regions?: string[]; onProgress?: (region: string, done: number, total: number) => void } = {}): Promise<FsckReport[]> {
    const reports: FsckReport[] = [];
    for (const region of regionNames(options.regions)) {
      const referenced = await this.referenced(region);
      const stored = new Map<string, number>();
      for await (const b of this.deps.blocks.list(region)) stored.set(b.hash, b.size);
      if (!referenced.size && !stored.size) continue;
      const report: FsckReport = { region, referenced: referenced.size, missing: [], corrupt: [], orphans: 0, orphanBytes: 0 };
      let done = 0;
      const hashes = [...referenced];
      let next = 0;
      // Several reads in flight: on an object store each is a round trip (about 10 ms), one at a
      // time a big region would take hours. The first failure other than a bad block (the store
      // unreachable) stops the others from starting more reads.
      let failed: unknown;
      const worker = async (): Promise<void> => {
        while (next < hashes.length && failed === undefined) {
          const hash = hashes[next++];
          try {
            await this.deps.blocks.get(region, hash);
          } catch (err) {
            if (err instanceof BlockMissingError) report.missing.push(hash);
            else if (err instanceof BlockCorruptError) report.corrupt.push(hash);
            else { failed ??= err; return; }
          }
          options.onProgress?.(region, ++done, referenced.size);
        }
      };
      await Promise.all(Array.from({ length: FSCK_READS_IN_FLIGHT }, worker));
      if (failed !== undefined) throw failed;
      // Reads finish in any order: the report lists hashes in order.
      report.missing.sort();
      report.corrupt.sort();
      for (const [hash, size] of stored) {
        if (referenced.has(hash)) continue;
        report.orphans++;
        report.orphanBytes += size;
      }
      reports.push(report);
    }
    return reports;
  }

  /**
   * Per region, the report's stored and billed bytes (usage()'s region figures) without its
   * per-snapshot rows and clean-up plan: cheap enough for a metrics scrape.
   */
  async regionTotals(): Promise<{ region: string; storedBytes: number; billedBytes: number }[]> {
    const totals = [];
    for (const region of regionNames()) {
      const owners = await this.deps.store.snapshots.storedBlocksByOwner(region);
      const billedBlocks = [...owners.values()].reduce((n, b) => n + b, 0);
      totals.push({ region, storedBytes: (await this.billedHashes(region)).size * BLOCK_SIZE, billedBytes: billedBlocks * BLOCK_SIZE });
    }
    return totals;
  }

  async usage(options: { regions?: string[]; ownerId?: string; pricePerGbMonth?: number } = {}): Promise<UsageReport[]> {
    const price = options.pricePerGbMonth ?? DEFAULT_PRICE_PER_GB_MONTH;
    const cleanUp = new SnapshotCleanUp({ store: this.deps.store });
    const reports: UsageReport[] = [];
    for (const region of regionNames(options.regions)) {
      const rows = await this.deps.store.snapshots.usage(region, options.ownerId);
      if (!rows.length) continue;
      const plan = await cleanUp.plan({ regions: [region], ownerIds: options.ownerId ? [options.ownerId] : undefined, pricePerGbMonth: price });
      const leftBehindBy = new Map(plan.accounts.flatMap((a) => [...a.deletable, ...a.kept]).map((l) => [l.snapshotId, l.imageIds]));
      const snapshots: SnapshotUsageRow[] = [];
      for (const r of rows) {
        const s = r.inRecycleBinUntil ? await this.binnedSnapshot(r.ownerId, region, r.snapshotId) : await this.deps.store.snapshots.get(region, r.snapshotId);
        const row: SnapshotUsageRow = {
          snapshotId: r.snapshotId, ownerId: r.ownerId, volumeSizeGiB: s?.volumeSize ?? 0, blocks: r.blocks,
          ownBytes: r.ownBlocks * BLOCK_SIZE, sharedBytes: (r.blocks - r.ownBlocks) * BLOCK_SIZE,
        };
        if (leftBehindBy.has(r.snapshotId)) row.leftBehindBy = leftBehindBy.get(r.snapshotId);
        if (r.inRecycleBinUntil) row.inRecycleBinUntil = r.inRecycleBinUntil;
        if (r.binnedImages) row.binnedImages = r.binnedImages;
        snapshots.push(row);
      }
      const owners = await this.deps.store.snapshots.storedBlocksByOwner(region);
      const accounts = [...new Set(snapshots.map((s) => s.ownerId))].sort().map((ownerId): AccountUsage => {
        const mine = snapshots.filter((s) => s.ownerId === ownerId);
        const storedBytes = (owners.get(ownerId) ?? 0) * BLOCK_SIZE;
        const left = plan.accounts.find((a) => a.ownerId === ownerId);
        return {
          ownerId,
          snapshots: mine.length,
          snapshotsInRecycleBin: mine.filter((s) => s.inRecycleBinUntil).length,
          storedBytes,
          dataBytes: mine.reduce((n, s) => n + s.blocks * BLOCK_SIZE, 0),
          monthlyCost: monthlyCost(storedBytes, price),
          leftBehind: {
            snapshots: (left?.deletable.length ?? 0) + (left?.kept.length ?? 0),
            kept: left?.kept.length ?? 0,
            reclaimableBytes: left?.reclaimableBytes ?? 0,
            monthlySaving: left?.monthlySaving ?? 0,
          },
        };
      });
      const billedBytes = accounts.reduce((n, a) => n + a.storedBytes, 0);
      reports.push({
        region, pricePerGbMonth: price, snapshots, accounts,
        storedBytes: (await this.billedHashes(region)).size * BLOCK_SIZE,
        billedBytes, monthlyCost: monthlyCost(billedBytes, price),
      });
    }
    return reports;
  }
}
