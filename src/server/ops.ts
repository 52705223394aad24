// Operational endpoints (/_amiforge/..., /metrics): the routes are in ops-routes.ts. Here each
// request is matched, checked against the operator rule (operator-gate.ts) and answered in JSON.
// Test-only routes (reset, clock) answer only with --enable-reset, and only to an operator.
import type { IncomingMessage } from 'node:http';
import type { App } from './app.ts';
import { checkOperator } from './operator-gate.ts';
import { findOpsRoute, isOpsPath, OPS_ROUTES } from './ops-routes.ts';

export { VERSION } from './version.ts';

export interface OpsOutcome {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
  service: 'ops';
  /** The route's template (`POST /_amiforge/copy-schedules/NAME/run`), or `unknown`. */
  action: string;
  /** The operator who signed the request (SigV4), for the log. */
  account?: string;
  user?: string;
  errorCode?: string;
}

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

/** The response for an operational path, or undefined when the path is an AWS API request. */
export async function handleOps(app: App, req: IncomingMessage, rawPath: string, rawQuery: string): Promise<OpsOutcome | undefined> {
  if (!isOpsPath(rawPath)) return undefined;
  const method = req.method ?? 'GET';
  const found = findOpsRoute(method, rawPath);
  const action = found ? `${found.route.method} ${found.route.template}` : 'unknown';
  let who: { account?: string; user?: string } = {};
  if (!found?.route.open) {
    const check = await checkOperator(app, req, rawPath, rawQuery);
    if (!check.allowed) return { ...check.refusal, service: 'ops', action };
    who = check.operator;
  }
  if (!found) {
    const known = OPS_ROUTES.map((r) => `${r.method} ${r.template}`).join(', ');
    return { ...json(404, { error: `No such endpoint: ${method} ${rawPath}. The operational endpoints are: ${known}.` }), service: 'ops', action, ...who };
  }
  if (found.route.testOnly && !app.config.enableReset) {
    return { ...json(403, { error: `${action} is for test suites only; start the server with --enable-reset.` }), service: 'ops', action, ...who };
  }
  try {
    // The handlers decode NAME and ARN themselves; a bad escape is the client's mistake, not a 500.
    for (const p of found.params) decodeURIComponent(p);
  } catch {
    return { ...json(400, { error: `The path ${rawPath} is not validly percent-encoded.` }), service: 'ops', action, ...who };
  }
  return { ...(await found.route.handle(app, found.params)), service: 'ops', action, ...who };
}
