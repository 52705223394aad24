// The console's server routes beside the AWS APIs: /console/session (sign-in, current, sign-out),
// /console/api/<service> (the services' own dispatchers under the session's principal),
// /console/data/<view> and /console/stream/<name>. Errors are JSON {error: {code, message}}.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Errors, isServiceError, type ServiceError } from '../../domain/errors.ts';
import { findRegion } from '../../domain/regions.ts';
import type { SignedRequest } from '../../protocol/sigv4/types.ts';
import type { App } from '../../server/app.ts';
import { dispatchService } from '../../server/service-dispatch.ts';
import { clearedCookie, ConsoleSessions, sessionCaller, sessionCookie, type ActiveSession } from './sessions.ts';
import { consoleViews, type ConsoleContext } from './views/index.ts';
import { consoleStreamRoutes, consoleStreams } from './streams/index.ts';
import { forwardStream } from '../../server/stream-forwarding.ts';
import { FORWARDED_BY } from '../../server/instance-forwarding.ts';

export const REGION_HEADER = 'x-amiforge-region';
/** How often an open stream asks whether its session still lives. */
const SESSION_RECHECK_MS = 2000;
const API_PREFIX = '/console/api/';

export interface ConsoleAnswer {
  status: number;
  body: string | Buffer;
  contentType: string;
  headers?: Record<string, string>;
  account?: string;
  user?: string;
  region?: string;
  service: 'console';
  action?: string;
  errorCode?: string;
  forwardedTo?: string;
  /** A failure that is not a service error (logged with its stack). */
  cause?: unknown;
}

/**
 * Whether the path is one of the console's server routes (not its static files): exactly the
 * paths console-assets.ts leaves to it, so `/console/api` is the console's 404, not an AWS error.
 */
export function isConsoleRoute(path: string): boolean {
  return /^\/console\/(session|api|data|stream)(\/|$)/.test(path);
}

export const isConsoleStream = (path: string): boolean => path.startsWith('/console/stream/');

const sessionsByApp = new WeakMap<App, ConsoleSessions>();
function sessionsOf(app: App): ConsoleSessions {
  let s = sessionsByApp.get(app);
  if (!s) {
    s = new ConsoleSessions({ store: app.store.consoleSessions, authenticator: app.authenticator, clock: app.clock, lifetimeMs: app.config.consoleSessionMs });
    sessionsByApp.set(app, s);
  }
  return s;
}

/**
 * Headers of every console answer that is data, not the page: never cached, never read as HTML
 * whatever it holds (names and tags are anyone's text), loading nothing, framed by no one, and
 * not readable by another site's <script> or <img>.
 */
export const DATA_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
};

const json = (status: number, value: unknown, headers?: Record<string, string>) =>
  ({ status, body: JSON.stringify(value), contentType: 'application/json', headers: { ...DATA_HEADERS, ...headers } });

export function consoleError(e: ServiceError, extra: Record<string, unknown> = {}) {
  return json(e.status, { error: { code: e.code, message: e.message }, ...extra });
}

/** The region a console request acts in: its header (or `region` in the query for EventSource, which sends no headers). */
function requestRegion(req: IncomingMessage, query: URLSearchParams): string {
  const sent = req.headers[REGION_HEADER];
  const region = (typeof sent === 'string' ? sent : undefined) ?? query.get('region') ?? '';
  if (!findRegion(region)) throw Errors.consoleInvalidRegion(region);
  return region;
}

function parseJson(body: Buffer): unknown {
  if (!body.length) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw Errors.consoleBadRequest('The request body is not valid JSON.');
  }
}

function contextFor(app: App, session: ActiveSession, region: string, requestId: string): ConsoleContext {
  const caller = sessionCaller(session, region);
  const principal = session.identity.principal;
  return { requestId, caller, principal, authorize: app.authorizer.forRequest(principal, caller) };
}

/** The header naming who a console answer was made for: `account` or `account/user`. */
export const SESSION_HEADER = 'x-amiforge-session';

/**
 * /console/session, /console/api/*, /console/data/*: one JSON answer, naming the session it was
 * made for: a page opened as one account learns when another tab has signed in as another.
 */
