/**
 * A clock that can be moved forward, for test suites that must see what happens days later
 * (retention periods, unlock delays) without waiting. It is only moved through the operational
 * endpoint `POST /_amiforge/clock`, which the server offers only with --enable-reset.
 */
import type { Clock } from './clock.ts';

export class OffsetClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }

  reset(): void {
    this.offsetMs = 0;
  }

  get offsetSeconds(): number {
    return this.offsetMs / 1000;
  }
}
