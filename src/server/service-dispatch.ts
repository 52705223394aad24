// One authenticated request to a service, after whoever asks has been identified: a SigV4
// signature (src/server/http-server.ts) or a web console session (src/api/console). Both paths
// run the same dispatchers under the same authorizer, so the console has no rules of its own.
import type { IncomingMessage } from 'node:http';
import { dispatchEc2 } from '../api/ec2/dispatcher.ts';
import { dispatchEbs } from '../api/ebs/dispatcher.ts';
import { dispatchKms } from '../api/kms/dispatcher.ts';
import { dispatchSsm } from '../api/ssm/dispatcher.ts';
import { dispatchRbin } from '../api/rbin/dispatcher.ts';
import { dispatchImageBuilder } from '../api/imagebuilder/dispatcher.ts';
import type { Caller } from '../domain/context.ts';
import { Errors } from '../domain/errors.ts';
import type { Principal } from '../identity/principal.ts';
import type { SignedRequest } from '../protocol/sigv4/types.ts';
import type { App } from './app.ts';
import { AMIFORGE_SERVICE, dispatchAmiforge } from './amiforge-api.ts';
import { ec2Route, forwardRequest, FORWARDED_BY } from './instance-forwarding.ts';

export interface ServiceCall {
  service: string;
  /** The request as the dispatchers read it (rawPath: the service's own path). */
  request: SignedRequest;
  /** The HTTP request itself: forwarded as it came when another node runs the instance. */
  http: IncomingMessage;
  /** EC2's Query fields (query string and form body). */
  ec2Fields: [string, string][];
  caller: Caller;
  principal: Principal;
  requestId: string;
  /** How EC2 answers: its XML (the API) or the output as JSON (the console). */
  render: 'xml' | 'json';
}

export interface ServiceAnswer {
  status: number;
  body: string | Buffer;
  contentType: string;
  headers?: Record<string, string>;
  action?: string;
  /** An error code read from a forwarded answer. */
  errorCode?: string;
  /** The node that served the request, when it was forwarded there. */
  forwardedTo?: string;
}

/** Runs the call; service errors are thrown for the caller to render in its own envelope. */
export async function dispatchService(app: App, call: ServiceCall): Promise<ServiceAnswer> {
  const { service, request, caller, requestId } = call;
  const ctx = { requestId, caller };
  const authorize = app.authorizer.forRequest(call.principal, caller);
  if (service === 'ebs') {
    const { action, response } = await dispatchEbs(request, ctx, app.ebs, authorize?.ebs);
    return { action, status: response.status, body: response.body, contentType: response.headers['content-type'], headers: response.headers };
  }
  if (service === 'kms') {
    const { action, response } = await dispatchKms(request, ctx, app.kms, authorize?.kms);
    return { action, status: response.status, body: response.body, contentType: response.headers['content-type'] };
  }
  if (service === 'ssm') {
    const { action, response } = await dispatchSsm(request, ctx, app.ssm, authorize?.ssm);
    return { action, status: response.status, body: response.body, contentType: response.headers['content-type'] };
  }
  if (service === 'rbin') {
    const { action, response } = await dispatchRbin(request, ctx, app.rbin, authorize?.rbin);
    return { action, status: response.status, body: response.body, contentType: response.headers['content-type'] };
  }
  if (service === 'imagebuilder') {
    const { action, response } = await dispatchImageBuilder(request, ctx, app.imageBuilder, authorize?.imagebuilder);
    return { action, status: response.status, body: response.body, contentType: response.headers['content-type'] };
  }
  if (service === AMIFORGE_SERVICE) {
    const r = await dispatchAmiforge(request.method, request.rawPath, request.body, ctx, { hygiene: app.imageBuilder.hygiene, authorizeImageRead: authorize && ((id) => authorize.ec2('DescribeImages', { ImageIds: [id] })) });
    return { action: r.action, status: 200, body: JSON.stringify(r.body), contentType: 'application/json' };
  }
  if (service !== 'ec2') {
    throw Errors.invalidAction(`${service} (amiforge serves ec2, ebs, kms, ssm, rbin, imagebuilder and its own amiforge routes; this service is not available yet)`);
  }
  const fields = call.ec2Fields;
  const action = fields.find(([k]) => k === 'Action')?.[1];
  // A request that needs an instance's guest goes to the node running it, as it came (a
  // console request too: the node it reaches finds the session in the shared store).
  const forwardedBy = call.http.headers[FORWARDED_BY];
  const route = await ec2Route({
    store: app.store, ownership: app.cluster.ownership, action, fields, caller,
    forwardedBy: typeof forwardedBy === 'string' ? forwardedBy : forwardedBy?.[0],
  });
  if (route.kind === 'forward') {
    const answer = await forwardRequest(call.http, request.body, route, app.cluster.nodeId);
    const text = answer.status >= 400 ? answer.body.toString('utf8') : '';
    return {
      action, status: answer.status, body: answer.body, headers: answer.headers, forwardedTo: route.nodeId,
      contentType: answer.headers['content-type'] ?? (call.render === 'json' ? 'application/json' : 'text/xml;charset=UTF-8'),
      errorCode: text ? (/<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? /"code"\s*:\s*"([^"]*)"/.exec(text)?.[1]) : undefined,
    };
  }
  const body = await dispatchEc2(action, fields, ctx, app.ec2, authorize?.ec2, call.render);
  return { action, status: 200, body, contentType: call.render === 'json' ? 'application/json' : 'text/xml;charset=UTF-8' };
}
