// Maps a signed request to the calling account and region.
//
// Strict mode (an accounts file): the access key must be known and the SigV4 signature valid.
// Dev mode (no accounts file, loopback only): any key is accepted without checking the
// signature; a 12-digit key id is that account, anything else is account 123456789012.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Caller, OrgMembership } from '../domain/context.ts';
import { Errors } from '../domain/errors.ts';
import { findRegion } from '../domain/regions.ts';
import type { Clock } from '../ports/clock.ts';
import { parseSigV4 } from '../protocol/sigv4/parse.ts';
import type { SignedRequest, SigV4Auth } from '../protocol/sigv4/types.ts';
import { verifySigV4 } from '../protocol/sigv4/verify.ts';
import type { AccountDirectory } from './accounts.ts';
import type { Principal } from './principal.ts';

export const DEV_DEFAULT_ACCOUNT = '123456789012';

export interface Authenticated {
  caller: Caller;
  auth: SigV4Auth;
  /** The account's root or one of its users; the domain sees only `caller` (the account). */
  principal: Principal;
  /** The key is an operator's (accounts file): it may call the operator endpoints (docs/operators.md). */
  operator: boolean;
}

/** Who an access key (strict mode) or an account id (dev mode) is: for console sessions. */
export interface Identity {
  principal: Principal;
  org?: OrgMembership;
}

export interface Authenticator {
  readonly mode: 'strict' | 'dev';
  authenticate(req: SignedRequest): Authenticated;
  /**
   * Console sign-in. Strict: the identity of the access key when the secret is its own (undefined
   * when either is wrong, alike); dev: the 12-digit account named (undefined otherwise).
   */
  signIn(keyOrAccount: string, secret?: string): Identity | undefined;
  /** A signed-in session's identity, looked up again on each request (a removed key is refused). */
  identity(keyOrAccount: string): Identity | undefined;
}

/** Compares secrets in constant time whatever their lengths (hashes of equal length). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function callerRegion(auth: SigV4Auth): string {
  if (!findRegion(auth.region)) throw Errors.unknownRegion(auth.region);
  return auth.region;
}

function requireAuth(req: SignedRequest): SigV4Auth {
  const auth = parseSigV4(req);
  if (!auth) throw Errors.missingAuthenticationToken();
  return auth;
}

export function strictAuthenticator(accounts: AccountDirectory, clock: Clock): Authenticator {
  return {
    mode: 'strict',
    authenticate(req) {
      const auth = requireAuth(req);
      const found = accounts.byAccessKey(auth.accessKeyId);
      if (!found) throw Errors.authFailure();
      verifySigV4(req, auth, found.secret, clock.now());
      const account = found.account.id;
      return { auth, caller: { account, region: callerRegion(auth), org: found.account.org }, principal: { account, user: found.user }, operator: found.operator };
    },
    signIn(accessKeyId, secret) {
      const found = accounts.byAccessKey(accessKeyId);
      // The secret is compared even for an unknown key, so the answer takes as long either way.
      const matches = sameSecret(found?.secret ?? '\0unknown', secret ?? '');
      return found && matches ? this.identity(accessKeyId) : undefined;
    },
    identity(accessKeyId) {
      const found = accounts.byAccessKey(accessKeyId);
      return found && { principal: { account: found.account.id, user: found.user }, org: found.account.org };
    },
  };
}

export function devAuthenticator(accounts?: AccountDirectory): Authenticator {
  return {
    mode: 'dev',
    authenticate(req) {
      const auth = requireAuth(req);
      const account = /^\d{12}$/.test(auth.accessKeyId) ? auth.accessKeyId : DEV_DEFAULT_ACCOUNT;
      // Dev mode has no operators: its operator endpoints are open to anyone on loopback.
      return { auth, caller: { account, region: callerRegion(auth), org: accounts?.byId(account)?.org }, principal: { account }, operator: false };
    },
    signIn(account) {
      return this.identity(account);
    },
    identity(account) {
      return /^\d{12}$/.test(account) ? { principal: { account }, org: accounts?.byId(account)?.org } : undefined;
    },
  };
}
