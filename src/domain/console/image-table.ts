// The console's image table: the EC2 console's views (owned by me, private, public, shared with
// me, disabled, deprecated, Recycle Bin) with filters, a sort and keyset pages. The store sorts,
// filters and pages (ImageRepository.table); this file says what each view means, in
// DescribeImages' own rules: an image is listed only if the reader may see it (its own, public,
// or shared with its account, organization or OU), others' deprecated images only when asked
// for (the deprecated view), disabled images only to their owner (the disabled view), and, with
// Allowed AMIs enabled, not-allowed images not at all.
import type { ImageTableQuery, ImageTableSort } from '../../ports/image-table.ts';
import { IMAGE_TABLE_COUNT_LIMIT, sortValueOf } from '../../ports/image-table.ts';
import type { ImageRecord, MetadataStore } from '../../ports/metadata-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import type { AllowedImages, AllowedImagesPolicy } from '../images/allowed-images.ts';
import { isPublicImage, visibilityOf } from '../images/visibility.ts';
import { matchesWildcard } from '../filters.ts';

export const IMAGE_VIEWS = ['owned', 'private', 'public', 'shared', 'disabled', 'deprecated', 'recycle-bin'] as const;
export type ImageView = typeof IMAGE_VIEWS[number];
export const IMAGE_SORTS: readonly ImageTableSort[] = ['name', 'imageId', 'creationDate', 'owner', 'state', 'architecture'];
export const MAX_PAGE_SIZE = 200;
const DEFAULT_PAGE_SIZE = 50;

export interface ImageTableRequest {
  view: ImageView;
  /** A substring of the name, or an EC2 wildcard pattern when it holds `*` or `?`. */
  name?: string;
  imageId?: string;
  /** `Key=Value` or `Key`: a tag the reader set. */
  tag?: string;
  architecture?: string;
  platform?: string;
  owner?: string;
  sort: ImageTableSort;
  descending: boolean;
  pageSize: number;
  cursor?: string;
}

export interface ImageTableRow {
  imageId: string;
  name: string;
  description?: string;
  ownerId: string;
  ownerAlias?: string;
  state: string;
  public: boolean;
  architecture?: string;
  platform: string;
  rootDeviceType?: string;
  creationDate: string;
  deprecationTime?: string;
  /** Allowed AMIs' verdict for the reader (absent while Allowed AMIs is disabled). */
  imageAllowed?: boolean;
  /** The reader's own tags on the image. */
  tags: { Key: string; Value: string }[];
  /** For an image in the Recycle Bin: when the bin deletes it. */
  recycleBinExpires?: string;
}

export interface ImageTablePage {
  items: ImageTableRow[];
  /** How many images the view holds, counted up to IMAGE_TABLE_COUNT_LIMIT. */
  total: number;
  /** More than `total` match (the count stopped at IMAGE_TABLE_COUNT_LIMIT). */
  totalIsLowerBound?: boolean;
  /**
   * True when Allowed AMIs (enabled) hid images of this page after the count was taken: the
   * count is then of the images before that check, an upper bound.
   */
  totalIsUpperBound?: boolean;
  nextCursor?: string;
}

/** Parses the view's query string; bad values are InvalidParameterValue, as the API's. */
export function parseImageTableRequest(params: URLSearchParams): ImageTableRequest {
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const v = params.get(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(v)) throw Errors.invalidParameterValue(`Value (${v}) for parameter ${name} is invalid. Expected one of: ${allowed.join(', ')}.`);
    return v as T;
  };
  const size = Number(params.get('pageSize') ?? DEFAULT_PAGE_SIZE);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw Errors.invalidParameterValue(`Value (${params.get('pageSize')}) for parameter pageSize is invalid. Expecting a value between 1 and ${MAX_PAGE_SIZE}.`);
  }
  const text = (name: string) => params.get(name) || undefined;
  return {
    view: oneOf('view', IMAGE_VIEWS, 'owned'),
    name: text('name'), imageId: text('imageId'), tag: text('tag'), architecture: text('architecture'), platform: text('platform'), owner: text('owner'),
    sort: oneOf('sort', IMAGE_SORTS, 'creationDate'),
    descending: oneOf('order', ['asc', 'desc'], params.get('sort') ? 'asc' : 'desc') === 'desc',
    pageSize: size,
    cursor: text('cursor'),
  };
}

