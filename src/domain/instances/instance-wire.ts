// The Instance shape DescribeInstances and RunInstances return, built from the record, the
// volumes attached to it (its block device mapping) and the caller's tags. Its network (VPC,
// subnet, security groups, its one network interface) comes from its record; the public address
// is its own address on the amiforge host while it runs, and its public DNS name is that address
// too (nothing would resolve an ec2-...amazonaws.com name to it). Members amiforge has no truth
// for are left out rather than made up.
import type { GroupIdentifier, Instance, InstanceBlockDeviceMapping, InstanceNetworkInterface, Tag } from '../../protocol/ec2/types.generated.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import { findRegion, zonesOf } from '../regions.ts';
import { firmwareOf } from './guest-spec.ts';
import { wireState } from './instance-states.ts';
import { findInstanceType } from './instance-types.ts';
import { privateDnsName } from './private-addresses.ts';

/** The instance's EBS block device mapping: root first, then by device name. */
export function blockDeviceMappings(r: InstanceRecord, volumes: VolumeRecord[]): InstanceBlockDeviceMapping[] {
  const out: { device: string; m: InstanceBlockDeviceMapping }[] = [];
  for (const v of volumes) {
    if (v.ephemeral) continue;
    const a = v.attachments.find((x) => x.instanceId === r.instanceId && x.state !== 'detached');
    if (!a) continue;
    out.push({
      device: a.device,
      m: { DeviceName: a.device, Ebs: { VolumeId: v.volumeId, Status: a.state, AttachTime: new Date(a.attachTime), DeleteOnTermination: a.deleteOnTermination } },
    });
  }
  const rank = (d: string) => (d === r.rootDeviceName ? '' : d);
  return out.sort((a, b) => rank(a.device).localeCompare(rank(b.device))).map((x) => x.m);
}

/** The instance's security groups as EC2 names them (GroupIdentifier); undefined before networks were modelled. */
export function wireGroups(r: InstanceRecord): GroupIdentifier[] | undefined {
  return r.network?.groups.map((g) => ({ GroupId: g.groupId, GroupName: g.groupName }));
}

/** The instance's one network interface, as EC2 lists it under NetworkInterfaces. */
function networkInterface(r: InstanceRecord): InstanceNetworkInterface | undefined {
  const n = r.network;
  if (!n || r.state === 'terminated') return undefined;
  const dns = privateDnsName(r.privateIpAddress, r.region);
  const association = r.publicIpAddress ? { PublicIp: r.publicIpAddress, PublicDnsName: r.publicIpAddress, IpOwnerId: 'amazon' } : undefined;
  return {
    NetworkInterfaceId: n.networkInterfaceId, SubnetId: n.subnetId, VpcId: n.vpcId, OwnerId: r.ownerId, Description: '', Status: 'in-use',
    MacAddress: n.macAddress, PrivateIpAddress: r.privateIpAddress, PrivateDnsName: dns, SourceDestCheck: true, InterfaceType: 'interface',
    Groups: wireGroups(r),
    Attachment: {
      AttachmentId: n.networkInterfaceId.replace(/^eni-/, 'eni-attach-'), DeviceIndex: 0, Status: 'attached', AttachTime: new Date(r.launchTime),
      DeleteOnTermination: true, NetworkCardIndex: 0,
    },
    Association: association,
    PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: r.privateIpAddress, PrivateDnsName: dns, Association: association }],
    Ipv6Addresses: [],
  };
}

export function toWireInstance(r: InstanceRecord, volumes: VolumeRecord[], tags: Tag[]): Instance {
  const type = findInstanceType(r.instanceType);
  const zone = zonesOf(findRegion(r.region)!).find((z) => z.name === r.availabilityZone);
  const requireV2 = r.imdsSupport === 'v2.0';
  const live = r.state !== 'terminated';
  return {
    InstanceId: r.instanceId,
    ImageId: r.imageId,
    State: wireState(r.state),
    PrivateDnsName: live ? privateDnsName(r.privateIpAddress, r.region) : '',
    PublicDnsName: r.publicIpAddress ?? '',
    PublicIpAddress: r.publicIpAddress,
    VpcId: live ? r.network?.vpcId : undefined,
    SubnetId: live ? r.network?.subnetId : undefined,
    SecurityGroups: wireGroups(r),
    NetworkInterfaces: r.network ? [networkInterface(r)].filter((n) => n !== undefined) : undefined,
    SourceDestCheck: r.network ? true : undefined,
    StateTransitionReason: r.stateTransitionReason,
    KeyName: r.keyName,
    AmiLaunchIndex: r.launchIndex,
    ProductCodes: [],
    InstanceType: r.instanceType as Instance['InstanceType'],
    LaunchTime: new Date(r.launchTime),
    Placement: { AvailabilityZone: r.availabilityZone, AvailabilityZoneId: zone?.id, GroupName: '', Tenancy: 'default' },
    KernelId: r.kernelId,
    RamdiskId: r.ramdiskId,
    Monitoring: { State: 'disabled' },
    PrivateIpAddress: live ? r.privateIpAddress : undefined,
    Architecture: r.architecture,
    RootDeviceType: r.rootDeviceType,
    RootDeviceName: r.rootDeviceName,
    BlockDeviceMappings: blockDeviceMappings(r, volumes),
    VirtualizationType: r.virtualizationType,
    ClientToken: r.clientToken ?? '',
    Tags: tags.length ? tags : undefined,
    // EC2 reports xen for its Nitro instances too (the API has no other value for them).
    Hypervisor: 'xen',
    EbsOptimized: false,
    EnaSupport: r.enaSupport,
    // EC2 gives a pending instance the reason `pending` (RunInstances' answer shows it).
    StateReason: r.stateReason ? { Code: r.stateReason.code, Message: r.stateReason.message }
      : r.state === 'pending' ? { Code: 'pending', Message: 'pending' } : undefined,
    CpuOptions: type && { CoreCount: type.vcpus / type.threadsPerCore, ThreadsPerCore: type.threadsPerCore },
    CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
    HibernationOptions: { Configured: false },
    MetadataOptions: {
      State: 'applied', HttpTokens: requireV2 ? 'required' : 'optional', HttpPutResponseHopLimit: requireV2 ? 2 : 1,
      HttpEndpoint: 'enabled', HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'disabled',
    },
    EnclaveOptions: { Enabled: false },
    BootMode: r.bootMode,
    // The firmware it boots with, which EC2 reports for every HVM instance (the image's boot
    // mode may be unset or uefi-preferred).
    CurrentInstanceBootMode: r.virtualizationType === 'paravirtual' ? undefined : firmwareOf(r) === 'uefi' ? 'uefi' : 'legacy-bios',
    PlatformDetails: r.platformDetails,
    UsageOperation: 'RunInstances',
    UsageOperationUpdateTime: new Date(r.launchTime),
    PrivateDnsNameOptions: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
    MaintenanceOptions: { AutoRecovery: 'default' },
  };
}
