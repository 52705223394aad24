// How an instance's guest boots, from its virtualization type: a paravirtual instance boots the
// kernel and ramdisk images it records, an HVM one the firmware its boot mode and type select.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import { guestSpec } from './guest-spec.ts';
import type { InstanceVolumes } from './instance-volumes.ts';

function instance(o: Partial<InstanceRecord>): InstanceRecord {
  return {
    region: 'us-east-1', instanceId: 'i-0123456789abcdef0', ownerId: '111111111111', reservationId: 'r-0123456789abcdef0',
    imageId: 'ami-0123456789abcdef0', instanceType: 't3.micro', availabilityZone: 'us-east-1a', privateIpAddress: '172.31.0.10',
    launchIndex: 0, state: 'pending', stateTransitionReason: '', launchTime: '2026-01-01T00:00:00.000Z', architecture: 'x86_64',
    rootDeviceName: '/dev/xvda', rootDeviceType: 'ebs', virtualizationType: 'hvm', platformDetails: 'Linux/UNIX',
    disableApiTermination: false, disableApiStop: false, shutdownBehavior: 'stop', instanceStore: [], bootCount: 0,
    ...o,
  };
}

/** The `boot` the hypervisor is given for this instance (no volumes attached: none are read). */
const bootOf = (o: Partial<InstanceRecord>) => guestSpec(instance(o), [], {} as InstanceVolumes, true).boot;

describe('guest boot from the virtualization type', () => {
  test('paravirtual: the instance\'s kernel and ramdisk images', () => {
    assert.deepEqual(bootOf({ virtualizationType: 'paravirtual', kernelId: 'aki-0123456789abcdef0', ramdiskId: 'ari-0123456789abcdef0' }),
      { kind: 'kernel', kernelImageId: 'aki-0123456789abcdef0', ramdiskImageId: 'ari-0123456789abcdef0' });
    assert.deepEqual(bootOf({ virtualizationType: 'paravirtual', kernelId: 'aki-0123456789abcdef0' }),
      { kind: 'kernel', kernelImageId: 'aki-0123456789abcdef0' });
    // A boot mode means nothing to a PV guest: its kernel is booted directly.
    assert.equal(bootOf({ virtualizationType: 'paravirtual', kernelId: 'aki-0123456789abcdef0', bootMode: 'uefi' })?.kind, 'kernel');
  });

  test('paravirtual without a kernel image: left to the driver\'s default kernel', () => {
    assert.equal(bootOf({ virtualizationType: 'paravirtual' }), undefined);
  });

  test('hvm: firmware from the boot mode', () => {
    assert.deepEqual(bootOf({ bootMode: 'uefi' }), { kind: 'firmware', firmware: 'uefi' });
    assert.deepEqual(bootOf({ bootMode: 'legacy-bios' }), { kind: 'firmware', firmware: 'bios' });
    assert.deepEqual(bootOf({}), { kind: 'firmware', firmware: 'bios' });
  });

  test('hvm: uefi-preferred is UEFI where the instance type supports it, legacy BIOS on Xen types', () => {
    assert.deepEqual(bootOf({ bootMode: 'uefi-preferred', instanceType: 't3.micro' }), { kind: 'firmware', firmware: 'uefi' });
    assert.deepEqual(bootOf({ bootMode: 'uefi-preferred', instanceType: 'm5.large' }), { kind: 'firmware', firmware: 'uefi' });
    assert.deepEqual(bootOf({ bootMode: 'uefi-preferred', instanceType: 't2.micro' }), { kind: 'firmware', firmware: 'bios' });
    assert.deepEqual(bootOf({ bootMode: 'uefi-preferred', instanceType: 'm1.small' }), { kind: 'firmware', firmware: 'bios' });
  });

  test('hvm on Graviton (arm64): UEFI, the only firmware those types have', () => {
    assert.deepEqual(bootOf({ architecture: 'arm64', instanceType: 't4g.micro' }), { kind: 'firmware', firmware: 'uefi' });
    assert.deepEqual(bootOf({ architecture: 'arm64', instanceType: 't4g.micro', bootMode: 'legacy-bios' }), { kind: 'firmware', firmware: 'uefi' });
  });

  test('an HVM instance with a kernel id left over from an older record still boots its firmware', () => {
    assert.deepEqual(bootOf({ kernelId: 'aki-0123456789abcdef0', bootMode: 'uefi' }), { kind: 'firmware', firmware: 'uefi' });
  });
});
