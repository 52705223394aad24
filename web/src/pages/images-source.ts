// Where the Images page gets its rows: DescribeImages through the session layer, a page at a
// time. One function, so the page can move to a sorted/paged console view without changing.
import { ec2 } from '../api.ts';

export type ImagesTab = 'owned' | 'private' | 'public' | 'shared' | 'disabled' | 'deprecated';

export interface ImageFilters {
  name?: string;
  id?: string;
  tag?: string;
  architecture?: string;
  platform?: string;
  owner?: string;
}

export interface ImageRow {
  ImageId: string;
  Name?: string;
  Description?: string;
  OwnerId?: string;
  State?: string;
  Architecture?: string;
  PlatformDetails?: string;
  Public?: boolean;
  CreationDate?: string;
  DeprecationTime?: string;
  Tags?: { Key?: string; Value?: string }[];
}

export interface ImagesPage { rows: ImageRow[]; nextToken?: string }

function tabParams(tab: ImagesTab): Record<string, unknown> {
  switch (tab) {
    case 'owned': return { Owner: ['self'] };
    case 'private': return { Owner: ['self'], Filter: [{ Name: 'is-public', Value: ['false'] }] };
    case 'public': return { Filter: [{ Name: 'is-public', Value: ['true'] }] };
    case 'shared': return { ExecutableBy: ['self'] };
    case 'disabled': return { Owner: ['self'], IncludeDisabled: true, Filter: [{ Name: 'state', Value: ['disabled'] }] };
    case 'deprecated': return { Owner: ['self'], IncludeDeprecated: true, Filter: [{ Name: 'is-deprecated', Value: ['true'] }] };
  }
}

function filterParams(f: ImageFilters): { Name: string; Value: string[] }[] {
  const out: { Name: string; Value: string[] }[] = [];
  const wild = (s: string) => (/[*?]/.test(s) ? s : `*${s}*`);
  if (f.name) out.push({ Name: 'name', Value: [wild(f.name)] });
  if (f.id) out.push({ Name: 'image-id', Value: [f.id] });
  if (f.architecture) out.push({ Name: 'architecture', Value: [f.architecture] });
  if (f.platform) out.push({ Name: 'platform-details', Value: [wild(f.platform)] });
  if (f.owner) out.push({ Name: 'owner-id', Value: [f.owner] });
  if (f.tag) {
    const [key, value] = f.tag.split('=', 2);
    out.push(value === undefined ? { Name: 'tag-key', Value: [key] } : { Name: `tag:${key}`, Value: [value] });
  }
  return out;
}

export async function loadImages(tab: ImagesTab, filters: ImageFilters, nextToken?: string): Promise<ImagesPage> {
  const base = tabParams(tab);
  const params: Record<string, unknown> = {
    ...base,
    Filter: [...((base.Filter as unknown[]) ?? []), ...filterParams(filters)],
    MaxResults: 1000,
    NextToken: nextToken,
  };
  const out = await ec2<{ Images?: ImageRow[]; NextToken?: string }>('DescribeImages', params);
  return { rows: out.Images ?? [], nextToken: out.NextToken };
}
