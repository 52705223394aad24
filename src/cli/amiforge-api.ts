// A client of amiforge's own signed API (src/server/amiforge-api.ts): a JSON POST signed with
// SigV4 for the service `amiforge`, with the credentials the AWS SDK's usual chain finds, so the
// server runs it as the caller's account (sign-request.ts).
import { sdkCredentials, signedHeaders } from './sign-request.ts';
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

export async function callAmiforge<T>(o: ConnectionOptions, path: string, input: unknown): Promise<T> {
  if (o.endpointUrl === 'aws') throw new SnapshotClientError('this command needs an amiforge server: give its --endpoint-url');
  let url: URL;
  try {
    url = new URL(path, o.endpointUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new SnapshotClientError(`--endpoint-url ${o.endpointUrl} is not an http(s) URL`);
  }
  const body = JSON.stringify(input);
  const headers = signedHeaders({ method: 'POST', url, body, region: o.region, credentials: await sdkCredentials(o.region), contentType: 'application/json' });
  const res = await fetch(url, { method: 'POST', headers, body });
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
