// Who may use a snapshot: its owner, everyone when public, and accounts given
// createVolumePermission. Pending EBS direct uploads past their timeout are failed here, lazily.
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { Caller } from '../context.ts';

export const isPublicSnapshot = (s: SnapshotRecord): boolean => s.createVolumePermissions.some((p) => p.Group === 'all');

export function canUseSnapshot(caller: Caller, s: SnapshotRecord): boolean {
  return s.ownerId === caller.account || isPublicSnapshot(s) || s.createVolumePermissions.some((p) => p.UserId === caller.account);
}

/** True when a pending upload has been idle longer than its timeout (then it is cancelled). */
export function uploadTimedOut(s: SnapshotRecord, now: Date): boolean {
  // Only EBS direct uploads time out: snapshots of volumes (which record their volume) and
  // copies complete in the background, however long a DescribeSnapshots waits for them.
  if (s.state !== 'pending' || s.copySource || s.volumeId !== 'vol-ffffffff') return false;
  return now.getTime() - Date.parse(s.lastActivity) > s.timeoutMinutes * 60_000;
}
