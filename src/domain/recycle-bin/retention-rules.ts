// Recycle Bin retention rules: create, read, list, update, delete, tag, lock and unlock, per
// account and region, with the Recycle Bin API's validation and lock rules.
import type { Clock } from '../../ports/clock.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { RecycleBinRepository, RetainedResourceType, RetentionRuleRecord, RuleResourceTag } from '../../ports/recycle-bin-repository.ts';
import type {
  CreateRuleRequest, CreateRuleResponse, GetRuleResponse, ListRulesRequest, ListRulesResponse, LockConfiguration,
  ResourceTag, Tag, UpdateRuleRequest,
} from '../../protocol/rbin/types.generated.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { DAY_MS, isChangeable, lockStateAt } from './rule-lock.ts';
import { fromResourceTags, ruleArn, toRuleDetail, toRuleSummary } from './rule-wire.ts';

/** AWS's quotas: retention rules per Region, and rules one tag key and value pair may appear in. */
const MAX_RULES_PER_REGION = 250;
const MAX_RULES_PER_RESOURCE_TAG = 5;
const DEFAULT_PAGE = 1000;

export interface RetentionRuleDeps { rules: RecycleBinRepository; clock: Clock; ids: IdGenerator }

function retainedType(type: string): RetainedResourceType {
  if (type === 'EBS_SNAPSHOT' || type === 'EC2_IMAGE') return type;
  throw Errors.rbinValidation(`Resource type ${type} is not supported: amiforge's Recycle Bin retains EBS_SNAPSHOT and EC2_IMAGE resources.`);
}

function checkRetention(days: number): void {
  if (days < 1 || days > 365) throw Errors.rbinValidation(`The retention period for EBS snapshots and EBS-backed AMIs must be 1 to 365 days, not ${days}.`);
}

function checkTags(tags: Tag[]): void {
  const bad = tags.find((t) => t.Key.toLowerCase().startsWith('aws:'));
  if (bad) throw Errors.rbinValidation(`Tag keys starting with 'aws:' are reserved for AWS use: ${bad.Key}.`);
}

function mergeTags(existing: RetentionRuleRecord['tags'], add: Tag[]): RetentionRuleRecord['tags'] {
  const out = new Map(existing.map((t) => [t.Key, t.Value]));
  for (const t of add) out.set(t.Key, t.Value);
  return [...out].map(([Key, Value]) => ({ Key, Value }));
}

const samePair = (a: RuleResourceTag, b: RuleResourceTag) => a.key === b.key && a.value === b.value;

function encodePage(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId }), 'utf8').toString('base64');
}

function decodePage(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const after = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { after?: unknown }).after;
    if (typeof after === 'string') return after;
  } catch {
    // AWS's error below
  }
  throw Errors.rbinValidation('The pagination token is not valid.', 'INVALID_PAGE_TOKEN');
}

