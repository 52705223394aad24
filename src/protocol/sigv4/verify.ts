// Verifies a parsed SigV4 signature against a secret key: checks the request time, works out the
// payload hash the client must have signed, rebuilds the canonical request from the request as it
// arrived, and compares signatures in constant time. Looking up the secret by access key id is the
// caller's job, so an unknown key can be reported as such (AuthFailure) before any of this runs.

import { Errors } from '../../domain/errors.ts';
import { canonicalRequest } from './canonical.ts';
import { parseRequestDate, toIsoBasic } from './dates.ts';
import { decodeQuery } from './encoding.ts';
import { singleHeader } from './headers.ts';
import { sameSignature, sha256Hex, signatureHex, signingKey, stringToSign } from './signing.ts';
import type { SignedRequest, SigV4Auth } from './types.ts';

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
// How far a request's time may be from the server's, either way, as AWS allows.
const MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * Returns when `auth` is a valid signature of `req` by `secretAccessKey` at time `now`. Throws
 * RequestExpired when the request time is too far from `now` (or a presigned URL has passed its
 * X-Amz-Expires), and SignatureDoesNotMatch when the signature or the signed payload is wrong.
 */
export function verifySigV4(req: SignedRequest, auth: SigV4Auth, secretAccessKey: string, now: Date): void {
  const time = parseRequestDate(auth.amzDate, auth.form === 'header');
  if (time === null) throw Errors.incompleteSignature(`Unparseable request date '${auth.amzDate}'.`);
  const isoTime = toIsoBasic(time);

  // The scope's date is signed, but so is the request time; a client whose two disagree has a
  // broken signer, and AWS reports it as a signature mismatch.
  if (isoTime.slice(0, 8) !== auth.date) throw Errors.signatureDoesNotMatch();

  checkTime(auth, time, now);

  const scope = { date: auth.date, region: auth.region, service: auth.service };
  const key = signingKey(secretAccessKey, scope);
  let matched = false;
  for (const payloadHash of payloadHashes(req, auth)) {
    const canonical = canonicalRequest({
      method: req.method,
      rawPath: req.rawPath,
      rawQuery: req.rawQuery,
      headers: req.headers,
      signedHeaders: auth.signedHeaders,
      payloadHash,
      omitQueryParam: auth.form === 'query' ? 'X-Amz-Signature' : undefined,
    });
    // No early exit: every candidate costs the same whichever one matches.
    if (sameSignature(signatureHex(key, stringToSign(isoTime, scope, canonical)), auth.signature)) matched = true;
  }
  if (!matched) throw Errors.signatureDoesNotMatch();
}

function checkTime(auth: SigV4Auth, time: Date, now: Date): void {
  const age = now.getTime() - time.getTime();
  // A presigned URL is good from its signing time (less the allowed clock skew) until
  // X-Amz-Expires later; without X-Amz-Expires, and for the header form, the window is the skew
  // either side of the signing time, which limits replay of a captured request.
  if (auth.form === 'query' && auth.expiresSeconds !== undefined) {
    if (age > auth.expiresSeconds * 1000 || -age > MAX_SKEW_MS) throw Errors.requestExpired();
    return;
  }
  if (Math.abs(age) > MAX_SKEW_MS) throw Errors.requestExpired();
}

/**
 * The payload hash(es) the client may have signed, and the check that the body matches it.
 *
 * - An x-amz-content-sha256 header (or, for a presigned URL, that name as a query parameter, where
 *   SDK presigners hoist x-amz-* headers) states the hash the client signed. Its value is signed,
 *   not the body, so a hex hash is checked against the body here: without that check anyone
 *   could swap the body of a captured request. 'UNSIGNED-PAYLOAD' opts out of body signing.
 * - Otherwise the header form signs the SHA-256 of the body.
 * - A presigned URL without the header was signed either over the body hash (what the AWS SDKs
 *   do for non-S3 services: the hash of the empty body for a GET) or over 'UNSIGNED-PAYLOAD'
 *   (what AWS documents for presigned URLs). Both are tried; each only matches if the client
 *   signed exactly that, so accepting either admits nothing the client did not sign.
 */
function payloadHashes(req: SignedRequest, auth: SigV4Auth): string[] {
  // Hashed only when needed: an UNSIGNED-PAYLOAD request (every EBS block upload) skips it.
  let hashed: string | undefined;
  const bodyHash = () => (hashed ??= sha256Hex(req.body));
  let declared = singleHeader(req.headers, 'x-amz-content-sha256');
  if (declared === undefined && auth.form === 'query') declared = queryContentSha256(req.rawQuery);
  if (declared === null) throw Errors.signatureDoesNotMatch();
  if (declared === undefined) return auth.form === 'header' ? [bodyHash()] : [bodyHash(), UNSIGNED_PAYLOAD];
  if (declared === UNSIGNED_PAYLOAD) return [declared];
  if (/^[0-9a-fA-F]{64}$/.test(declared)) {
    if (declared.toLowerCase() !== bodyHash()) throw Errors.signatureDoesNotMatch();
    return [declared];
  }
  // STREAMING-* (aws-chunked) payload signing is an S3 feature; the body would need decoding and
  // per-chunk verification that no service amiforge speaks uses.
  throw Errors.incompleteSignature(
    `x-amz-content-sha256 must be '${UNSIGNED_PAYLOAD}' or the hex SHA-256 of the body; got '${declared}'.`);
}

/** The x-amz-content-sha256 query parameter (name case-insensitive, as presigners keep the header's case); null if repeated differently. */
function queryContentSha256(rawQuery: string): string | undefined | null {
  const values = decodeQuery(rawQuery)
    .filter(({ key }) => key.toString('utf8').toLowerCase() === 'x-amz-content-sha256')
    .map(({ value }) => value.toString('utf8'));
  if (values.length === 0) return undefined;
  return values.every((v) => v === values[0]) ? values[0] : null;
}
