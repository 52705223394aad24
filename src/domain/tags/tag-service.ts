// CreateTags, DeleteTags and DescribeTags. Tags belong to the account that sets them; a
// resource can be tagged by anyone who can see it (AWS lets you tag an AMI shared with you).
import type {
  CreateTagsRequest, DeleteTagsRequest, DescribeTagsRequest, Tag, TagDescription,
} from '../../protocol/ec2/types.generated.ts';
import type { MetadataStore, TagRecord } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { checkFilterNames, matchesFilters, normalizeFilters, type FilterMap } from '../filters.ts';
import { decodeToken, encodeToken, pageSize } from '../pagination.ts';
import { resourceTypeOf } from '../resource-ids.ts';
import { checkTags } from './tag-specifications.ts';

/** Confirms a resource of a given type exists and is visible to the caller, or throws AWS's NotFound. */
export type ResourceLocator = (caller: Caller, resourceId: string) => Promise<void>;

/**
 * The caller's Recycle Bin: AWS lets the owner change the tags of a resource in the bin (they
 * are restored with it); nobody else finds it there.
 */
export interface BinnedTags {
  holds(caller: Caller, kind: string, resourceId: string): Promise<boolean>;
  retag(caller: Caller, resourceId: string, change: (tags: Tag[]) => Tag[]): Promise<void>;
}

const tagFilters: FilterMap<TagRecord> = {
  'key': (t) => t.key,
  'value': (t) => t.value,
  'resource-id': (t) => t.resourceId,
  'resource-type': (t) => t.resourceType,
};

export class TagService {
  private readonly store: MetadataStore;
  private readonly locators: Record<string, ResourceLocator>;
  private readonly bin?: BinnedTags;
  constructor(store: MetadataStore, locators: Record<string, ResourceLocator>, bin?: BinnedTags) {
    this.store = store;
    this.locators = locators;
    this.bin = bin;
  }

  /** Every id is checked before anything is written; `binned` ones are in the caller's Recycle Bin. */
  private async resolve(caller: Caller, ids: string[]): Promise<{ id: string; type: string; binned: boolean }[]> {
    if (!ids.length) throw Errors.missingParameter('ResourceId');
    const out: { id: string; type: string; binned: boolean }[] = [];
    for (const id of ids) {
      const type = resourceTypeOf(id);
      const locate = type && this.locators[type];
      if (!type || !locate) throw Errors.invalidId(id);
      const binned = !!(await this.bin?.holds(caller, type, id));
      if (!binned) await locate(caller, id);
      out.push({ id, type, binned });
    }
    return out;
  }

  async create(caller: Caller, req: CreateTagsRequest): Promise<void> {
    const tags = checkTags(req.Tags ?? []);
    if (!tags.length) throw Errors.missingParameter('Tag');
    const resources = await this.resolve(caller, req.Resources);
    const live = resources.filter((r) => !r.binned);
    if (live.length) await this.store.tags.put(caller.account, caller.region, live, tags);
    for (const r of resources.filter((x) => x.binned)) {
      await this.bin!.retag(caller, r.id, (old) => [...old.filter((o) => !tags.some((t) => t.Key === o.Key)), ...tags]);
    }
  }

  async delete(caller: Caller, req: DeleteTagsRequest): Promise<void> {
    const resources = await this.resolve(caller, req.Resources);
    const live = resources.filter((r) => !r.binned);
    if (live.length) await this.store.tags.remove(caller.account, caller.region, live.map((r) => r.id), req.Tags);
    const gone = (o: Tag) => !req.Tags || req.Tags.some((t) => t.Key === o.Key && (t.Value === undefined || t.Value === o.Value));
    for (const r of resources.filter((x) => x.binned)) await this.bin!.retag(caller, r.id, (old) => old.filter((o) => !gone(o)));
  }

  async describe(caller: Caller, req: DescribeTagsRequest): Promise<{ Tags: TagDescription[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, tagFilters);
    const limit = pageSize(req.MaxResults, { min: 5, max: 1000, default: 1000 });
    const valuesOf = (name: string) => filters.find((f) => f.name === name && !f.values.some((v) => /[*?\\]/.test(v)))?.values;
    const scan = this.store.tags.scan({
      account: caller.account,
      region: caller.region,
      resourceIds: valuesOf('resource-id'),
      resourceTypes: valuesOf('resource-type'),
      keys: valuesOf('key'),
      afterCursor: decodeToken(req.NextToken),
    });
    const page: TagRecord[] = [];
    let more = false;
    for await (const t of scan) {
      if (!matchesFilters(t, [], filters.filter((f) => !f.name.startsWith('tag')), tagFilters)) continue;
      if (!tagFilterMatch(t, filters)) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(t);
    }
    const last = page[page.length - 1];
    return {
      Tags: page.map((t) => ({ ResourceId: t.resourceId, ResourceType: t.resourceType as TagDescription['ResourceType'], Key: t.key, Value: t.value })),
      NextToken: more ? encodeToken(`${last.resourceId}\u0000${last.key}`) : undefined,
    };
  }
}

/** DescribeTags' `tag:KEY` filter is about the row itself: its key is KEY and its value matches. */
function tagFilterMatch(t: TagRecord, filters: { name: string; values: string[] }[]): boolean {
  for (const f of filters) {
    if (f.name.startsWith('tag:')) {
      if (t.key !== f.name.slice(4) || !matchesFilters(t, [], [{ name: 'value', values: f.values }], tagFilters)) return false;
    } else if (f.name === 'tag-key' && !matchesFilters(t, [], [{ name: 'key', values: f.values }], tagFilters)) {
      return false;
    }
  }
  return true;
}
