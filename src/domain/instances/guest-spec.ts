// What the hypervisor is given to start an instance's guest: the machine from the instance type,
// how it boots (its kernel image, or firmware), the disks by device name, the host ports forwarded
// to it, user data, and the instance metadata a guest reads from IMDS.
import { createHash } from 'node:crypto';
import type { GuestBoot, GuestDisk, GuestForwards, GuestMachine, StartGuestOptions } from '../../ports/hypervisor.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import { findRegion, zonesOf } from '../regions.ts';
import { findInstanceType } from './instance-types.ts';
import { attachmentOf, type InstanceVolumes } from './instance-volumes.ts';
import { privateDnsName } from './private-addresses.ts';

export function machineOf(r: InstanceRecord): GuestMachine {
  const type = findInstanceType(r.instanceType);
  return {
    instanceType: r.instanceType,
    vcpus: type?.vcpus ?? 1,
    memoryMiB: type?.memoryMiB ?? 1024,
    architecture: r.architecture,
    bootMode: r.bootMode === 'legacy-bios' ? 'legacy-bios' : r.bootMode ? 'uefi' : undefined,
  };
}

/**
 * The firmware an HVM instance boots with, from its boot mode as AWS documents it: `uefi` and
 * `legacy-bios` as named; `uefi-preferred` is UEFI on instance types that support it (the Nitro
 * ones here) and legacy BIOS on the others (Xen: m1, t2); no boot mode is the instance type's
 * default, legacy BIOS on x86. Graviton (arm64) types boot only UEFI.
 */
export function firmwareOf(r: InstanceRecord): 'bios' | 'uefi' {
  if (r.architecture === 'arm64') return 'uefi';
  switch (r.bootMode) {
    case 'uefi': return 'uefi';
    case 'uefi-preferred': return findInstanceType(r.instanceType)?.platform === 'nitro' ? 'uefi' : 'bios';
    default: return 'bios';
  }
}

/**
 * How the guest boots, from the instance's virtualization type: a paravirtual instance boots its
 * registered kernel and ramdisk images (what RunInstances or ModifyInstanceAttribute left it)
 * with its root volume; an HVM one boots the firmware, which finds the boot loader on the root
 * volume. A paravirtual instance without a kernel (an image registered without KernelId) is left
 * to the driver's default kernel.
 */
export function bootOf(r: InstanceRecord): GuestBoot | undefined {
  if (r.virtualizationType === 'paravirtual') {
    if (!r.kernelId) return undefined;
    return { kind: 'kernel', kernelImageId: r.kernelId, ...(r.ramdiskId ? { ramdiskImageId: r.ramdiskId } : {}) };
  }
  return { kind: 'firmware', firmware: firmwareOf(r) };
}

