// The instance services in process, on an in-memory store, a temporary block store and the
// simulator, with a clock the tests move: what the wire tests cannot wait for (an hour of
// terminated visibility) or see (instance-store volumes replaced at every start, CreateImage
// images left pending by a crash).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Caller } from '../context.ts';
import { SimHypervisor } from '../../adapters/sim/sim-hypervisor.ts';
import type { Hypervisor, StartGuestOptions } from '../../ports/hypervisor.ts';
import { instanceWorld } from '../../../test/support/instance-world.ts';

/** The simulator booting every guest through its firmware (HVM), as the domain will ask for hvm images. */
class FirmwareSim extends SimHypervisor {
  override start(opts: StartGuestOptions): Promise<void> {
    return super.start({ ...opts, boot: { kind: 'firmware', firmware: 'bios' } });
  }
}

const caller: Caller = { account: '123456789012', region: 'us-east-1' };
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'amiforge-instances-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const world = (hypervisor?: Hypervisor) => instanceWorld({ dir, caller, hypervisor });

describe('instances in process', () => {
  test('a terminated instance stays visible for an hour, then is forgotten', async () => {
    const w = await world();
    const res = await w.s.launcher.run(caller, { ImageId: w.imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' });
    const id = res.Instances![0].InstanceId!;
    await w.settle();
    await w.s.lifecycle.terminate(caller, [id]);
    await w.settle();
    assert.equal(await w.state(id), 'terminated');
    w.advance(59 * 60_000);
    assert.equal((await w.s.instances.describe(caller, {})).Reservations!.length, 1);
    w.advance(2 * 60_000);
    assert.equal((await w.s.instances.describe(caller, {})).Reservations!.length, 0, 'hidden once the hour is over');
    await assert.rejects(w.s.instances.find(caller, id), { code: 'InvalidInstanceID.NotFound' });
    assert.equal(await w.s.lifecycle.sweepTerminated(), 1);
    assert.equal(await w.store.instances.get(caller.region, id), undefined, 'and removed from the store');
    await w.close();
  });

  test('instance-store volumes are new and empty at every start, and gone while stopped', async () => {
    const w = await world();
    const res = await w.s.launcher.run(caller, {
      ImageId: w.imageId, MinCount: 1, MaxCount: 1, InstanceType: 'c5d.large', BlockDeviceMappings: [{ DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }],
      UserData: Buffer.from('#!amiforge-sim\nwrite /dev/sdb 0 scratch\n').toString('base64'),
    });
    const id = res.Instances![0].InstanceId!;
    await w.settle();
    const record = (await w.store.instances.get(caller.region, id))!;
    const ephemeral = async () => (await w.store.volumes.attachedTo(caller.region, caller.account, [id])).filter((v) => v.ephemeral);
    const first = await ephemeral();
    assert.equal(first.length, 1);
    assert.equal(first[0].size, 50, 'c5d.large has one 50 GiB instance-store disk');
    // Written: a whole block, or (a few bytes) a page of the volume's small-write journal.
    const written = async (volumeId: string) => (await w.store.volumes.ownBlocks(volumeId)).length + (await w.store.volumes.journalIndex(volumeId)).length;
    assert.equal(await written(first[0].volumeId), 1, 'the user data wrote to it');
    assert.deepEqual(record.instanceStore, [{ device: '/dev/sdb', virtualName: 'ephemeral0', sizeGiB: 50 }]);

    await w.s.lifecycle.stop(caller, [id]);
    await w.settle();
    assert.equal(await w.state(id), 'stopped');
    assert.deepEqual(await ephemeral(), [], 'deleted at stop');
    assert.equal(await w.store.volumes.get(caller.region, first[0].volumeId), undefined);

    await w.s.lifecycle.start(caller, [id]);
    await w.settle();
    assert.equal(await w.state(id), 'running');
    const second = await ephemeral();
    assert.equal(second.length, 1);
    assert.notEqual(second[0].volumeId, first[0].volumeId);
    assert.equal(await written(second[0].volumeId), 0, 'empty again');
    await w.close();
  });

  test('at start-up, a CreateImage image whose snapshots were never taken fails; one whose snapshots completed becomes available', async () => {
    const w = await world();
    const res = await w.s.launcher.run(caller, { ImageId: w.imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' });
    const id = res.Instances![0].InstanceId!;
    await w.settle();
    const made = await w.s.imageCreator.create(caller, { InstanceId: id, Name: 'good', NoReboot: true });
    await w.settle();
    await w.volumeSnapshots.idle();
    // Forge what a crash leaves: an image registered pending, its snapshot never taken, and one
    // whose snapshots completed without the image hearing of it.
    const lost = structuredClone((await w.store.images.get(caller.region, made))!);
    lost.image.imageId = 'ami-0aaaaaaaaaaaaaaaa';
    lost.image.name = 'lost';
    lost.image.state = 'pending';
    lost.image.blockDeviceMappings![0].ebs!.snapshotId = 'snap-0aaaaaaaaaaaaaaaa';
    await w.store.images.insert(lost);
    const unheard = (await w.store.images.get(caller.region, made))!;
    unheard.image.state = 'pending';
    await w.store.images.update(unheard);

    await w.s.imageCreator.recover();
    const failed = (await w.store.images.get(caller.region, lost.image.imageId))!.image;
    assert.equal(failed.state, 'failed');
    assert.match(failed.stateReason!.message!, /snap-0aaaaaaaaaaaaaaaa was never taken/);
    assert.equal((await w.store.images.get(caller.region, made))!.image.state, 'available');
    await w.close();
  });

  test('recover() boots instances a previous process left running, and finishes stops and terminations', async () => {
    const w = await world();
    const res = await w.s.launcher.run(caller, { ImageId: w.imageId, MinCount: 3, MaxCount: 3, InstanceType: 't3.micro' });
    const [a, b, c] = res.Instances!.map((i) => i.InstanceId!);
    await w.settle();
    // As a new process finds them: states in the store, no guests in the (new) hypervisor.
    for (const [id, state] of [[b, 'stopping'], [c, 'shutting-down']] as const) {
      const r = (await w.store.instances.get(caller.region, id))!;
      r.state = state;
      await w.store.instances.update(r);
    }
    await w.compute.hypervisor.close();
    await w.s.lifecycle.recover();
    await w.settle();
    assert.deepEqual([await w.state(a), await w.state(b), await w.state(c)], ['running', 'stopped', 'terminated']);
    await w.close();
  });

  test('a guest the hypervisor reports unreachable stays running with its instance status check impaired, until a new boot', async () => {
    const w = await world(new FirmwareSim({ bootMs: 1, shutdownMs: 1 }));
    // User data overwrites the boot sector: the next boot finds nothing to boot.
    const res = await w.s.launcher.run(caller, {
      ImageId: w.imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro',
      UserData: Buffer.from('#!amiforge-sim\nwrite /dev/xvda 0 not a boot sector any more\n').toString('base64'),
    });
    const id = res.Instances![0].InstanceId!;
    await w.settle();
    const status = async () => (await w.s.instances.describeStatus(caller, { InstanceIds: [id] })).InstanceStatuses![0];
    assert.deepEqual((await status()).InstanceStatus, { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] });

    w.advance(60_000);
    await w.s.lifecycle.reboot(caller, [id]);
    await w.settle();
    assert.equal(await w.state(id), 'running', 'still running, as on EC2');
    const impaired = await status();
    assert.deepEqual(impaired.InstanceStatus, {
      Status: 'impaired', Details: [{ Name: 'reachability', Status: 'failed', ImpairedSince: new Date('2026-01-01T00:01:00Z') }],
    });
    assert.equal(impaired.SystemStatus!.Status, 'ok', 'the host is fine');
    assert.match(Buffer.from((await w.s.instances.consoleOutput(caller, id)).Output!, 'base64').toString(), /No bootable device/);
    const filtered = async (name: string, value: string) =>
      (await w.s.instances.describeStatus(caller, { Filters: [{ Name: name, Values: [value] }] })).InstanceStatuses!.map((x) => x.InstanceId);
    assert.deepEqual(await filtered('instance-status.status', 'impaired'), [id]);
    assert.deepEqual(await filtered('instance-status.reachability', 'failed'), [id]);
    assert.deepEqual(await filtered('instance-status.status', 'ok'), []);

    // A stop and a start is a new boot: checked anew (and this disk fails again).
    await w.s.lifecycle.stop(caller, [id]);
    await w.settle();
    assert.equal((await w.store.instances.get(caller.region, id))!.reachability?.status, 'impaired', 'kept while stopped');
    w.advance(60_000);
    await w.s.lifecycle.start(caller, [id]);
    await w.settle();
    assert.deepEqual((await status()).InstanceStatus!.Details![0].ImpairedSince, new Date('2026-01-01T00:02:00Z'));
    await w.close();
  });
});
