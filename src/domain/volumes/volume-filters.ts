// DescribeVolumes filters, as AWS documents them.
import type { FilterMap } from '../filters.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';

const live = (v: VolumeRecord) => v.attachments.filter((a) => a.state !== 'detached');

export const volumeFilters: FilterMap<VolumeRecord> = {
  'attachment.attach-time': (v) => live(v).map((a) => a.attachTime),
  'attachment.delete-on-termination': (v) => live(v).map((a) => a.deleteOnTermination),
  'attachment.device': (v) => live(v).map((a) => a.device),
  'attachment.instance-id': (v) => live(v).map((a) => a.instanceId),
  'attachment.status': (v) => live(v).map((a) => a.state),
  'availability-zone': (v) => v.availabilityZone,
  'create-time': (v) => v.createTime,
  'encrypted': (v) => v.encrypted,
  'fast-restored': () => false,
  'multi-attach-enabled': () => false,
  'size': (v) => v.size,
  'snapshot-id': (v) => v.snapshotId,
  'status': (v) => v.state,
  'volume-id': (v) => v.volumeId,
  'volume-type': (v) => v.volumeType,
};
