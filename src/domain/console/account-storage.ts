// The console's snapshot storage page: one account's share of the storage report (the same
// figures as `amiforge storage` and GET /_amiforge/storage, computed by the same code, narrowed to
// the account), what clean-up would reclaim, and the clean-up itself. The account sees only its
// own snapshots and bill: the report's region-wide stored bytes (every account's blocks) are left
// out.
import { BLOCK_SIZE } from '../../ports/block-store.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { isServiceError } from '../errors.ts';
import { allRegions } from '../regions.ts';
import type { SnapshotService } from '../snapshots/snapshot-service.ts';
import type { AccountUsage, SnapshotUsageRow, StorageMaintenance } from '../storage/storage-maintenance.ts';
import { SnapshotCleanUp, type AccountCleanUp } from '../storage/snapshot-clean-up.ts';
import { DEFAULT_PRICE_PER_GB_MONTH, monthlyCost } from '../storage/storage-pricing.ts';

export interface AccountStorageRegion {
  region: string;
  pricePerGbMonth: number;
  snapshots: SnapshotUsageRow[];
  /** The report's row for the account (absent: it has no snapshots there). */
  account?: AccountUsage;
}

export interface AccountStorage {
  account: string;
  regions: AccountStorageRegion[];
  totals: { snapshots: number; billedBytes: number; monthlyCost: number; reclaimableBytes: number; monthlySaving: number };
}

export interface CleanUpPreview {
  region: string;
  pricePerGbMonth: number;
  /** What clean-up deletes: snapshots deregistered images left behind that nothing uses. */
  deletable: AccountCleanUp['deletable'];
  /** Left behind too, but kept, each with its reason. */
  kept: AccountCleanUp['kept'];
  reclaimableBytes: number;
  monthlySaving: number;
}

export type CleanUpResult =
  | { snapshotId: string; result: 'deleted' }
  | { snapshotId: string; result: 'skipped'; reason: string }
  | { snapshotId: string; result: 'error'; code: string; message: string };

export interface AccountStorageDeps {
  store: MetadataStore;
  maintenance: StorageMaintenance;
  snapshots: SnapshotService;
  pricePerGbMonth?: number;
}

export class AccountStorageView {
  private readonly deps: AccountStorageDeps;
  private readonly price: number;
  constructor(deps: AccountStorageDeps) {
    this.deps = deps;
    this.price = deps.pricePerGbMonth ?? DEFAULT_PRICE_PER_GB_MONTH;
  }

  async usage(caller: Caller, options: { allRegions?: boolean } = {}): Promise<AccountStorage> {
    const regions = options.allRegions ? allRegions().map((r) => r.name) : [caller.region];
    const reports = await this.deps.maintenance.usage({ regions, ownerId: caller.account, pricePerGbMonth: this.price });
    const out: AccountStorageRegion[] = reports.map((r) => ({
      region: r.region, pricePerGbMonth: r.pricePerGbMonth, snapshots: r.snapshots,
      account: r.accounts.find((a) => a.ownerId === caller.account),
    }));
    const sum = (f: (a: AccountUsage) => number) => out.reduce((n, r) => n + (r.account ? f(r.account) : 0), 0);
    const billedBytes = sum((a) => a.storedBytes);
    const reclaimableBytes = sum((a) => a.leftBehind.reclaimableBytes);
    return {
      account: caller.account,
      regions: out,
      totals: {
        snapshots: sum((a) => a.snapshots), billedBytes, monthlyCost: monthlyCost(billedBytes, this.price),
        reclaimableBytes, monthlySaving: monthlyCost(reclaimableBytes, this.price),
      },
    };
  }

  /** The clean-up plan of `amiforge storage clean-up`, for the caller's account in its region. */
  async preview(caller: Caller): Promise<CleanUpPreview> {
    const plan = await new SnapshotCleanUp({ store: this.deps.store }).plan({ regions: [caller.region], ownerIds: [caller.account], pricePerGbMonth: this.price });
    const mine = plan.accounts.find((a) => a.ownerId === caller.account);
    return {
      region: caller.region, pricePerGbMonth: this.price, deletable: mine?.deletable ?? [], kept: mine?.kept ?? [],
      reclaimableBytes: mine?.reclaimableBytes ?? 0, monthlySaving: mine?.monthlySaving ?? 0,
    };
  }

  /**
   * Deletes the given snapshots that the plan, made again now, would delete, each through
   * DeleteSnapshot's own path (its ownership check, the Recycle Bin's retention rules, the
   * in-use check in the deletion's transaction). Others are skipped with the reason. `authorize`
   * asks the identity-policy question DeleteSnapshot would. The bytes reclaimed are the drop in
   * the account's billed bytes (a snapshot a retention rule keeps stays billed, as in AWS).
   */
  async cleanUp(caller: Caller, snapshotIds: string[], authorize?: (snapshotId: string) => Promise<void>): Promise<{ results: CleanUpResult[]; reclaimedBytes: number; monthlySaving: number }> {
    const plan = await this.preview(caller);
    const deletable = new Set(plan.deletable.map((d) => d.snapshotId));
    const kept = new Map(plan.kept.map((k) => [k.snapshotId, k.keptBecause ?? 'kept']));
    const billed = async () => ((await this.deps.store.snapshots.storedBlocksByOwner(caller.region)).get(caller.account) ?? 0) * BLOCK_SIZE;
    const before = await billed();
    const results: CleanUpResult[] = [];
    for (const snapshotId of new Set(snapshotIds)) {
      if (!deletable.has(snapshotId)) {
        results.push({ snapshotId, result: 'skipped', reason: kept.get(snapshotId) ?? 'not a snapshot left behind by a deregistered image' });
        continue;
      }
      try {
        await authorize?.(snapshotId);
        await this.deps.snapshots.delete(caller, { SnapshotId: snapshotId });
        results.push({ snapshotId, result: 'deleted' });
      } catch (err) {
        if (!isServiceError(err)) throw err;
        results.push({ snapshotId, result: 'error', code: err.code, message: err.message });
      }
    }
    const reclaimedBytes = before - (await billed());
    return { results, reclaimedBytes, monthlySaving: monthlyCost(reclaimedBytes, this.price) };
  }
}
