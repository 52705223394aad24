// DescribeInstances and DescribeInstanceStatus filters, as AWS documents them (those amiforge has
// values for; a documented filter without a value here is refused as unknown, never ignored).
import type { FilterMap } from '../filters.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import { STATE_CODES } from './instance-states.ts';
import { blockDeviceMappings } from './instance-wire.ts';
import { privateDnsName } from './private-addresses.ts';

export interface InstanceView { r: InstanceRecord; volumes: VolumeRecord[] }

const ebs = (v: InstanceView) => blockDeviceMappings(v.r, v.volumes);

export const instanceFilters: FilterMap<InstanceView> = {
  'instance-id': (v) => v.r.instanceId,
  'instance-state-name': (v) => v.r.state,
  'instance-state-code': (v) => STATE_CODES[v.r.state],
  'image-id': (v) => v.r.imageId,
  'instance-type': (v) => v.r.instanceType,
  'availability-zone': (v) => v.r.availabilityZone,
  'reservation-id': (v) => v.r.reservationId,
  'key-name': (v) => v.r.keyName,
  'private-ip-address': (v) => (v.r.state === 'terminated' ? undefined : v.r.privateIpAddress),
  'private-dns-name': (v) => (v.r.state === 'terminated' ? undefined : privateDnsName(v.r.privateIpAddress, v.r.region)),
  'root-device-type': (v) => v.r.rootDeviceType,
  'root-device-name': (v) => v.r.rootDeviceName,
  'architecture': (v) => v.r.architecture,
  'virtualization-type': (v) => v.r.virtualizationType,
  'hypervisor': () => 'xen',
  'ami-launch-index': (v) => v.r.launchIndex,
  'launch-index': (v) => v.r.launchIndex,
  'launch-time': (v) => v.r.launchTime,
  'owner-id': (v) => v.r.ownerId,
  'client-token': (v) => v.r.clientToken,
  'state-reason-code': (v) => v.r.stateReason?.code,
  'state-reason-message': (v) => v.r.stateReason?.message,
  'platform-details': (v) => v.r.platformDetails,
  'usage-operation': () => 'RunInstances',
  'tenancy': () => 'default',
  'monitoring-state': () => 'disabled',
  'boot-mode': (v) => v.r.bootMode,
  'metadata-options.http-tokens': (v) => (v.r.imdsSupport === 'v2.0' ? 'required' : 'optional'),
  'block-device-mapping.volume-id': (v) => ebs(v).map((m) => m.Ebs?.VolumeId),
  'block-device-mapping.device-name': (v) => ebs(v).map((m) => m.DeviceName),
  'block-device-mapping.status': (v) => ebs(v).map((m) => m.Ebs?.Status),
  'block-device-mapping.attach-time': (v) => ebs(v).map((m) => m.Ebs?.AttachTime?.toISOString()),
  'block-device-mapping.delete-on-termination': (v) => ebs(v).map((m) => m.Ebs?.DeleteOnTermination),
  'vpc-id': (v) => (v.r.state === 'terminated' ? undefined : v.r.network?.vpcId),
  'subnet-id': (v) => (v.r.state === 'terminated' ? undefined : v.r.network?.subnetId),
  'instance.group-id': (v) => v.r.network?.groups.map((g) => g.groupId) ?? [],
  'instance.group-name': (v) => v.r.network?.groups.map((g) => g.groupName) ?? [],
  'network-interface.network-interface-id': (v) => v.r.network?.networkInterfaceId,
  'network-interface.mac-address': (v) => v.r.network?.macAddress,
  'ip-address': (v) => v.r.publicIpAddress,
  'dns-name': (v) => v.r.publicIpAddress,
};

/** DescribeInstanceStatus's own filters. */
export const instanceStatusFilters: FilterMap<InstanceView> = {
  'availability-zone': (v) => v.r.availabilityZone,
  'instance-state-name': (v) => v.r.state,
  'instance-state-code': (v) => STATE_CODES[v.r.state],
  'instance-status.status': (v) => (v.r.state !== 'running' ? 'not-applicable' : v.r.reachability ? 'impaired' : 'ok'),
  'instance-status.reachability': (v) => (v.r.state !== 'running' ? undefined : v.r.reachability ? 'failed' : 'passed'),
  'system-status.status': (v) => (v.r.state === 'running' ? 'ok' : 'not-applicable'),
  'system-status.reachability': (v) => (v.r.state === 'running' ? 'passed' : undefined),
};
