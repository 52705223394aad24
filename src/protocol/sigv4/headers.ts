// Header access over node's IncomingMessage.headers shape, where a header may be absent, a string,
// or (for set-cookie, or when the HTTP layer passes headersDistinct) an array of values.

import type { SignedRequest } from './types.ts';

type Headers = SignedRequest['headers'];

/** Every value of a header, in arrival order; [] when absent. `name` must be lower-case. */
export function headerValues(headers: Headers, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The single value of a header that must not repeat (authorization, x-amz-date, ...): undefined
 * when absent, the value when sent once or repeated identically, and null when sent more than
 * once with different values, which callers treat as malformed rather than pick one.
 */
export function singleHeader(headers: Headers, name: string): string | undefined | null {
  const values = headerValues(headers, name);
  if (values.length === 0) return undefined;
  return values.every((v) => v === values[0]) ? values[0] : null;
}

/**
 * A header's canonical value: each value trimmed with runs of whitespace collapsed to one space,
 * repeated values joined by ','. SigV4 specifies this so that proxies that re-fold or re-space
 * headers do not change the signature. An absent signed header canonicalises to '' so the
 * comparison fails on the signature, as AWS does, instead of on a separate check.
 */
export function canonicalHeaderValue(headers: Headers, name: string): string {
  return headerValues(headers, name)
    .map((v) => v.replace(/[ \t\r\n]+/g, ' ').trim())
    .join(',');
}
