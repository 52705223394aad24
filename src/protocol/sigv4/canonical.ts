// The canonical request: the one string both sides hash, built from the request as it arrived.
// Each piece follows AWS's "Create a canonical request" rules for services other than S3 (amiforge
// serves none that are S3, whose path rules differ).

import { uriEncode, decodeQuery } from './encoding.ts';
import { canonicalHeaderValue } from './headers.ts';
import type { SignedRequest } from './types.ts';

/**
 * Canonical URI. The client signed its path after URI-encoding each segment once more than it
 * sent it ("double encoding"): '/a b' goes on the wire as '/a%20b' and is signed as '/a%2520b'.
 * So the path is encoded again here exactly as received, never decoded first, which would lose
 * the difference between '%2F' inside a segment and a real '/'.
 *
 * Before encoding, the path is normalised as RFC 3986 and the AWS SDKs do for non-S3 services:
 * empty segments ('//') and '.' are dropped and '..' removes the previous segment; a trailing '/'
 * is kept. Only literal '.' and '..' count: '%2E' is data, as it is to the signer.
 */
export function canonicalUri(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return '/' + segments.map((s) => uriEncode(s)).join('/') + trailing;
}

/**
 * Canonical query string: every parameter decoded and re-encoded with AWS UriEncode (so '%7e',
 * '~' and '%7E' all sign alike, as they mean the same), sorted by encoded name and then by encoded
 * value, a parameter without '=' taking an empty value. `omit` names the parameter to leave out:
 * X-Amz-Signature in the presigned form, which cannot sign itself.
 */
export function canonicalQuery(rawQuery: string, omit?: string): string {
  const entries: Array<[string, string]> = [];
  for (const { key, value } of decodeQuery(rawQuery)) {
    if (omit !== undefined && key.toString('utf8') === omit) continue;
    entries.push([uriEncode(key), uriEncode(value)]);
  }
  // Encoded text is plain ASCII, so code-unit order is the byte order SigV4 asks for.
  entries.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return entries.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * Canonical headers block: one 'name:value\n' line per signed header, in the order the client
 * listed them in SignedHeaders. That list is itself part of the canonical request, so a list
 * that is not sorted as SigV4 requires simply yields a different signature.
 */
export function canonicalHeaders(headers: SignedRequest['headers'], signedHeaders: string[]): string {
  return signedHeaders.map((name) => `${name}:${canonicalHeaderValue(headers, name.toLowerCase())}\n`).join('');
}

export interface CanonicalParts {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: SignedRequest['headers'];
  signedHeaders: string[];
  payloadHash: string;
  omitQueryParam?: string;
}

/** The canonical request text: six fields, one per line, the headers block ending with its own newline. */
export function canonicalRequest(p: CanonicalParts): string {
  return [
    p.method,
    canonicalUri(p.rawPath),
    canonicalQuery(p.rawQuery, p.omitQueryParam),
    canonicalHeaders(p.headers, p.signedHeaders),
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
}
