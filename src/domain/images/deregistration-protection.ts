// Deregistration protection as AWS shows it (DescribeImages' DeregistrationProtection and the
// deregistrationProtection attribute): `enabled-without-cooldown`, `enabled-with-cooldown`,
// `disabled`, and, for 24 hours after protection with a cooldown is disabled,
// `disabled-until <time>`, during which the image still cannot be deregistered.
import type { StoredImage } from '../../ports/metadata-store.ts';

export const COOLDOWN_MS = 24 * 3600_000;
const UNTIL = 'disabled-until ';

/** The value to show now: a cooldown that has run out reads `disabled`. */
export function currentProtection(value: string | undefined, now: Date): string | undefined {
  if (!value?.startsWith(UNTIL)) return value;
  return Date.parse(value.slice(UNTIL.length)) > now.getTime() ? value : 'disabled';
}

/** Why the image cannot be deregistered now, or undefined when it can. */
export function deregistrationBlock(image: StoredImage, now: Date): { until?: string } | undefined {
  const value = currentProtection(image.deregistrationProtection, now);
  if (value?.startsWith('enabled')) return {};
  if (value?.startsWith(UNTIL)) return { until: value.slice(UNTIL.length) };
  return undefined;
}

/** The value DisableImageDeregistrationProtection leaves: a cooldown keeps it protected a day. */
export function disabledProtection(value: string | undefined, now: Date): string {
  const current = currentProtection(value, now);
  if (current === 'enabled-with-cooldown') return `${UNTIL}${new Date(now.getTime() + COOLDOWN_MS).toISOString()}`;
  // Disabling again during a cooldown does not restart or end it.
  if (current?.startsWith(UNTIL)) return current;
  return 'disabled';
}
