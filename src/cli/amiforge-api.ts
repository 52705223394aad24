// A client of amiforge's own signed API (src/server/amiforge-api.ts): a JSON POST signed with
// SigV4 for the service `amiforge`, with the credentials the AWS SDK's usual chain finds, so the
// server runs it as the caller's account. Signed with the same canonical-request code the server
// verifies with.
import { canonicalRequest } from '../protocol/sigv4/canonical.ts';
import { scopeString, sha256Hex, signatureHex, signingKey, stringToSign } from '../protocol/sigv4/signing.ts';
import type { ConnectionOptions } from './aws.ts';
import { SnapshotClientError } from '../client/errors.ts';

/** An error the server answered, shaped as the AWS SDK's (describeError reads it). */
export class AmiforgeApiError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, message: string, status: number) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

async function credentials(region: string): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }> {
  // The EBS client is the lighter SDK client; only its credential chain is used.
  const { EBSClient } = await import('@aws-sdk/client-ebs');
  const client = new EBSClient({ region });
  try {
    return await client.config.credentials();
  } finally {
    client.destroy();
  }
}

export async function callAmiforge<T>(o: ConnectionOptions, path: string, input: unknown): Promise<T> {
  if (o.endpointUrl === 'aws') throw new SnapshotClientError('this command needs an amiforge server: give its --endpoint-url');
  let url: URL;
  try {
    url = new URL(path, o.endpointUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new SnapshotClientError(`--endpoint-url ${o.endpointUrl} is not an http(s) URL`);
  }
  const creds = await credentials(o.region);
  const body = JSON.stringify(input);
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const scope = { date: time.slice(0, 8), region: o.region, service: 'amiforge' };
  const headers: Record<string, string> = {
    'content-type': 'application/json', host: url.host, 'x-amz-date': time, 'x-amz-content-sha256': sha256Hex(body),
    ...(creds.sessionToken ? { 'x-amz-security-token': creds.sessionToken } : {}),
  };
  const signed = Object.keys(headers).sort();
  const canonical = canonicalRequest({ method: 'POST', rawPath: url.pathname, rawQuery: '', headers, signedHeaders: signed, payloadHash: headers['x-amz-content-sha256'] });
  const signature = signatureHex(signingKey(creds.secretAccessKey, scope), stringToSign(time, scope, canonical));
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scopeString(scope)}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  const { host: _host, ...sent } = headers;
  const res = await fetch(url, { method: 'POST', headers: sent, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AmiforgeApiError('InvalidResponse', `the server answered HTTP ${res.status} with no JSON: ${text.slice(0, 200)}`, res.status);
  }
  if (!res.ok) {
    const e = parsed as { __type?: string; message?: string };
    throw new AmiforgeApiError(e.__type ?? 'Error', e.message ?? `HTTP ${res.status}`, res.status);
  }
  return parsed as T;
}
