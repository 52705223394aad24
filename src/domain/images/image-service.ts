// The image rules: registering, describing what a caller may see, sharing and deregistering.
import type { EbsEncryption } from '../encryption/ebs-encryption.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type {
  DeleteSnapshotReturnCode, DeregisterImageRequest, DescribeImageAttributeRequest, DescribeImagesRequest, Image, ImageAttribute, LaunchPermission,
  ModifyImageAttributeRequest, RegisterImageRequest, ResetImageAttributeRequest,
} from '../../protocol/ec2/types.generated.ts';
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { ImageQuery, ImageRecord, MetadataStore, StoredImage } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { checkFilterNames, matchesFilters, normalizeFilters } from '../filters.ts';
import { decodeToken, encodeToken, pageSize } from '../pagination.ts';
import { isAccountId, requireAnyImageId } from '../resource-ids.ts';
import { imageFilters } from './image-filters.ts';
import { checkBootImages } from './kernel-images.ts';
import { applyPermissionChange, permissionChange } from './launch-permissions.ts';
import { buildRegisteredImage, validateDescription } from './register-image.ts';
import { canSee, isPublicImage, visibilityOf } from './visibility.ts';
import type { ImageBlockPublicAccess } from './block-public-access.ts';
import { currentProtection, deregistrationBlock } from './deregistration-protection.ts';
import { tagsFor } from '../tags/tag-specifications.ts';
import { blockDevicesToWire, imageToWire } from './image-wire.ts';
import type { SnapshotService } from '../snapshots/snapshot-service.ts';
import type { AllowedImages } from './allowed-images.ts';
import { WireImageCache } from './wire-image-cache.ts';

const OWNER_ALIASES = new Set(['amazon', 'aws-marketplace', 'aws-backup-vault']);
/** Filters the store applies itself (see ImageQuery); the rest are matched here. */
const PUSHED_DOWN = (name: string) => name === 'name' || name.startsWith('tag:');

export interface ImageServiceDeps {
  store: MetadataStore;
  clock: Clock;
  ids: IdGenerator;
  snapshots: SnapshotService;
  /** Tells the AWS managed EBS key from others (images encrypted with it cannot be shared). */
  encryption?: EbsEncryption;
  /** The account's block public access for AMIs, checked before an image is made public. */
  publicAccess?: ImageBlockPublicAccess;
  /** The caller's Allowed AMIs settings: what DescribeImages hides and its ImageAllowed member. */
  allowedImages?: AllowedImages;
  /** Keeps a deregistered image when a retention rule says so (true: it went to the Recycle Bin). */
  recycleBin?: { retainImage(caller: Caller, record: ImageRecord): Promise<boolean> };
}

export class ImageService {
  private readonly deps: ImageServiceDeps;
  private readonly wireImages = new WireImageCache();
  constructor(deps: ImageServiceDeps) {
    this.deps = deps;
  }

  async register(caller: Caller, req: RegisterImageRequest): Promise<string> {
    const tags = tagsFor(req.TagSpecifications, ['image'], 'image');
    const image = buildRegisteredImage(req, {
      imageId: this.deps.ids.next('ami'),
      ownerId: caller.account,
      creationDate: this.deps.clock.now(),
    });
    await checkBootImages(this.deps.store, caller, { kernelId: image.kernelId, ramdiskId: image.ramdiskId });
    await this.bindSnapshots(caller, image);
    await this.deps.store.images.insert(
      { region: caller.region, image, launchPermissions: [] },
      { account: caller.account, tags },
      { requireSnapshots: mappedSnapshots(image) },
    );
    return image.imageId;
  }

  /**
   * Checks every EBS mapping against its snapshot: it exists in the region, the caller may use
   * it, it is completed, and the volume is not smaller; the size and encryption default to the
   * snapshot's, as AWS does. CreateImage passes the snapshots it is about to take as `taking`.
   */
  async bindSnapshots(caller: Caller, image: ImageRecord['image'], taking: ReadonlySet<string> = new Set()): Promise<void> {
    for (const m of image.blockDeviceMappings ?? []) {
      const ebs = m.ebs;
      if (!ebs?.snapshotId || taking.has(ebs.snapshotId)) continue;
      const snap = await this.deps.snapshots.findUsable(caller, ebs.snapshotId);
      if (snap.state !== 'completed') throw Errors.snapshotIncorrectState(snap.snapshotId, snap.state);
      if (ebs.volumeSize !== undefined && ebs.volumeSize < snap.volumeSize) {
        throw Errors.invalidBlockDeviceMapping(
          `Volume of size ${ebs.volumeSize}GB is smaller than snapshot '${snap.snapshotId}', expect size >= ${snap.volumeSize}GB`);
      }
      ebs.volumeSize ??= snap.volumeSize;
      ebs.encrypted = snap.encrypted;
      if (snap.kmsKeyId) ebs.kmsKeyId = snap.kmsKeyId;
    }
  }

