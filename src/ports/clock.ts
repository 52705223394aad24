/** Time, injected so tests and benchmarks can control it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * The system clock moved forward by an offset that only grows. The server's domain services run
 * on one, so a test suite (behind --enable-reset) can step past a 24-hour cooldown without waiting;
 * request signatures are checked against the system clock, never this one.
 */
export class AdvanceableClock implements Clock {
  private offsetMs = 0;
  private readonly listeners = new Set<() => void>();
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('The clock only moves forward.');
    this.offsetMs += ms;
    for (const listener of this.listeners) listener();
  }
  /** Calls `listener` after each advance (schedules that are due at once); returns the unsubscribe. */
  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Back to the system's time (the test-suite reset). */
  rewind(): void {
    this.offsetMs = 0;
  }
}
