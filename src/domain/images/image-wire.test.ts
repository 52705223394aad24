import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Image } from '../../protocol/ec2/types.generated.ts';
import { imageFromWire, imageToWire } from './image-wire.ts';

/** Every member of EC2's Image that is a fact about the image (not Tags, Public, ImageAllowed). */
const WIRE: Image & { ImageId: string; OwnerId: string; Name: string; State: 'available'; CreationDate: string } = {
  ImageId: 'ami-0123456789abcdef0', ImageLocation: '111111111111/web', State: 'available', OwnerId: '111111111111',
  CreationDate: '2026-01-02T03:04:05.000Z', ProductCodes: [{ ProductCodeId: 'abc', ProductCodeType: 'marketplace' }], Architecture: 'arm64',
  ImageType: 'machine', KernelId: 'aki-1', RamdiskId: 'ari-1', Platform: 'Windows', PlatformDetails: 'Windows', UsageOperation: 'RunInstances:0002',
  BlockDeviceMappings: [
    { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-1', VolumeSize: 8, VolumeType: 'io2', DeleteOnTermination: true, Encrypted: true, KmsKeyId: 'arn:k',
      Iops: 3000, Throughput: 125, OutpostArn: 'arn:o', AvailabilityZone: 'us-east-1a', AvailabilityZoneId: 'use1-az1', VolumeInitializationRate: 100, EbsCardIndex: 0 } },
    { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' },
    { DeviceName: '/dev/sdc', NoDevice: '' },
  ],
  Description: 'd', EnaSupport: true, Hypervisor: 'xen', ImageOwnerAlias: 'amazon', Name: 'web', RootDeviceName: '/dev/xvda', RootDeviceType: 'ebs',
  SriovNetSupport: 'simple', StateReason: { Code: 'c', Message: 'm' }, VirtualizationType: 'hvm', BootMode: 'uefi', TpmSupport: 'v2.0',
  DeprecationTime: '2027-01-01T00:00:00.000Z', ImdsSupport: 'v2.0', SourceInstanceId: 'i-1', DeregistrationProtection: 'enabled',
  LastLaunchedTime: '2026-02-01T00:00:00.000Z', SourceImageId: 'ami-1', SourceImageRegion: 'eu-west-1', FreeTierEligible: false,
};

test('every member survives the trip to the record and back', () => {
  const record = imageFromWire(WIRE);
  assert.deepEqual(imageToWire(record), WIRE);
  assert.equal(record.ownerAlias, 'amazon');
  assert.equal(record.blockDeviceMappings?.[0].ebs?.snapshotId, 'snap-1');
  assert.deepEqual(record.stateReason, { code: 'c', message: 'm' });
});

test('the record is in its own terms all the way down, with no absent members spelled out', () => {
  const keys = (v: unknown): string[] => (Array.isArray(v) ? v.flatMap(keys)
    : v && typeof v === 'object' ? Object.entries(v).flatMap(([k, x]) => [k, ...keys(x)]) : []);
  assert.deepEqual(keys(imageFromWire(WIRE)).filter((k) => /^[A-Z]/.test(k)), []);
  const minimal = imageToWire({ imageId: 'ami-1', ownerId: '1', name: 'n', state: 'pending', creationDate: 'c' });
  assert.deepEqual(minimal, { ImageId: 'ami-1', OwnerId: '1', Name: 'n', State: 'pending', CreationDate: 'c' });
});
