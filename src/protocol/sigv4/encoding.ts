// Percent-encoding as SigV4 defines it (AWS's "UriEncode"), and the lenient decoding the verifier
// needs to get from what the client sent back to the bytes it signed.
//
// Both directions work on bytes, not JavaScript strings: SigV4 encodes the UTF-8 bytes of each
// character, and a client may send escapes that are not valid UTF-8. Decoding through
// decodeURIComponent would throw (or substitute U+FFFD) there, and the canonical form would no
// longer be the one the client signed.

// RFC 3986 unreserved characters: the only bytes SigV4 leaves unescaped. Everything else,
// including '/', '+', '*' and '!' (which encodeURIComponent keeps), becomes %XX with upper-case hex.
function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x7e // - . _ ~
  );
}

const HEX = '0123456789ABCDEF';

/** AWS UriEncode of the given bytes (a string is taken as its UTF-8 bytes); '/' is encoded too. */
export function uriEncode(input: Buffer | string): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let out = '';
  for (const byte of bytes) {
    out += isUnreserved(byte) ? String.fromCharCode(byte) : '%' + HEX[byte >> 4] + HEX[byte & 0x0f];
  }
  return out;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/**
 * Percent-decodes to bytes. A '%' not followed by two hex digits is kept literally rather than
 * rejected: the signer encoded whatever bytes it had, so the verifier must not fail (or guess)
 * before comparing signatures. '+' stays '+': SigV4 clients encode a space as %20, so a '+' on
 * the wire is a literal plus (application/x-www-form-urlencoded's '+' rule does not apply to
 * the signed query string).
 */
export function percentDecode(input: string): Buffer {
  const text = Buffer.from(input, 'utf8');
  const out = Buffer.alloc(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === 0x25 && i + 2 < text.length) {
      const hi = hexValue(text[i + 1]);
      const lo = hexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = text[i];
  }
  return out.subarray(0, n);
}

export interface QueryPair {
  key: Buffer;   // decoded bytes
  value: Buffer; // decoded bytes; empty when the pair had no '='
}

/** Splits a raw query string into decoded pairs, in order, skipping empty pieces ('a=1&&b=2'). */
export function decodeQuery(rawQuery: string): QueryPair[] {
  const pairs: QueryPair[] = [];
  if (rawQuery === '') return pairs;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawKey = eq < 0 ? piece : piece.slice(0, eq);
    const rawValue = eq < 0 ? '' : piece.slice(eq + 1);
    pairs.push({ key: percentDecode(rawKey), value: percentDecode(rawValue) });
  }
  return pairs;
}
