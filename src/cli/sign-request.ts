// Signs an amiforge request with SigV4 for the service `amiforge`, with the credentials the AWS
// SDK's usual chain finds (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, ...),
// using the same canonical-request code the server verifies with. Used by amiforge's own API
// (amiforge-api.ts) and by the operator endpoints (operational-api.ts).
import { canonicalRequest } from '../protocol/sigv4/canonical.ts';
import { scopeString, sha256Hex, signatureHex, signingKey, stringToSign } from '../protocol/sigv4/signing.ts';

export interface Credentials { accessKeyId: string; secretAccessKey: string; sessionToken?: string }

/** The AWS SDK's credential chain; it throws when it finds none. */
export async function sdkCredentials(region: string): Promise<Credentials> {
  // The EBS client is the lighter SDK client; only its credential chain is used.
  const { EBSClient } = await import('@aws-sdk/client-ebs');
  const client = new EBSClient({ region });
  try {
    return await client.config.credentials();
  } finally {
    client.destroy();
  }
}

/** The headers to send (no `host`: fetch sets it) for `method url` with `body`, signed. */
export function signedHeaders(o: { method: string; url: URL; body: string; region: string; credentials: Credentials; contentType?: string }): Record<string, string> {
  const time = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const scope = { date: time.slice(0, 8), region: o.region, service: 'amiforge' };
  const headers: Record<string, string> = {
    ...(o.contentType ? { 'content-type': o.contentType } : {}),
    host: o.url.host, 'x-amz-date': time, 'x-amz-content-sha256': sha256Hex(o.body),
    ...(o.credentials.sessionToken ? { 'x-amz-security-token': o.credentials.sessionToken } : {}),
  };
  const signed = Object.keys(headers).sort();
  const canonical = canonicalRequest({
    method: o.method, rawPath: o.url.pathname, rawQuery: o.url.search.slice(1), headers, signedHeaders: signed, payloadHash: headers['x-amz-content-sha256'],
  });
  const signature = signatureHex(signingKey(o.credentials.secretAccessKey, scope), stringToSign(time, scope, canonical));
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${o.credentials.accessKeyId}/${scopeString(scope)}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  const { host: _host, ...sent } = headers;
  return sent;
}
