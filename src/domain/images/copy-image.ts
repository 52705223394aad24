// CopyImage, called in the destination region: a new image owned by the caller, whose EBS
// snapshots are new copies of the source's, made in the background by the snapshot copier
// (incremental: only blocks the destination region lacks move). The image is `pending` until
// every copy completed, then `available` (PendingImages settles it), or `failed` if one failed.
import { createHash } from 'node:crypto';
import type { CopyImageRequest, Tag } from '../../protocol/ec2/types.generated.ts';
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { ImageBlockDevice, ImageRecord, MetadataStore, StoredImage } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { Caller } from '../context.ts';
import { Errors, ServiceError } from '../errors.ts';
import { findRegion } from '../regions.ts';
import { requireImageId } from '../resource-ids.ts';
import type { SnapshotService } from '../snapshots/snapshot-service.ts';
import { checkTags, tagsFor } from '../tags/tag-specifications.ts';
import type { AllowedImages } from './allowed-images.ts';
import { counterpartIn, type BootImages } from './kernel-images.ts';
import type { PendingImages } from './pending-images.ts';
import { validateDescription, validateImageName } from './register-image.ts';
import { canSee } from './visibility.ts';

export interface ImageCopiesDeps {
  store: MetadataStore;
  clock: Clock;
  ids: IdGenerator;
  snapshots: SnapshotService;
  /** Settles images without EBS snapshots at once (the rest settle as their copies complete). */
  pendingImages: PendingImages;
  /** Allowed AMIs: while enabled, an image the destination region's settings do not allow cannot be copied there. */
  allowedImages?: AllowedImages;
}

/** Image members that describe the source's life, not the image: a copy starts without them. */
const NOT_COPIED = ['ownerAlias', 'stateReason', 'deprecationTime', 'deregistrationProtection', 'lastLaunchedTime', 'sourceInstanceId'] as const;

export class ImageCopies {
  private readonly deps: ImageCopiesDeps;
  constructor(deps: ImageCopiesDeps) {
    this.deps = deps;
  }

  async copy(caller: Caller, req: CopyImageRequest): Promise<{ ImageId: string }> {
    // An empty KmsKeyId is no key, as EC2 takes it: SDKs that send every field of their input
    // (the Go SDK v1 under Packer's amazon-ebs) send `KmsKeyId=` with `Encrypted=false`.
    if (req.KmsKeyId === '') req = { ...req, KmsKeyId: undefined };
    if (!req.Name) throw Errors.missingParameter('Name');
    validateImageName(req.Name);
    validateDescription(req.Description);
    if (!findRegion(req.SourceRegion)) throw Errors.invalidParameterValue(`Invalid source region: ${req.SourceRegion}`);
    requireImageId(req.SourceImageId);
    if (req.DestinationOutpostArn !== undefined || req.DestinationAvailabilityZone !== undefined || req.DestinationAvailabilityZoneId !== undefined) {
      throw Errors.unsupportedOperation('amiforge has no Outposts or Local Zones: copy to a Region instead.');
    }
    // AWS: "If you specify a KMS key, you must also set the encrypted state to true."
    if (req.KmsKeyId !== undefined && req.Encrypted !== true) {
      throw Errors.invalidParameterDependency('The parameter KmsKeyId requires the parameter Encrypted to be set.');
    }
    const imageTags = tagsFor(req.TagSpecifications, ['image', 'snapshot'], 'image');
    const snapshotTags = tagsFor(req.TagSpecifications, ['image', 'snapshot'], 'snapshot');
    const digest = requestDigest(req);
    if (req.ClientToken) {
      const prior = await this.repeated(caller, req.ClientToken, digest);
      if (prior) return prior;
    }

    const source = await this.findCopyable(caller, req);
    const boot = await this.bootImagesIn(caller, req, source);
    const imageId = this.deps.ids.next('ami');
    const copies = await this.planCopies(caller, req, source, imageId);
    const image = { ...this.imageOf(caller, req, source, imageId, copies), kernelId: boot.kernelId, ramdiskId: boot.ramdiskId };
    const tags = req.CopyImageTags ? await this.withSourceTags(caller, req, imageTags) : imageTags;
    const record: ImageRecord = { region: caller.region, image, launchPermissions: [] };
    if (req.ClientToken) record.clientToken = { token: req.ClientToken, requestDigest: digest };
    // Until its copies are stored, no other node may take the image for one whose node died.
    const made = await this.deps.pendingImages.making(caller.region, imageId);
    try {
      try {
        await this.deps.store.images.insert(record, { account: caller.account, tags });
      } catch (err) {
        // A concurrent request with the same token (and name) got there first: it is this request.
        const prior = req.ClientToken && await this.repeated(caller, req.ClientToken, digest);
        if (prior) return prior;
        throw err;
      }
      try {
        await this.deps.snapshots.startCopies(caller, [...copies.values()].map((c) => ({ record: c, tags: snapshotTags })));
      } catch (err) {
        // Nothing half-written: the copies already stored go with the image.
        for (const c of copies.values()) await this.deps.store.snapshots.delete(caller.region, c.snapshotId);
        await this.deps.store.images.delete(caller.region, imageId);
        throw err;
      }
    } finally {
      await made();
    }
    if (!copies.size) await this.deps.pendingImages.settle(caller.region, imageId);
    return { ImageId: imageId };
  }

