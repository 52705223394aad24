// EC2's instance state machine, driven by API calls and by what the hypervisor reports:
//
//   pending --guest up--> running --Stop--> stopping --guest exited--> stopped --Start--> pending
//   any but terminated --Terminate--> shutting-down --guest gone, volumes released--> terminated
//
// A guest that shuts itself down follows InstanceInitiatedShutdownBehavior (stop or terminate).
// Each instance's changes run one at a time (KeyedQueue); the slow parts (a graceful shutdown)
// run outside that queue, so a TerminateInstances is not held up by a StopInstances in flight.
import { isServiceError } from '../errors.ts';
import type { InstanceStateChange } from '../../protocol/ec2/types.generated.ts';
import type { Clock } from '../../ports/clock.ts';
import { GuestNotRunningError, type GuestEvent, type Hypervisor } from '../../ports/hypervisor.ts';
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import { keyRefusal } from '../encryption/lineage-keys.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import type { InstanceNetwork } from '../network/instance-network.ts';
import { guestSpec } from './guest-spec.ts';
import { expired, findOwnedInstances, TERMINATED_RETENTION_MS } from './instance-lookup.ts';
import { initiated, STATE_REASONS, stateChange, transition, userInitiated } from './instance-states.ts';
import { attachmentOf, type InstanceVolumes } from './instance-volumes.ts';
import { BackgroundWork, KeyedQueue } from './serial.ts';
import type { InstanceOwnership } from './instance-ownership.ts';

/** KMS refused an encrypted volume's key at a boot. */
class KeyRefused extends Error {
  readonly why: 'state' | 'access';
  readonly launch: boolean;
  constructor(why: 'state' | 'access', launch: boolean) {
    super(`an encrypted volume's KMS key was refused (${why})`);
    this.why = why;
    this.launch = launch;
  }
}

const noRoot = (r: InstanceRecord) =>
  Errors.incorrectInstanceState(`Invalid value '${r.instanceId}' for instanceId. Instance does not have a volume attached at root (${r.rootDeviceName})`);

export interface LifecycleDeps {
  store: MetadataStore;
  clock: Clock;
  hypervisor: Hypervisor;
  volumes: InstanceVolumes;
  /** How long a graceful shutdown may take before the guest is forced off. */
  stopTimeoutMs: number;
  /**
   * Unwraps an encrypted volume's data key for the guest as `caller` (KMS checks its right to the
   * key at every start); KMS's refusal is thrown.
   */
  unlockVolume?: (caller: Caller, volume: VolumeRecord) => Promise<void>;
  onError: (what: string, err: unknown) => void;
  /** Host addresses and forwarded ports: given at every start, released at every stop. */
  network?: InstanceNetwork;
  /**
   * Which node runs each guest (several API nodes on one store): instances this node boots are
   * recorded as its own, and those of a node that is gone are stopped or terminated here
   * directly. Absent: a single node, every instance its own.
   */
  ownership?: InstanceOwnership;
  /**
   * Answer RunInstances, StartInstances, StopInstances and TerminateInstances only once the
   * change they begin has run its course (the answer still shows the first step, `pending`,
   * `stopping`, `shutting-down`, as EC2's does): the simulator with no boot time, so test suites
   * written for moto and LocalStack find the next state at their next call.
   */
  settleBeforeAnswer?: boolean;
}

