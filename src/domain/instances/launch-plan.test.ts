// The launch plan: the image's mapping with RunInstances' BlockDeviceMappings laid over it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredImage } from '../../ports/metadata-store.ts';
import { findInstanceType } from './instance-types.ts';
import { launchPlan } from './launch-plan.ts';

const image: StoredImage = {
  imageId: 'ami-0123456789abcdef0', ownerId: '123456789012', name: 'base', state: 'available', creationDate: '2026-01-01T00:00:00Z',
  rootDeviceName: '/dev/xvda', rootDeviceType: 'ebs',
  blockDeviceMappings: [
    { deviceName: '/dev/xvda', ebs: { snapshotId: 'snap-0123456789abcdef0', volumeSize: 8, volumeType: 'gp3', deleteOnTermination: true } },
    { deviceName: '/dev/sdb', virtualName: 'ephemeral0' },
    { deviceName: '/dev/sdc', ebs: { snapshotId: 'snap-0123456789abcdef1', volumeSize: 2, volumeType: 'gp2', deleteOnTermination: false } },
  ],
};
const m5d = findInstanceType('m5d.large')!;
const t3 = findInstanceType('t3.micro')!;

test("the image's devices, root first; instance store sized by the type, else 4 GiB", () => {
  const plan = launchPlan(image, undefined, m5d);
  assert.deepEqual(plan.map((p) => p.device), ['/dev/xvda', '/dev/sdb', '/dev/sdc']);
  assert.deepEqual(plan[1], { kind: 'store', device: '/dev/sdb', virtualName: 'ephemeral0', sizeGiB: 75 });
  assert.equal((launchPlan(image, undefined, t3)[1] as { sizeGiB: number }).sizeGiB, 4);
  assert.equal(plan[0].kind === 'ebs' && plan[0].viaImage, true, "the image's snapshots are covered by its launch permission");
});

test('overrides: size, type and DeleteOnTermination kept per member; NoDevice drops; new devices added', () => {
  const plan = launchPlan(image, [
    { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20 } },
    { DeviceName: '/dev/sdc', Ebs: { DeleteOnTermination: true, VolumeType: 'io1', Iops: 100 } },
    { DeviceName: '/dev/sdb', NoDevice: '' },
    { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 5 } },
    { DeviceName: '/dev/sdg', Ebs: { SnapshotId: 'snap-0fffffffffffffff0' } },
  ], t3);
  const by = new Map(plan.map((p) => [p.device, p]));
  assert.deepEqual(by.get('/dev/xvda'), { kind: 'ebs', device: '/dev/xvda', snapshotId: 'snap-0123456789abcdef0', size: 20, volumeType: 'gp3', iops: undefined, throughput: undefined, deleteOnTermination: true, viaImage: true });
  assert.deepEqual(by.get('/dev/sdc'), { kind: 'ebs', device: '/dev/sdc', snapshotId: 'snap-0123456789abcdef1', size: 2, volumeType: 'io1', iops: 100, throughput: undefined, deleteOnTermination: true, viaImage: true });
  assert.equal(by.has('/dev/sdb'), false);
  assert.deepEqual(by.get('/dev/sdf'), { kind: 'ebs', device: '/dev/sdf', snapshotId: undefined, size: 5, volumeType: 'gp2', iops: undefined, throughput: undefined, deleteOnTermination: true, viaImage: false });
  const added = by.get('/dev/sdg')!;
  assert.equal(added.kind === 'ebs' && added.viaImage, false, 'a snapshot the image does not name needs createVolumePermission');
});

test('the root cannot be dropped or swapped; malformed mappings are InvalidBlockDeviceMapping', () => {
  const bad = (mappings: Parameters<typeof launchPlan>[1], pattern: RegExp) =>
    assert.throws(() => launchPlan(image, mappings, t3), (e: { code?: string; message: string }) => e.code === 'InvalidBlockDeviceMapping' && pattern.test(e.message));
  bad([{ DeviceName: '/dev/xvda', NoDevice: '' }], /root device/);
  bad([{ DeviceName: '/dev/xvda', VirtualName: 'ephemeral0' }], /root device/);
  bad([{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-0fffffffffffffff0' } }], /keep the image's snapshot/);
  bad([{ DeviceName: '/dev/sdf', Ebs: {} }], /needs a snapshot id or a volume size/);
  bad([{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1 }, NoDevice: '' }], /exactly one of/);
  bad([{ DeviceName: '/dev/sdf', VirtualName: 'swap' }], /ephemeral0 to ephemeral23/);
  bad([{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1 } }, { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 2 } }], /more than one/);
  bad([{ DeviceName: 'C:', Ebs: { VolumeSize: 1 } }], /Invalid device name/);
});

test('an instance-store-backed image gets a 10 GiB instance-store root', () => {
  const plan = launchPlan({ ...image, rootDeviceType: 'instance-store', rootDeviceName: '/dev/sda1', blockDeviceMappings: [] }, undefined, t3);
  assert.deepEqual(plan, [{ kind: 'store', device: '/dev/sda1', virtualName: 'root', sizeGiB: 10 }]);
});
