// Per-instance serialization and tracked background work. An instance's state changes come from
// API calls and from the hypervisor's events, interleaved at every await; running them one at a
// time per instance keeps each read-modify-write of the record whole.

export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after everything queued for `key` before it. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prior = this.tails.get(key) ?? Promise.resolve();
    const next = prior.then(fn, fn);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    try {
      return await next;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** Work that outlives the request that started it; idle() waits for all of it (tests, shutdown). */
export class BackgroundWork {
  private readonly running = new Set<Promise<void>>();
  private readonly onError: (what: string, err: unknown) => void;
  constructor(onError: (what: string, err: unknown) => void) {
    this.onError = onError;
  }

  /** Starts `fn`; the promise returned settles when it ends (never rejects: errors go to onError). */
  start(what: string, fn: () => Promise<void>): Promise<void> {
    const job = fn().catch((err) => this.onError(what, err));
    this.running.add(job);
    void job.finally(() => this.running.delete(job));
    return job;
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }
}
