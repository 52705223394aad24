// Which lifecycle action, if any, a policy's rules give each selected image resource, as Image
// Builder documents it: rules in priority order deprecate → disable → delete, one action per
// resource per execution; AGE or COUNT filters with retention counted per recipe version, the
// newest first; failed and cancelled images always qualify for deletion and hold no retention
// slot; image-level tag exclusions, then AMI-level exclusions (regions, public, tags, shared
// accounts, last launched) on each output AMI. Pure: the caller gathers the facts.
import type {
  LifecyclePolicyDetail, LifecyclePolicyDetailExclusionRulesAmis,
} from '../../../protocol/imagebuilder/types.generated.ts';

export type LifecycleActionType = 'DEPRECATE' | 'DISABLE' | 'DELETE';
export type TimeUnit = 'DAYS' | 'WEEKS' | 'MONTHS' | 'YEARS';

/** What is known of one AMI when an execution plans. */
export interface AmiFacts {
  imageId: string;
  region: string;
  accountId: string;
  /** EC2's state (available, disabled, pending, ...). */
  state: string;
  /** A deprecation time that has passed. */
  deprecated: boolean;
  public: boolean;
  /** Accounts with an explicit launch permission. */
  sharedAccounts: string[];
  tags: Record<string, string>;
  /** EC2's LastLaunchedTime (ISO), when any instance was ever launched from it. */
  lastLaunched?: string;
  /** Instances not terminated that were launched from it (any account). */
  liveInstances: string[];
  snapshotIds: string[];
}

/**
 * An image resource a policy selected: an Image Builder image build version (its output AMIs
 * with it), or, with tag selection, an AMI of the account that no Image Builder image made.
 */
export interface Subject {
  /** The image's build version ARN, or the AMI's id. */
  id: string;
  kind: 'image' | 'ami';
  /** Retention is counted within a group: a recipe name and version, or all AMIs selected by tag. */
  group: string;
  createdAt: string;
  /** Image Builder's image status (an AMI's state mapped onto it). */
  status: string;
  /** The tags exclusionRules.tagMap is matched against: the Image Builder image's, or the AMI's. */
  tags: Record<string, string>;
  /** Output AMIs known to exist (for an AMI subject: the AMI itself). */
  amis: AmiFacts[];
}

export interface AmiDecision {
  ami: AmiFacts;
  /** Why an exclusion rule keeps this AMI out of the action. */
  skipped?: string;
}

export interface Decision {
  subject: Subject;
  action: LifecycleActionType;
  rule: LifecyclePolicyDetail;
  /** Why the rule's filter selects it ("older than 7 DAYS", "beyond the newest 3 ..."). */
  reason: string;
  /** Set when an image-level tag exclusion keeps the whole resource. */
  skipped?: string;
  amis: AmiDecision[];
}

/** Image Builder states of a build in progress: such images wait for the next execution. */
export const BUILDING = new Set(['PENDING', 'CREATING', 'BUILDING', 'TESTING', 'DISTRIBUTING', 'INTEGRATING', 'IMPORTING']);
const BROKEN = new Set(['FAILED', 'CANCELLED']);
/** States a rule leaves alone: deprecating a disabled image would move it backwards. */
const ALREADY: Record<LifecycleActionType, Set<string>> = {
  DEPRECATE: new Set(['DEPRECATED', 'DISABLED', 'FAILED', 'CANCELLED', 'DELETED']),
  DISABLE: new Set(['DISABLED', 'FAILED', 'CANCELLED', 'DELETED']),
  DELETE: new Set(['DELETED']),
};
const PRIORITY: LifecycleActionType[] = ['DEPRECATE', 'DISABLE', 'DELETE'];

/** `now` moved back by `value` units (calendar months and years, as a person counts them). */
export function timeAgo(now: Date, value: number, unit: TimeUnit): Date {
  const d = new Date(now);
  if (unit === 'DAYS') d.setUTCDate(d.getUTCDate() - value);
  else if (unit === 'WEEKS') d.setUTCDate(d.getUTCDate() - 7 * value);
  else if (unit === 'MONTHS') d.setUTCMonth(d.getUTCMonth() - value);
  else d.setUTCFullYear(d.getUTCFullYear() - value);
  return d;
}

/** The first pair of `wanted` that `tags` carries, as `key=value`. */
function matchingTag(wanted: Record<string, string> | undefined, tags: Record<string, string>): string | undefined {
  const hit = Object.entries(wanted ?? {}).find(([k, v]) => tags[k] === v);
  return hit && `${hit[0]}=${hit[1]}`;
}