  /** The image an earlier request with this token made, or AWS's mismatch error if it asked otherwise. */
  private async repeated(caller: Caller, token: string, digest: string): Promise<{ ImageId: string } | undefined> {
    const prior = await this.deps.store.images.findByClientToken(caller.region, caller.account, token);
    if (!prior) return undefined;
    if (prior.clientToken?.requestDigest !== digest) throw Errors.idempotentParameterMismatch();
    return { ImageId: prior.image.imageId };
  }

  /**
   * The source image, if the caller may launch it and read its storage: an image shared by
   * another account needs its snapshots shared too (createVolumePermission), and one from AWS
   * Marketplace cannot be copied to another account at all, as AWS rules.
   */
  private async findCopyable(caller: Caller, req: CopyImageRequest): Promise<ImageRecord> {
    const source = await this.deps.store.images.get(req.SourceRegion, req.SourceImageId);
    if (!source || !canSee(caller, source)) throw Errors.amiNotFound(req.SourceImageId);
    // Disabled, pending or failed images have nothing a copy could take yet (or any more).
    if (source.image.state !== 'available') throw Errors.amiNotAvailable(source.image.imageId, source.image.state);
    if (source.image.ownerId === caller.account) return source;
    // A copy is the caller's own image, which Allowed AMIs never restricts: copying must not be a
    // way around the criteria of the region the copy is made in.
    await this.deps.allowedImages?.checkUse(caller, source);
    if (source.image.productCodes?.some((p) => p.productCodeType === 'marketplace')) throw Errors.copyImageMarketplace();
    // Through SnapshotService's own check, so that an owner's block-all-sharing, which hides its
    // public snapshots from every other account, keeps them from being copied through an image too.
    for (const m of source.image.blockDeviceMappings ?? []) {
      if (!m.ebs?.snapshotId) continue;
      try {
        await this.deps.snapshots.findUsable(caller, m.ebs.snapshotId, req.SourceRegion);
      } catch (err) {
        if (err instanceof ServiceError && err.code === 'InvalidSnapshot.NotFound') throw Errors.copyImageStorageDenied();
        throw err;
      }
    }
    return source;
  }

  /**
   * A paravirtual image's kernel and ramdisk, as the destination region names them: kernel ids
   * differ per region, so each maps to the destination's image of the same owner and manifest
   * (the catalogue has one per region). None there: the copy is refused, since it could not boot.
   */
  private async bootImagesIn(caller: Caller, req: CopyImageRequest, source: ImageRecord): Promise<BootImages> {
    const out: BootImages = {};
    for (const [role, id] of [['kernel', source.image.kernelId], ['ramdisk', source.image.ramdiskId]] as const) {
      if (!id) continue;
      const mapped = await counterpartIn(this.deps.store, caller, { source: req.SourceRegion, destination: caller.region, id });
      if (!mapped) throw Errors.bootImageNotInRegion(id, role, caller.region);
      out[role === 'kernel' ? 'kernelId' : 'ramdiskId'] = mapped;
    }
    return out;
  }

