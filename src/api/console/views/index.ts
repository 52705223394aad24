// Console views: read models the EC2 API lacks (sorted image tables, lineage, costs), served at
// GET|POST /console/data/<name>. Each shows only what the caller could read through the API: it
// calls the domain services with ctx.caller and, for IAM-style users, ctx.authorize first.
import type { RequestContext } from '../../../domain/context.ts';
import type { Principal } from '../../../identity/principal.ts';
import type { RequestAuthorization } from '../../../identity/request-authorizer.ts';
import type { App } from '../../../server/app.ts';
import { imagesView } from './images.ts';
import { lineageView } from './lineage.ts';
import { cleanupPreviewView, cleanupView, storageView } from './storage.ts';
import { copySchedulesView } from './copy-schedules.ts';

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

export const consoleViews: Record<string, ConsoleView> = {
  'images': imagesView,
  'lineage': lineageView,
  'storage': storageView,
  'cleanup-preview': cleanupPreviewView,
  'cleanup': cleanupView,
  'copy-schedules': copySchedulesView,
};
