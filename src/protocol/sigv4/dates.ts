// SigV4 timestamps. The string to sign carries the request time in ISO 8601 basic format
// (yyyymmddThhmmssZ). A client states that time in X-Amz-Date (header or presigned query), or,
// for the header form only, in the HTTP Date header, which uses the RFC 7231 format instead.

const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Formats a time as ISO 8601 basic format, as SigV4's string to sign requires. */
export function toIsoBasic(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * Parses a request timestamp: ISO 8601 basic format, or, when `allowHttpDate`, an RFC 7231 HTTP
 * date. Returns null when the text is neither, or names an impossible time ('20240231T000000Z'):
 * Date would silently roll that over to March, and a verifier that accepted it would sign a
 * different string than the client.
 */
export function parseRequestDate(text: string, allowHttpDate: boolean): Date | null {
  const m = ISO_BASIC.exec(text);
  if (m) {
    const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
    return toIsoBasic(date) === text ? date : null;
  }
  // Date.parse also accepts many non-HTTP formats; requiring 'GMT' keeps it to the
  // IMF-fixdate and RFC 850 forms an HTTP Date header carries (both end in GMT).
  if (allowHttpDate && /GMT$/.test(text.trim())) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : new Date(ms);
  }
  return null;
}
