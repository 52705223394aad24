// What callers read about their instances (DescribeInstances, DescribeInstanceStatus,
// GetConsoleOutput, DescribeInstanceAttribute) and the attributes they may change.
import type {
  DescribeInstanceAttributeRequest, DescribeInstancesRequest, DescribeInstanceStatusRequest, GetConsoleOutputResult, InstanceAttribute,
  InstanceStatus, ModifyInstanceAttributeRequest, Reservation, Tag,
} from '../../protocol/ec2/types.generated.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Hypervisor } from '../../ports/hypervisor.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { checkFilterNames, matchesFilters, normalizeFilters, type FilterMap } from '../filters.ts';
import { decodeToken, encodeToken, pageSize } from '../pagination.ts';
import { findBootImage, refuseForHvm } from '../images/kernel-images.ts';
import { findRegion, zonesOf } from '../regions.ts';
import { instanceFilters, instanceStatusFilters, type InstanceView } from './instance-filters.ts';
import type { InstanceNetwork } from '../network/instance-network.ts';
import type { InstanceLifecycle } from './instance-lifecycle.ts';
import { expired, findOwnedInstance } from './instance-lookup.ts';
import { wireState } from './instance-states.ts';
import { architectureFits, findInstanceType } from './instance-types.ts';
import { attachmentOf } from './instance-volumes.ts';
import { blockDeviceMappings, toWireInstance, wireGroups } from './instance-wire.ts';
import type { InstanceOwnership } from './instance-ownership.ts';

export interface InstanceServiceDeps {
  store: MetadataStore; clock: Clock; hypervisor: Hypervisor; lifecycle: InstanceLifecycle;
  /** Security groups: ModifyInstanceAttribute's groupSet, and the forwards that follow from them. */
  network?: InstanceNetwork;
  /** Which node runs each guest: instances of a node that is gone fail their status checks. */
  ownership?: InstanceOwnership;
}

const BATCH = 100;

export class InstanceService {
  private readonly deps: InstanceServiceDeps;
  constructor(deps: InstanceServiceDeps) {
    this.deps = deps;
  }

  find(caller: Caller, id: string): Promise<InstanceRecord> {
    return findOwnedInstance(this.deps.store, caller, id, this.deps.clock.now());
  }

  /**
   * The caller's instances passing `filters`, in id order, a page at a time. Volumes and tags are
   * read once per batch of instances, not once per instance.
   */
  private async page(caller: Caller, o: {
    ids?: string[]; after?: string; limit: number; filters: { name: string; values: string[] }[]; map: FilterMap<InstanceView>;
    keep?: (r: InstanceRecord) => boolean;
  }): Promise<{ views: (InstanceView & { tags: Tag[] })[]; more: boolean }> {
    const now = this.deps.clock.now();
    const views: (InstanceView & { tags: Tag[] })[] = [];
    let batch: InstanceRecord[] = [];
    const flush = async (): Promise<boolean> => {
      const ids = batch.map((r) => r.instanceId);
      const volumes = await this.deps.store.volumes.attachedTo(caller.region, caller.account, ids);
      const tags = await this.deps.store.tags.forResources(caller.account, caller.region, ids);
      for (const r of batch) {
        const view = { r, volumes: volumes.filter((v) => attachmentOf(v, r.instanceId)), tags: tags.get(r.instanceId) ?? [] };
        if (!matchesFilters(view, view.tags, o.filters, o.map)) continue;
        if (views.length === o.limit) return true;
        views.push(view);
      }
      batch = [];
      return false;
    };
    for await (const r of this.deps.store.instances.scan({ region: caller.region, ownerId: caller.account, instanceIds: o.ids, afterInstanceId: o.after })) {
      if (expired(r, now) || (o.keep && !o.keep(r))) continue;
      batch.push(r);
      if (batch.length === BATCH && (await flush())) return { views, more: true };
    }
    return { views, more: batch.length ? await flush() : false };
  }

  async describe(caller: Caller, req: DescribeInstancesRequest): Promise<{ Reservations: Reservation[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, instanceFilters);
    if (req.InstanceIds?.length && req.MaxResults !== undefined) {
      throw Errors.invalidParameterCombination('The parameter instancesSet cannot be used with the parameter maxResults');
    }
    const limit = pageSize(req.MaxResults, { min: 5, max: 1000, default: Number.MAX_SAFE_INTEGER });
    for (const id of new Set(req.InstanceIds ?? [])) await this.find(caller, id);
    const { views, more } = await this.page(caller, {
      ids: req.InstanceIds?.length ? req.InstanceIds : undefined, after: decodeToken(req.NextToken), limit, filters, map: instanceFilters,
    });
    const reservations = new Map<string, Reservation>();
    for (const v of views) {
      let res = reservations.get(v.r.reservationId);
      if (!res) reservations.set(v.r.reservationId, (res = { ReservationId: v.r.reservationId, OwnerId: v.r.ownerId, Groups: [], Instances: [] }));
      res.Instances!.push(toWireInstance(v.r, v.volumes, v.tags));
    }
    return { Reservations: [...reservations.values()], NextToken: more ? encodeToken(views[views.length - 1].r.instanceId) : undefined };
  }

