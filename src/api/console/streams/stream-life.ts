// A stream's lifetime as its loop sees it: whether the browser has gone, and a pause that ends
// early when it goes, so a closed stream stops within a tick rather than after its interval.
import { Errors } from '../../../domain/errors.ts';
import type { StreamSink } from './index.ts';

export interface StreamLife {
  readonly closed: boolean;
  pause(ms: number): Promise<void>;
}

export function streamLife(sink: StreamSink): StreamLife {
  let closed = false;
  const wakers = new Set<() => void>();
  sink.onClose(() => {
    closed = true;
    for (const wake of wakers) wake();
  });
  return {
    get closed() {
      return closed;
    },
    pause(ms) {
      if (closed) return Promise.resolve();
      return new Promise((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          wakers.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, ms);
        wakers.add(wake);
      });
    },
  };
}

/** A required query parameter, or MissingParameter. */
export function requiredParam(params: URLSearchParams, name: string): string {
  const value = params.get(name);
  if (!value) throw Errors.missingParameter(name);
  return value;
}
