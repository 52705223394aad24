// Where the Images page gets its rows: the console's `images` view (src/domain/console/image-table.ts),
// which filters, sorts and pages in the metadata store, so a page costs the same with 100 images
// as with 100,000. It shows exactly what DescribeImages would show the signed-in identity.
import { view } from '../api.ts';

export type ImagesTab = 'owned' | 'private' | 'public' | 'shared' | 'disabled' | 'deprecated' | 'recycle-bin';
export type ImagesSort = 'name' | 'imageId' | 'creationDate' | 'owner' | 'state' | 'architecture';

export interface ImageFilters {
  name?: string;
  id?: string;
  tag?: string;
  architecture?: string;
  platform?: string;
  owner?: string;
}

/** One row as the view answers it. */
export interface ImageRow {
  imageId: string;
  name: string;
  description?: string;
  ownerId: string;
  ownerAlias?: string;
  state: string;
  public: boolean;
  architecture?: string;
  platform: string;
  creationDate: string;
  deprecationTime?: string;
  tags: { Key: string; Value: string }[];
  recycleBinExpires?: string;
}

export interface ImagesPage {
  rows: ImageRow[];
  total: number;
  /** The count stopped at its limit: there are more. */
  totalIsLowerBound?: boolean;
  nextCursor?: string;
}

export interface ImagesOrder { sort: ImagesSort; descending: boolean }

export const PAGE_SIZE = 50;

export async function loadImages(tab: ImagesTab, filters: ImageFilters, order: ImagesOrder, cursor?: string): Promise<ImagesPage> {
  const params: Record<string, string> = { view: tab, sort: order.sort, order: order.descending ? 'desc' : 'asc', pageSize: String(PAGE_SIZE) };
  if (cursor) params.cursor = cursor;
  const named: [keyof ImageFilters, string][] = [['name', 'name'], ['id', 'imageId'], ['tag', 'tag'], ['architecture', 'architecture'], ['platform', 'platform'], ['owner', 'owner']];
  for (const [key, param] of named) {
    const value = filters[key]?.trim();
    if (value) params[param] = value;
  }
  const page = await view<{ items: ImageRow[]; total: number; totalIsLowerBound?: boolean; nextCursor?: string }>('images', params);
  return { rows: page.items, total: page.total, totalIsLowerBound: page.totalIsLowerBound, nextCursor: page.nextCursor };
}
