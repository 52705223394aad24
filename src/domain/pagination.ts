// NextToken handling shared by Describe* operations: the token is an opaque encoding of the
// last key returned, so a page is resumed by key (stable under inserts), not by offset.
import { Errors } from './errors.ts';

export function encodeToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ k: lastKey }), 'utf8').toString('base64url');
}

export function decodeToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k === 'string') return parsed.k;
  } catch {
    // fall through to AWS's error
  }
  throw Errors.invalidNextToken(token);
}

/** Validates MaxResults against the operation's documented range. */
export function pageSize(maxResults: number | undefined, range: { min: number; max: number; default: number }): number {
  if (maxResults === undefined) return range.default;
  if (maxResults < range.min || maxResults > range.max) {
    throw Errors.invalidParameterValue(
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value between ${range.min} and ${range.max}.`);
  }
  return maxResults;
}

/**
 * One page of `items` (already in key order): those after the token's key that `keep` accepts,
 * at most `limit`, and the token of the next page when more remain.
 */
export function pageByKey<T>(items: Iterable<T>, key: (t: T) => string, keep: (t: T) => boolean, limit: number, after: string | undefined): { out: T[]; next?: string } {
  const out: T[] = [];
  for (const t of items) {
    if (after !== undefined && key(t) <= after) continue;
    if (!keep(t)) continue;
    if (out.length === limit) return { out, next: encodeToken(key(out[out.length - 1])) };
    out.push(t);
  }
  return { out };
}
