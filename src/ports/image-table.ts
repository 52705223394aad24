// The console's image table: one sorted, filtered page of the images a reader may see, with the
// count of all that match. Sorting, filtering and paging happen in the store (ORDER BY and LIMIT
// over indexes), so a page costs its own rows whether the region holds a thousand images or a
// hundred thousand.
import type { ImageRecord, ImageState, ImageVisibility } from './metadata-store.ts';

export type ImageTableSort = 'name' | 'imageId' | 'creationDate' | 'owner' | 'state' | 'architecture';

/** Whose images: the reader's own, others' shared with the reader (not public), public ones, or any visible. */
export type ImageTableScope = 'own' | 'shared' | 'public' | 'visible';

export interface ImageTableQuery {
  region: string;
  visibleTo: ImageVisibility;
  scope: ImageTableScope;
  /** false: only images that are not public (the console's "private" view). */
  isPublic?: boolean;
  /** Only images in this state, or in any state but this one. */
  state?: { is?: ImageState; isNot?: ImageState };
  /** Only images whose deprecation time is at or before this ISO instant. */
  deprecatedBy?: string;
  /** DescribeImages' rule: other accounts' images deprecated by this instant are left out. */
  hideOthersDeprecatedBy?: string;
  /** Case-sensitive substring of the name, or (with `*` or `?`) an EC2 wildcard pattern. */
  nameContains?: string;
  namePattern?: string;
  imageIds?: string[];
  /** A tag the reader set on the image; value absent: any value. */
  tag?: { key: string; value?: string };
  architecture?: string;
  /** `Windows` (the stored value), or `linux` for images without a platform. */
  platform?: string;
  ownerId?: string;
  sort: ImageTableSort;
  descending: boolean;
  /** Keyset cursor: the sort value and image id of the last row of the previous page. */
  after?: { value: string; imageId: string };
  limit: number;
}

/**
 * Matching images are counted at most this far (and one more, to tell "more"): counting walks
 * every match (50-600 ms for all of 100,000 images in SQLite, far more than a page). Past it the console
 * says "at least".
 */
export const IMAGE_TABLE_COUNT_LIMIT = 1_000;

export interface ImageTablePage {
  records: ImageRecord[];
  /** How many images match over all pages, up to IMAGE_TABLE_COUNT_LIMIT + 1. */
  total: number;
}

/** A row's value under the sort, as the store compares it (absent values sort as ''). */
export function sortValueOf(record: ImageRecord, sort: ImageTableSort): string {
  const i = record.image;
  switch (sort) {
    case 'name': return i.name;
    case 'imageId': return i.imageId;
    case 'creationDate': return i.creationDate;
    case 'owner': return i.ownerId;
    case 'state': return i.state;
    case 'architecture': return i.architecture ?? '';
  }
}
