// AttachVolume and DetachVolume. The attachment lives on the volume record (the instance's block
// device mapping is derived from it); it goes attaching → attached and detaching → detached (then
// the volume is available again), the second step once a running guest has the disk plugged in
// or out. Both run in the instance's queue, so they never interleave with its state changes.
import type { AttachVolumeRequest, DetachVolumeRequest, VolumeAttachment } from '../../protocol/ec2/types.generated.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Hypervisor } from '../../ports/hypervisor.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { VolumeAttachmentRecord, VolumeRecord } from '../../ports/volume-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import type { VolumeService } from '../volumes/volume-service.ts';
import type { InstanceLifecycle } from './instance-lifecycle.ts';
import { findOwnedInstance } from './instance-lookup.ts';
import { attachmentOf, type InstanceVolumes } from './instance-volumes.ts';

export interface AttachmentDeps {
  store: MetadataStore;
  clock: Clock;
  hypervisor: Hypervisor;
  volumes: VolumeService;
  instanceVolumes: InstanceVolumes;
  lifecycle: InstanceLifecycle;
}

const DEVICE = /^(\/dev\/(sd[a-z][0-9]*|xvd[a-z]{1,2}[0-9]*|hd[a-z][0-9]*))$|^xvd[a-z]{1,2}$/;

const toWire = (volumeId: string, a: VolumeAttachmentRecord): VolumeAttachment => ({
  VolumeId: volumeId, InstanceId: a.instanceId, Device: a.device, State: a.state, AttachTime: new Date(a.attachTime),
  DeleteOnTermination: a.deleteOnTermination,
});

function checkAttachable(r: InstanceRecord): void {
  if (r.state !== 'running' && r.state !== 'stopped') throw Errors.incorrectState(`Instance '${r.instanceId}' is not 'running' or 'stopped'.`);
}

export class VolumeAttachments {
  private readonly deps: AttachmentDeps;
  constructor(deps: AttachmentDeps) {
    this.deps = deps;
  }

  async attach(caller: Caller, req: AttachVolumeRequest): Promise<VolumeAttachment> {
    const volume = await this.deps.volumes.findOwned(caller, req.VolumeId);
    const instance = await findOwnedInstance(this.deps.store, caller, req.InstanceId, this.deps.clock.now());
    if (!DEVICE.test(req.Device)) throw Errors.invalidParameterValue(`Value (${req.Device}) for parameter device is invalid. ${req.Device} is not a valid EBS device name.`);
    return this.deps.lifecycle.queue.run(instance.instanceId, async () => {
      const r = (await this.deps.store.instances.get(caller.region, instance.instanceId))!;
      const v = (await this.deps.store.volumes.get(caller.region, volume.volumeId))!;
      checkAttachable(r);
      const live = v.attachments.find((a) => a.state !== 'detached');
      if (live || v.state !== 'available') throw Errors.volumeInUse(`${v.volumeId} is already attached to an instance`);
      if (v.availabilityZone !== r.availabilityZone) throw Errors.volumeZoneMismatch(v.volumeId, r.instanceId);
      const onInstance = await this.deps.instanceVolumes.attached(r);
      if (onInstance.some((x) => attachmentOf(x, r.instanceId)?.device === req.Device)) throw Errors.attachmentPointInUse(req.Device);
      if (r.state === 'running' && !this.deps.hypervisor.capabilities.hotplug) {
        throw Errors.unsupportedOperation(`The ${this.deps.hypervisor.name} hypervisor cannot attach volumes to a running instance; stop ${r.instanceId} first.`);
      }
      const a: VolumeAttachmentRecord = {
        instanceId: r.instanceId, device: req.Device, state: 'attaching', attachTime: this.deps.clock.now().toISOString(), deleteOnTermination: false,
      };
      v.attachments = [a];
      v.state = 'in-use';
      await this.deps.store.volumes.update(v);
      this.deps.lifecycle.work.start(`attach ${v.volumeId}`, () => this.finishAttach(r, v.volumeId));
      return toWire(v.volumeId, a);
    });
  }

  /** attaching → attached, once a running guest has the disk. */
  private async finishAttach(instance: InstanceRecord, volumeId: string): Promise<void> {
    await this.deps.lifecycle.queue.run(instance.instanceId, async () => {
      const r = await this.deps.store.instances.get(instance.region, instance.instanceId);
      const v = await this.deps.store.volumes.get(instance.region, volumeId);
      const a = v && attachmentOf(v, instance.instanceId);
      if (!r || !v || a?.state !== 'attaching') return;
      if (r.state === 'running') await this.deps.hypervisor.attachDisk(r.instanceId, this.deps.instanceVolumes.guestDisk(a.device, v));
      a.state = 'attached';
      await this.deps.store.volumes.update(v);
    });
  }

  async detach(caller: Caller, req: DetachVolumeRequest): Promise<VolumeAttachment> {
    const volume = await this.deps.volumes.findOwned(caller, req.VolumeId);
    const found = volume.attachments.find((a) => a.state !== 'detached');
    if (!found) throw Errors.incorrectState(`Volume '${volume.volumeId}' is in the '${volume.state}' state.`);
    if ((req.InstanceId !== undefined && req.InstanceId !== found.instanceId) || (req.Device !== undefined && req.Device !== found.device)) {
      throw Errors.attachmentNotFound(volume.volumeId, req.InstanceId ?? found.instanceId);
    }
    return this.deps.lifecycle.queue.run(found.instanceId, async () => {
      const r = await this.deps.store.instances.get(caller.region, found.instanceId);
      const v = (await this.deps.store.volumes.get(caller.region, volume.volumeId))!;
      const a = attachmentOf(v, found.instanceId);
      if (!r || !a) throw Errors.incorrectState(`Volume '${v.volumeId}' is in the '${v.state}' state.`);
      if (a.state === 'detaching') return toWire(v.volumeId, a);
      checkAttachable(r);
      if (a.device === r.rootDeviceName && r.state === 'running') {
        throw Errors.incorrectState(`Unable to detach root volume '${v.volumeId}' from instance '${r.instanceId}'`);
      }
      if (r.state === 'running' && !this.deps.hypervisor.capabilities.hotplug) {
        throw Errors.unsupportedOperation(`The ${this.deps.hypervisor.name} hypervisor cannot detach volumes from a running instance; stop ${r.instanceId} first.`);
      }
      a.state = 'detaching';
      await this.deps.store.volumes.update(v);
      this.deps.lifecycle.work.start(`detach ${v.volumeId}`, () => this.finishDetach(r, v.volumeId));
      return toWire(v.volumeId, a);
    });
  }

  /** detaching → detached: the guest lets go of the disk, and the volume is available again. */
  private async finishDetach(instance: InstanceRecord, volumeId: string): Promise<void> {
    await this.deps.lifecycle.queue.run(instance.instanceId, async () => {
      const r = await this.deps.store.instances.get(instance.region, instance.instanceId);
      const v: VolumeRecord | undefined = await this.deps.store.volumes.get(instance.region, volumeId);
      const a = v && attachmentOf(v, instance.instanceId);
      if (!v || a?.state !== 'detaching') return;
      if (r?.state === 'running') await this.deps.hypervisor.detachDisk(r.instanceId, a.device);
      await this.deps.instanceVolumes.detach(v, instance.instanceId);
    });
  }
}
