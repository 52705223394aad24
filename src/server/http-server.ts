// The single HTTP endpoint. It reads the body, authenticates, routes by service (from the
// SigV4 credential scope, as AWS clients address services) and renders errors in the
// service's own envelope. Operational endpoints live under /_amiforge/.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { serializeAwsJsonError } from '../protocol/json/codec.ts';
import { serializeJsonError } from '../protocol/rest-json/codec.ts';
import { Errors, isServiceError, ServiceError } from '../domain/errors.ts';
import { newRequestId } from '../ports/ids.ts';
import { serializeError } from '../protocol/ec2/xml-serializer.ts';
import type { SignedRequest } from '../protocol/sigv4/types.ts';
import type { App } from './app.ts';
import type { Logger } from './logger.ts';
import { handleOps, VERSION } from './ops.ts';
import { AMIFORGE_SERVICE } from './amiforge-api.ts';
import { dispatchService } from './service-dispatch.ts';
import { serveConsoleStatic } from './console-assets.ts';
import { isConsoleRoute, isConsoleStream, serveConsoleRoute, serveConsoleStream } from '../api/console/routes.ts';
import { internalErrorFor } from './internal-errors.ts';

const MAX_BODY = 16 * 1024 * 1024;
/** How long a refused connection is read and drained before it is closed regardless (see refuse). */
const LINGER_MS = 5_000;

interface Outcome {
  status: number;
  body: string | Buffer;
  contentType: string;
  headers?: Record<string, string>;
  account?: string;
  /** The IAM-style user who signed, when not the account's root. */
  user?: string;
  region?: string;
  service?: string;
  action?: string;
  errorCode?: string;
  /** The error's message as the client gets it (logged beside its code). */
  errorMessage?: string;
  /** The node that served the request, when it was forwarded there. */
  forwardedTo?: string;
}

/**
 * Reusable buffers for large request bodies (EBS blocks: 512 KiB each). Allocating a fresh one
 * per request made V8 run a full garbage collection every few dozen requests to reclaim external
 * memory; a body is returned here once its response is sent (see createHttpServer).
 */
const POOLED_MIN = 128 * 1024;
const POOL_KEEP = 32;
const bodyPool = new Map<number, Buffer[]>();
const pooled = new WeakSet<Buffer>();
/** Each request's body, to return it to the pool once the response is sent. */
const requestBodies = new WeakMap<IncomingMessage, Buffer>();

function takeBody(size: number): Buffer {
  const b = bodyPool.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
  pooled.add(b);
  return b;
}

