// When a copy schedule runs: a cron expression (UTC), an interval ("every"), or both (whichever
// comes first). Cron parsing is croner's: a hand-written parser is where day-of-week/day-of-month
// and range/step corner cases go wrong.
import { Cron } from 'croner';

export interface CronSchedule {
  readonly expression: string;
  /** The first time strictly after `after` that the expression matches. */
  next(after: Date): Date | null;
}

/** Standard 5-field cron (minute hour day-of-month month day-of-week) or 6 with seconds first, in UTC. */
export function parseCron(expression: string): CronSchedule {
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone: 'UTC', paused: true, mode: '5-or-6-parts' });
  } catch (err) {
    throw new Error(`"${expression}" is not a cron expression: ${(err as Error).message.replace(/^CronPattern: /, '')}`);
  }
  if (!cron.nextRun(new Date())) throw new Error(`"${expression}" never matches`);
  return Object.freeze({ expression, next: (after: Date) => cron.nextRun(after) });
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const MIN_EVERY_MS = 1000;

/** "30s", "15m", "24h", "1d", "1h30m": a sum of whole numbers with units ms, s, m, h, d. */
export function parseEvery(raw: unknown): number {
  const text = typeof raw === 'string' ? raw.trim() : '';
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (!text || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`"${String(raw)}" is not an interval: use a number with a unit (ms, s, m, h, d), e.g. "30s", "24h", "1h30m"`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0);
  if (ms < MIN_EVERY_MS) throw new Error(`"${text}" is shorter than the 1s minimum`);
  if (!Number.isSafeInteger(ms)) throw new Error(`"${text}" is too long`);
  return ms;
}

/** The next run after `after`: the earlier of the cron's next match and `after` + the interval. */
export function nextRunAfter(timing: { cron?: CronSchedule; everyMs?: number }, after: Date): Date | undefined {
  const candidates: number[] = [];
  const c = timing.cron?.next(after);
  if (c) candidates.push(c.getTime());
  if (timing.everyMs !== undefined) candidates.push(after.getTime() + timing.everyMs);
  return candidates.length ? new Date(Math.min(...candidates)) : undefined;
}
