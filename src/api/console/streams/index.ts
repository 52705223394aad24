// The console's Server-Sent Event streams, by name: GET /console/stream/<name>?... Each runs until
// it has nothing more to say (its promise resolves) or the browser goes (sink.onClose); an error
// thrown before the first event is the request's error, rendered as the console's JSON error.
import type { InstanceRoute } from '../../../domain/instances/instance-ownership.ts';
import type { App } from '../../../server/app.ts';
import type { ConsoleContext } from '../views/index.ts';
import { consoleStream, consoleStreamRoute } from './console-stream.ts';
import { progressStream } from './progress-stream.ts';

export interface StreamSink { send(event: string, data: unknown): void; onClose(cb: () => void): void }
export type ConsoleStream = (app: App, ctx: ConsoleContext, params: URLSearchParams, sink: StreamSink) => Promise<void>;

export const consoleStreams: Record<string, ConsoleStream> = {
  console: consoleStream,
  progress: progressStream,
};

/**
 * Streams that only one node can serve, and where: the SSE route asks before streaming, and
 * forwards a `forward` route's request to that node (src/server/stream-forwarding.ts), unless it
 * was forwarded already. Streams not listed are served by any node.
 */
export const consoleStreamRoutes: Record<string, (app: App, ctx: ConsoleContext, params: URLSearchParams) => Promise<InstanceRoute>> = {
  console: consoleStreamRoute,
};
