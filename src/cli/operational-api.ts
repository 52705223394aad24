// The server's operational endpoints (/_amiforge/...), which the commands for scheduled copies
// and lifecycle policies call: the endpoint option and one request. In strict mode these need an
// operator (docs/operators.md), so each request is signed with the credentials the AWS SDK's
// chain finds, as for any other call; with none found it goes unsigned (a dev-mode server
// answers it, a strict one says what is missing).
import { Option } from 'commander';
import { DEFAULT_ENDPOINT } from './aws.ts';
import { sdkCredentials, signedHeaders, type Credentials } from './sign-request.ts';

export const endpointOption = () => new Option('--endpoint-url <url>', 'the amiforge server').env('AWS_ENDPOINT_URL').default(DEFAULT_ENDPOINT);

/** Any region the server knows will do: the signature's scope names it, nothing else does. */
const region = () => process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';

/** One request; a server that cannot be reached is an Error saying so. */
export async function callOperational(endpoint: string, method: string, path: string): Promise<{ status: number; body: any }> {
  const url = new URL(path, endpoint);
  const credentials: Credentials | undefined = await sdkCredentials(region()).catch(() => undefined);
  const headers = credentials ? signedHeaders({ method, url, body: '', region: region(), credentials }) : {};
  let res: Response;
  try {
    res = await fetch(url, { method, headers, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new Error(`cannot reach amiforge at ${endpoint} (${(err as Error).cause ?? (err as Error).message}); is \`amiforge serve\` running there?`);
  }
  const body = await res.json().catch(() => ({}));
  // An operator refusal's error is {code, message}; the endpoints' own errors are a sentence.
  if (body?.error && typeof body.error === 'object') body.error = `${body.error.message} (${body.error.code}, HTTP ${res.status})`;
  return { status: res.status, body };
}
