// Keeping the block store honest: garbage collection frees exactly the blocks no snapshot
// references; fsck proves every referenced block is present and intact and counts orphans;
// usage tells what each snapshot stores itself and what it shares.
import { BLOCK_SIZE, BlockCorruptError, BlockMissingError, type BlockStore } from '../../ports/block-store.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { allRegions } from '../regions.ts';

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
}
export interface UsageReport {
  region: string;
  snapshots: SnapshotUsageRow[];
  /** Per owner: distinct bytes stored for its snapshots, and their summed logical data. */
  accounts: { ownerId: string; snapshots: number; storedBytes: number; dataBytes: number }[];
  storedBytes: number;
}

export interface MaintenanceDeps { store: MetadataStore; blocks: BlockStore }

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
      for (const hash of referenced) {
        try {
          await this.deps.blocks.get(region, hash);
        } catch (err) {
          if (err instanceof BlockMissingError) report.missing.push(hash);
          else if (err instanceof BlockCorruptError) report.corrupt.push(hash);
          else throw err;
        }
        options.onProgress?.(region, ++done, referenced.size);
      }
      for (const [hash, size] of stored) {
        if (referenced.has(hash)) continue;
        report.orphans++;
        report.orphanBytes += size;
      }
      reports.push(report);
    }
    return reports;
  }

  async usage(options: { regions?: string[]; ownerId?: string } = {}): Promise<UsageReport[]> {
    const reports: UsageReport[] = [];
    for (const region of regionNames(options.regions)) {
      const rows = await this.deps.store.snapshots.usage(region, options.ownerId);
      if (!rows.length) continue;
      const snapshots: SnapshotUsageRow[] = [];
      for (const r of rows) {
        const s = await this.deps.store.snapshots.get(region, r.snapshotId);
        snapshots.push({
          snapshotId: r.snapshotId, ownerId: r.ownerId, volumeSizeGiB: s?.volumeSize ?? 0, blocks: r.blocks,
          ownBytes: r.ownBlocks * BLOCK_SIZE, sharedBytes: (r.blocks - r.ownBlocks) * BLOCK_SIZE,
        });
      }
      const owners = await this.deps.store.snapshots.storedBlocksByOwner(region);
      const accounts = [...new Set(snapshots.map((s) => s.ownerId))].sort().map((ownerId) => {
        const mine = snapshots.filter((s) => s.ownerId === ownerId);
        return {
          ownerId,
          snapshots: mine.length,
          storedBytes: (owners.get(ownerId) ?? 0) * BLOCK_SIZE,
          dataBytes: mine.reduce((n, s) => n + s.blocks * BLOCK_SIZE, 0),
        };
      });
      reports.push({ region, snapshots, accounts, storedBytes: (await this.deps.store.snapshots.referencedHashes(region)).size * BLOCK_SIZE });
    }
    return reports;
  }
}
