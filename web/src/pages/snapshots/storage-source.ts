// What the Snapshots page reads: the `storage` console view (the storage report narrowed to the
// account), DescribeSnapshots for states and progress (and for the table where the view is
// missing), and the clean-up views.
import { ApiError, ec2, view } from '../../api.ts';
import type { OperationState } from '../../components/useProgress.ts';

export interface SnapshotUsage {
  snapshotId: string;
  volumeSizeGiB: number;
  blocks: number;
  ownBytes: number;
  sharedBytes: number;
  leftBehindBy?: string[];
  inRecycleBinUntil?: string;
}

export interface AccountStorage {
  account: string;
  regions: { region: string; pricePerGbMonth: number; snapshots: SnapshotUsage[]; account?: { storedBytes: number; monthlyCost: number } }[];
  totals: { snapshots: number; billedBytes: number; monthlyCost: number; reclaimableBytes: number; monthlySaving: number };
}

export interface LeftBehind { snapshotId: string; volumeSizeGiB: number; imageIds: string[]; state: string; keptBecause?: string }

export interface CleanUpPreview { region: string; deletable: LeftBehind[]; kept: LeftBehind[]; reclaimableBytes: number; monthlySaving: number }

export type CleanUpResult = { snapshotId: string; result: 'deleted' | 'skipped' | 'error'; reason?: string; code?: string; message?: string };

export interface DescribedSnapshot { SnapshotId: string; State?: string; Progress?: string; VolumeSize?: number; Description?: string; StartTime?: string }

/** A console view this server lacks (it came with a later version): undefined instead of an error. */
async function unlessMissing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

export const loadStorage = () => unlessMissing(view<AccountStorage>('storage'));
export const loadCleanUpPreview = () => unlessMissing(view<CleanUpPreview>('cleanup-preview'));
export const cleanUp = (snapshotIds: string[]) =>
  view<{ results: CleanUpResult[]; reclaimedBytes: number; monthlySaving: number }>('cleanup', {}, { snapshotIds });

export async function describeOwnSnapshots(): Promise<DescribedSnapshot[]> {
  const rows: DescribedSnapshot[] = [];
  let token: string | undefined;
  do {
    const out = await ec2<{ Snapshots?: DescribedSnapshot[]; NextToken?: string }>('DescribeSnapshots', { Owner: ['self'], MaxResults: 1000, NextToken: token });
    rows.push(...(out.Snapshots ?? []));
    token = out.NextToken;
  } while (token);
  return rows;
}

export async function snapshotStates(ids: string[]): Promise<OperationState[]> {
  const out = await ec2<{ Snapshots?: DescribedSnapshot[] }>('DescribeSnapshots', { SnapshotId: ids });
  return (out.Snapshots ?? []).map((s) => ({ id: s.SnapshotId, state: s.State ?? 'pending', progress: s.Progress ? parseFloat(s.Progress) : undefined }));
}
