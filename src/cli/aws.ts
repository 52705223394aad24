// What the client commands (snapshot, image) share: the endpoint and region options, the AWS SDK
// clients made from them, option parsers, and turning errors into one line that says what to do.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { EBSClient } from '@aws-sdk/client-ebs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SnapshotClientError, TransferAbortedError } from '../client/errors.ts';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';

export interface ConnectionOptions {
  endpointUrl: string;
  region: string;
}

/** Adds --endpoint-url and --region to a command. */
export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--endpoint-url <url>', 'service endpoint; "aws" for the AWS SDK\'s own regional endpoints')
      .env('AWS_ENDPOINT_URL').default(DEFAULT_ENDPOINT))
    .addOption(new Option('--region <region>', 'region (else $AWS_REGION, $AWS_DEFAULT_REGION)')
      .default(process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1'));
}

export const CONNECTION_HELP = `
Connection: --endpoint-url (default $AWS_ENDPOINT_URL, else ${DEFAULT_ENDPOINT}) names one endpoint
serving both EC2 and the EBS direct APIs, as amiforge does; "--endpoint-url aws" uses AWS's own
endpoints. Credentials come from the AWS SDK's usual chain: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, or an instance role. (An amiforge server in dev
mode takes any key; a 12-digit access key id acts as that account.)`;

export interface Clients {
  ebs: EBSClient;
  ec2: EC2Client;
  endpoint: string;
}

/**
 * EBS and EC2 clients with a connection pool sized for `concurrency` requests in flight. The SDK
 * is loaded here, on first use, so that `amiforge serve` and --help never pay for it.
 */
export async function makeClients(o: ConnectionOptions, concurrency = 16): Promise<Clients> {
  const endpoint = o.endpointUrl === 'aws' ? undefined : o.endpointUrl;
  // The SDK reads AWS_ENDPOINT_URL(_EBS, _EC2) itself; "aws" means AWS's endpoints, not those.
  if (endpoint === undefined) for (const v of ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_EBS', 'AWS_ENDPOINT_URL_EC2']) delete process.env[v];
  if (endpoint !== undefined) {
    try {
      const u = new URL(endpoint);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new SnapshotClientError(`--endpoint-url ${endpoint} is not an http(s) URL; give one such as ${DEFAULT_ENDPOINT}`);
    }
  }
  const sockets = concurrency + 4;
  const config = {
    region: o.region,
    endpoint,
    // Retries are the snapshot client's own (backoff for transient errors only).
    maxAttempts: 1,
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: sockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: sockets }),
      connectionTimeout: 10_000,
      requestTimeout: 300_000,
    },
  };
  const { EBSClient } = await import('@aws-sdk/client-ebs');
  return { ebs: new EBSClient(config), ec2: lazyEc2(config), endpoint: endpoint ?? `AWS (${o.region})` };
}

/**
 * An EC2 client made on its first call. @aws-sdk/client-ec2 costs about 100 MB resident once
 * loaded, and a transfer needs EC2 only before or after moving the blocks (DescribeSnapshots,
 * RegisterImage): loading it then keeps it out of the transfer's peak memory.
 */
function lazyEc2(config: object): EC2Client {
  let client: Promise<EC2Client> | undefined;
  const get = () => (client ??= import('@aws-sdk/client-ec2').then(({ EC2Client }) => new EC2Client(config)));
  const send = async (command: unknown, options?: unknown) => (await get()).send(command as never, options as never);
  return { send } as unknown as EC2Client;
}

export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    }
    return n;
  };
}

/** Collects repeated --tag KEY=VALUE options. */
export function collectTag(v: string, prev: Record<string, string> = {}): Record<string, string> {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('a tag is KEY=VALUE, e.g. --tag Name=web');
  return { ...prev, [v.slice(0, eq)]: v.slice(eq + 1) };
}

interface AnyError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
  errors?: unknown[];
}

function networkCode(err: unknown): string | undefined {
  const e = err as AnyError | undefined;
  if (!e || typeof e !== 'object') return undefined;
  if (e.code && /^E[A-Z]+$/.test(e.code)) return e.code;
  for (const inner of [e.cause, ...(e.errors ?? [])]) {
    const c = inner !== err ? networkCode(inner) : undefined;
    if (c) return c;
  }
  return undefined;
}

/** One line saying what went wrong and what to do about it. */
export function describeError(err: unknown, endpoint: string): string {
  const e = (err ?? {}) as AnyError;
  if (err instanceof SnapshotClientError || err instanceof TransferAbortedError) return e.message!;
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
    return 'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)';
  }
  const code = networkCode(err);
  if (code === 'ECONNREFUSED') return `cannot connect to ${endpoint} (connection refused): is the server running? Check --endpoint-url`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host of ${endpoint}: check --endpoint-url`;
  if (code) return `lost the connection to ${endpoint} (${code}); try again (an upload resumes where it stopped)`;
  if (e.name === 'AccessDeniedException' || e.name === 'UnauthorizedOperation' || e.name === 'AuthFailure') {
    return `${e.name}: ${e.message} (check the credentials and their permissions)`;
  }
  if (e.$metadata?.httpStatusCode !== undefined) {
    const hint = e.$metadata.httpStatusCode >= 500 ? ' (a server error; try again later)' : '';
    return `${e.name ?? 'Error'}: ${e.message ?? `HTTP ${e.$metadata.httpStatusCode}`}${hint}`;
  }
  const fsError = SnapshotClientError.fromFs(err, (err as { path?: string }).path ?? 'a file');
  if (fsError instanceof SnapshotClientError) return fsError.message;
  return `${e.message ?? String(err)} (unexpected; please report it)`;
}

/** Runs a command's work; failures print one line on stderr and set a non-zero exit code. */
export async function runCommand(label: string, endpoint: () => string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    process.stderr.write(`amiforge ${label}: ${describeError(err, endpoint())}\n`);
    if (process.env.AMIFORGE_DEBUG) console.error(err);
    process.exitCode = err instanceof TransferAbortedError ? 130 : 1;
  }
}

export interface Interrupt {
  signal: AbortSignal;
  /** Feeds the test hook AMIFORGE_TEST_STOP_AFTER_BLOCKS with the blocks sent so far. */
  sent(blocks: number): void;
  dispose(): void;
}

/**
 * Ctrl-C (SIGINT) or SIGTERM stops a transfer cleanly: blocks in flight finish and are recorded,
 * so a rerun resumes. A second Ctrl-C exits at once. For tests, AMIFORGE_TEST_STOP_AFTER_BLOCKS=N
 * stops the same way once N blocks are sent.
 */
export function interruptible(onStop: (message: string) => void): Interrupt {
  const ctl = new AbortController();
  const stopAfter = Number(process.env.AMIFORGE_TEST_STOP_AFTER_BLOCKS ?? NaN);
  const handler = (signal: NodeJS.Signals) => {
    if (ctl.signal.aborted) process.exit(130);
    onStop(`${signal}: stopping after the blocks in flight (press Ctrl-C again to quit at once)`);
    ctl.abort(new Error(signal));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ctl.signal,
    sent(blocks) {
      if (blocks >= stopAfter && !ctl.signal.aborted) ctl.abort(new Error('AMIFORGE_TEST_STOP_AFTER_BLOCKS'));
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