interface Cursor { value: string; imageId: string }

function encodeCursor(c: Cursor, req: ImageTableRequest): string {
  return Buffer.from(JSON.stringify({ v: c.value, i: c.imageId, s: req.sort, d: req.descending })).toString('base64url');
}

/** A cursor is valid only for the sort and order it was made for. */
function decodeCursor(token: string, req: ImageTableRequest): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; i?: unknown; s?: unknown; d?: unknown };
    if (typeof c.v === 'string' && typeof c.i === 'string' && c.s === req.sort && c.d === req.descending) return { value: c.v, imageId: c.i };
  } catch {
    // AWS's error below
  }
  throw Errors.invalidNextToken(token);
}

/** What each view asks of the store; `now` decides what is deprecated. */
export function scopeOf(view: Exclude<ImageView, 'recycle-bin'>, now: string): Pick<ImageTableQuery, 'scope' | 'isPublic' | 'state' | 'deprecatedBy' | 'hideOthersDeprecatedBy'> {
  const live = { isNot: 'disabled' as const };
  switch (view) {
    case 'owned': return { scope: 'own', state: live };
    case 'private': return { scope: 'own', isPublic: false, state: live };
    case 'public': return { scope: 'public', state: live, hideOthersDeprecatedBy: now };
    case 'shared': return { scope: 'shared', state: live, hideOthersDeprecatedBy: now };
    case 'disabled': return { scope: 'own', state: { is: 'disabled' } };
    case 'deprecated': return { scope: 'visible', state: live, deprecatedBy: now };
  }
}

function tagFilter(tag: string | undefined): ImageTableQuery['tag'] {
  if (!tag) return undefined;
  const eq = tag.indexOf('=');
  return eq < 0 ? { key: tag } : { key: tag.slice(0, eq), value: tag.slice(eq + 1) };
}

const isPattern = (name: string) => /[*?]/.test(name);

/** The platform filter's values are DescribeImages' (`windows`); stored images say `Windows`, or nothing for Linux. */
const storedPlatform = (p: string | undefined) => (p === 'windows' ? 'Windows' : p);

export interface ImageTableDeps { store: MetadataStore; clock: Clock; allowedImages?: AllowedImages }

export class ImageTable {
  private readonly deps: ImageTableDeps;
  constructor(deps: ImageTableDeps) {
    this.deps = deps;
  }

  async page(caller: Caller, req: ImageTableRequest): Promise<ImageTablePage> {
    if (req.view === 'recycle-bin') return this.binPage(caller, req);
    const query: ImageTableQuery = {
      region: caller.region, visibleTo: visibilityOf(caller), ...scopeOf(req.view, this.deps.clock.now().toISOString()),
      nameContains: req.name && !isPattern(req.name) ? req.name : undefined,
      namePattern: req.name && isPattern(req.name) ? req.name : undefined,
      imageIds: req.imageId ? [req.imageId] : undefined,
      tag: tagFilter(req.tag), architecture: req.architecture, platform: storedPlatform(req.platform), ownerId: req.owner,
      sort: req.sort, descending: req.descending,
      after: req.cursor ? decodeCursor(req.cursor, req) : undefined,
      limit: req.pageSize + 1,
    };
    const policy = await this.deps.allowedImages?.policyFor(caller);
    // Own images are always allowed; only others' can be hidden by Allowed AMIs, after the store's page.
    const filtered = policy?.state === 'enabled' && query.scope !== 'own';
    const { records, total } = filtered ? await this.admittedPage(query, policy) : await this.deps.store.images.table(query);
    const more = records.length > req.pageSize;
    const shown = records.slice(0, req.pageSize);
    const last = shown[shown.length - 1];
    const capped = total > IMAGE_TABLE_COUNT_LIMIT;
    return {
      items: await this.rows(caller, shown, policy),
      total: Math.min(total, IMAGE_TABLE_COUNT_LIMIT),
      ...(capped ? { totalIsLowerBound: true } : {}),
      ...(filtered && !capped ? { totalIsUpperBound: true } : {}),
      nextCursor: more && last ? encodeCursor({ value: sortValueOf(last, req.sort), imageId: last.image.imageId }, req) : undefined,
    };
  }