function giveBack(body: Buffer | undefined): void {
  if (!body || !pooled.has(body)) return;
  let free = bodyPool.get(body.length);
  if (!free) bodyPool.set(body.length, (free = []));
  if (free.length < POOL_KEEP) free.push(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    // Known size: read straight into a (pooled) buffer of that size, no concatenation.
    if (Number.isSafeInteger(declared) && declared >= POOLED_MIN && declared <= MAX_BODY) {
      const body = takeBody(declared);
      let size = 0;
      req.on('data', (c: Buffer) => {
        if (size + c.length > declared) {
          reject(Errors.invalidParameterValue(`The request body exceeds ${MAX_BODY} bytes.`));
          req.destroy();
          return;
        }
        c.copy(body, size);
        size += c.length;
      });
      req.on('end', () => resolve(size === declared ? body : body.subarray(0, size)));
      req.on('error', () => reject(Errors.malformedQuery('The connection closed before the request body was complete.')));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(Errors.invalidParameterValue(`The request body exceeds ${MAX_BODY} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    // The only errors here are the client's: it closed the connection or sent a body node's
    // parser rejects. Rejecting with the raw error logged each one as a 500 InternalError.
    req.on('error', () => reject(Errors.malformedQuery('The connection closed before the request body was complete.')));
  });
}

function ec2Fields(rawQuery: string, req: IncomingMessage, body: Buffer): [string, string][] {
  const fields = [...new URLSearchParams(rawQuery)];
  const type = String(req.headers['content-type'] ?? '');
  if (body.length && (type === '' || type.startsWith('application/x-www-form-urlencoded'))) {
    fields.push(...new URLSearchParams(body.toString('utf8')));
  }
  return fields;
}

/** The service in the request's SigV4 credential scope (header or presigned form), if readable. */
function scopedService(req: IncomingMessage, rawQuery: string): string | undefined {
  const credential = /Credential=([^,\s]+)/.exec(String(req.headers.authorization ?? ''))?.[1]
    ?? new URLSearchParams(rawQuery).get('X-Amz-Credential');
  return credential?.split('/')[3] || undefined;
}

async function serve(app: App, log: Logger, req: IncomingMessage, requestId: string): Promise<Outcome> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  // Operational endpoints, closed to all but operators in strict mode (operator-gate.ts).
  const ops = await handleOps(app, req, rawPath, rawQuery);
  if (ops) return { contentType: 'application/json', ...ops };
  // The web console (docs/console.md): its files, and `/` from a browser sent there.
  const page = await serveConsoleStatic(() => app.config.buildDir, log, req.method ?? 'GET', rawPath, rawQuery, req.headers);
  if (page) return { ...page, service: 'console' };

  const body = await readBody(req);
  requestBodies.set(req, body);
  if (isConsoleRoute(rawPath)) return serveConsoleRoute(app, req, rawPath, rawQuery, body, requestId);
  // headersDistinct keeps repeated headers apart, as SigV4's canonical form needs.
  const signed: SignedRequest = { method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headersDistinct, body };
  const outcome: Outcome = { status: 200, body: '', contentType: 'text/xml;charset=UTF-8' };
  // The service decides the error envelope; before authentication, guess it from the request.
  // The credential scope names it even when authentication then fails (a bad region, a bad
  // signature); guessing from the method alone answered such EC2 requests in EBS's JSON.
  let service = scopedService(req, rawQuery)
    ?? (req.headers['x-amz-target'] || !['GET', 'POST'].includes(req.method ?? '') || rawPath.startsWith('/snapshots') ? 'ebs' : 'ec2');
  try {
    const { caller, auth, principal } = app.authenticator.authenticate(signed);
    service = auth.service;
    Object.assign(outcome, { account: caller.account, region: caller.region, service, user: principal.user?.name });
    // EC2's fields are read before dispatch so the action is logged even when the call fails.
    const fields = service === 'ec2' ? ec2Fields(rawQuery, req, body) : [];
    outcome.action = fields.find(([k]) => k === 'Action')?.[1];
    Object.assign(outcome, await dispatchService(app, { service, request: signed, http: req, ec2Fields: fields, caller, principal, requestId, render: 'xml' }));
  } catch (err) {
    const e = isServiceError(err) ? err : internalErrorFor(service, err);
    if (!isServiceError(err)) (outcome as { cause?: unknown }).cause = err;
    if (service === 'kms' || service === 'ssm') {
      const r = serializeAwsJsonError(e, requestId);
      Object.assign(outcome, { status: r.status, body: r.body, contentType: r.headers['content-type'], headers: r.headers, errorCode: e.code, errorMessage: e.message });
    } else if (service === 'ebs' || service === 'rbin' || service === 'imagebuilder' || service === AMIFORGE_SERVICE) {
      const r = serializeJsonError(e, requestId);
      Object.assign(outcome, { status: r.status, body: r.body, contentType: 'application/json', headers: r.headers, errorCode: e.code, errorMessage: e.message });
    } else {
      Object.assign(outcome, { status: e.status, body: serializeError(e, requestId), errorCode: e.code, errorMessage: e.message });
    }
  }
  return outcome;
}

export function createHttpServer(app: App, log: Logger): Server {
  /** One log line and the metrics for each answered request, streamed or not; a failure's cause goes to the log only. */
  const record = (entry: Parameters<App['metrics']['observeRequest']>[0], cause: unknown) => {
    if (cause) log.error({ ...entry, err: cause }, 'request failed');
    else log.info(entry, 'request');
    app.metrics.observeRequest(entry);
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const requestId = newRequestId();
    let outcome: Outcome;
    try {
      const path = (req.url ?? '/').split('?', 1)[0];
      // Server-Sent Events write to the response themselves, for as long as the stream lasts.
      if (isConsoleStream(path)) {
        const r = await serveConsoleStream(app, req, res, path, (req.url ?? '').slice(path.length + 1), requestId);
        const entry = { requestId, account: r.account, user: r.user, region: r.region, service: r.service, action: r.action, status: r.status, errorCode: r.errorCode,
          latencyMs: Number(process.hrtime.bigint() - started) / 1e6 };
        record(entry, r.cause);
        return;
      }
      outcome = await serve(app, log, req, requestId);
    } catch (err) {
      const e = err instanceof ServiceError ? err : internalErrorFor('ec2', err);
      outcome = { status: e.status, body: serializeError(e, requestId), contentType: 'text/xml;charset=UTF-8', errorCode: e.code, errorMessage: e.message };
      if (!(err instanceof ServiceError)) (outcome as { cause?: unknown }).cause = err;
    }
    // Encoded once: measuring a megabyte answer's UTF-8 length and then encoding it for the
    // socket walked the whole string twice.
    const body = typeof outcome.body === 'string' ? Buffer.from(outcome.body) : outcome.body;
    res.writeHead(outcome.status, {
      ...outcome.headers,
      'content-type': outcome.contentType,
      'content-length': body.length,
      // A forwarded request's answer keeps the serving node's request id, the one in its body.
      'x-amzn-requestid': outcome.forwardedTo ? outcome.headers?.['x-amzn-requestid'] ?? requestId : requestId,
      'server': `amiforge/${VERSION}`,
    });
    res.end(body);
    // Every handler has finished with the request body (they await their work): reuse it.
    giveBack(requestBodies.get(req));
    const cause = (outcome as { cause?: Error }).cause;
    const entry = {
      requestId, account: outcome.account, user: outcome.user, region: outcome.region, service: outcome.service,
      action: outcome.action, status: outcome.status, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, forwardedTo: outcome.forwardedTo,
      latencyMs: Number(process.hrtime.bigint() - started) / 1e6,
    };
    record(entry, cause);
  });
  /**
   * Answers on the bare socket, in EC2's error envelope, and closes it -- lingering: the client
   * may still be sending (a 1 MB query string is refused after its first 16 KiB), and closing a
   * socket with unread bytes makes the kernel send a reset, which can reach the client before it
   * has read the answer (it then sees EPIPE or ECONNRESET on its write and never the 431). So the
   * rest is read and dropped until the client closes, for LINGER_MS at most (node's parser goes
   * on reading a connection it failed on; a CONNECT's socket is resumed here).
   */
  const refuse = (socket: Duplex, status: number, message: string, why: string | undefined) => {
    const requestId = newRequestId();
    const e = Errors.malformedQuery(message);
    const body = serializeError(e, requestId);
    refused.add(socket);
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: text/xml;charset=UTF-8\r\n`
      + `content-length: ${Buffer.byteLength(body)}\r\nx-amzn-requestid: ${requestId}\r\nconnection: close\r\n\r\n${body}`);
    // A CONNECT's socket is handed over paused, and without node's error listener: read it, or
    // its end never comes; a client resetting it now is no fault.
    socket.on('error', () => socket.destroy());
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(linger));
    log.info({ requestId, status, errorCode: e.code, why }, 'malformed request');
  };
  /** Sockets already answered by refuse: lingering, not to be answered or destroyed again. */
  const refused = new WeakSet<Duplex>();
  // Requests node's HTTP parser rejects (an unknown method, bytes a request line or header may
  // not hold, a broken chunked body) never reach the handler above, and node's own answer is a
  // bare 400 with no body that AWS clients cannot parse. Answer in EC2's error envelope instead.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Node's parser, once failed, fails again on every later chunk of the same connection: while
    // refuse lingers, those errors are expected (destroying here was what reset the connection).
    if (refused.has(socket)) return;
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    refuse(socket, status, 'The request is not a well-formed HTTP/1.1 request.', err.code);
  });
  // CONNECT asks for a tunnel, which node hands to this event; unhandled, it dropped the
  // connection without an answer.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    refuse(socket, 400, 'CONNECT is not supported: this is an API endpoint, not a proxy.', 'CONNECT');
  });
  return server;
}
