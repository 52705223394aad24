// Pages of Image Builder's list operations: maxResults 1 to 25 (25 by default), and a nextToken
// naming the last key returned, so a page resumes by key, stable under inserts.
import { Errors } from '../../errors.ts';

const MAX = 25;

function decode(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k === 'string') return parsed.k;
  } catch {
    // answered below
  }
  throw Errors.ibInvalidPaginationToken();
}

export function page<T extends { arn: string }>(items: T[], maxResults: number | undefined, nextToken: string | undefined): { items: T[]; nextToken?: string } {
  const size = maxResults ?? MAX;
  let start = 0;
  if (nextToken !== undefined) {
    const after = decode(nextToken);
    start = items.findIndex((i) => i.arn === after) + 1;
    if (start === 0) throw Errors.ibInvalidPaginationToken();
  }
  const slice = items.slice(start, start + size);
  const more = start + size < items.length;
  return { items: slice, nextToken: more ? Buffer.from(JSON.stringify({ k: slice.at(-1)!.arn })).toString('base64url') : undefined };
}