  /** Reads the store's pages until enough admitted images fill this one (or the images run out). */
  private async admittedPage(query: ImageTableQuery, policy: AllowedImagesPolicy): Promise<{ records: ImageRecord[]; total: number }> {
    const records: ImageRecord[] = [];
    let total = 0;
    let q = query;
    for (;;) {
      const page = await this.deps.store.images.table(q);
      if (q === query) total = page.total;
      records.push(...page.records.filter((r) => policy.admits(r)));
      const last = page.records[page.records.length - 1];
      if (records.length >= query.limit || page.records.length < q.limit || !last) break;
      q = { ...query, after: { value: sortValueOf(last, query.sort), imageId: last.image.imageId } };
    }
    return { records: records.slice(0, query.limit), total };
  }

  private async rows(caller: Caller, records: ImageRecord[], policy?: AllowedImagesPolicy, expires?: Map<string, string>): Promise<ImageTableRow[]> {
    const tags = await this.deps.store.tags.forResources(caller.account, caller.region, records.map((r) => r.image.imageId));
    return records.map((r) => {
      const i = r.image;
      return {
        imageId: i.imageId, name: i.name, description: i.description, ownerId: i.ownerId, ownerAlias: i.ownerAlias,
        state: i.state, public: isPublicImage(r), architecture: i.architecture, platform: i.platform ?? 'Linux/UNIX',
        rootDeviceType: i.rootDeviceType, creationDate: i.creationDate, deprecationTime: i.deprecationTime,
        imageAllowed: policy?.reported(r),
        tags: (tags.get(i.imageId) ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
        recycleBinExpires: expires?.get(i.imageId),
      };
    });
  }

  /**
   * The account's images in the Recycle Bin. The bin holds only what retention rules kept, for
   * their retention period, so it is read whole and sorted here; tags are those kept with each.
   */
  private async binPage(caller: Caller, req: ImageTableRequest): Promise<ImageTablePage> {
    const now = this.deps.clock.now().toISOString();
    const entries = [];
    for (let after: string | undefined; ;) {
      const batch = await this.deps.store.recycleBin.listBinned({ account: caller.account, region: caller.region, resourceType: 'EC2_IMAGE', afterId: after, limit: 1000 });
      entries.push(...batch.filter((e) => e.exitTime > now));
      if (batch.length < 1000) break;
      after = batch[batch.length - 1].resourceId;
    }
    const tag = tagFilter(req.tag);
    const matching = entries.flatMap((e) => (e.resourceType === 'EC2_IMAGE' ? [e] : [])).filter((e) => {
      const i = e.image.image;
      if (req.name && !(isPattern(req.name) ? matchesWildcard(req.name, i.name) : i.name.includes(req.name))) return false;
      if (req.imageId && i.imageId !== req.imageId) return false;
      if (req.architecture && i.architecture !== req.architecture) return false;
      if (req.platform && (i.platform ?? 'linux') !== storedPlatform(req.platform)) return false;
      if (tag && !e.tags.some((t) => t.Key === tag.key && (tag.value === undefined || t.Value === tag.value))) return false;
      return true;
    });
    const key = (r: ImageRecord) => [sortValueOf(r, req.sort), r.image.imageId] as const;
    const sign = req.descending ? -1 : 1;
    const compare = (a: readonly [string, string], b: readonly [string, string]) => sign * (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
    const sorted = matching.sort((a, b) => compare(key(a.image), key(b.image)));
    const after = req.cursor ? decodeCursor(req.cursor, req) : undefined;
    const rest = after ? sorted.filter((e) => compare(key(e.image), [after.value, after.imageId]) > 0) : sorted;
    const shown = rest.slice(0, req.pageSize);
    const last = shown[shown.length - 1];
    const rows = (await this.rows(caller, shown.map((e) => e.image), undefined, new Map(shown.map((e) => [e.resourceId, e.exitTime]))))
      .map((row, k) => ({ ...row, tags: shown[k].tags.map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })) }));
    return {
      items: rows,
      total: matching.length,
      nextCursor: rest.length > req.pageSize && last ? encodeCursor({ value: sortValueOf(last.image, req.sort), imageId: last.resourceId }, req) : undefined,
    };
  }
}