export class RetentionRuleService {
  private readonly deps: RetentionRuleDeps;
  constructor(deps: RetentionRuleDeps) {
    this.deps = deps;
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  private async find(caller: Caller, id: string): Promise<RetentionRuleRecord> {
    const rule = await this.deps.rules.getRule(caller.account, caller.region, id);
    if (!rule) throw Errors.rbinRuleNotFound(id);
    return rule;
  }

  /** A rule addressed by ARN (the tagging operations); another account's or region's is not found. */
  private async findByArn(caller: Caller, arn: string): Promise<RetentionRuleRecord> {
    const m = /^arn:[^:]+:rbin:([^:]*):(\d{12}):rule\/([0-9a-zA-Z]{11})$/.exec(arn);
    if (!m) throw Errors.rbinValidation(`The resource ARN ${arn} is not a retention rule ARN.`);
    if (m[1] !== caller.region || m[2] !== caller.account) throw Errors.rbinRuleNotFound(m[3]);
    return this.find(caller, m[3]);
  }

  /** Each resource tag pair may be named by at most five rules of the Region. */
  private async checkTagQuota(caller: Caller, tags: RuleResourceTag[], exceptRuleId?: string): Promise<void> {
    if (!tags.length) return;
    const rules = (await this.deps.rules.listRules(caller.account, caller.region)).filter((r) => r.ruleId !== exceptRuleId);
    for (const t of tags) {
      if (rules.filter((r) => r.resourceTags.some((x) => samePair(x, t))).length >= MAX_RULES_PER_RESOURCE_TAG) {
        throw Errors.rbinQuotaExceeded(`The resource tag ${t.key}=${t.value ?? ''} is already used by ${MAX_RULES_PER_RESOURCE_TAG} retention rules.`);
      }
    }
  }

  private checkLockable(rule: { resourceTags: RuleResourceTag[]; excludeResourceTags: RuleResourceTag[] }): void {
    if (rule.resourceTags.length) throw Errors.rbinValidation('Tag-level retention rules cannot be locked.');
    if (rule.excludeResourceTags.length) throw Errors.rbinValidation('Retention rules with exclusion tags cannot be locked.');
  }

  async create(caller: Caller, req: CreateRuleRequest): Promise<CreateRuleResponse> {
    const resourceType = retainedType(req.ResourceType);
    checkRetention(req.RetentionPeriod.RetentionPeriodValue);
    const resourceTags = fromResourceTags(req.ResourceTags);
    const excludeResourceTags = fromResourceTags(req.ExcludeResourceTags);
    if (resourceTags.length && excludeResourceTags.length) {
      throw Errors.rbinValidation('Exclusion tags can be specified only for Region-level retention rules, not with ResourceTags.');
    }
    checkTags(req.Tags ?? []);
    if (req.LockConfiguration) this.checkLockable({ resourceTags, excludeResourceTags });
    const existing = await this.deps.rules.listRules(caller.account, caller.region);
    if (existing.length >= MAX_RULES_PER_REGION) {
      throw Errors.rbinQuotaExceeded(`An account can have at most ${MAX_RULES_PER_REGION} retention rules per Region.`);
    }
    await this.checkTagQuota(caller, resourceTags);
    const rule: RetentionRuleRecord = {
      account: caller.account, region: caller.region,
      ruleId: this.deps.ids.next('rule').slice(-11),
      resourceType, retentionDays: req.RetentionPeriod.RetentionPeriodValue, description: req.Description ?? '',
      resourceTags, excludeResourceTags,
      tags: mergeTags([], req.Tags ?? []),
      lock: req.LockConfiguration ? { unlockDelayDays: req.LockConfiguration.UnlockDelay.UnlockDelayValue, state: 'locked' } : undefined,
      createdAt: this.now().toISOString(),
    };
    await this.deps.rules.insertRule(rule);
    const { LockEndTime: _none, ...detail } = toRuleDetail(rule, this.now());
    return { ...detail, Tags: rule.tags };
  }

  async get(caller: Caller, id: string): Promise<GetRuleResponse> {
    return toRuleDetail(await this.find(caller, id), this.now());
  }

  async list(caller: Caller, req: ListRulesRequest): Promise<ListRulesResponse> {
    const resourceType = retainedType(req.ResourceType);
    const after = decodePage(req.NextToken);
    const now = this.now();
    const wantTags = fromResourceTags(req.ResourceTags);
    const wantExcluded = fromResourceTags(req.ExcludeResourceTags);
    const matching = (await this.deps.rules.listRules(caller.account, caller.region, resourceType)).filter((r) =>
      (after === undefined || r.ruleId > after)
      && (req.LockState === undefined || lockStateAt(r, now) === req.LockState)
      && wantTags.every((t) => r.resourceTags.some((x) => samePair(x, t)))
      && wantExcluded.every((t) => r.excludeResourceTags.some((x) => samePair(x, t))));
    const size = req.MaxResults ?? DEFAULT_PAGE;
    const page = matching.slice(0, size);
    return {
      Rules: page.map((r) => toRuleSummary(r, now)),
      NextToken: matching.length > size ? encodePage(page[page.length - 1].ruleId) : undefined,
    };
  }

  async update(caller: Caller, req: UpdateRuleRequest): Promise<GetRuleResponse> {
    const rule = await this.find(caller, req.Identifier);
    if (!isChangeable(rule, this.now())) {
      throw Errors.rbinRuleState(`Rule ${rule.ruleId} is locked; unlock it and wait out its unlock delay before updating it.`);
    }
    if (req.ResourceType !== undefined && req.ResourceType !== rule.resourceType) {
      throw Errors.rbinValidation("A retention rule's resource type cannot be changed.");
    }
    if (req.RetentionPeriod) {
      checkRetention(req.RetentionPeriod.RetentionPeriodValue);
      rule.retentionDays = req.RetentionPeriod.RetentionPeriodValue;
    }
    if (req.Description !== undefined) rule.description = req.Description;
    const tagLevel = rule.resourceTags.length > 0;
    if (req.ResourceTags !== undefined) rule.resourceTags = this.updatedTags(req.ResourceTags, tagLevel, 'ResourceTags');
    if (req.ExcludeResourceTags !== undefined) {
      if (tagLevel && req.ExcludeResourceTags.length) throw Errors.rbinValidation('Exclusion tags can be specified only for Region-level retention rules.');
      rule.excludeResourceTags = fromResourceTags(req.ExcludeResourceTags);
    }
    if (rule.resourceTags.length && rule.excludeResourceTags.length) {
      throw Errors.rbinValidation('A retention rule cannot have both ResourceTags and ExcludeResourceTags.');
    }
    if (rule.lock && (rule.resourceTags.length || rule.excludeResourceTags.length)) {
      throw Errors.rbinValidation('A retention rule that has been locked cannot become tag-level or have exclusion tags.');
    }
    await this.checkTagQuota(caller, rule.resourceTags, rule.ruleId);
    await this.deps.rules.updateRule(rule);
    return toRuleDetail(rule, this.now());
  }

  /** ResourceTags of a tag-level rule may change but not empty it: the rule's level stays what it was. */
  private updatedTags(tags: ResourceTag[], tagLevel: boolean, name: string): RuleResourceTag[] {
    const next = fromResourceTags(tags);
    if (tagLevel !== next.length > 0) {
      throw Errors.rbinValidation(`${name} cannot turn a ${tagLevel ? 'tag-level' : 'Region-level'} retention rule into a ${tagLevel ? 'Region-level' : 'tag-level'} one.`);
    }
    return next;
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const rule = await this.find(caller, id);
    if (!isChangeable(rule, this.now())) {
      throw Errors.rbinRuleState(`Rule ${rule.ruleId} is locked; unlock it and wait out its unlock delay before deleting it.`);
    }
    await this.deps.rules.deleteRule(caller.account, caller.region, id);
  }

  async lock(caller: Caller, id: string, config: LockConfiguration): Promise<GetRuleResponse> {
    const rule = await this.find(caller, id);
    this.checkLockable(rule);
    const delay = config.UnlockDelay.UnlockDelayValue;
    const state = lockStateAt(rule, this.now());
    if (state === 'locked') throw Errors.rbinRuleState(`Rule ${rule.ruleId} is already locked.`);
    if (rule.lock && rule.lock.unlockDelayDays !== delay) {
      throw Errors.rbinValidation(`The unlock delay of a rule cannot change after its first lock: it is ${rule.lock.unlockDelayDays} days.`);
    }
    rule.lock = { unlockDelayDays: delay, state: 'locked' };
    await this.deps.rules.updateRule(rule);
    const { LockEndTime: _none, ...detail } = toRuleDetail(rule, this.now());
    return detail;
  }

  async unlock(caller: Caller, id: string): Promise<GetRuleResponse> {
    const rule = await this.find(caller, id);
    if (lockStateAt(rule, this.now()) !== 'locked' || !rule.lock) throw Errors.rbinRuleState(`Rule ${rule.ruleId} is not locked.`);
    rule.lock = {
      ...rule.lock, state: 'pending_unlock',
      lockEndTime: new Date(this.now().getTime() + rule.lock.unlockDelayDays * DAY_MS).toISOString(),
    };
    await this.deps.rules.updateRule(rule);
    return toRuleDetail(rule, this.now());
  }

  async listTags(caller: Caller, arn: string): Promise<Tag[]> {
    return (await this.findByArn(caller, arn)).tags;
  }

  async tag(caller: Caller, arn: string, tags: Tag[]): Promise<void> {
    const rule = await this.findByArn(caller, arn);
    checkTags(tags);
    const merged = mergeTags(rule.tags, tags);
    if (merged.length > 200) throw Errors.rbinQuotaExceeded(`A retention rule can have at most 200 tags (${ruleArn(rule)}).`);
    rule.tags = merged;
    await this.deps.rules.updateRule(rule);
  }

  async untag(caller: Caller, arn: string, keys: string[]): Promise<void> {
    const rule = await this.findByArn(caller, arn);
    rule.tags = rule.tags.filter((t) => !keys.includes(t.Key));
    await this.deps.rules.updateRule(rule);
  }
}
