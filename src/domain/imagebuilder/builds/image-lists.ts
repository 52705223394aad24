// ListImages (one entry per image version, or per name with byName) and ListImageBuildVersions
// (the builds of one version), with Image Builder's filters. Only the account's own images are
// listed: amiforge has no Amazon-managed or Marketplace images, so other owners list nothing.
import type {
  Filter, ImageSummary, ImageVersion, ListImageBuildVersionsRequest, ListImagesRequest,
} from '../../../protocol/imagebuilder/types.generated.ts';
import type { ImageBuilderRepository, IbRecord } from '../../../ports/imagebuilder-repository.ts';
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import { ibArn, requireIbArn } from '../arns.ts';
import { compareSemVer, matchesVersionFilter } from '../versions.ts';
import type { ImageDoc } from './build-types.ts';
import { page } from '../resources/records.ts';
import { imageToWire } from '../resources/wire-mappers.ts';

const LIST_FILTERS = ['name', 'osVersion', 'platform', 'type', 'version'];
const BUILD_FILTERS = ['name', 'osVersion', 'platform', 'type', 'version'];

function applyFilters(records: IbRecord[], filters: Filter[] | undefined, allowed: string[]): IbRecord[] {
  let out = records;
  for (const f of filters ?? []) {
    if (!f.name || !allowed.includes(f.name)) {
      throw Errors.ibInvalidParameterValue(`The filter name '${f.name}' is not valid. Valid filter names: ${allowed.join(', ')}.`);
    }
    const values = f.values ?? [];
    out = out.filter((r) => {
      const d = r.doc as ImageDoc;
      if (f.name === 'version') return values.some((v) => v === r.version || (/x/.test(v) && matchesVersionFilter(v, r.version!)));
      const value = f.name === 'name' ? d.name : f.name === 'osVersion' ? d.osVersion : f.name === 'platform' ? d.platform : d.type;
      return value !== undefined && values.includes(value);
    });
  }
  return out;
}

export async function listImages(records: ImageBuilderRepository, caller: Caller, req: ListImagesRequest): Promise<{ imageVersionList: ImageVersion[]; nextToken?: string }> {
  const owner = req.owner ?? 'Self';
  const mine = owner === 'Self'
    ? await records.list({ kind: 'image', account: caller.account, region: caller.region })
    : [];
  const shown = applyFilters(mine, req.filters, LIST_FILTERS).filter((r) => req.includeDeprecated || r.state !== 'DEPRECATED');
  const versions = new Map<string, ImageVersion>();
  for (const r of shown) {
    const d = r.doc as ImageDoc;
    const version = req.byName ? 'x.x.x' : r.version!;
    const arn = ibArn({ region: r.region, owner: r.account, type: 'image', name: r.name, version });
    if (versions.has(arn)) continue;
    versions.set(arn, {
      arn, name: d.name, type: d.type, version, platform: d.platform, osVersion: d.osVersion, owner: r.account,
      dateCreated: d.dateCreated, buildType: d.buildType, imageSource: d.imageSource,
    });
  }
  const sorted = [...versions.values()].sort((a, b) => a.name!.localeCompare(b.name!) || compareSemVer(a.version === 'x.x.x' ? '0.0.0' : a.version!, b.version === 'x.x.x' ? '0.0.0' : b.version!));
  const { items, nextToken } = page(sorted, req.maxResults, req.nextToken);
  return { imageVersionList: items, nextToken };
}

export async function listImageBuildVersions(records: ImageBuilderRepository, caller: Caller, req: ListImageBuildVersionsRequest): Promise<{ imageSummaryList: ImageSummary[]; nextToken?: string }> {
  let mine = await records.list({ kind: 'image', account: caller.account, region: caller.region });
  if (req.imageVersionArn) {
    const parsed = requireIbArn(req.imageVersionArn, 'image', 'imageVersionArn');
    if (parsed.build !== undefined || parsed.version === undefined) {
      throw Errors.ibInvalidParameterValue(`The value supplied for parameter 'imageVersionArn' must be an image version ARN: ${req.imageVersionArn}`);
    }
    mine = mine.filter((r) => ibArn({ region: r.region, owner: r.account, type: 'image', name: r.name }) === ibArn({ region: parsed.region, owner: parsed.owner, type: 'image', name: parsed.name })
      && (/x/.test(parsed.version!) ? matchesVersionFilter(parsed.version!, r.version!) : r.version === parsed.version));
  }
  const shown = applyFilters(mine, req.filters, BUILD_FILTERS)
    .sort((a, b) => compareSemVer(a.version!, b.version!) || (a.build ?? 0) - (b.build ?? 0));
  const { items, nextToken } = page(shown, req.maxResults, req.nextToken);
  return { imageSummaryList: items.map(summaryOf), nextToken };
}

export function summaryOf(r: IbRecord): ImageSummary {
  const d = imageToWire(r.doc as ImageDoc);
  return {
    arn: d.arn, name: d.name, type: d.type, version: d.version, platform: d.platform, osVersion: d.osVersion, state: d.state, owner: r.account,
    dateCreated: d.dateCreated, outputResources: d.outputResources, tags: d.tags, buildType: d.buildType, imageSource: d.imageSource,
  };
}
