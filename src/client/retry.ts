// Retries for calls that may fail transiently: throttling, 5xx answers, dropped connections.
// Anything else (validation, checksum mismatch, access denied, not found) fails at once: trying
// again would give the same answer.

export interface RetryOptions {
  /** Attempts in all, the first included (default 8). */
  attempts?: number;
  /** First backoff, ms (default 200); doubles each time up to maxDelayMs, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  signal?: AbortSignal;
}

const TRANSIENT_NAMES = new Set([
  'ThrottlingException', 'RequestThrottledException', 'Throttling', 'ThrottledException', 'RequestLimitExceeded',
  'TooManyRequestsException', 'SlowDown', 'InternalServerException', 'InternalServerError', 'InternalError',
  'InternalFailure', 'ServiceUnavailable', 'ServiceUnavailableException', 'RequestTimeout', 'RequestTimeoutException',
  'TimeoutError',
]);

// ECONNREFUSED is left out on purpose: nothing is listening, and waiting a minute to say so helps
// nobody. An upload cut off that way resumes from its journal when rerun.
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

interface MaybeAwsError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  cause?: unknown;
}

/** True for errors worth another attempt. */
export function isTransient(err: unknown): boolean {
  const e = err as MaybeAwsError | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'AbortError') return false;
  if (e.name && TRANSIENT_NAMES.has(e.name)) return true;
  if (e.code && TRANSIENT_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (/socket hang up|ECONNRESET|EPIPE/.test(e.message ?? '')) return true;
  return e.cause !== undefined && e.cause !== e && isTransient(e.cause);
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  if (signal?.aborted) return reject(signal.reason);
  const timer = setTimeout(() => {
    signal?.removeEventListener('abort', onAbort);
    resolve();
  }, ms);
  const onAbort = () => {
    clearTimeout(timer);
    reject(signal!.reason);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
});

/** Calls `fn` until it succeeds, a non-transient error occurs, or the attempts run out. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 8;
  const base = options.baseDelayMs ?? 200;
  const cap = options.maxDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !isTransient(err) || options.signal?.aborted) throw err;
      await sleep(Math.random() * Math.min(cap, base * 2 ** (attempt - 1)), options.signal);
    }
  }
}
