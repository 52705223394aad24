// `amiforge storage clean-up`: deletes the snapshots deregistered images left behind, through the
// same rule as DeleteSnapshot (never one an image uses). A plan first (the dry run), then apply.
import type { MetadataStore } from '../../ports/metadata-store.ts';
import { ServiceError } from '../errors.ts';
import { allRegions } from '../regions.ts';
import { deleteUnusedSnapshot } from '../snapshots/snapshot-deletion.ts';
import { copySourcesInFlight, findLeftBehind, reclaimableBytes, type LeftBehind } from './left-behind.ts';
import { monthlyCost } from './storage-pricing.ts';

export interface AccountCleanUp {
  region: string;
  ownerId: string;
  /** What clean-up deletes. */
  deletable: LeftBehind[];
  /** Left behind too, but kept (each says why). */
  kept: LeftBehind[];
  /** Bytes off the owner's bill once `deletable` is deleted (shared blocks counted once). */
  reclaimableBytes: number;
  monthlySaving: number;
}

export interface CleanUpPlan {
  pricePerGbMonth: number;
  accounts: AccountCleanUp[];
  totals: { snapshots: number; reclaimableBytes: number; monthlySaving: number };
}

export type CleanUpOutcome =
  | { region: string; snapshotId: string; ownerId: string; result: 'deleted' }
  | { region: string; snapshotId: string; ownerId: string; result: 'skipped'; reason: string };

export interface CleanUpOptions { regions?: string[]; ownerIds?: string[]; pricePerGbMonth: number }

export class SnapshotCleanUp {
  private readonly store: MetadataStore;
  constructor(deps: { store: MetadataStore }) {
    this.store = deps.store;
  }

  async plan(options: CleanUpOptions): Promise<CleanUpPlan> {
    const copySources = await copySourcesInFlight(this.store);
    const accounts: AccountCleanUp[] = [];
    for (const region of options.regions ?? allRegions().map((r) => r.name)) {
      const found = await findLeftBehind(this.store, region, { copySources });
      const owners = [...new Set(found.map((f) => f.ownerId))].filter((o) => !options.ownerIds || options.ownerIds.includes(o)).sort();
      for (const ownerId of owners) {
        const mine = found.filter((f) => f.ownerId === ownerId);
        const deletable = mine.filter((f) => !f.keptBecause);
        const bytes = await reclaimableBytes(this.store, region, ownerId, deletable.map((d) => d.snapshotId));
        accounts.push({
          region, ownerId, deletable, kept: mine.filter((f) => f.keptBecause),
          reclaimableBytes: bytes, monthlySaving: monthlyCost(bytes, options.pricePerGbMonth),
        });
      }
    }
    const reclaimable = accounts.reduce((n, a) => n + a.reclaimableBytes, 0);
    return {
      pricePerGbMonth: options.pricePerGbMonth,
      accounts,
      totals: {
        snapshots: accounts.reduce((n, a) => n + a.deletable.length, 0),
        reclaimableBytes: reclaimable,
        monthlySaving: monthlyCost(reclaimable, options.pricePerGbMonth),
      },
    };
  }

  /**
   * Deletes the plan's deletable snapshots, one short transaction each, so a server running on
   * the same store waits at most for one. Each is looked at again first: an image registered on
   * it since the plan keeps it (InvalidSnapshot.InUse), as does a state that changed. A volume
   * made from it since the plan adopts its blocks (DeleteSnapshot's rule), so keeps its data.
   */
  async apply(plan: CleanUpPlan, onProgress?: (done: number, total: number, outcome: CleanUpOutcome) => void): Promise<CleanUpOutcome[]> {
    const items = plan.accounts.flatMap((a) => a.deletable);
    const outcomes: CleanUpOutcome[] = [];
    for (const item of items) {
      const outcome = await this.deleteOne(item);
      outcomes.push(outcome);
      onProgress?.(outcomes.length, items.length, outcome);
    }
    return outcomes;
  }

  private async deleteOne(item: LeftBehind): Promise<CleanUpOutcome> {
    const { region, snapshotId, ownerId } = item;
    const skipped = (reason: string): CleanUpOutcome => ({ region, snapshotId, ownerId, result: 'skipped', reason });
    const now = await this.store.snapshots.get(region, snapshotId);
    if (!now) return skipped('already deleted');
    if (now.state === 'pending') return skipped('pending again');
    try {
      // An image moved into the Recycle Bin since the plan may yet be restored: its snapshots stay.
      await deleteUnusedSnapshot(this.store, region, snapshotId, { binnedImagesToo: true });
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'InvalidSnapshot.InUse') return skipped(err.message);
      throw err;
    }
    return { region, snapshotId, ownerId, result: 'deleted' };
  }
}