  /** The image if the caller may see it; AWS's NotFound otherwise (never revealing others'). */
  async findVisible(caller: Caller, imageId: string): Promise<ImageRecord> {
    requireAnyImageId(imageId);
    const record = await this.deps.store.images.get(caller.region, imageId);
    if (!record || !canSee(caller, record)) throw Errors.amiNotFound(imageId);
    return record;
  }

  /** The image if the caller owns it: visible but not owned is AuthFailure, as in AWS. */
  async findOwned(caller: Caller, imageId: string): Promise<ImageRecord> {
    const record = await this.findVisible(caller, imageId);
    if (record.image.ownerId !== caller.account) throw Errors.authFailureOnImage(imageId);
    return record;
  }

  async describe(caller: Caller, req: DescribeImagesRequest): Promise<{ Images: Image[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, imageFilters);
    if (req.ImageIds?.length && req.MaxResults !== undefined) {
      throw Errors.invalidParameterCombination('The parameter imageIdsSet cannot be used with the parameter maxResults');
    }
    const limit = pageSize(req.MaxResults, { min: 1, max: 1000, default: Number.MAX_SAFE_INTEGER });
    // Each distinct id once: 40,000 copies of one id took seconds of lookups in a single request.
    for (const id of new Set(req.ImageIds ?? [])) await this.findVisible(caller, id);

    const query = this.queryFor(caller, req, filters, decodeToken(req.NextToken));
    if (req.MaxResults !== undefined) query.expectedCount = limit + 1;
    const localFilters = filters.filter((f) => !PUSHED_DOWN(f.name));
    // tag-key and tag-value are matched here, against the caller's own tags on each image: the
    // store pushes down only tag:KEY, and matching them against no tags would never match.
    const needsTags = localFilters.some((f) => f.name === 'tag-key' || f.name === 'tag-value');
    const now = this.deps.clock.now().toISOString();
    const allowed = await this.deps.allowedImages?.policyFor(caller);
    const page: ImageRecord[] = [];
    let more = false;
    for await (const record of this.deps.store.images.scan(query)) {
      if (!this.listed(caller, req, record, now) || (allowed && !allowed.admits(record))) continue;
      const id = record.image.imageId;
      const own = needsTags ? (await this.deps.store.tags.forResources(caller.account, caller.region, [id])).get(id) ?? [] : [];
      if (!matchesFilters({ ...record, imageAllowed: allowed?.allows(record) }, own, localFilters, imageFilters)) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(record);
    }
    const tags = await this.deps.store.tags.forResources(caller.account, caller.region, page.map((r) => r.image.imageId));
    const at = new Date(now);
    return {
      Images: page.map((r) => {
        const own = tags.get(r.image.imageId);
        const imageAllowed = allowed?.reported(r);
        return this.wireImages.wire(r, own, imageAllowed, currentProtection(r.image.deregistrationProtection, at),
          () => toWire(r, own, imageAllowed, at));
      }),
      NextToken: more ? encodeToken(page[page.length - 1].image.imageId) : undefined,
    };
  }