/** IMDS paths a guest (cloud-init) reads, with this instance's values. */
export function instanceMetadata(r: InstanceRecord, volumes: VolumeRecord[]): Record<string, string> {
  const hostname = privateDnsName(r.privateIpAddress, r.region);
  const zone = zonesOf(findRegion(r.region)!).find((z) => z.name === r.availabilityZone);
  const md: Record<string, string> = {
    'ami-id': r.imageId,
    'ami-launch-index': String(r.launchIndex),
    'instance-id': r.instanceId,
    'instance-type': r.instanceType,
    'local-ipv4': r.privateIpAddress,
    'local-hostname': hostname,
    'hostname': hostname,
    'placement/availability-zone': r.availabilityZone,
    'placement/availability-zone-id': zone?.id ?? '',
    'placement/region': r.region,
    'reservation-id': r.reservationId,
    'block-device-mapping/ami': r.rootDeviceName,
    'block-device-mapping/root': r.rootDeviceName,
  };
  let ebs = 0;
  for (const v of volumes) {
    const a = attachmentOf(v, r.instanceId);
    if (!a || a.device === r.rootDeviceName) continue;
    if (v.ephemeral) {
      const spec = r.instanceStore.find((s) => s.device === a.device);
      if (spec) md[`block-device-mapping/${spec.virtualName}`] = a.device;
    } else {
      md[`block-device-mapping/ebs${++ebs}`] = a.device;
    }
  }
  if (r.publicKey) {
    // EC2 lists a key as `INDEX=NAME`; cloud-init's EC2 datasource parses exactly that.
    md['public-keys/'] = `0=${r.keyName ?? 'key'}`;
    md['public-keys/0/openssh-key'] = r.publicKey;
  }
  // The network interface, by its MAC (the guest's NIC carries it). cloud-init configures the
  // interface it finds here (DHCP).
  const mac = r.network?.macAddress ?? instanceMacAddress(r.instanceId);
  md['mac'] = mac;
  const nic = `network/interfaces/macs/${mac}/`;
  md[`${nic}device-number`] = '0';
  md[`${nic}interface-id`] = r.network?.networkInterfaceId ?? `eni-${digest(`eni/${r.instanceId}`).slice(0, 17)}`;
  md[`${nic}local-hostname`] = hostname;
  md[`${nic}local-ipv4s`] = r.privateIpAddress;
  md[`${nic}mac`] = mac;
  md[`${nic}owner-id`] = r.ownerId;
  if (r.network) {
    md['security-groups'] = r.network.groups.map((g) => g.groupName).join('\n');
    md[`${nic}subnet-id`] = r.network.subnetId;
    md[`${nic}vpc-id`] = r.network.vpcId;
    md[`${nic}security-group-ids`] = r.network.groups.map((g) => g.groupId).join('\n');
    md[`${nic}security-groups`] = md['security-groups'];
  }
  if (r.publicIpAddress) {
    md['public-ipv4'] = r.publicIpAddress;
    md['public-hostname'] = r.publicIpAddress;
    md[`${nic}public-ipv4s`] = r.publicIpAddress;
  }
  md['services/domain'] = 'amazonaws.com';
  md['services/partition'] = 'aws';
  return md;
}

const digest = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * The instance's MAC address: fixed per instance (a reboot or restart keeps it, as an ENI does),
 * locally administered and unicast like EC2's (0e:..).
 */
export function instanceMacAddress(instanceId: string): string {
  const h = digest(`mac/${instanceId}`);
  return ['0e', h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10)].join(':');
}

/** IMDS paths under dynamic/: the instance identity document, as EC2 words it. */
export function instanceIdentity(r: InstanceRecord): Record<string, string> {
  const document = {
    accountId: r.ownerId,
    architecture: r.architecture,
    availabilityZone: r.availabilityZone,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: r.imageId,
    instanceId: r.instanceId,
    instanceType: r.instanceType,
    kernelId: r.kernelId ?? null,
    pendingTime: r.launchTime.replace(/\.\d+Z$/, 'Z'),
    privateIp: r.privateIpAddress,
    ramdiskId: r.ramdiskId ?? null,
    region: r.region,
    version: '2017-09-30',
  };
  return { 'instance-identity/document': JSON.stringify(document, null, 2) };
}

/** The start options for the instance's guest, on the volumes attached to it now. */
export function guestSpec(r: InstanceRecord, volumes: VolumeRecord[], iv: InstanceVolumes, firstBoot: boolean, forwards?: GuestForwards): StartGuestOptions {
  const disks: GuestDisk[] = [];
  const instanceStore: GuestDisk[] = [];
  for (const v of volumes) {
    const a = attachmentOf(v, r.instanceId);
    if (!a) continue;
    (v.ephemeral ? instanceStore : disks).push(iv.guestDisk(a.device, v));
  }
  return {
    instanceId: r.instanceId,
    machine: machineOf(r),
    boot: bootOf(r),
    rootDevice: r.rootDeviceName,
    disks,
    instanceStore,
    userData: r.userData ? Buffer.from(r.userData, 'base64') : undefined,
    firstBoot,
    metadata: instanceMetadata(r, volumes),
    dynamic: instanceIdentity(r),
    imdsTokens: r.imdsSupport === 'v2.0' ? 'required' : 'optional',
    forwards,
  };
}
