// A retention rule's lock: locked rules cannot be changed or deleted; an unlocked one waits out
// its unlock delay (pending_unlock) before it can be. The pending state ends by the clock.
import type { RetentionRuleRecord, RuleLockState } from '../../ports/recycle-bin-repository.ts';

export const DAY_MS = 86_400_000;

/** The lock state now: null for a rule never locked (AWS reports none). */
export function lockStateAt(rule: RetentionRuleRecord, now: Date): RuleLockState | undefined {
  const lock = rule.lock;
  if (!lock) return undefined;
  if (lock.state === 'pending_unlock' && lock.lockEndTime && Date.parse(lock.lockEndTime) <= now.getTime()) return 'unlocked';
  return lock.state;
}

/** Whether UpdateRule and DeleteRule may change the rule now. */
export function isChangeable(rule: RetentionRuleRecord, now: Date): boolean {
  const state = lockStateAt(rule, now);
  return state === undefined || state === 'unlocked';
}