  /** One planned snapshot copy per distinct EBS snapshot of the source, keyed by the source's id. */
  private async planCopies(caller: Caller, req: CopyImageRequest, source: ImageRecord, imageId: string): Promise<Map<string, SnapshotRecord>> {
    const copies = new Map<string, SnapshotRecord>();
    const taskStart = this.deps.clock.now().getTime();
    for (const m of source.image.blockDeviceMappings ?? []) {
      const id = m.ebs?.snapshotId;
      if (!id || copies.has(id)) continue;
      const snap = await this.deps.store.snapshots.get(req.SourceRegion, id);
      if (!snap) throw Errors.amiNotAvailable(source.image.imageId, `missing its snapshot ${id}`);
      copies.set(id, await this.deps.snapshots.planCopy(caller, {
        source: snap,
        // Encrypted=false (or absent) keeps each snapshot's own state: copies never decrypt.
        encrypted: req.Encrypted ? true : undefined,
        kmsKeyId: req.KmsKeyId,
        // The description AWS gives the snapshots CopyImage makes.
        description: `Copied for DestinationAmi ${imageId} from SourceAmi ${source.image.imageId} for SourceSnapshot ${id}. Task created on ${taskStart}.`,
      }));
    }
    return copies;
  }

  private imageOf(caller: Caller, req: CopyImageRequest, source: ImageRecord, imageId: string, copies: Map<string, SnapshotRecord>): StoredImage {
    const image: StoredImage = structuredClone(source.image);
    for (const k of NOT_COPIED) delete image[k];
    image.blockDeviceMappings = (source.image.blockDeviceMappings ?? []).map((m): ImageBlockDevice => {
      const copy = m.ebs?.snapshotId ? copies.get(m.ebs.snapshotId) : undefined;
      if (!copy) return structuredClone(m);
      const ebs = { ...m.ebs, snapshotId: copy.snapshotId, encrypted: copy.encrypted };
      if (copy.kmsKeyId) ebs.kmsKeyId = copy.kmsKeyId;
      else delete ebs.kmsKeyId;
      return { ...m, ebs };
    });
    return {
      ...image,
      imageId,
      ownerId: caller.account,
      name: req.Name,
      description: req.Description ?? source.image.description,
      // An EBS-backed image's location is its owner and name; an instance store-backed one keeps its bundle's.
      imageLocation: image.rootDeviceType === 'instance-store' ? image.imageLocation : `${caller.account}/${req.Name}`,
      creationDate: this.deps.clock.now().toISOString(),
      state: 'pending',
      sourceImageId: source.image.imageId,
      sourceImageRegion: req.SourceRegion,
    };
  }

  /** CopyImageTags: the caller's own user tags on the source, under the TagSpecifications' ones. */
  private async withSourceTags(caller: Caller, req: CopyImageRequest, requested: Tag[]): Promise<Tag[]> {
    const own = (await this.deps.store.tags.forResources(caller.account, req.SourceRegion, [req.SourceImageId])).get(req.SourceImageId) ?? [];
    const byKey = new Map<string, Tag>();
    for (const t of own) if (!t.Key?.toLowerCase().startsWith('aws:')) byKey.set(t.Key!, t);
    for (const t of requested) byKey.set(t.Key!, t);
    return checkTags([...byKey.values()]);
  }
}

/** What makes two CopyImage requests the same request (all but the token itself and DryRun). */
function requestDigest(req: CopyImageRequest): string {
  const { ClientToken: _token, DryRun: _dryRun, ...rest } = req;
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sorted(x)]));
    return v;
  };
  return createHash('sha256').update(JSON.stringify(sorted(rest))).digest('hex');
}