  private queryFor(caller: Caller, req: DescribeImagesRequest, filters: { name: string; values: string[] }[], after?: string): ImageQuery {
    const query: ImageQuery = { region: caller.region, visibleTo: visibilityOf(caller), afterImageId: after };
    if (req.ImageIds?.length) query.imageIds = req.ImageIds;
    if (req.Owners?.length) {
      query.ownerIds = [];
      query.ownerAliases = [];
      for (const o of req.Owners) {
        if (o === 'self') query.ownerIds.push(caller.account);
        else if (isAccountId(o)) query.ownerIds.push(o);
        else if (OWNER_ALIASES.has(o)) query.ownerAliases.push(o);
        else throw Errors.invalidUserIdMalformed(o);
      }
    }
    if (req.ExecutableUsers?.length) {
      const by = { accounts: [] as string[], includePublic: false, orgs: [] as string[] };
      for (const u of req.ExecutableUsers) {
        if (u === 'all') by.includePublic = true;
        else if (u === 'self' || u === caller.account) {
          by.accounts.push(caller.account);
          by.orgs.push(...[caller.org?.organizationArn, ...(caller.org?.organizationalUnitArns ?? [])].filter((x): x is string => !!x));
        } else if (isAccountId(u)) by.accounts.push(u);
        else throw Errors.invalidUserIdMalformed(u);
      }
      query.executableBy = by;
    }
    for (const f of filters) {
      if (f.name === 'name') query.namePatterns = [...(query.namePatterns ?? []), ...f.values];
      if (f.name.startsWith('tag:')) (query.tagFilters ??= []).push({ key: f.name.slice(4), values: f.values });
    }
    return query;
  }

  /** Deprecated and disabled images are left out unless asked for, as AWS does. */
  private listed(caller: Caller, req: DescribeImagesRequest, r: ImageRecord, now: string): boolean {
    const owner = r.image.ownerId === caller.account;
    if (r.image.state === 'disabled' && !(owner && req.IncludeDisabled)) return false;
    const deprecated = r.image.deprecationTime !== undefined && r.image.deprecationTime <= now;
    if (deprecated && !owner && !req.IncludeDeprecated && !req.ImageIds?.length) return false;
    return true;
  }

  /**
   * Removes the image. Its snapshots stay unless DeleteAssociatedSnapshots is set; then each is
   * deleted unless another image still uses it ('skipped'), as AWS reports per snapshot.
   */
  async deregister(caller: Caller, req: DeregisterImageRequest): Promise<DeleteSnapshotReturnCode[] | undefined> {
    const record = await this.findOwned(caller, req.ImageId);
    const blocked = deregistrationBlock(record.image, this.deps.clock.now());
    if (blocked) throw Errors.imageDeregistrationProtected(req.ImageId, blocked.until);
    if (!(await this.deps.recycleBin?.retainImage(caller, record))) await this.deps.store.images.delete(caller.region, req.ImageId);
    if (!req.DeleteAssociatedSnapshots) return undefined;
    const results: DeleteSnapshotReturnCode[] = [];
    const ids = new Set((record.image.blockDeviceMappings ?? []).map((m) => m.ebs?.snapshotId).filter((x): x is string => !!x));
    for (const SnapshotId of ids) {
      try {
        await this.deps.snapshots.delete(caller, { SnapshotId });
        results.push({ SnapshotId, ReturnCode: 'success' });
      } catch (err) {
        const code = (err as { code?: string }).code;
        results.push({ SnapshotId, ReturnCode: code === 'InvalidSnapshot.InUse' ? 'skipped' : code === 'AuthFailure' ? 'missing-permissions' : 'client-error' });
      }
    }
    return results;
  }

  async describeAttribute(caller: Caller, req: DescribeImageAttributeRequest): Promise<ImageAttribute> {
    const { image, launchPermissions } = await this.findOwned(caller, req.ImageId);
    const value = (v: string | undefined) => (v === undefined ? {} : { Value: v });
    const out: ImageAttribute = { ImageId: image.imageId };
    switch (req.Attribute) {
      case 'description': out.Description = value(image.description); break;
      case 'kernel': out.KernelId = value(image.kernelId); break;
      case 'ramdisk': out.RamdiskId = value(image.ramdiskId); break;
      case 'launchPermission': out.LaunchPermissions = launchPermissions; break;
      case 'productCodes': out.ProductCodes = imageToWire(image).ProductCodes ?? []; break;
      case 'blockDeviceMapping': out.BlockDeviceMappings = blockDevicesToWire(image.blockDeviceMappings) ?? []; break;
      case 'sriovNetSupport': out.SriovNetSupport = value(image.sriovNetSupport); break;
      case 'bootMode': out.BootMode = value(image.bootMode); break;
      case 'tpmSupport': out.TpmSupport = value(image.tpmSupport); break;
      case 'uefiData': out.UefiData = {}; break;
      case 'lastLaunchedTime': out.LastLaunchedTime = value(image.lastLaunchedTime); break;
      case 'imdsSupport': out.ImdsSupport = value(image.imdsSupport); break;
      case 'deregistrationProtection': out.DeregistrationProtection = value(currentProtection(image.deregistrationProtection, this.deps.clock.now())); break;
    }
    return out;
  }

