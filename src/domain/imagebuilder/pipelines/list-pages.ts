// Pages of the pipeline lists (ListImagePipelines, ListImagePipelineImages). A page
// resumes after the last record returned (its creation time and ARN, oldest first), so records
// created or deleted between two pages neither repeat nor shift the next page.
import { Errors } from '../../errors.ts';
import type { IbRecord } from '../../../ports/imagebuilder-repository.ts';

/** Image Builder's lists: at most 25 a page, 25 by default (the model's RestrictedInteger). */
export const MAX_RESULTS = 25;

const encode = (r: IbRecord) => Buffer.from(JSON.stringify([r.createdAt, r.arn]), 'utf8').toString('base64url');

function decode(token: string): [string, string] {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((p) => typeof p === 'string')) return parsed as [string, string];
  } catch {
    // Image Builder's error below
  }
  throw Errors.ibInvalidPaginationToken();
}

/** One page of `records` (oldest first) and the token of the next, if any. */
export function page(records: IbRecord[], nextToken: string | undefined, maxResults: number | undefined): { items: IbRecord[]; nextToken?: string } {
  const size = maxResults ?? MAX_RESULTS;
  let rest = records;
  if (nextToken !== undefined) {
    const [createdAt, arn] = decode(nextToken);
    // The store orders records of one millisecond by insertion, not by ARN: resume right after the
    // last record while it is still listed; once deleted, after its creation time (ties by ARN).
    const at = records.findIndex((r) => r.arn === arn);
    rest = at >= 0 ? records.slice(at + 1) : records.filter((r) => r.createdAt > createdAt || (r.createdAt === createdAt && r.arn > arn));
  }
  const items = rest.slice(0, size);
  return { items, nextToken: rest.length > size ? encode(items[items.length - 1]) : undefined };
}
