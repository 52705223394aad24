// Streaming console views (the serial console): GET /console/stream/<name>?... answered with
// Server-Sent Events. The same rules as views: ctx.caller and ctx.authorize before anything is sent.
import type { InstanceRoute } from '../../../domain/instances/instance-ownership.ts';
import type { App } from '../../../server/app.ts';
import type { ConsoleContext } from '../views/index.ts';
import { consoleStream, consoleStreamRoute } from './console-stream.ts';
import { progressStream } from './progress-stream.ts';

export interface StreamSink {
  /** Sends one event (data as JSON). */
  send(event: string, data: unknown): void;
  /** Called once when the browser goes away or the server closes the stream. */
  onClose(cb: () => void): void;
}

export type ConsoleStream = (app: App, ctx: ConsoleContext, params: URLSearchParams, sink: StreamSink) => Promise<void>;

export const consoleStreams: Record<string, ConsoleStream> = {
  console: consoleStream,
  progress: progressStream,
};

/**
 * Streams that only one node can serve, and where: the SSE route asks before streaming, and
 * relays a `forward` route's request to that node (src/server/stream-forwarding.ts) unless it
 * was forwarded already. Streams not listed are served by any node.
 */
export const consoleStreamRoutes: Record<string, (app: App, ctx: ConsoleContext, params: URLSearchParams) => Promise<InstanceRoute>> = {
  console: consoleStreamRoute,
};
