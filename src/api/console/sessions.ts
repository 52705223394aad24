// Web console sessions: sign-in with an access key and its secret (strict mode) or an account id
// (dev mode), a random session id in an HttpOnly SameSite=Strict cookie, a CSRF token for every
// request that changes anything, an expiry, sign-out. The principal is looked up again from the
// stored access key on every request, so a key removed from the accounts file ends its sessions.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Errors } from '../../domain/errors.ts';
import type { Caller } from '../../domain/context.ts';
import type { Authenticator, Identity } from '../../identity/authenticator.ts';
import { DEV_DEFAULT_ACCOUNT } from '../../identity/authenticator.ts';
import type { Principal } from '../../identity/principal.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ConsoleSessionRecord, ConsoleSessionStore } from '../../ports/console-sessions.ts';

export const SESSION_COOKIE = 'amiforge_console';
export const CSRF_HEADER = 'x-csrf-token';

/** What the browser learns about its session (POST and GET /console/session). */
export interface SessionView {
  account: string;
  user?: string;
  mode: 'strict' | 'dev';
  csrfToken: string;
  expiresAt: string;
}

/** A live session with the identity it acts as on this request. */
export interface ActiveSession {
  record: ConsoleSessionRecord;
  identity: Identity;
}

const hashId = (id: string): string => createHash('sha256').update(id).digest('hex');

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Behind a TLS-terminating proxy the browser spoke https even though this socket is plain. */
function viaHttps(req: IncomingMessage): boolean {
  return (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
}

export function sessionCookie(req: IncomingMessage, id: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/console; Max-Age=${maxAgeSeconds}${viaHttps(req) ? '; Secure' : ''}`;
}

export function clearedCookie(req: IncomingMessage): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0${viaHttps(req) ? '; Secure' : ''}`;
}

export class ConsoleSessions {
  private readonly store: ConsoleSessionStore;
  private readonly authenticator: Authenticator;
  private readonly clock: Clock;
  private readonly lifetimeMs: number;
  constructor(o: { store: ConsoleSessionStore; authenticator: Authenticator; clock: Clock; lifetimeMs: number }) {
    this.store = o.store;
    this.authenticator = o.authenticator;
    this.clock = o.clock;
    this.lifetimeMs = o.lifetimeMs;
  }

  get mode(): 'strict' | 'dev' {
    return this.authenticator.mode;
  }

  /**
   * Signs in from the JSON body; the new session id (for the cookie) and its view. Strict mode:
   * an unknown key and a wrong secret are refused alike (AuthFailure, no hint which part).
   */
  async signIn(body: unknown, replacing?: IncomingMessage): Promise<{ id: string; view: SessionView; identity: Identity }> {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    let identity: Identity | undefined;
    let accessKeyId: string | undefined;
    if (this.mode === 'strict') {
      accessKeyId = typeof b.accessKeyId === 'string' ? b.accessKeyId : '';
      identity = this.authenticator.signIn(accessKeyId, typeof b.secretAccessKey === 'string' ? b.secretAccessKey : '');
      if (!identity) throw Errors.authFailure();
    } else {
      // A string only: String() of {"toString": 1} throws, which answered 500.
      if (b.account !== undefined && typeof b.account !== 'string') throw Errors.consoleBadRequest('The account must be a string of 12 digits.');
      const account = b.account === undefined || b.account === '' ? DEV_DEFAULT_ACCOUNT : b.account;
      identity = this.authenticator.signIn(account);
      if (!identity) throw Errors.consoleBadRequest(`The account must be 12 digits, got '${account}'.`);
    }
    const now = this.clock.now();
    // The session the browser held until now ends: its cookie is overwritten, so nobody should still hold that id.
    const previous = replacing && cookieValue(replacing, SESSION_COOKIE);
    if (previous) await this.store.delete(hashId(previous));
    // Expired sessions are dropped as new ones begin: no timer, and the table stays small.
    await this.store.deleteExpired(now);
    const id = randomBytes(32).toString('base64url');
    const record: ConsoleSessionRecord = {
      idHash: hashId(id),
      account: identity.principal.account,
      accessKeyId,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.lifetimeMs).toISOString(),
    };
    await this.store.create(record);
    return { id, view: this.view(record, identity.principal), identity };
  }

  /** The request's live session; Errors.signInRequired when missing, expired, signed out or its key is gone. */
  async resolve(req: IncomingMessage): Promise<ActiveSession> {
    const id = cookieValue(req, SESSION_COOKIE);
    if (!id) throw Errors.signInRequired();
    const idHash = hashId(id);
    const record = await this.store.get(idHash);
    if (!record) throw Errors.signInRequired();
    if (Date.parse(record.expiresAt) <= this.clock.now().getTime()) {
      await this.store.delete(idHash);
      throw Errors.signInRequired();
    }
    const identity = this.authenticator.identity(record.accessKeyId ?? record.account);
    if (!identity || identity.principal.account !== record.account) {
      await this.store.delete(idHash);
      throw Errors.signInRequired();
    }
    return { record, identity };
  }

  /** Requests that change anything must echo the session's CSRF token. */
  checkCsrf(req: IncomingMessage, session: ActiveSession): void {
    const sent = req.headers[CSRF_HEADER];
    const token = Buffer.from(typeof sent === 'string' ? sent : '');
    const expected = Buffer.from(session.record.csrfToken);
    if (token.length !== expected.length || !timingSafeEqual(token, expected)) throw Errors.invalidCsrfToken();
  }

  async signOut(session: ActiveSession): Promise<void> {
    await this.store.delete(session.record.idHash);
  }

  secondsLeft(session: { expiresAt: string }): number {
    return Math.max(0, Math.floor((Date.parse(session.expiresAt) - this.clock.now().getTime()) / 1000));
  }

  view(record: ConsoleSessionRecord, principal: Principal): SessionView {
    return { account: record.account, user: principal.user?.name, mode: this.mode, csrfToken: record.csrfToken, expiresAt: record.expiresAt };
  }
}

/** The caller a console request acts as: the session's account in the request's region. */
export function sessionCaller(session: ActiveSession, region: string): Caller {
  return { account: session.identity.principal.account, region, org: session.identity.org };
}