  async describeStatus(caller: Caller, req: DescribeInstanceStatusRequest): Promise<{ InstanceStatuses: InstanceStatus[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, instanceStatusFilters);
    if (req.InstanceIds?.length && req.MaxResults !== undefined) {
      throw Errors.invalidParameterCombination('The parameter instancesSet cannot be used with the parameter maxResults');
    }
    const limit = pageSize(req.MaxResults, { min: 5, max: 1000, default: Number.MAX_SAFE_INTEGER });
    for (const id of new Set(req.InstanceIds ?? [])) await this.find(caller, id);
    const { views, more } = await this.page(caller, {
      ids: req.InstanceIds?.length ? req.InstanceIds : undefined, after: decodeToken(req.NextToken), limit, filters,
      map: instanceStatusFilters, keep: (r) => !!req.IncludeAllInstances || r.state === 'running',
    });
    const statuses: InstanceStatus[] = [];
    for (const { r } of views) statuses.push(statusOf(r, await this.deps.ownership?.ownerGoneSince(r)));
    return { InstanceStatuses: statuses, NextToken: more ? encodeToken(views[views.length - 1].r.instanceId) : undefined };
  }

  async consoleOutput(caller: Caller, instanceId: string): Promise<GetConsoleOutputResult> {
    const r = await this.find(caller, instanceId);
    const out = await this.deps.hypervisor.consoleOutput(r.instanceId);
    return {
      InstanceId: r.instanceId,
      Timestamp: out?.timestamp ?? this.deps.clock.now(),
      // EC2 returns the console base64-encoded; the SDKs leave decoding to the caller.
      Output: out?.text ? Buffer.from(out.text, 'utf8').toString('base64') : undefined,
    };
  }

  /**
   * Follows the console of the caller's instance (Hypervisor.watchConsole: the text so far, then
   * each piece as the guest writes it). Only this node's hypervisor has the guest: when it runs
   * on another live node, the caller must ask that node (Unavailable otherwise).
   */
  async followConsole(caller: Caller, instanceId: string, listener: (text: string) => void): Promise<{ instance: InstanceRecord; stop: () => void }> {
    const r = await this.find(caller, instanceId);
    const other = await this.deps.ownership?.otherOwner(r);
    if (other?.live) throw Errors.instanceNodeUnavailable(`The console of ${r.instanceId} is followed on node ${other.nodeId}, which runs its guest.`);
    return { instance: r, stop: this.deps.hypervisor.watchConsole(r.instanceId, listener) };
  }

  async describeAttribute(caller: Caller, req: DescribeInstanceAttributeRequest): Promise<InstanceAttribute> {
    const r = await this.find(caller, req.InstanceId);
    const out: InstanceAttribute = { InstanceId: r.instanceId };
    const value = (v: string | undefined) => (v === undefined ? {} : { Value: v });
    switch (req.Attribute) {
      case 'instanceType': out.InstanceType = value(r.instanceType); break;
      case 'userData': out.UserData = value(r.userData); break;
      case 'disableApiTermination': out.DisableApiTermination = { Value: r.disableApiTermination }; break;
      case 'disableApiStop': out.DisableApiStop = { Value: r.disableApiStop }; break;
      case 'instanceInitiatedShutdownBehavior': out.InstanceInitiatedShutdownBehavior = value(r.shutdownBehavior); break;
      case 'rootDeviceName': out.RootDeviceName = value(r.rootDeviceName); break;
      case 'blockDeviceMapping': out.BlockDeviceMappings = blockDeviceMappings(r, await this.deps.store.volumes.attachedTo(r.region, r.ownerId, [r.instanceId])); break;
      case 'kernel': out.KernelId = value(r.kernelId); break;
      case 'ramdisk': out.RamdiskId = value(r.ramdiskId); break;
      case 'productCodes': out.ProductCodes = []; break;
      case 'sourceDestCheck': out.SourceDestCheck = { Value: true }; break;
      case 'groupSet': out.Groups = wireGroups(r) ?? []; break;
      case 'ebsOptimized': out.EbsOptimized = { Value: false }; break;
      case 'sriovNetSupport': out.SriovNetSupport = {}; break;
      case 'enaSupport': out.EnaSupport = { Value: !!r.enaSupport }; break;
      case 'enclaveOptions': out.EnclaveOptions = { Enabled: false }; break;
    }
    return out;
  }

