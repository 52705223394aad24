// Closed-loop load: `concurrency` workers each send one request, wait for it, send the next,
// until `count` requests are done or `maxSeconds` have passed. Latency is per request.
import type { CallResult } from './ec2-client.ts';

export interface LoadResult {
  /** Requests completed (with any status). */
  done: number;
  /** Responses other than 200, with the first error body seen. */
  errors: number;
  firstError?: string;
  latenciesMs: number[];
  wallMs: number;
  /** True when the time limit stopped the run before `count`. */
  timedOut: boolean;
}

export async function runLoad(o: {
  count: number;
  concurrency: number;
  maxSeconds: number;
  send: (i: number) => Promise<CallResult>;
  /** Called with each successful response, e.g. to check its body; a throw stops the run. */
  check?: (i: number, r: CallResult) => void;
}): Promise<LoadResult> {
  const result: LoadResult = { done: 0, errors: 0, latenciesMs: [], wallMs: 0, timedOut: false };
  const started = performance.now();
  const deadline = started + o.maxSeconds * 1000;
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < o.count && failure === undefined) {
      if (performance.now() > deadline) {
        result.timedOut = true;
        return;
      }
      const i = next++;
      try {
        const r = await o.send(i);
        result.done++;
        result.latenciesMs.push(r.ms);
        if (r.status !== 200) {
          result.errors++;
          result.firstError ??= `HTTP ${r.status}: ${r.body.slice(0, 300)}`;
        } else {
          o.check?.(i, r);
        }
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.count) }, worker));
  if (failure !== undefined) throw failure;
  result.wallMs = performance.now() - started;
  return result;
}

/** The q-th percentile (0-100) by nearest rank. */
export function percentile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const rate = (r: LoadResult): number => (r.done / r.wallMs) * 1000;
