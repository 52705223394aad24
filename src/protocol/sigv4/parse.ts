// Finds and parses SigV4 authentication in a request, in either of its two forms:
//   header:  Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request,
//            SignedHeaders=host;x-amz-date, Signature=<64 hex>   (time in X-Amz-Date or Date)
//   query:   ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...&X-Amz-Date=...
//            &X-Amz-Expires=...&X-Amz-SignedHeaders=...&X-Amz-Signature=...   (presigned URL)
// Parsing only checks shape; whether the signature is right is verify.ts's job. Shape errors are
// IncompleteSignature (400), as AWS reports them, so a client learns its signer is broken rather
// than that its secret is wrong.

import { Errors } from '../../domain/errors.ts';
import { parseRequestDate } from './dates.ts';
import { decodeQuery } from './encoding.ts';
import { singleHeader } from './headers.ts';
import type { SignedRequest, SigV4Auth } from './types.ts';

const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
// SigV4 caps presigned URLs at seven days.
const MAX_EXPIRES_SECONDS = 7 * 24 * 60 * 60;

/**
 * Returns the request's SigV4 authentication, or null when it carries none (no Authorization
 * header and no X-Amz-Algorithm query parameter), leaving the caller to decide whether anonymous
 * access is allowed. Throws IncompleteSignature when SigV4 is present but malformed.
 */
export function parseSigV4(req: SignedRequest): SigV4Auth | null {
  const authorization = singleHeader(req.headers, 'authorization');
  if (authorization === null) throw Errors.incompleteSignature('The request carries more than one Authorization header.');
  const query = queryParams(req.rawQuery);
  const hasQueryAuth = query.has('X-Amz-Algorithm');
  if (authorization === undefined && !hasQueryAuth) return null;
  // Two mechanisms could disagree about who is calling; AWS refuses rather than pick one.
  if (authorization !== undefined && hasQueryAuth) {
    throw Errors.incompleteSignature(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.');
  }
  return authorization !== undefined ? parseHeaderForm(authorization, req) : parseQueryForm(query);
}

function parseHeaderForm(authorization: string, req: SignedRequest): SigV4Auth {
  const text = authorization.trim();
  const space = text.search(/\s/);
  const algorithm = space < 0 ? text : text.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw Errors.incompleteSignature(`Unsupported authorization algorithm '${algorithm}'; expected '${ALGORITHM}'.`);
  }
  const params = new Map<string, string>();
  for (const part of (space < 0 ? '' : text.slice(space + 1)).split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) throw Errors.incompleteSignature(`Authorization header component '${item}' is not of the form name=value.`);
    const name = item.slice(0, eq).trim();
    if (params.has(name)) throw Errors.incompleteSignature(`Authorization header repeats '${name}'.`);
    params.set(name, item.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !params.get(k));
  if (missing.length > 0) {
    throw Errors.incompleteSignature(missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' '));
  }

  // X-Amz-Date wins over Date: clients whose HTTP stack sets Date anyway sign with X-Amz-Date.
  const amzDate = singleHeader(req.headers, 'x-amz-date');
  const httpDate = singleHeader(req.headers, 'date');
  const date = amzDate !== undefined ? amzDate : httpDate;
  if (date === undefined) {
    throw Errors.incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (date === null || parseRequestDate(date, amzDate === undefined) === null) {
    throw Errors.incompleteSignature(`Date must be in ISO-8601 'basic format' (yyyymmddThhmmssZ). Got '${date ?? ''}'.`);
  }

  return {
    form: 'header',
    ...parseCredential(params.get('Credential')!),
    signedHeaders: parseSignedHeaders(params.get('SignedHeaders')!),
    signature: params.get('Signature')!,
    amzDate: date,
  };
}

function parseQueryForm(query: Map<string, string[]>): SigV4Auth {
  const names = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];
  const missing = names.filter((k) => !query.get(k)?.[0]);
  if (missing.length > 0) {
    throw Errors.incompleteSignature(
      `AWS query-string parameters must include ${missing.map((k) => `'${k}'`).join(', ')}. Re-examine the query-string parameters.`);
  }
  // A repeated auth parameter would let the verifier and a later reader of the URL see different values.
  for (const k of [...names, 'X-Amz-Expires']) {
    if ((query.get(k)?.length ?? 0) > 1) throw Errors.incompleteSignature(`The query-string parameter '${k}' is repeated.`);
  }
  const get = (k: string) => query.get(k)![0];
  if (get('X-Amz-Algorithm') !== ALGORITHM) {
    throw Errors.incompleteSignature(`Unsupported X-Amz-Algorithm '${get('X-Amz-Algorithm')}'; expected '${ALGORITHM}'.`);
  }
  const amzDate = get('X-Amz-Date');
  if (parseRequestDate(amzDate, false) === null) {
    throw Errors.incompleteSignature(`X-Amz-Date must be in ISO-8601 'basic format' (yyyymmddThhmmssZ). Got '${amzDate}'.`);
  }
  // X-Amz-Expires is optional here: without it the request gets the same 15-minute window as the
  // header form, which is what a query-signed (non-URL) API call expects.
  let expiresSeconds: number | undefined;
  const expires = query.get('X-Amz-Expires')?.[0];
  if (expires !== undefined) {
    expiresSeconds = /^\d{1,7}$/.test(expires) ? Number(expires) : NaN;
    if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_EXPIRES_SECONDS)) {
      throw Errors.incompleteSignature(
        `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_EXPIRES_SECONDS} (one week). Got '${expires}'.`);
    }
  }
  return {
    form: 'query',
    ...parseCredential(get('X-Amz-Credential')),
    signedHeaders: parseSignedHeaders(get('X-Amz-SignedHeaders')),
    signature: get('X-Amz-Signature'),
    amzDate,
    ...(expiresSeconds !== undefined ? { expiresSeconds } : {}),
  };
}

/** AKID/yyyymmdd/region/service/aws4_request. Region and service are taken from here, never from the host name. */
function parseCredential(credential: string): Pick<SigV4Auth, 'accessKeyId' | 'date' | 'region' | 'service'> {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    throw Errors.incompleteSignature(
      `Credential must have the form <access key id>/<yyyymmdd>/<region>/<service>/${TERMINATOR}; got '${credential}'.`);
  }
  const [accessKeyId, date, region, service, terminator] = parts;
  if (terminator !== TERMINATOR) {
    throw Errors.incompleteSignature(`Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'.`);
  }
  if (!/^\d{8}$/.test(date)) {
    throw Errors.incompleteSignature(`Credential should be scoped to a date in the form yyyymmdd, not '${date}'.`);
  }
  return { accessKeyId, date, region, service };
}

/**
 * SignedHeaders is kept as sent (it is signed verbatim). The host must be among them: otherwise a
 * signed request could be replayed against another endpoint, so SigV4 requires it.
 */
function parseSignedHeaders(list: string): string[] {
  const names = list.split(';');
  if (names.some((n) => n === '')) throw Errors.incompleteSignature(`SignedHeaders '${list}' has an empty header name.`);
  if (!names.some((n) => n.toLowerCase() === 'host' || n === ':authority')) {
    throw Errors.incompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  return names;
}

/** The query's parameters by decoded name (names are case-sensitive, as AWS treats them), all values kept. */
function queryParams(rawQuery: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const { key, value } of decodeQuery(rawQuery)) {
    const name = key.toString('utf8');
    const list = params.get(name);
    if (list) list.push(value.toString('utf8'));
    else params.set(name, [value.toString('utf8')]);
  }
  return params;
}
