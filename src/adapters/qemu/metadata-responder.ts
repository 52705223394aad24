// A minimal instance metadata service (IMDS) for one guest, on a unix socket that QEMU's
// guestfwd reaches through `socat` (see guestfwdCommand). It serves EC2's tree as cloud-init's
// EC2 datasource crawls it: under /latest/ and every dated API version (/2009-04-04/,
// /2021-03-23/, ...) the same meta-data/, dynamic/ and user-data; directory listings one name a
// line, sub-directories with a trailing '/'; with IMDSv2 session tokens as EC2 does them: PUT
// /latest/api/token with a TTL header, then requests carrying X-aws-ec2-metadata-token.
//
// Why a unix socket: it is reachable only by whoever can open the file (0600, the service's own
// user), so one instance cannot read another's metadata through a local TCP port.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { listenOwnerOnly } from './unix-socket.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface MetadataResponderOptions {
  /**
   * Paths under meta-data/ and their values, e.g. `instance-id`, `placement/availability-zone`.
   * Directory listings are derived from the paths; a key ending in '/' gives a directory's
   * listing as EC2 words it where it differs (`public-keys/` is `0=KEYNAME`).
   */
  metadata: Record<string, string>;
  /** Paths under dynamic/ (`instance-identity/document`, ...), listed the same way. */
  dynamic?: Record<string, string>;
  userData?: Buffer;
  /** `required` (IMDSv2 only, the default) or `optional` (IMDSv1 GETs without a token work too). */
  httpTokens?: 'required' | 'optional';
  /** For tests: the time in ms. */
  now?: () => number;
}

const MAX_TTL_SECONDS = 21_600;

/** The API versions EC2's metadata service lists at its root, oldest first; `latest` follows. */
export const IMDS_VERSIONS = [
  '1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01',
  '2009-04-04', '2011-01-01', '2011-05-01', '2012-01-12', '2014-02-25', '2014-11-05', '2015-10-20', '2016-04-19',
  '2016-06-30', '2016-09-02', '2018-03-28', '2018-08-17', '2018-09-24', '2019-10-01', '2020-10-27', '2021-01-03',
  '2021-03-23', '2021-07-15', '2022-09-24', '2024-04-11',
] as const;
const KNOWN_VERSIONS: ReadonlySet<string> = new Set([...IMDS_VERSIONS, 'latest']);

export class MetadataResponder {
  private readonly opts: MetadataResponderOptions;
  private readonly tokens = new Map<string, number>();
  private server?: Server;
  private socketPath?: string;
  /** Requests served, by path, for tests and logs. */
  readonly requests: { method: string; path: string; status: number }[] = [];

  constructor(opts: MetadataResponderOptions) {
    this.opts = opts;
  }

  async listen(socketPath: string): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    await listenOwnerOnly(server, socketPath);
    this.server = server;
    this.socketPath = socketPath;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.socketPath) await rm(this.socketPath, { force: true });
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string | Buffer = '', headers: Record<string, string> = {}): void => {
      this.requests.push({ method: req.method ?? '', path, status });
      res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    // The body (if any) is ignored, but drained so the connection closes cleanly.
    req.resume();
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return reply(405, '', { Allow: 'OPTIONS, PUT' });
      // As EC2: a token request that went through a proxy is refused (a defence against SSRF).
      if (req.headers['x-forwarded-for'] !== undefined) return reply(403);
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) return reply(400);
      // Expired tokens are dropped here, so a guest asking often cannot grow the map without end.
      for (const [t, expires] of this.tokens) if (expires <= this.now()) this.tokens.delete(t);
      const token = randomBytes(32).toString('base64url');
      this.tokens.set(token, this.now() + ttl * 1000);
      return reply(200, token, { 'X-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, '', { Allow: 'OPTIONS, GET, HEAD' });
    const token = req.headers['x-aws-ec2-metadata-token'];
    if (typeof token === 'string') {
      const expires = this.tokens.get(token);
      if (expires === undefined || expires <= this.now()) {
        this.tokens.delete(token);
        return reply(401);
      }
    } else if ((this.opts.httpTokens ?? 'required') === 'required') {
      return reply(401);
    }
    const body = this.lookup(path);
    return body === undefined ? reply(404) : reply(200, body);
  }

  /** The document at `path`: a value, a directory listing, or undefined (404). */
  private lookup(path: string): string | Buffer | undefined {
    if (path === '/') return [...IMDS_VERSIONS, 'latest'].join('\n');
    const [, version, tree, ...rest] = path.split('/');
    if (!KNOWN_VERSIONS.has(version)) return undefined;
    const sub = rest.join('/');
    if (tree === undefined || tree === '') {
      return [this.opts.dynamic ? 'dynamic' : '', 'meta-data', this.opts.userData ? 'user-data' : ''].filter(Boolean).join('\n');
    }
    if (tree === 'user-data') return sub === '' && path.endsWith('user-data') ? this.opts.userData : undefined;
    if (tree === 'meta-data') return lookupIn(this.opts.metadata, sub);
    if (tree === 'dynamic' && this.opts.dynamic) return lookupIn(this.opts.dynamic, sub);
    return undefined;
  }
}

/** A value of `tree`, or the listing of a directory of it ('' is the top). */
function lookupIn(tree: Record<string, string>, key: string): string | undefined {
  if (key !== '' && !key.endsWith('/') && Object.hasOwn(tree, key)) return tree[key];
  const dir = key === '' || key.endsWith('/') ? key : `${key}/`;
  if (dir !== '' && Object.hasOwn(tree, dir)) return tree[dir];
  const entries = new Set<string>();
  for (const k of Object.keys(tree)) {
    if (!k.startsWith(dir) || k === dir) continue;
    const rest = k.slice(dir.length);
    const slash = rest.indexOf('/');
    entries.add(slash === -1 ? rest : rest.slice(0, slash + 1));
  }
  return entries.size ? [...entries].sort().join('\n') : undefined;
}

/**
 * The QEMU guestfwd command that joins each guest connection to the responder's socket: the
 * `cmd:` form starts one process per connection (the `tcp:` chardev form serves only the first).
 * Used as `guestfwd=tcp:169.254.169.254:80-cmd:<this>`; the path must not contain a comma
 * (QEMU's option separator) or spaces.
 */
export function guestfwdCommand(socketPath: string): string {
  if (/[,\s]/.test(socketPath)) throw new Error(`metadata socket path ${socketPath} must not contain commas or spaces`);
  return `socat STDIO UNIX-CONNECT:${socketPath}`;
}
