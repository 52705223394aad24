// KMS's list paging: Limit (with each operation's own bounds) and an opaque Marker that resumes
// after the last item returned, so a page is stable under inserts.
import { decodeToken, encodeToken } from '../pagination.ts';
import { Errors, isServiceError } from '../errors.ts';

export interface Page<T> { items: T[]; truncated: boolean; nextMarker?: string }

/** The page size: `limit` checked against the operation's documented bounds, or its default. */
export function pageLimit(limit: number | undefined, bounds: { max: number; default: number }): number {
  if (limit === undefined) return bounds.default;
  if (limit < 1 || limit > bounds.max) {
    throw Errors.kmsValidation(`1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${bounds.max}`);
  }
  return limit;
}

/** The item key a Marker resumes after; InvalidMarkerException when it is not one of ours. */
export function readMarker(marker: string | undefined): string | undefined {
  try {
    return decodeToken(marker);
  } catch (err) {
    if (isServiceError(err)) throw Errors.kmsInvalidMarker();
    throw err;
  }
}

/** Takes up to `limit` items (reading one more to know whether there are more). */
export async function takePage<T>(items: AsyncIterable<T>, limit: number, keyOf: (item: T) => string): Promise<Page<T>> {
  const out: T[] = [];
  for await (const item of items) {
    if (out.length === limit) return { items: out, truncated: true, nextMarker: encodeToken(keyOf(out[out.length - 1])) };
    out.push(item);
  }
  return { items: out, truncated: false };
}