/** Why AMI-level exclusions keep this AMI, checked in Image Builder's documented order. */
export function amiExclusion(rules: LifecyclePolicyDetailExclusionRulesAmis | undefined, ami: AmiFacts, now: Date): string | undefined {
  if (!rules) return undefined;
  if (rules.regions?.includes(ami.region)) return `Excluded: the AMI is in the excluded Region ${ami.region}.`;
  if (rules.isPublic && ami.public) return 'Excluded: the AMI is public.';
  const tag = matchingTag(rules.tagMap, ami.tags);
  if (tag) return `Excluded: the AMI has the excluded tag ${tag}.`;
  const shared = rules.sharedAccounts?.find((a) => ami.sharedAccounts.includes(a));
  if (shared) return `Excluded: the AMI is shared with the excluded account ${shared}.`;
  if (rules.lastLaunched) {
    const { value, unit } = rules.lastLaunched;
    // An instance still running from the AMI counts as a launch now: amiforge never takes an
    // image from under the instances of a policy that asks to keep recently launched ones.
    if (ami.liveInstances.length) return `Excluded: instance ${ami.liveInstances[0]} still runs from the AMI (counted as launched now, within ${value} ${unit}).`;
    if (ami.lastLaunched && new Date(ami.lastLaunched) >= timeAgo(now, value, unit as TimeUnit)) {
      return `Excluded: the AMI was last launched ${ami.lastLaunched}, within ${value} ${unit}.`;
    }
  }
  return undefined;
}

const newestFirst = (a: Subject, b: Subject) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/** The subjects of a group a rule keeps by retention: the newest N that count. */
function retained(rule: LifecyclePolicyDetail, group: Subject[]): Set<Subject> {
  const keep = rule.filter.type === 'COUNT' ? rule.filter.value : rule.filter.retainAtLeast ?? 0;
  // Failed and cancelled images hold no slot; nor do tag-excluded ones, which stay regardless:
  // one among the newest N is simply kept, one beyond them is reported as skipped.
  const counted = group.filter((s) => !BROKEN.has(s.status) && !BUILDING.has(s.status));
  const slotted = counted.filter((s) => !matchingTag(rule.exclusionRules?.tagMap, s.tags));
  return new Set([...slotted.slice(0, keep), ...counted.slice(0, keep)]);
}

function selects(rule: LifecyclePolicyDetail, s: Subject, kept: Set<Subject>, now: Date): string | undefined {
  const { filter } = rule;
  if (rule.action.type === 'DELETE' && BROKEN.has(s.status)) return `The image is ${s.status}: failed and cancelled images always qualify for deletion.`;
  if (kept.has(s)) return undefined;
  if (filter.type === 'COUNT') return `Beyond the newest ${filter.value} of ${s.group}.`;
  const unit = (filter.unit ?? 'DAYS') as TimeUnit;
  if (new Date(s.createdAt) >= timeAgo(now, filter.value, unit)) return undefined;
  const retain = filter.retainAtLeast ? `, beyond the newest ${filter.retainAtLeast} of ${s.group}` : '';
  return `Older than ${filter.value} ${unit} (created ${s.createdAt})${retain}.`;
}

/**
 * One decision per subject that a rule selects, in the order subjects were given within each
 * group (newest first). Subjects that no rule selects, or whose build is in progress, are absent.
 */
export function evaluate(details: LifecyclePolicyDetail[], subjects: Subject[], now: Date): Decision[] {
  const rules = [...details].sort((a, b) => PRIORITY.indexOf(a.action.type) - PRIORITY.indexOf(b.action.type));
  const groups = new Map<string, Subject[]>();
  for (const s of subjects) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
  const decisions: Decision[] = [];
  for (const group of groups.values()) {
    group.sort(newestFirst);
    const kept = new Map(rules.map((r) => [r, retained(r, group)]));
    for (const s of group) {
      if (BUILDING.has(s.status)) continue;
      let excluded: Decision | undefined;
      let chosen: Decision | undefined;
      for (const rule of rules) {
        if (ALREADY[rule.action.type].has(s.status)) continue;
        const reason = selects(rule, s, kept.get(rule)!, now);
        if (!reason) continue;
        const tag = matchingTag(rule.exclusionRules?.tagMap, s.tags);
        const decision: Decision = { subject: s, action: rule.action.type, rule, reason, amis: [] };
        if (tag) {
          excluded ??= { ...decision, skipped: `Excluded: the image has the excluded tag ${tag}.` };
          continue;
        }
        chosen = decision;
        break;
      }
      const d = chosen ?? excluded;
      if (!d) continue;
      if (!d.skipped) d.amis = s.amis.map((ami) => ({ ami, skipped: amiExclusion(d.rule.exclusionRules?.amis, ami, now) }));
      decisions.push(d);
    }
  }
  return decisions;
}
