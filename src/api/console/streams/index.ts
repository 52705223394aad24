// Streaming console views (the serial console): GET /console/stream/<name>?... answered with
// Server-Sent Events. The same rules as views: ctx.caller and ctx.authorize before anything is sent.
import type { App } from '../../../server/app.ts';
import type { ConsoleContext } from '../views/index.ts';

export interface StreamSink {
  /** Sends one event (data as JSON). */
  send(event: string, data: unknown): void;
  /** Called once when the browser goes away or the server closes the stream. */
  onClose(cb: () => void): void;
}

export type ConsoleStream = (app: App, ctx: ConsoleContext, params: URLSearchParams, sink: StreamSink) => Promise<void>;

export const consoleStreams: Record<string, ConsoleStream> = {
};
