// Image Builder's list pages: maxResults within the operation's range and an opaque nextToken
// that resumes after the last key returned (stable while records are added).
import { encodeToken } from '../../pagination.ts';
import { Errors } from '../../errors.ts';

export function ibPage<T>(items: T[], key: (item: T) => string, o: { maxResults?: number; nextToken?: string; max?: number }): { page: T[]; nextToken?: string } {
  const max = o.max ?? 25;
  if (o.maxResults !== undefined && (o.maxResults < 1 || o.maxResults > max)) {
    throw Errors.ibInvalidParameterValue(`The value supplied for parameter 'maxResults' must be between 1 and ${max}.`);
  }
  const size = o.maxResults ?? max;
  let start = 0;
  if (o.nextToken !== undefined) {
    let after: string | undefined;
    try {
      after = (JSON.parse(Buffer.from(o.nextToken, 'base64url').toString('utf8')) as { k?: unknown }).k as string | undefined;
    } catch {
      after = undefined;
    }
    if (typeof after !== 'string') throw Errors.ibInvalidPaginationToken();
    start = items.findIndex((i) => key(i) > after);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + size);
  const more = start + size < items.length;
  return { page, nextToken: more ? encodeToken(key(page[page.length - 1])) : undefined };
}

/** The wire document: a record's doc without its private `_` members. */
export function wire<T>(doc: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('_'))) as T;
}
