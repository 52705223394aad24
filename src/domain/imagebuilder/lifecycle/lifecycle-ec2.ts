// The lifecycle's view of EC2, acting as the policy's account through EC2's own domain services
// (so deprecation, disabling and deregistration follow exactly the rules the EC2 API applies:
// deregistration protection, the Recycle Bin, snapshots still used by another image).
import type { Clock } from '../../../ports/clock.ts';
import type { InstanceStateName } from '../../../ports/instance-repository.ts';
import type { ImageRecord, MetadataStore } from '../../../ports/metadata-store.ts';
import type { Caller } from '../../context.ts';
import type { ImageControls } from '../../images/image-controls.ts';
import type { ImageService } from '../../images/image-service.ts';
import { isPublicImage } from '../../images/visibility.ts';
import type { AmiFacts } from './rules.ts';

/** The tag Image Builder puts on the AMIs its lifecycle deprecates. */
export const DEPRECATED_BY_TAG = { Key: 'DeprecatedBy', Value: 'EC2 Image Builder' };

export interface AmiFactsWithDate extends AmiFacts {
  createdAt: string;
}

export interface SnapshotOutcome {
  snapshotId: string;
  /** DeregisterImage's per-snapshot return code: success, skipped (used by another image), ... */
  returnCode: string;
}

export interface LifecycleEc2 {
  /** Instances not terminated, by `${region}/${imageId}` of the image they were launched from. */
  liveInstances(): Promise<Map<string, string[]>>;
  /** The AMI's facts (liveInstances left empty), undefined when it does not exist. */
  facts(region: string, imageId: string): Promise<AmiFactsWithDate | undefined>;
  /** The account's AMIs in the region carrying any of the tags (exact key and value). */
  tagged(account: string, region: string, tagMap: Record<string, string>): Promise<AmiFactsWithDate[]>;
  deprecate(caller: Caller, imageId: string): Promise<void>;
  disable(caller: Caller, imageId: string): Promise<void>;
  deregister(caller: Caller, imageId: string, withSnapshots: boolean): Promise<SnapshotOutcome[]>;
  /** Back to available: enabled again if disabled, its deprecation and DeprecatedBy tag removed. */
  restore(caller: Caller, imageId: string): Promise<void>;
}

const LIVE: InstanceStateName[] = ['pending', 'running', 'stopping', 'stopped'];

export class Ec2Lifecycle implements LifecycleEc2 {
  private readonly deps: { store: MetadataStore; images: ImageService; controls: ImageControls; clock: Clock };
  constructor(deps: { store: MetadataStore; images: ImageService; controls: ImageControls; clock: Clock }) {
    this.deps = deps;
  }

  async liveInstances(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const i of await this.deps.store.instances.inStates(LIVE)) {
      const key = `${i.region}/${i.imageId}`;
      out.set(key, [...(out.get(key) ?? []), i.instanceId]);
    }
    return out;
  }

  async facts(region: string, imageId: string): Promise<AmiFactsWithDate | undefined> {
    const r = await this.deps.store.images.get(region, imageId);
    return r && this.toFacts(r);
  }

  private async toFacts(r: ImageRecord): Promise<AmiFactsWithDate> {
    const { image } = r;
    const owner = image.ownerId ?? '';
    const tags = (await this.deps.store.tags.forResources(owner, r.region, [image.imageId])).get(image.imageId) ?? [];
    const now = this.deps.clock.now().toISOString();
    return {
      imageId: image.imageId,
      region: r.region,
      accountId: owner,
      state: image.state ?? 'available',
      deprecated: image.deprecationTime !== undefined && image.deprecationTime <= now,
      public: isPublicImage(r),
      sharedAccounts: r.launchPermissions.map((p) => p.UserId).filter((x): x is string => !!x),
      tags: Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? ''])),
      lastLaunched: image.lastLaunchedTime,
      liveInstances: [],
      snapshotIds: (image.blockDeviceMappings ?? []).map((m) => m.ebs?.snapshotId).filter((x): x is string => !!x),
      createdAt: image.creationDate ?? now,
    };
  }

  async tagged(account: string, region: string, tagMap: Record<string, string>): Promise<AmiFactsWithDate[]> {
    const found = new Map<string, AmiFactsWithDate>();
    for (const [key, value] of Object.entries(tagMap)) {
      // The store's tag values are wildcard patterns; the exact match is checked on the facts.
      const scan = this.deps.store.images.scan({ region, visibleTo: { account }, ownerIds: [account], tagFilters: [{ key, values: [value] }] });
      for await (const r of scan) {
        if (found.has(r.image.imageId)) continue;
        const facts = await this.toFacts(r);
        if (facts.tags[key] === value) found.set(r.image.imageId, facts);
      }
    }
    return [...found.values()];
  }

  async deprecate(caller: Caller, imageId: string): Promise<void> {
    await this.deps.controls.enableDeprecation(caller, imageId, this.deps.clock.now());
    await this.deps.store.tags.put(caller.account, caller.region, [{ id: imageId, type: 'image' }], [DEPRECATED_BY_TAG]);
  }

  async disable(caller: Caller, imageId: string): Promise<void> {
    await this.deps.controls.disable(caller, imageId);
    // A disabled image has moved past deprecation: Image Builder removes its deprecation tag.
    await this.deps.store.tags.remove(caller.account, caller.region, [imageId], [DEPRECATED_BY_TAG]);
  }

  async restore(caller: Caller, imageId: string): Promise<void> {
    const r = await this.deps.images.findOwned(caller, imageId);
    if (r.image.state === 'disabled') await this.deps.controls.enable(caller, imageId);
    if (r.image.deprecationTime !== undefined) await this.deps.controls.disableDeprecation(caller, imageId);
    await this.deps.store.tags.remove(caller.account, caller.region, [imageId], [DEPRECATED_BY_TAG]);
  }

  async deregister(caller: Caller, imageId: string, withSnapshots: boolean): Promise<SnapshotOutcome[]> {
    const codes = await this.deps.images.deregister(caller, { ImageId: imageId, DeleteAssociatedSnapshots: withSnapshots });
    return (codes ?? []).map((c) => ({ snapshotId: c.SnapshotId ?? '', returnCode: c.ReturnCode ?? 'client-error' }));
  }
}
