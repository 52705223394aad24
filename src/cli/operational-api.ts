// The server's unsigned operational endpoints (/_amiforge/...), which the commands for scheduled
// copies and lifecycle policies call: the endpoint option and one request.
import { Option } from 'commander';
import { DEFAULT_ENDPOINT } from './aws.ts';

export const endpointOption = () => new Option('--endpoint-url <url>', 'the amiforge server').env('AWS_ENDPOINT_URL').default(DEFAULT_ENDPOINT);

/** One request; a server that cannot be reached is an Error saying so. */
export async function callOperational(endpoint: string, method: string, path: string): Promise<{ status: number; body: any }> {
  let res: Response;
  try {
    res = await fetch(new URL(path, endpoint), { method, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new Error(`cannot reach amiforge at ${endpoint} (${(err as Error).cause ?? (err as Error).message}); is \`amiforge serve\` running there?`);
  }
  return { status: res.status, body: await res.json().catch(() => ({})) };
}