  async modifyAttribute(caller: Caller, req: ModifyImageAttributeRequest): Promise<void> {
    const record = await this.findOwned(caller, req.ImageId);
    const attr = req.Attribute;
    const description = req.Description?.Value ?? (attr === 'description' ? req.Value : undefined);
    const imds = req.ImdsSupport?.Value ?? (attr === 'imdsSupport' ? req.Value : undefined);
    const change = permissionChange(req);
    if (attr !== undefined && !['description', 'launchPermission', 'imdsSupport'].includes(attr)) {
      throw Errors.invalidParameterValue(`Value (${attr}) for parameter attribute is invalid. Valid values: description, imdsSupport, launchPermission`);
    }
    if (description === undefined && imds === undefined && !change) {
      throw Errors.invalidParameterCombination('No attributes specified.');
    }
    if (description !== undefined) {
      validateDescription(description);
      record.image.description = description;
    }
    if (imds !== undefined) {
      if (imds !== 'v2.0') throw Errors.invalidParameterValue(`Value (${imds}) for parameter imdsSupport is invalid. Valid values: v2.0`);
      record.image.imdsSupport = 'v2.0';
    }
    if (change) {
      if (change.add.length && record.image.state === 'disabled') throw Errors.disabledImageNotShareable(req.ImageId);
      await this.deps.publicAccess?.checkShare(caller, record, change.add);
      await this.checkShareable(caller, record.image, change.add);
      record.launchPermissions = applyPermissionChange(record.launchPermissions, change);
    }
    await this.deps.store.images.update(record);
  }

  /**
   * EC2's rules for encrypted images: never public; never shared with another account when a
   * snapshot is under the AWS managed key (aws/ebs), whose policy admits only its own account.
   */
  private async checkShareable(caller: Caller, image: StoredImage, add: LaunchPermission[]): Promise<void> {
    if (!add.length) return;
    const encrypted: SnapshotRecord[] = [];
    for (const m of image.blockDeviceMappings ?? []) {
      const s = m.ebs?.snapshotId ? await this.deps.store.snapshots.get(caller.region, m.ebs.snapshotId) : undefined;
      if (s?.encrypted) encrypted.push(s);
    }
    if (!encrypted.length) return;
    if (add.some((p) => p.Group === 'all')) throw Errors.encryptedNotPublic('Images with encrypted snapshots cannot be made public.');
    if (!add.some((p) => p.UserId !== undefined || p.OrganizationArn !== undefined || p.OrganizationalUnitArn !== undefined)) return;
    for (const s of encrypted) {
      if (await this.deps.encryption?.keys.isAwsManaged(caller, s.kmsKeyId)) {
        throw Errors.defaultKeyNotShareable(`Images with snapshots encrypted with the EBS default key cannot be shared (snapshot ${s.snapshotId}).`);
      }
    }
  }

  async resetAttribute(caller: Caller, req: ResetImageAttributeRequest): Promise<void> {
    const record = await this.findOwned(caller, req.ImageId);
    // ResetImageAttribute supports only launchPermission (the model's enum enforces it).
    record.launchPermissions = [];
    await this.deps.store.images.update(record);
  }
}

/** The snapshots an image's EBS mappings name, except those CreateImage is about to take. */
export function mappedSnapshots(image: ImageRecord['image'], taking: ReadonlySet<string> = new Set()): string[] {
  return (image.blockDeviceMappings ?? []).map((m) => m.ebs?.snapshotId).filter((id): id is string => !!id && !taking.has(id));
}

/** The Image shape a caller sees: the stored facts, public flag and the caller's own tags. */
export function toWire(r: ImageRecord, tags: { Key?: string; Value?: string }[] | undefined, imageAllowed?: boolean, now?: Date): Image {
  const protection = now ? currentProtection(r.image.deregistrationProtection, now) : r.image.deregistrationProtection;
  return { ...imageToWire(r.image), DeregistrationProtection: protection, Public: isPublicImage(r), Tags: tags?.length ? tags : undefined, ImageAllowed: imageAllowed };
}
