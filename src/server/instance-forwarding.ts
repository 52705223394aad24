// Requests that need an instance's guest (its hypervisor) are served by the node running it.
// This module reads which instances an EC2 request is about, asks the domain's ownership rules
// where it goes, and proxies the original request there byte for byte: method, path, query,
// headers (Host and the SigV4 Authorization included) and body. The receiving node
// authenticates it as any request, so forwarding changes nothing about who may do what. A
// forwarded request carries FORWARDED_BY and is never forwarded again.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Caller } from '../domain/context.ts';
import { Errors } from '../domain/errors.ts';
import type { InstanceOwnership, InstanceRoute } from '../domain/instances/instance-ownership.ts';
import type { InstanceRecord } from '../ports/instance-repository.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

/** The hop header: the node that forwarded the request (never forwarded again). */
export const FORWARDED_BY = 'x-amiforge-forwarded-by';

/** How long a forwarded request may take at the owner (CreateImage with a reboot waits for the guest). */
const FORWARD_TIMEOUT_MS = 15 * 60_000;

/** EC2 actions that act on a running guest through its node's hypervisor. */
const GUEST_ACTIONS = new Set([
  'StartInstances', 'StopInstances', 'RebootInstances', 'TerminateInstances',
  'GetConsoleOutput', 'GetConsoleScreenshot', 'AttachVolume', 'DetachVolume',
  'ModifyInstanceAttribute', 'CreateImage', 'CreateSnapshots',
  // A volume in use has writes of its guest in the running node's memory until flushed: its
  // snapshot is taken there, after the flush.
  'CreateSnapshot',
]);

/** The instance ids an EC2 Query request names: InstanceId, InstanceId.N, InstanceSpecification.InstanceId. */
export function instanceIdsOf(fields: [string, string][]): string[] {
  const ids = fields.filter(([k]) => /^InstanceId(\.\d+)?$/.test(k) || k === 'InstanceSpecification.InstanceId').map(([, v]) => v);
  return [...new Set(ids)];
}

export interface ForwardTarget { nodeId: string; url: string }

/**
 * Where an EC2 request is served: here, or at the node running the guests it names. Only the
 * caller's own instances count (another account's are NotFound here, as everywhere), and only
 * actions that need the guest; everything else reads and writes the shared store on any node.
 */
export async function ec2Route(
  o: { store: MetadataStore; ownership: InstanceOwnership; action: string | undefined; fields: [string, string][]; caller: Caller; forwardedBy?: string },
): Promise<InstanceRoute> {
  if (!o.action || !GUEST_ACTIONS.has(o.action)) return { kind: 'local' };
  const ids = instanceIdsOf(o.fields);
  if ((o.action === 'DetachVolume' || o.action === 'CreateSnapshot') && !ids.length) {
    // These name only the volume (DetachVolume may): its attachment names the instance.
    const volumeId = o.fields.find(([k]) => k === 'VolumeId')?.[1];
    const v = volumeId ? await o.store.volumes.get(o.caller.region, volumeId) : undefined;
    if (v && v.ownerId === o.caller.account) ids.push(...v.attachments.map((a) => a.instanceId));
  }
  const records: InstanceRecord[] = [];
  for (const id of ids) {
    const r = await o.store.instances.get(o.caller.region, id);
    if (r && r.ownerId === o.caller.account) records.push(r);
  }
  const route = await o.ownership.route(records);
  if (route.kind === 'forward' && o.forwardedBy !== undefined) {
    // Sent here by a node that believed this one runs the guest; it moved meanwhile (or the hop
    // header was forged). Acting here would act on a guest this node does not have.
    throw Errors.instanceNodeUnavailable(`The request was forwarded to node ${o.ownership.nodeId}, but the instance runs on node ${route.nodeId}.`);
  }
  return route;
}

export interface ForwardedAnswer { status: number; headers: Record<string, string>; body: Buffer }

/** Headers that belong to one connection, not to the request (RFC 9110, 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length']);

/**
 * Sends the original request to `target` (a URL from the node registry, never one from the
 * request) and returns its answer. An unreachable node is a retryable Unavailable.
 */
export function forwardRequest(req: IncomingMessage, body: Buffer, target: ForwardTarget, selfNodeId: string): Promise<ForwardedAnswer> {
  const url = new URL(req.url ?? '/', target.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const out = send(url, {
      method: req.method,
      headers: forwardedHeaders(req, selfNodeId, body.length),
      timeout: FORWARD_TIMEOUT_MS,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: relayedHeaders(res), body: Buffer.concat(chunks) }));
      res.on('error', () => reject(Errors.instanceNodeUnavailable(`The connection to node ${target.nodeId} broke.`)));
    });
    out.on('timeout', () => out.destroy(new Error('timeout')));
    out.on('error', (err) => reject(Errors.instanceNodeUnavailable(`Node ${target.nodeId} did not answer (${(err as NodeJS.ErrnoException).code ?? err.message}).`)));
    out.end(body);
  });
}

/**
 * The request's headers as they go to the owner: a flat [name, value, ...] list, sent as given
 * (Host included: SigV4 signed it; rawHeaders keeps repeated headers and their spelling apart),
 * without this connection's own, and with the hop header naming this node.
 */
export function forwardedHeaders(req: IncomingMessage, selfNodeId: string, bodyLength?: number): string[] {
  const headers: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    if (HOP_BY_HOP.has(name.toLowerCase()) || name.toLowerCase() === FORWARDED_BY) continue;
    headers.push([name, req.rawHeaders[i + 1]]);
  }
  if (bodyLength !== undefined) headers.push(['content-length', String(bodyLength)]);
  headers.push([FORWARDED_BY, selfNodeId]);
  return headers.flat();
}

/** The owner's answer headers worth relaying (not its connection's, date or server). */
export function relayedHeaders(res: IncomingMessage): Record<string, string> {
  const relayed: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k === 'date' || k === 'server') continue;
    relayed[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return relayed;
}
