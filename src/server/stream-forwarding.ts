// A console stream whose source lives on another node (the serial console of a guest it runs) is
// proxied there as it came: the same GET, headers and session cookie (sessions are in the shared
// store, so the owner authenticates it as any request), marked with the hop header so it is never
// forwarded again. The owner's Server-Sent Events are relayed as they arrive, and the owner's
// request is cut when the browser goes, so its stream ends too.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Errors } from '../domain/errors.ts';
import { forwardedHeaders, relayedHeaders, type ForwardTarget } from './instance-forwarding.ts';

/**
 * Relays the owner's answer to `res` until either side ends. Rejects with a retryable
 * Unavailable, before anything is written, when the owner cannot be reached.
 */
export function forwardStream(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, selfNodeId: string): Promise<void> {
  const url = new URL(req.url ?? '/', target.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const out = send(url, { method: 'GET', headers: forwardedHeaders(req, selfNodeId) }, (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, relayedHeaders(upstream));
      res.flushHeaders();
      upstream.pipe(res);
      upstream.on('end', () => resolve());
      upstream.on('error', () => {
        res.end();
        resolve();
      });
    });
    // The browser went: the owner's stream is no longer wanted.
    res.on('close', () => {
      out.destroy();
      resolve();
    });
    out.on('error', (err) => {
      if (res.headersSent) return resolve();
      reject(Errors.instanceNodeUnavailable(`Node ${target.nodeId} did not answer (${(err as NodeJS.ErrnoException).code ?? err.message}).`));
    });
    out.end();
  });
}
