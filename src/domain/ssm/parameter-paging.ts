// SSM's NextToken: opaque to clients; here the sort key of the last item returned, encoded.
import { Errors } from '../errors.ts';

export function pageOf<T>(items: T[], key: (t: T) => string, max: number, token?: string): { items: T[]; nextToken?: string } {
  let start = 0;
  if (token !== undefined) {
    const after = decode(token);
    const at = items.findIndex((t) => key(t) === after);
    start = at < 0 ? items.findIndex((t) => key(t) > after) : at + 1;
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + max);
  const more = start + max < items.length;
  return { items: page, ...(more ? { nextToken: encode(key(page[page.length - 1])) } : {}) };
}

function encode(key: string): string {
  return Buffer.from(JSON.stringify({ after: key })).toString('base64');
}

function decode(token: string): string {
  try {
    const doc = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { after?: unknown };
    if (typeof doc.after === 'string') return doc.after;
  } catch {
    // fall through
  }
  throw Errors.ssmInvalidNextToken();
}