  async modifyAttribute(caller: Caller, req: ModifyInstanceAttributeRequest): Promise<void> {
    const found = await this.find(caller, req.InstanceId);
    const change = attributeChange(req);
    await this.deps.lifecycle.queue.run(found.instanceId, async () => {
      const r = (await this.deps.store.instances.get(found.region, found.instanceId))!;
      const whenStopped = () => {
        if (r.state !== 'stopped') throw Errors.incorrectInstanceState(`The instance '${r.instanceId}' is not in the 'stopped' state.`);
      };
      switch (change.attribute) {
        case 'instanceType': {
          whenStopped();
          const type = findInstanceType(change.value);
          if (!type) throw Errors.instanceAttributeValue(change.value, 'instanceType');
          if (!architectureFits(r.architecture, type)) throw Errors.instanceAttributeValue(change.value, 'instanceType');
          r.instanceType = type.name;
          break;
        }
        case 'userData':
          whenStopped();
          if (change.value.length > 16 * 1024) throw Errors.invalidParameterValue('User data is limited to 16384 bytes');
          r.userData = change.value.length ? change.value.toString('base64') : undefined;
          break;
        case 'kernel':
        case 'ramdisk': {
          // Taken at the next start, as the instance boots the kernel it records.
          whenStopped();
          const named = change.attribute === 'kernel' ? { kernelId: change.value } : { ramdiskId: change.value };
          refuseForHvm(r.virtualizationType, named, `the instance ${r.instanceId}`);
          await findBootImage(this.deps.store, caller, change.attribute, change.value);
          if (change.attribute === 'kernel') r.kernelId = change.value;
          else r.ramdiskId = change.value;
          break;
        }
        case 'disableApiTermination': r.disableApiTermination = change.value; break;
        case 'disableApiStop': r.disableApiStop = change.value; break;
        case 'instanceInitiatedShutdownBehavior': r.shutdownBehavior = change.value; break;
        case 'blockDeviceMapping': {
          const volumes = await this.deps.store.volumes.attachedTo(r.region, r.ownerId, [r.instanceId]);
          for (const m of change.value) {
            const v = volumes.find((x) => !x.ephemeral && attachmentOf(x, r.instanceId)?.device === m.device);
            if (!v) throw Errors.invalidParameterValue(`No EBS volume is attached to ${r.instanceId} at ${m.device}`);
            attachmentOf(v, r.instanceId)!.deleteOnTermination = m.deleteOnTermination;
            await this.deps.store.volumes.update(v);
          }
          return;
        }
        case 'groupSet': {
          if (!r.network || !this.deps.network) throw Errors.unsupportedOperation(`The instance '${r.instanceId}' was launched before amiforge modelled networks; its groups cannot change.`);
          if (r.state === 'terminated' || r.state === 'shutting-down') throw Errors.incorrectInstanceState(`The instance '${r.instanceId}' is not in a state in which its security groups can change.`);
          if (!change.value.length) throw Errors.missingParameter('GroupId');
          r.network.groups = await this.deps.network.resolveGroups(caller, r.network.vpcId, change.value);
          await this.deps.store.instances.update(r);
          await this.deps.network.refreshInstance(r);
          return;
        }
      }
      await this.deps.store.instances.update(r);
    });
  }
}

type AttributeChange =
  | { attribute: 'instanceType'; value: string }
  | { attribute: 'kernel' | 'ramdisk'; value: string }
  | { attribute: 'userData'; value: Buffer }
  | { attribute: 'disableApiTermination' | 'disableApiStop'; value: boolean }
  | { attribute: 'instanceInitiatedShutdownBehavior'; value: 'stop' | 'terminate' }
  | { attribute: 'blockDeviceMapping'; value: { device: string; deleteOnTermination: boolean }[] }
  | { attribute: 'groupSet'; value: string[] };

const asBool = (attribute: string, v: string) => {
  if (v !== 'true' && v !== 'false') throw Errors.instanceAttributeValue(v, attribute);
  return v === 'true';
};