export async function serveConsoleRoute(
  app: App, req: IncomingMessage, rawPath: string, rawQuery: string, body: Buffer, requestId: string,
): Promise<ConsoleAnswer> {
  const answer = await routeConsoleRequest(app, req, rawPath, rawQuery, body, requestId);
  if (answer.account) answer.headers = { ...answer.headers, [SESSION_HEADER]: answer.user ? `${answer.account}/${answer.user}` : answer.account };
  return answer;
}

async function routeConsoleRequest(
  app: App, req: IncomingMessage, rawPath: string, rawQuery: string, body: Buffer, requestId: string,
): Promise<ConsoleAnswer> {
  const method = req.method ?? 'GET';
  const answer: ConsoleAnswer = { status: 200, body: '', contentType: 'application/json', service: 'console' };
  const sessions = sessionsOf(app);
  try {
    if (rawPath === '/console/session') return Object.assign(answer, await sessionRoute(sessions, req, method, body, answer));
    const session = await sessions.resolve(req);
    Object.assign(answer, { account: session.record.account, user: session.identity.principal.user?.name });
    if (method !== 'GET' && method !== 'HEAD') sessions.checkCsrf(req, session);
    const query = new URLSearchParams(rawQuery);
    answer.region = requestRegion(req, query);
    if (rawPath.startsWith(API_PREFIX)) {
      const r = await apiCall(app, req, rawPath.slice(API_PREFIX.length), rawQuery, body, session, answer.region, requestId);
      return Object.assign(answer, r, { service: 'console' as const });
    }
    const name = rawPath.slice('/console/data/'.length);
    answer.action = name;
    const view = Object.hasOwn(consoleViews, name) ? consoleViews[name] : undefined;
    if (!rawPath.startsWith('/console/data/') || !view) throw Errors.consoleNotFound(rawPath);
    if (view.method !== method) throw Errors.consoleBadRequest(`The view ${name} answers ${view.method}, not ${method}.`);
    const data = await view.handle(app, contextFor(app, session, answer.region, requestId), query, method === 'POST' ? parseJson(body) : undefined);
    return Object.assign(answer, json(200, data ?? null));
  } catch (err) {
    if (!isServiceError(err)) {
      answer.cause = err;
      return Object.assign(answer, consoleError(Errors.internal()), { errorCode: 'InternalError' });
    }
    // A 401 tells the browser how to sign in again.
    const extra = err.code === 'SignInRequired' ? { mode: sessions.mode } : {};
    return Object.assign(answer, consoleError(err, extra), { errorCode: err.code });
  }
}

async function sessionRoute(sessions: ConsoleSessions, req: IncomingMessage, method: string, body: Buffer, answer: ConsoleAnswer) {
  if (method === 'POST') {
    answer.action = 'SignIn';
    // A JSON body only: a cross-site form cannot send one without the browser asking first.
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      throw Errors.consoleBadRequest('Sign in with a JSON body (content-type: application/json).');
    }
    const { id, view, identity } = await sessions.signIn(parseJson(body), req);
    Object.assign(answer, { account: view.account, user: identity.principal.user?.name });
    return json(200, view, { 'set-cookie': sessionCookie(req, id, sessions.secondsLeft(view)) });
  }
  const session = await sessions.resolve(req);
  Object.assign(answer, { account: session.record.account, user: session.identity.principal.user?.name });
  if (method === 'GET') {
    answer.action = 'GetSession';
    return json(200, sessions.view(session.record, session.identity.principal));
  }
  if (method === 'DELETE') {
    answer.action = 'SignOut';
    sessions.checkCsrf(req, session);
    await sessions.signOut(session);
    return json(200, { signedOut: true }, { 'set-cookie': clearedCookie(req) });
  }
  throw Errors.consoleBadRequest(`/console/session answers GET, POST and DELETE, not ${method}.`);
}