export class InstanceLifecycle {
  private readonly deps: LifecycleDeps;
  readonly queue = new KeyedQueue();
  readonly work: BackgroundWork;
  /** Region of each instance this process looks after, to place the hypervisor's events. */
  private readonly regions = new Map<string, string>();
  /** Instances whose guest a host operation (CreateImage) is stopping and starting again. */
  private readonly held = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(deps: LifecycleDeps) {
    this.deps = deps;
    this.work = new BackgroundWork(deps.onError);
    this.unsubscribe = deps.hypervisor.onEvent((e) => this.onGuestEvent(e));
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  /** This node's id, recorded on the instances whose guests it runs (undefined: a lone node). */
  get nodeId(): string | undefined {
    return this.deps.ownership?.nodeId;
  }

  /** The guest ran on another node that is gone: there is no guest left to ask. */
  private async ownerGone(r: InstanceRecord): Promise<boolean> {
    return !!this.deps.ownership && (await this.deps.ownership.ownerGone(r));
  }

  // ---- booting -------------------------------------------------------------------------------

  /**
   * Boots a pending instance's guest in the background (RunInstances, StartInstances, start-up).
   * Resolves at once, or with settleBeforeAnswer once the guest's boot has been recorded.
   */
  async boot(r: InstanceRecord): Promise<void> {
    this.regions.set(r.instanceId, r.region);
    const booting = this.work.start(`boot ${r.instanceId}`, () => this.queue.run(r.instanceId, async () => {
      const current = await this.deps.store.instances.get(r.region, r.instanceId);
      if (current?.state !== 'pending') return;
      // This node's hypervisor runs the guest from now on (a start on another node moves it here).
      if (this.nodeId) current.nodeId = this.nodeId;
      try {
        await this.startGuest(current, true);
      } catch (err) {
        if (err instanceof KeyRefused) {
          await this.keyRefused(current, err);
          return;
        }
        this.deps.onError(`boot ${r.instanceId}`, err);
        // The cause stays in the log: an internal error's text can name the servers and buckets
        // behind amiforge, which the instance's owner has no business seeing (EC2 says no more).
        await this.bootFailed(current, isServiceError(err) ? err.message : 'Internal error on launch');
      }
    }));
    if (this.deps.settleBeforeAnswer) await this.settled(r.instanceId, booting);
  }

  /**
   * Waits for `job`, then for what the guest reported meanwhile (its `running` event): those
   * handlers were queued for the instance while the job held its queue, so they run before this.
   */
  private async settled(instanceId: string, job: Promise<void>): Promise<void> {
    await job;
    await this.queue.run(instanceId, async () => {});
  }

  /** Starts the guest on the instance's volumes; `fresh` makes new, empty instance-store volumes. */
  private async startGuest(r: InstanceRecord, fresh: boolean): Promise<void> {
    const iv = this.deps.volumes;
    if (fresh) {
      await iv.dropInstanceStore(r);
      await iv.makeInstanceStore(r, this.now());
    }
    const volumes = await iv.attached(r);
    if (!volumes.some((v) => attachmentOf(v, r.instanceId)?.device === r.rootDeviceName)) throw noRoot(r);
    for (const v of volumes) {
      if (!v.encrypted || !this.deps.unlockVolume) continue;
      try {
        await this.deps.unlockVolume({ account: r.ownerId, region: r.region }, v);
      } catch (err) {
        const why = keyRefusal(err);
        if (why) throw new KeyRefused(why, r.bootCount === 0);
        throw err;
      }
    }
    const firstBoot = r.bootCount === 0;
    r.bootCount++;
    r.reachability = undefined;
    const forwards = await this.deps.network?.onStart(r);
    await this.deps.store.instances.update(r);
    await this.deps.hypervisor.start(guestSpec(r, volumes, iv, firstBoot, forwards));
    await this.deps.network?.afterStart(r, forwards);
  }

  /** A stopped EBS-backed instance whose root volume was detached cannot start until one is attached. */
  private async hasRoot(r: InstanceRecord): Promise<boolean> {
    return (await this.deps.volumes.attached(r)).some((v) => attachmentOf(v, r.instanceId)?.device === r.rootDeviceName);
  }

  /**
   * An encrypted volume's key refused: a launch goes to terminated (its StateReason says why, as
   * EC2's does); a start of a stopped instance leaves it stopped.
   */
  private async keyRefused(r: InstanceRecord, err: KeyRefused): Promise<void> {
    const reason = err.why === 'state' ? STATE_REASONS.kmsKeyState : STATE_REASONS.kmsKeyAccess;
    if (err.launch || r.rootDeviceType !== 'ebs') {
      transition(r, 'shutting-down', this.now(), reason, initiated('Server', this.now()));
      await this.deps.store.instances.update(r);
      this.work.start(`terminate ${r.instanceId}`, () => this.finishTerminate(r));
    } else {
      await this.deps.volumes.dropInstanceStore(r);
      await this.deps.network?.onStop(r);
      transition(r, 'stopped', this.now(), reason);
      await this.deps.store.instances.update(r);
    }
  }

  /** A guest that cannot start: an EBS-backed instance stops, an instance-store one terminates. */
  private async bootFailed(r: InstanceRecord, message: string): Promise<void> {
    const reason = { code: 'Server.InternalError', message: `Server.InternalError: ${message}` };
    if (r.rootDeviceType === 'ebs') {
      await this.deps.volumes.dropInstanceStore(r);
      await this.deps.network?.onStop(r);
      transition(r, 'stopped', this.now(), reason);
      await this.deps.store.instances.update(r);
    } else {
      transition(r, 'shutting-down', this.now(), reason);
      await this.deps.store.instances.update(r);
      this.work.start(`terminate ${r.instanceId}`, () => this.finishTerminate(r));
    }
  }

  // ---- what the guest reports ------------------------------------------------------------------

  private onGuestEvent(e: GuestEvent): void {
    const region = this.regions.get(e.instanceId);
    if (!region) return;
    this.work.start(`guest event ${e.kind} of ${e.instanceId}`, () => this.queue.run(e.instanceId, async () => {
      const r = await this.deps.store.instances.get(region, e.instanceId);
      if (!r) return;
      if (e.kind === 'running') {
        if (r.state !== 'pending') return;
        transition(r, 'running', this.now());
        await this.deps.store.instances.update(r);
        return;
      }
      if (e.kind === 'unreachable') {
        // The instance stays running, as EC2's does; its status check fails (DescribeInstanceStatus).
        if ((r.state !== 'running' && r.state !== 'pending') || r.reachability) return;
        r.reachability = { status: 'impaired', since: this.now().toISOString(), detail: e.detail };
        await this.deps.store.instances.update(r);
        return;
      }
      // Host-initiated exits are settled by whoever asked for them.
      if (e.initiatedBy === 'host' || this.held.has(r.instanceId) || (r.state !== 'running' && r.state !== 'pending')) return;
      const reason = e.detail ? { code: STATE_REASONS.guestCrashed.code, message: `${STATE_REASONS.guestCrashed.code}: ${e.detail}` } : STATE_REASONS.guestShutdown;
      const text = initiated(e.detail ? 'Server' : 'Client', this.now());
      if (r.shutdownBehavior === 'terminate' || r.rootDeviceType === 'instance-store') {
        transition(r, 'shutting-down', this.now(), reason, text);
        await this.deps.store.instances.update(r);
        this.work.start(`terminate ${r.instanceId}`, () => this.finishTerminate(r));
      } else {
        await this.settleStopped(r, reason, text);
      }
    }));
  }

  private async settleStopped(r: InstanceRecord, reason: { code: string; message: string }, text?: string): Promise<void> {
    await this.deps.volumes.settle(r);
    await this.deps.volumes.dropInstanceStore(r);
    await this.deps.network?.onStop(r);
    transition(r, 'stopped', this.now(), reason, text);
    await this.deps.store.instances.update(r);
  }

  // ---- API operations --------------------------------------------------------------------------

  async start(caller: Caller, ids: string[]): Promise<InstanceStateChange[]> {
    const records = await findOwnedInstances(this.deps.store, caller, ids, this.now());
    for (const r of records) {
      if (!['stopped', 'pending', 'running'].includes(r.state)) {
        throw Errors.incorrectInstanceState(`The instance '${r.instanceId}' is not in a state from which it can be started.`);
      }
      if (r.state === 'stopped' && !(await this.hasRoot(r))) throw noRoot(r);
    }
    const out: InstanceStateChange[] = [];
    const changes: Promise<void>[] = [];
    for (const found of records) {
      out.push(await this.queue.run(found.instanceId, async () => {
        const r = (await this.deps.store.instances.get(found.region, found.instanceId))!;
        if (r.state !== 'stopped') return stateChange(r.instanceId, r.state, r.state);
        transition(r, 'pending', this.now(), undefined, '');
        r.launchTime = this.now().toISOString();
        await this.deps.store.instances.update(r);
        changes.push(this.boot(r));
        return stateChange(r.instanceId, 'stopped', 'pending');
      }));
    }
    await Promise.all(changes);
    return out;
  }

  async stop(caller: Caller, ids: string[], force = false): Promise<InstanceStateChange[]> {
    const records = await findOwnedInstances(this.deps.store, caller, ids, this.now());
    for (const r of records) {
      if (r.rootDeviceType !== 'ebs') {
        throw Errors.unsupportedOperation(`The instance '${r.instanceId}' does not have an 'ebs' root device type and cannot be stopped.`);
      }
      if (r.disableApiStop) {
        throw Errors.operationNotPermitted(`The instance '${r.instanceId}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`);
      }
      if (!['running', 'stopping', 'stopped'].includes(r.state)) {
        throw Errors.incorrectInstanceState(`This instance '${r.instanceId}' is not in a state from which it can be stopped.`);
      }
    }
    const out: InstanceStateChange[] = [];
    const changes: Promise<void>[] = [];
    for (const found of records) {
      out.push(await this.queue.run(found.instanceId, async () => {
        const r = (await this.deps.store.instances.get(found.region, found.instanceId))!;
        if (await this.ownerGone(r)) return this.stopOrphan(r);
        if (r.state === 'stopping' && force) changes.push(this.work.start(`stop ${r.instanceId}`, () => this.finishStop(r, true)));
        if (r.state !== 'running') return stateChange(r.instanceId, r.state, r.state);
        transition(r, 'stopping', this.now(), STATE_REASONS.userShutdown, userInitiated(this.now()));
        await this.deps.store.instances.update(r);
        changes.push(this.work.start(`stop ${r.instanceId}`, () => this.finishStop(r, force)));
        return stateChange(r.instanceId, 'running', 'stopping');
      }));
    }
    if (this.deps.settleBeforeAnswer) await Promise.all(changes);
    return out;
  }

  /**
   * An instance whose node is gone: its guest is gone too (as a failed host's), so it is stopped
   * in the store at once. What the guest had not yet written to its volumes is lost, as in a crash.
   */
  private async stopOrphan(r: InstanceRecord): Promise<InstanceStateChange> {
    const previous = r.state;
    transition(r, 'stopping', this.now(), STATE_REASONS.userShutdown, userInitiated(this.now()));
    await this.settleStopped(r, STATE_REASONS.userShutdown, userInitiated(this.now()));
    return stateChange(r.instanceId, previous, 'stopping');
  }

  private async finishStop(r: InstanceRecord, force: boolean): Promise<void> {
    await this.deps.hypervisor.stop(r.instanceId, { timeoutMs: this.deps.stopTimeoutMs, force });
    await this.queue.run(r.instanceId, async () => {
      const current = await this.deps.store.instances.get(r.region, r.instanceId);
      if (current?.state === 'stopping') await this.settleStopped(current, STATE_REASONS.userShutdown);
    });
  }

  async reboot(caller: Caller, ids: string[]): Promise<void> {
    const records = await findOwnedInstances(this.deps.store, caller, ids, this.now());
    for (const r of records) {
      if (r.state !== 'running') throw Errors.incorrectInstanceState(`The instance '${r.instanceId}' is not in a state from which it can be rebooted.`);
    }
    for (const r of records) {
      this.work.start(`reboot ${r.instanceId}`, () => this.queue.run(r.instanceId, async () => {
        // A new boot, checked anew: a guest that fails again is reported again.
        const current = await this.deps.store.instances.get(r.region, r.instanceId);
        if (current?.reachability) {
          current.reachability = undefined;
          await this.deps.store.instances.update(current);
        }
        try {
          await this.deps.hypervisor.reboot(r.instanceId);
        } catch (err) {
          if (!(err instanceof GuestNotRunningError)) throw err;
        }
      }));
    }
  }

  async terminate(caller: Caller, ids: string[]): Promise<InstanceStateChange[]> {
    const records = await findOwnedInstances(this.deps.store, caller, ids, this.now());
    for (const r of records) {
      if (r.disableApiTermination && r.state !== 'terminated') {
        throw Errors.operationNotPermitted(`The instance '${r.instanceId}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`);
      }
    }
    const out: InstanceStateChange[] = [];
    const changes: Promise<void>[] = [];
    for (const found of records) {
      out.push(await this.queue.run(found.instanceId, async () => {
        const r = (await this.deps.store.instances.get(found.region, found.instanceId))!;
        if (r.state === 'terminated') return stateChange(r.instanceId, r.state, r.state);
        const orphan = await this.ownerGone(r);
        if (r.state === 'shutting-down' && !orphan) return stateChange(r.instanceId, r.state, r.state);
        const previous = r.state;
        transition(r, 'shutting-down', this.now(), STATE_REASONS.userShutdown, userInitiated(this.now()));
        await this.deps.store.instances.update(r);
        // A gone node's guest is gone with it: the termination is finished here, with no guest to end.
        changes.push(this.work.start(`terminate ${r.instanceId}`, () => this.finishTerminate(r, !orphan)));
        return stateChange(r.instanceId, previous, 'shutting-down');
      }));
    }
    if (this.deps.settleBeforeAnswer) await Promise.all(changes);
    return out;
  }

  private async finishTerminate(r: InstanceRecord, guestHere = true): Promise<void> {
    if (guestHere) await this.deps.hypervisor.terminate(r.instanceId);
    await this.queue.run(r.instanceId, async () => {
      const current = await this.deps.store.instances.get(r.region, r.instanceId);
      if (current?.state !== 'shutting-down') return;
      await this.deps.volumes.releaseOnTermination(current);
      await this.deps.store.instances.releaseAddress(current.region, current.instanceId);
      await this.deps.network?.onStop(current);
      transition(current, 'terminated', this.now(), current.stateReason);
      await this.deps.store.instances.update(current);
      this.regions.delete(current.instanceId);
    });
  }

  // ---- host operations (CreateImage) -----------------------------------------------------------

  /**
   * Runs `fn` with the instance's guest shut down (when it was running), then starts the guest
   * again: the instance stays `running` throughout, as EC2 shows it during CreateImage's reboot.
   */
  async withGuestDown<T>(r: InstanceRecord, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(r.instanceId, async () => {
      const current = (await this.deps.store.instances.get(r.region, r.instanceId))!;
      // A gone node's guest is gone with it: nothing to shut down, the volumes are as it left them.
      if (current.state !== 'running' || (await this.ownerGone(current))) return fn();
      this.held.add(r.instanceId);
      try {
        await this.deps.hypervisor.stop(r.instanceId, { timeoutMs: this.deps.stopTimeoutMs });
        await this.deps.volumes.settle(current);
        try {
          return await fn();
        } finally {
          await this.startGuest(current, false);
        }
      } finally {
        this.held.delete(r.instanceId);
      }
    });
  }

  // ---- start-up and housekeeping ---------------------------------------------------------------

  /**
   * After amiforge restarts, guests the driver no longer runs are started again: pending and
   * running instances go through pending to running (instance-store volumes start empty, as after
   * a host failure); a stop or a termination in flight is finished.
   */
  async recover(): Promise<number> {
    const alive = new Set(await this.deps.hypervisor.guests());
    // Only this node's instances (and those from before nodes were recorded): other nodes' guests
    // run under their hypervisors, not missing from this one's.
    const records = (await this.deps.store.instances.inStates(['pending', 'running', 'stopping', 'shutting-down']))
      .filter((r) => !r.nodeId || r.nodeId === this.nodeId || !this.deps.ownership);
    for (const r of records) {
      this.regions.set(r.instanceId, r.region);
      if (alive.has(r.instanceId)) continue;
      if (r.state === 'stopping') await this.settleStopped(r, STATE_REASONS.userShutdown);
      else if (r.state === 'shutting-down') this.work.start(`terminate ${r.instanceId}`, () => this.finishTerminate(r));
      else {
        transition(r, 'pending', this.now(), undefined);
        await this.deps.store.instances.update(r);
        void this.boot(r);
      }
    }
    return records.length;
  }

  /** Forgets instances terminated longer ago than they stay visible. */
  async sweepTerminated(retentionMs = TERMINATED_RETENTION_MS): Promise<number> {
    const now = this.now();
    const gone = await this.deps.store.instances.terminatedBefore(new Date(now.getTime() - retentionMs).toISOString());
    let n = 0;
    for (const r of gone) if (expired(r, now, retentionMs) && (await this.deps.store.instances.delete(r.region, r.instanceId))) n++;
    return n;
  }

  async idle(): Promise<void> {
    await this.work.idle();
  }

  close(): void {
    this.unsubscribe();
  }
}
