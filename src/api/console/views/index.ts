// The console's read models that the EC2 API lacks, by name: GET|POST /console/data/<view>.
// Each shows only what the caller could read through the API (the same domain services with
// ctx.caller, and ctx.authorize for IAM-style users).
import type { RequestContext } from '../../../domain/context.ts';
import type { Principal } from '../../../identity/principal.ts';
import type { RequestAuthorization } from '../../../identity/request-authorizer.ts';
import type { App } from '../../../server/app.ts';

export interface ConsoleContext extends RequestContext {
  principal: Principal;
  /** Identity-policy checks for IAM-style users (undefined for an account's root). */
  authorize?: RequestAuthorization;
}

export interface ConsoleView {
  method: 'GET' | 'POST';
  /** params: the query string; body: the parsed JSON body for POST. Returns JSON-able data. */
  handle(app: App, ctx: ConsoleContext, params: URLSearchParams, body?: unknown): Promise<unknown>;
}

export const consoleViews: Record<string, ConsoleView> = {};