/** /console/api/<service>[/<rest-json path>]: the service's dispatcher, its answer as it is (EC2's as JSON). */
async function apiCall(
  app: App, req: IncomingMessage, rest: string, rawQuery: string, body: Buffer, session: ActiveSession, region: string, requestId: string,
) {
  const slash = rest.indexOf('/');
  const service = slash < 0 ? rest : rest.slice(0, slash);
  const servicePath = slash < 0 ? '/' : rest.slice(slash);
  if (!['ec2', 'kms', 'ssm', 'rbin', 'imagebuilder'].includes(service)) throw Errors.consoleNotFound(`/console/api/${rest}`);
  const method = req.method ?? 'GET';
  if ((service === 'ec2' || service === 'kms' || service === 'ssm') && method !== 'POST') throw Errors.consoleBadRequest(`/console/api/${service} answers POST.`);
  const request: SignedRequest = { method, rawPath: servicePath, rawQuery, headers: req.headersDistinct, body };
  // EC2's Query fields come in a form body only (no query string: it would land in logs).
  const ec2Fields = service === 'ec2' ? [...new URLSearchParams(body.toString('utf8'))] : [];
  const r = await dispatchService(app, {
    service, request, http: req, ec2Fields, caller: sessionCaller(session, region), principal: session.identity.principal, requestId, render: 'json',
  });
  return { ...r, action: r.action ?? service, headers: { ...r.headers, ...DATA_HEADERS } };
}

/** GET /console/stream/<name>: Server-Sent Events until either side closes. */
export async function serveConsoleStream(
  app: App, req: IncomingMessage, res: ServerResponse, rawPath: string, rawQuery: string, requestId: string,
): Promise<ConsoleAnswer> {
  const answer: ConsoleAnswer = { status: 200, body: '', contentType: 'text/event-stream', service: 'console' };
  const name = rawPath.slice('/console/stream/'.length);
  answer.action = name;
  let ctx: ConsoleContext;
  const stream = Object.hasOwn(consoleStreams, name) ? consoleStreams[name] : undefined;
  try {
    const session = await sessionsOf(app).resolve(req);
    Object.assign(answer, { account: session.record.account, user: session.identity.principal.user?.name });
    const query = new URLSearchParams(rawQuery);
    answer.region = requestRegion(req, query);
    if (!stream || req.method !== 'GET') throw Errors.consoleNotFound(rawPath);
    ctx = contextFor(app, session, answer.region, requestId);
    // A guest's console exists only on the node running it: relay the stream from there.
    const route = await consoleStreamRoutes[name]?.(app, ctx, query);
    if (route?.kind === 'forward' && !req.headers[FORWARDED_BY]) {
      await forwardStream(req, res, route, app.cluster.nodeId);
      return Object.assign(answer, { forwardedTo: route.nodeId });
    }
  } catch (err) {
    const e = isServiceError(err) ? err : Errors.internal();
    const r = consoleError(e, e.code === 'SignInRequired' ? { mode: sessionsOf(app).mode } : {});
    res.writeHead(r.status, { ...r.headers, 'content-type': r.contentType, 'x-amzn-requestid': requestId });
    res.end(r.body);
    return Object.assign(answer, r, { errorCode: e.code, cause: isServiceError(err) ? undefined : err });
  }
  const closers: (() => void)[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    for (const cb of closers) cb();
  };
  res.writeHead(200, { ...DATA_HEADERS, 'content-type': 'text/event-stream', 'x-accel-buffering': 'no', 'x-amzn-requestid': requestId });
  res.on('close', close);
  const sink = {
    send(event: string, data: unknown) {
      if (!closed) res.write(`event: ${event.replace(/[\r\n]/g, '')}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose(cb: () => void) {
      if (closed) cb();
      else closers.push(cb);
    },
  };
  // Signing out (or expiry, or the key's removal) ends the streams the session opened, too.
  const recheck = setInterval(() => {
    sessionsOf(app).resolve(req).catch((err) => {
      if (!isServiceError(err) || err.code !== 'SignInRequired' || closed) return; // a store's hiccup: ask again next time
      sink.send('error', { code: err.code, message: err.message });
      sink.send('end', {});
      answer.errorCode = err.code;
      close();
      res.end();
    });
  }, SESSION_RECHECK_MS);
  closers.push(() => clearInterval(recheck));
  try {
    await stream(app, ctx, new URLSearchParams(rawQuery), sink);
  } catch (err) {
    const e = isServiceError(err) ? err : Errors.internal();
    sink.send('error', { code: e.code, message: e.message });
    Object.assign(answer, { errorCode: e.code, cause: isServiceError(err) ? undefined : err });
  }
  // The stream ended on its own: the browser's EventSource would reconnect, so say it is done.
  if (!closed) {
    sink.send('end', {});
    res.end();
  }
  close();
  return answer;
}
