// Who may call the operator endpoints (every /_amiforge/ route but health and version, and
// /metrics). In dev mode (loopback, no accounts file) anyone, as always. In strict mode only an
// operator: a request with `Authorization: Bearer TOKEN` where TOKEN is the --operator-token-file's
// (what Prometheus sends), or one signed with SigV4 by an access key the accounts file marks
// `"operator": true` (what the amiforge CLI sends). Anything else is refused before the endpoint
// runs: 401 without valid credentials, 403 for a valid identity that is no operator.
import type { IncomingMessage } from 'node:http';
import { Errors, isServiceError, type ServiceError } from '../domain/errors.ts';
import { principalArn } from '../identity/principal.ts';
import type { App } from './app.ts';

/** Operator requests carry no real body; a signed one is read whole to check its payload hash. */
const MAX_SIGNED_BODY = 64 * 1024;

export type OperatorCheck =
  | { allowed: true; operator: { account?: string; user?: string } }
  | { allowed: false; refusal: { status: number; body: string; contentType: string; headers: Record<string, string>; errorCode: string } };

function refuse(e: ServiceError): OperatorCheck {
  return {
    allowed: false,
    refusal: {
      status: e.status, body: JSON.stringify({ error: { code: e.code, message: e.message } }), contentType: 'application/json', errorCode: e.code,
      // RFC 9110: a 401 names the scheme it wants.
      headers: e.status === 401 ? { 'www-authenticate': 'Bearer realm="amiforge operator endpoints"' } : {},
    },
  };
}

function readSmallBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_SIGNED_BODY) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(undefined));
  });
}

export async function checkOperator(app: App, req: IncomingMessage, rawPath: string, rawQuery: string): Promise<OperatorCheck> {
  if (app.authenticator.mode === 'dev') return { allowed: true, operator: {} };
  const authorization = String(req.headers.authorization ?? '');
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) {
    return app.operatorToken?.matches(bearer[1]) ? { allowed: true, operator: {} } : refuse(Errors.operatorTokenInvalid(!!app.operatorToken));
  }
  if (!authorization && !new URLSearchParams(rawQuery).has('X-Amz-Credential')) return refuse(Errors.operatorCredentialsMissing());
  const body = await readSmallBody(req);
  if (!body) return refuse(Errors.operatorSignatureInvalid(`the request body is over ${MAX_SIGNED_BODY} bytes.`));
  let who;
  try {
    who = app.authenticator.authenticate({ method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headersDistinct, body });
  } catch (err) {
    if (!isServiceError(err)) throw err;
    return refuse(err.code === 'MissingAuthenticationToken' ? Errors.operatorCredentialsMissing() : Errors.operatorSignatureInvalid(`${err.code}: ${err.message}`));
  }
  if (!who.operator) return refuse(Errors.notAnOperator(`${principalArn(who.principal)} (access key ${who.auth.accessKeyId})`));
  return { allowed: true, operator: { account: who.caller.account, user: who.principal.user?.name } };
}
