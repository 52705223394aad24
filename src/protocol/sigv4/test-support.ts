// Test-only helpers: sign requests with independent SigV4 implementations (the AWS SDK for
// JavaScript's @smithy/signature-v4, and Python's botocore) and turn what they produce into the
// SignedRequest the server would see on the wire. Not imported by production code.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { SignatureV4 } from '@smithy/signature-v4';
import { buildQueryString } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import { isServiceError } from '../../domain/errors.ts';
import { parseSigV4 } from './parse.ts';
import { verifySigV4 } from './verify.ts';
import type { SignedRequest, SigV4Auth } from './types.ts';

export const ACCESS_KEY = 'AKIDEXAMPLE';
export const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
export const SIGNING_DATE = new Date('2024-03-15T10:20:30Z');

export interface SmithyInput {
  method: string;
  host: string;
  path: string;                                 // as the SDK puts it on the wire (labels already encoded)
  query?: Record<string, string | string[]>;    // decoded, as the SDK holds it
  headers?: Record<string, string>;
  body?: string;
  service: string;
  region?: string;
  applyChecksum?: boolean;                      // smithy's default (true) adds x-amz-content-sha256
}

function signer(input: SmithyInput, secret = SECRET): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: secret },
    region: input.region ?? 'us-east-1',
    service: input.service,
    sha256: Hash.bind(null, 'sha256'),
    ...(input.applyChecksum === undefined ? {} : { applyChecksum: input.applyChecksum }),
  });
}

function smithyRequest(input: SmithyInput) {
  return {
    method: input.method,
    protocol: 'https:',
    hostname: input.host,
    path: input.path,
    query: { ...(input.query ?? {}) },
    // The SDK's host-header middleware adds Host before signing; do the same.
    headers: { host: input.host, ...(input.headers ?? {}) },
    ...(input.body === undefined ? {} : { body: input.body }),
  };
}

/** What the server sees: node lower-cases header names; the query is serialised as the SDK's HTTP handler does. */
function toWire(
  signed: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string> },
  body: string | undefined,
): SignedRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = v;
  return {
    method: signed.method,
    rawPath: signed.path,
    rawQuery: buildQueryString((signed.query ?? {}) as Record<string, string | string[]>),
    headers,
    body: Buffer.from(body ?? '', 'utf8'),
  };
}

export async function smithySign(input: SmithyInput, signingDate = SIGNING_DATE): Promise<SignedRequest> {
  const signed = await signer(input).sign(smithyRequest(input), { signingDate });
  return toWire(signed as Parameters<typeof toWire>[0], input.body);
}

export async function smithyPresign(input: SmithyInput, expiresIn: number, signingDate = SIGNING_DATE): Promise<SignedRequest> {
  const signed = await signer(input).presign(smithyRequest(input), { signingDate, expiresIn });
  return toWire(signed as Parameters<typeof toWire>[0], input.body);
}

export interface BotocoreInput {
  method: string;
  host: string;
  segments: string[];                // path segments, unencoded; botocore's percent_encode puts them on the wire
  query?: Array<[string, string]>;   // unencoded; botocore's percent_encode_sequence puts them on the wire
  headers?: Record<string, string>;
  body?: string;
  service: string;
  region?: string;
  time: string;                      // signing time, ISO 8601 extended ('2024-03-15T10:20:30Z')
  presignExpires?: number;           // sign as a presigned URL (SigV4QueryAuth) instead of a header
}

// The URL is built with botocore's own encoders, as botocore.awsrequest.prepare_request_dict does,
// so the wire form is botocore's too. botocore reads the clock through
// botocore.auth.get_current_datetime; pinning it makes the output deterministic, so a live run
// can be compared with the recorded vectors.
const BOTOCORE_SCRIPT = `
import json, sys, datetime
import botocore.auth
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence
spec = json.load(sys.stdin)
when = datetime.datetime.strptime(spec['time'], '%Y-%m-%dT%H:%M:%SZ').replace(tzinfo=datetime.timezone.utc)
botocore.auth.get_current_datetime = lambda: when
url = 'https://' + spec['host'] + '/' + '/'.join(percent_encode(s) for s in spec['segments'])
if spec['query']:
    url += '?' + percent_encode_sequence(spec['query'])
req = AWSRequest(method=spec['method'], url=url, data=spec['body'].encode('utf-8'), headers=spec['headers'])
creds = Credentials(spec['accessKey'], spec['secretKey'])
if spec.get('presignExpires') is not None:
    SigV4QueryAuth(creds, spec['service'], spec['region'], expires=spec['presignExpires']).add_auth(req)
else:
    SigV4Auth(creds, spec['service'], spec['region']).add_auth(req)
body = req.data.decode('utf-8') if isinstance(req.data, bytes) else (req.data or '')
print(json.dumps({'method': req.method, 'url': req.url, 'headers': dict(req.headers.items()), 'body': body}, ensure_ascii=False))
`;

export interface BotocoreOutput {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Whether python3 with botocore is on this machine; the reason when it is not. */
export function botocoreUnavailable(): string | false {
  try {
    execFileSync('python3', ['-c', 'import botocore'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'python3 with botocore is not installed on this machine';
  }
}

export function botocoreSign(input: BotocoreInput, secret = SECRET): BotocoreOutput {
  const spec = {
    ...input,
    headers: input.headers ?? {},
    query: input.query ?? [],
    body: input.body ?? '',
    region: input.region ?? 'us-east-1',
    accessKey: ACCESS_KEY,
    secretKey: secret,
  };
  const out = execFileSync('python3', ['-c', BOTOCORE_SCRIPT], { input: JSON.stringify(spec), encoding: 'utf8' });
  return JSON.parse(out) as BotocoreOutput;
}

/** What the server sees for a botocore request: urllib3 sends Host from the URL, which botocore signed. */
export function botocoreToWire(out: BotocoreOutput): SignedRequest {
  const m = /^https?:\/\/([^/?#]+)([^?#]*)(?:\?([^#]*))?/.exec(out.url);
  if (!m) throw new Error(`unexpected URL ${out.url}`);
  const headers: Record<string, string> = { host: m[1] };
  for (const [k, v] of Object.entries(out.headers)) headers[k.toLowerCase()] = v;
  return { method: out.method, rawPath: m[2] || '/', rawQuery: m[3] ?? '', headers, body: Buffer.from(out.body, 'utf8') };
}

/** Parses and verifies; returns the parsed auth so tests can look at it. */
export function check(req: SignedRequest, secret = SECRET, now = SIGNING_DATE): SigV4Auth {
  const auth = parseSigV4(req);
  if (auth === null) throw new Error('request carries no SigV4 auth');
  verifySigV4(req, auth, secret, now);
  return auth;
}

/** node:assert's throws() matcher: the error must be a ServiceError with this code. */
export function serviceError(code: string) {
  return (err: unknown): true => {
    assert.ok(isServiceError(err), `expected a ServiceError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}