/** The one attribute a ModifyInstanceAttribute request changes, in either of EC2's request forms. */
function attributeChange(req: ModifyInstanceAttributeRequest): AttributeChange {
  const legacy = req.Attribute !== undefined ? req.Value : undefined;
  const changes: AttributeChange[] = [];
  const instanceType = req.InstanceType?.Value ?? (req.Attribute === 'instanceType' ? legacy : undefined);
  if (instanceType !== undefined) changes.push({ attribute: 'instanceType', value: instanceType });
  if (req.UserData?.Value !== undefined) changes.push({ attribute: 'userData', value: Buffer.from(req.UserData.Value) });
  else if (req.Attribute === 'userData' && legacy !== undefined) changes.push({ attribute: 'userData', value: Buffer.from(legacy, 'base64') });
  const term = req.DisableApiTermination?.Value ?? (req.Attribute === 'disableApiTermination' && legacy !== undefined ? asBool('disableApiTermination', legacy) : undefined);
  if (term !== undefined) changes.push({ attribute: 'disableApiTermination', value: term });
  const stop = req.DisableApiStop?.Value ?? (req.Attribute === 'disableApiStop' && legacy !== undefined ? asBool('disableApiStop', legacy) : undefined);
  if (stop !== undefined) changes.push({ attribute: 'disableApiStop', value: stop });
  const behaviour = req.InstanceInitiatedShutdownBehavior?.Value ?? (req.Attribute === 'instanceInitiatedShutdownBehavior' ? legacy : undefined);
  if (behaviour !== undefined) {
    if (behaviour !== 'stop' && behaviour !== 'terminate') throw Errors.instanceAttributeValue(behaviour, 'instanceInitiatedShutdownBehavior');
    changes.push({ attribute: 'instanceInitiatedShutdownBehavior', value: behaviour });
  }
  const kernel = req.Kernel?.Value ?? (req.Attribute === 'kernel' ? legacy : undefined);
  if (kernel !== undefined) changes.push({ attribute: 'kernel', value: kernel });
  const ramdisk = req.Ramdisk?.Value ?? (req.Attribute === 'ramdisk' ? legacy : undefined);
  if (ramdisk !== undefined) changes.push({ attribute: 'ramdisk', value: ramdisk });
  if (req.BlockDeviceMappings?.length) {
    changes.push({
      attribute: 'blockDeviceMapping',
      value: req.BlockDeviceMappings.map((m) => {
        if (!m.DeviceName || m.Ebs?.DeleteOnTermination === undefined) throw Errors.missingParameter('BlockDeviceMapping.N.Ebs.DeleteOnTermination');
        return { device: m.DeviceName, deleteOnTermination: m.Ebs.DeleteOnTermination };
      }),
    });
  }
  if (req.Groups !== undefined) changes.push({ attribute: 'groupSet', value: req.Groups });
  else if (req.Attribute === 'groupSet') throw Errors.missingParameter('GroupId');
  const others = ['SourceDestCheck', 'EbsOptimized', 'SriovNetSupport', 'EnaSupport'] as const;
  const other = others.find((k) => req[k] !== undefined)
    ?? (req.Attribute && !['instanceType', 'userData', 'disableApiTermination', 'disableApiStop', 'instanceInitiatedShutdownBehavior', 'blockDeviceMapping', 'kernel', 'ramdisk', 'groupSet'].includes(req.Attribute) ? req.Attribute : undefined);
  if (other) throw Errors.unsupportedOperation(`Modifying the instance attribute ${other} is not supported by amiforge.`);
  if (changes.length !== 1) {
    if (!changes.length) throw Errors.missingParameter('an attribute to modify (InstanceType, UserData, DisableApiTermination, ...)');
    throw Errors.invalidParameterCombination('Only one attribute can be modified at a time.');
  }
  return changes[0];
}

/**
 * `hostGoneSince`: the node running the guest is gone (its heartbeat lapsed at that time). EC2
 * reports an instance on a failed host so: both checks impaired, reachability failed.
 */
function statusOf(r: InstanceRecord, hostGoneSince?: Date): InstanceStatus {
  const running = r.state === 'running';
  if (running && hostGoneSince) {
    const impaired = { Status: 'impaired' as const, Details: [{ Name: 'reachability' as const, Status: 'failed' as const, ImpairedSince: hostGoneSince }] };
    return {
      InstanceId: r.instanceId,
      AvailabilityZone: r.availabilityZone,
      AvailabilityZoneId: zonesOf(findRegion(r.region)!).find((z) => z.name === r.availabilityZone)?.id,
      InstanceState: wireState(r.state),
      InstanceStatus: impaired,
      SystemStatus: impaired,
      AttachedEbsStatus: { Status: 'ok' as const, Details: [{ Name: 'reachability' as const, Status: 'passed' as const }] },
      Events: [],
    };
  }
  const ok = { Status: 'ok' as const, Details: [{ Name: 'reachability' as const, Status: 'passed' as const }] };
  const summary = running ? ok : { Status: 'not-applicable' as const };
  // A guest that cannot be reached fails the instance check; the system (host, network) passes.
  const instance = running && r.reachability
    ? { Status: 'impaired' as const, Details: [{ Name: 'reachability' as const, Status: 'failed' as const, ImpairedSince: new Date(r.reachability.since) }] }
    : summary;
  return {
    InstanceId: r.instanceId,
    AvailabilityZone: r.availabilityZone,
    AvailabilityZoneId: zonesOf(findRegion(r.region)!).find((z) => z.name === r.availabilityZone)?.id,
    InstanceState: wireState(r.state),
    InstanceStatus: instance,
    SystemStatus: summary,
    AttachedEbsStatus: summary,
    Events: [],
  };
}
