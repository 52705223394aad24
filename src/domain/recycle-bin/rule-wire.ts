// A stored retention rule as the Recycle Bin API's shapes show it.
import type { RetentionRuleRecord, RuleResourceTag } from '../../ports/recycle-bin-repository.ts';
import type { GetRuleResponse, ResourceTag, RuleSummary } from '../../protocol/rbin/types.generated.ts';
import { lockStateAt } from './rule-lock.ts';

export const ruleArn = (r: { region: string; account: string; ruleId: string }): string =>
  `arn:aws:rbin:${r.region}:${r.account}:rule/${r.ruleId}`;

export const toResourceTags = (tags: RuleResourceTag[]): ResourceTag[] =>
  tags.map((t) => (t.value === undefined ? { ResourceTagKey: t.key } : { ResourceTagKey: t.key, ResourceTagValue: t.value }));

export const fromResourceTags = (tags: ResourceTag[] | undefined): RuleResourceTag[] =>
  (tags ?? []).map((t) => (t.ResourceTagValue === undefined ? { key: t.ResourceTagKey } : { key: t.ResourceTagKey, value: t.ResourceTagValue }));

export function toRuleDetail(r: RetentionRuleRecord, now: Date): GetRuleResponse {
  const state = lockStateAt(r, now);
  return {
    Identifier: r.ruleId,
    Description: r.description,
    ResourceType: r.resourceType,
    RetentionPeriod: { RetentionPeriodValue: r.retentionDays, RetentionPeriodUnit: 'DAYS' },
    ResourceTags: toResourceTags(r.resourceTags),
    ExcludeResourceTags: toResourceTags(r.excludeResourceTags),
    Status: 'available',
    LockConfiguration: r.lock ? { UnlockDelay: { UnlockDelayValue: r.lock.unlockDelayDays, UnlockDelayUnit: 'DAYS' } } : undefined,
    LockState: state,
    LockEndTime: state === 'pending_unlock' && r.lock?.lockEndTime ? new Date(r.lock.lockEndTime) : undefined,
    RuleArn: ruleArn(r),
  };
}

export function toRuleSummary(r: RetentionRuleRecord, now: Date): RuleSummary {
  return {
    Identifier: r.ruleId,
    Description: r.description,
    RetentionPeriod: { RetentionPeriodValue: r.retentionDays, RetentionPeriodUnit: 'DAYS' },
    LockState: lockStateAt(r, now),
    RuleArn: ruleArn(r),
  };
}
