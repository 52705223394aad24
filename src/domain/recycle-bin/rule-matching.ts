// Which retention rule, if any, keeps a deleted resource: AWS's matching, as a pure function.
import type { RetainedResourceType, RetentionRuleRecord, RuleResourceTag } from '../../ports/recycle-bin-repository.ts';

interface ResourceTagPair { Key?: string; Value?: string }

/** A rule tag with no value matches the key with any value, as AWS's ResourceTagValue is optional. */
function hasTag(tags: ResourceTagPair[], want: RuleResourceTag): boolean {
  return tags.some((t) => t.Key === want.key && (want.value === undefined || (t.Value ?? '') === want.value));
}

/** Tag-level rules need one of their tags; Region-level rules take all but those with an exclusion tag. */
export function ruleMatches(rule: RetentionRuleRecord, resourceType: RetainedResourceType, tags: ResourceTagPair[]): boolean {
  if (rule.resourceType !== resourceType) return false;
  if (rule.resourceTags.length) return rule.resourceTags.some((t) => hasTag(tags, t));
  return !rule.excludeResourceTags.some((t) => hasTag(tags, t));
}

/** The matching rule with the longest retention period ("the longest retention period takes precedence"). */
export function retainingRule(
  rules: RetentionRuleRecord[], resourceType: RetainedResourceType, tags: ResourceTagPair[],
): RetentionRuleRecord | undefined {
  let best: RetentionRuleRecord | undefined;
  for (const r of rules) {
    if (ruleMatches(r, resourceType, tags) && (!best || r.retentionDays > best.retentionDays)) best = r;
  }
  return best;
}
