// DescribeSnapshots filters, as AWS documents them.
import type { FilterMap } from '../filters.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';

export const snapshotFilters: FilterMap<SnapshotRecord> = {
  'description': (s) => s.description,
  'encrypted': (s) => s.encrypted,
  'owner-alias': (s) => s.ownerAlias,
  'owner-id': (s) => s.ownerId,
  'progress': (s) => `${s.progress}%`,
  'snapshot-id': (s) => s.snapshotId,
  'start-time': (s) => s.startTime,
  'status': (s) => s.state,
  'storage-tier': () => 'standard',
  // Only copies have a transfer type (see toWireSnapshot).
  'transfer-type': (s) => (s.copySource || s.copiedFrom ? 'standard' : undefined),
  'volume-id': (s) => s.volumeId,
  'volume-size': (s) => s.volumeSize,
};
