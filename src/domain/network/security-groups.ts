// Security groups: CreateSecurityGroup, DeleteSecurityGroup, DescribeSecurityGroups,
// Authorize/RevokeSecurityGroupIngress/Egress, DescribeSecurityGroupRules and
// ModifySecurityGroupRules. Groups belong to one account and region and live in its default VPC
// (the only VPC amiforge models); an id that is unknown or another account's is InvalidGroup.NotFound,
// never told apart. Rule changes reach running instances at once (their forwarded host ports).
import type {
  AuthorizeSecurityGroupIngressResult, CreateSecurityGroupRequest, CreateSecurityGroupResult, DeleteSecurityGroupRequest,
  DeleteSecurityGroupResult, DescribeSecurityGroupRulesRequest, DescribeSecurityGroupsRequest, IpPermission,
  ModifySecurityGroupRulesRequest, RevokeSecurityGroupIngressResult, SecurityGroup, SecurityGroupRule, Tag,
} from '../../protocol/ec2/types.generated.ts';
import type { IdGenerator } from '../../ports/ids.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from '../../ports/network-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { checkFilterNames, matchesFilters, normalizeFilters, type FilterMap } from '../filters.ts';
import { KeyedQueue } from '../instances/serial.ts';
import { decodeToken, pageByKey, pageSize } from '../pagination.ts';
import { isResourceId } from '../resource-ids.ts';
import { tagsFor } from '../tags/tag-specifications.ts';
import { allowAllEgress, DEFAULT_GROUP_NAME, ensureDefaultNetwork } from './default-network.ts';
import type { InstanceNetwork } from './instance-network.ts';
import {
  describeRule, requestedRules, sameRule, specToPermission, toIpPermissions, toWireRule, type PermissionRequest, type RuleSpec,
} from './ip-permissions.ts';

export interface SecurityGroupServiceDeps { store: MetadataStore; ids: IdGenerator; network: InstanceNetwork }

/** EC2's default quotas: groups per VPC, and rules per group in each direction. */
export const GROUPS_PER_VPC = 2500;
export const RULES_PER_DIRECTION = 60;

/** EC2's characters for a VPC group's name and description. */
const VPC_TEXT = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

export const groupArn = (g: SecurityGroupRecord) => `arn:aws:ec2:${g.region}:${g.account}:security-group/${g.groupId}`;

interface GroupView { g: SecurityGroupRecord; tags: Tag[]; names: Map<string, string> }

/** Filter values of a group's rules in one direction. */
function ruleValues(egress: boolean, pick: (r: SecurityGroupRuleRecord, v: GroupView) => string | number | undefined) {
  return (v: GroupView) => v.g.rules.filter((r) => r.egress === egress).map((r) => pick(r, v));
}

function permissionFilters(prefix: string, egress: boolean): FilterMap<GroupView> {
  return {
    [`${prefix}cidr`]: ruleValues(egress, (r) => r.cidrIpv4),
    [`${prefix}ipv6-cidr`]: ruleValues(egress, (r) => r.cidrIpv6),
    [`${prefix}prefix-list-id`]: ruleValues(egress, (r) => r.prefixListId),
    [`${prefix}from-port`]: ruleValues(egress, (r) => r.fromPort),
    [`${prefix}to-port`]: ruleValues(egress, (r) => r.toPort),
    [`${prefix}protocol`]: ruleValues(egress, (r) => r.protocol),
    [`${prefix}group-id`]: ruleValues(egress, (r) => r.referencedGroupId),
    [`${prefix}group-name`]: ruleValues(egress, (r, v) => r.referencedGroupId && v.names.get(r.referencedGroupId)),
    [`${prefix}user-id`]: ruleValues(egress, (r, v) => r.referencedGroupId && v.g.account),
  };
}

const groupFilters: FilterMap<GroupView> = {
  'group-id': (v) => v.g.groupId,
  'group-name': (v) => v.g.groupName,
  'description': (v) => v.g.description,
  'owner-id': (v) => v.g.account,
  'vpc-id': (v) => v.g.vpcId,
  ...permissionFilters('ip-permission.', false),
  ...permissionFilters('egress.ip-permission.', true),
};

const ruleFilters: FilterMap<{ g: SecurityGroupRecord; r: SecurityGroupRuleRecord }> = {
  'group-id': (x) => x.g.groupId,
  'security-group-rule-id': (x) => x.r.ruleId,
};

function checkText(what: 'GroupName' | 'GroupDescription', value: string): void {
  if (!value.length || value.length > 255 || !VPC_TEXT.test(value)) {
    throw Errors.invalidParameterValue(`Value (${value}) for parameter ${what} is invalid. Character sets beyond a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$* are not allowed, and the length is 1 to 255 characters.`);
  }
}

export class SecurityGroupService {
  private readonly deps: SecurityGroupServiceDeps;
  /** One change at a time per group: each is a read-modify-write of its record. */
  private readonly queue = new KeyedQueue();
  constructor(deps: SecurityGroupServiceDeps) {
    this.deps = deps;
  }

  private get groups() {
    return this.deps.store.network;
  }

  /** The caller's group named by id or, in the default VPC, by name; NotFound for anything else. */
  async find(caller: Caller, ref: { GroupId?: string; GroupName?: string }): Promise<SecurityGroupRecord> {
    const { vpc } = await ensureDefaultNetwork(this.groups, caller);
    if (ref.GroupId !== undefined) {
      if (!isResourceId('sg', ref.GroupId)) throw Errors.groupIdMalformed(ref.GroupId);
      const g = await this.groups.group(caller.account, caller.region, ref.GroupId);
      if (!g) throw Errors.groupNotFound(ref.GroupId);
      return g;
    }
    if (ref.GroupName === undefined) throw Errors.missingParameter('GroupId');
    const g = await this.groups.groupByName(caller.account, caller.region, vpc.vpcId, ref.GroupName);
    if (!g) throw Errors.groupNameNotFound(ref.GroupName, vpc.vpcId);
    return g;
  }

  /** The caller's rule with this id (CreateTags on `sgr-` ids), or InvalidSecurityGroupRuleId.NotFound. */
  async findRule(caller: Caller, ruleId: string): Promise<SecurityGroupRuleRecord> {
    if (!isResourceId('sgr', ruleId)) throw Errors.ruleIdMalformed(ruleId);
    for (const g of await this.groups.groups(caller.account, caller.region)) {
      const r = g.rules.find((x) => x.ruleId === ruleId);
      if (r) return r;
    }
    throw Errors.ruleIdNotFound(ruleId);
  }

  async create(caller: Caller, req: CreateSecurityGroupRequest): Promise<CreateSecurityGroupResult> {
    checkText('GroupName', req.GroupName);
    if (req.GroupName.toLowerCase().startsWith('sg-')) throw Errors.invalidParameterValue(`Group names may not be in the format sg-*.`);
    checkText('GroupDescription', req.Description);
    const tags = tagsFor(req.TagSpecifications, ['security-group'], 'security-group');
    const { vpc } = await ensureDefaultNetwork(this.groups, caller);
    // An empty VpcId is the default VPC, as EC2 takes it (Packer sends one when no vpc_id is set).
    if (req.VpcId !== undefined && req.VpcId !== '') {
      if (!isResourceId('vpc', req.VpcId)) throw Errors.vpcMalformed(req.VpcId);
      if (req.VpcId !== vpc.vpcId) throw Errors.vpcNotFound(req.VpcId);
    }
    if (req.GroupName === DEFAULT_GROUP_NAME) throw Errors.groupReserved(req.GroupName);
    const existing = await this.groups.groups(caller.account, caller.region);
    if (existing.filter((g) => g.vpcId === vpc.vpcId).length >= GROUPS_PER_VPC) throw Errors.groupLimitExceeded(GROUPS_PER_VPC);
    const groupId = this.deps.ids.next('sg');
    const g: SecurityGroupRecord = {
      account: caller.account, region: caller.region, groupId, groupName: req.GroupName, description: req.Description, vpcId: vpc.vpcId,
      rules: [{ ...allowAllEgress(groupId), ruleId: this.deps.ids.next('sgr') }],
    };
    if (!(await this.groups.insertGroup(g, tags))) throw Errors.groupDuplicate(req.GroupName, vpc.vpcId);
    return { GroupId: groupId, Tags: tags.length ? tags : undefined, SecurityGroupArn: groupArn(g) };
  }

  async delete(caller: Caller, req: DeleteSecurityGroupRequest): Promise<DeleteSecurityGroupResult> {
    if (req.GroupId === undefined && req.GroupName === undefined) throw Errors.missingParameter('GroupId');
    const g = await this.find(caller, req);
    if (g.groupName === DEFAULT_GROUP_NAME) throw Errors.groupCannotDelete(g.groupId);
    return this.queue.run(g.groupId, async () => {
      if (await this.deps.network.groupInUse(caller, g.groupId)) throw Errors.groupInUse(g.groupId);
      const others = await this.groups.groups(caller.account, caller.region);
      if (others.some((o) => o.groupId !== g.groupId && o.rules.some((r) => r.referencedGroupId === g.groupId))) throw Errors.groupInUse(g.groupId);
      await this.groups.deleteGroup(caller.account, caller.region, g.groupId);
      return { Return: true, GroupId: g.groupId };
    });
  }

  async describe(caller: Caller, req: DescribeSecurityGroupsRequest): Promise<{ SecurityGroups: SecurityGroup[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, groupFilters);
    if ((req.GroupIds?.length || req.GroupNames?.length) && req.MaxResults !== undefined) {
      throw Errors.invalidParameterCombination('The parameter groupIdSet or groupNameSet cannot be used with the parameter maxResults');
    }
    const limit = pageSize(req.MaxResults, { min: 5, max: 1000, default: Number.MAX_SAFE_INTEGER });
    const after = decodeToken(req.NextToken);
    const wanted = new Set<string>();
    for (const id of req.GroupIds ?? []) wanted.add((await this.find(caller, { GroupId: id })).groupId);
    for (const name of req.GroupNames ?? []) wanted.add((await this.find(caller, { GroupName: name })).groupId);
    const all = await this.groups.groups(caller.account, caller.region);
    const names = new Map(all.map((g) => [g.groupId, g.groupName]));
    const tags = await this.deps.store.tags.forResources(caller.account, caller.region, all.map((g) => g.groupId));
    const views = all.map((g): GroupView => ({ g, tags: tags.get(g.groupId) ?? [], names }));
    const { out, next } = pageByKey(views, (v) => v.g.groupId,
      (v) => (!wanted.size || wanted.has(v.g.groupId)) && matchesFilters(v, v.tags, filters, groupFilters), limit, after);
    return {
      SecurityGroups: out.map(({ g, tags: own }) => ({
        GroupId: g.groupId, GroupName: g.groupName, Description: g.description, OwnerId: g.account, VpcId: g.vpcId, SecurityGroupArn: groupArn(g),
        IpPermissions: toIpPermissions(g, false), IpPermissionsEgress: toIpPermissions(g, true), Tags: own.length ? own : undefined,
      })),
      NextToken: next,
    };
  }

  /** Group sources named by id or name become ids of the caller's groups in the same VPC. */
  private async resolveSources(caller: Caller, g: SecurityGroupRecord, specs: RuleSpec[]): Promise<Omit<SecurityGroupRuleRecord, 'ruleId'>[]> {
    const out: Omit<SecurityGroupRuleRecord, 'ruleId'>[] = [];
    for (const { referencedGroup: ref, ...rest } of specs) {
      if (!ref) {
        out.push(rest);
        continue;
      }
      // Another account's group is not told apart from one that does not exist.
      const foreign = ref.userId !== undefined && ref.userId !== caller.account;
      let source: SecurityGroupRecord | undefined;
      if (ref.groupId !== undefined) source = foreign ? undefined : await this.groups.group(caller.account, caller.region, ref.groupId);
      else if (!foreign) source = await this.groups.groupByName(caller.account, caller.region, g.vpcId, ref.groupName!);
      if (!source || source.vpcId !== g.vpcId) {
        throw ref.groupId !== undefined ? Errors.groupNotFound(ref.groupId) : Errors.groupNameNotFound(ref.groupName!, g.vpcId);
      }
      out.push({ ...rest, referencedGroupId: source.groupId });
    }
    return out;
  }

  async authorize(caller: Caller, req: PermissionRequest & { GroupId?: string; GroupName?: string; TagSpecifications?: CreateSecurityGroupRequest['TagSpecifications'] },
    egress: boolean): Promise<AuthorizeSecurityGroupIngressResult> {
    if (egress && req.GroupName !== undefined && req.GroupId === undefined) throw Errors.missingParameter('GroupId');
    const ruleTags = tagsFor(req.TagSpecifications, ['security-group-rule'], 'security-group-rule');
    const specs = requestedRules(req, egress);
    const found = await this.find(caller, req);
    const added = await this.queue.run(found.groupId, async () => {
      const g = (await this.groups.group(caller.account, caller.region, found.groupId))!;
      const rules = await this.resolveSources(caller, g, specs);
      const made: SecurityGroupRuleRecord[] = [];
      for (const r of rules) {
        if ([...g.rules, ...made].some((x) => sameRule(x, r))) throw Errors.permissionDuplicate(describeRule(r));
        made.push({ ...r, ruleId: this.deps.ids.next('sgr') });
      }
      if (g.rules.filter((r) => r.egress === egress).length + made.length > RULES_PER_DIRECTION) throw Errors.rulesPerGroupExceeded(RULES_PER_DIRECTION);
      g.rules.push(...made);
      await this.groups.updateGroup(g);
      if (ruleTags.length) await this.deps.store.tags.put(caller.account, caller.region, made.map((r) => ({ id: r.ruleId, type: 'security-group-rule' })), ruleTags);
      return { g, made };
    });
    if (!egress) await this.deps.network.refreshGroup(caller, found.groupId);
    return { Return: true, SecurityGroupRules: added.made.map((r) => toWireRule(added.g, r, ruleTags)) };
  }

  /**
   * Rules named by id must all exist (InvalidSecurityGroupRuleId.NotFound); rules named by their
   * values that do not exist are returned as UnknownIpPermissions and the others revoked, as EC2
   * does in a default VPC.
   */
  async revoke(caller: Caller, req: PermissionRequest & { GroupId?: string; GroupName?: string; SecurityGroupRuleIds?: string[] },
    egress: boolean): Promise<RevokeSecurityGroupIngressResult> {
    if (egress && req.GroupName !== undefined && req.GroupId === undefined) throw Errors.missingParameter('GroupId');
    const byId = req.SecurityGroupRuleIds ?? [];
    for (const id of byId) if (!isResourceId('sgr', id)) throw Errors.ruleIdMalformed(id);
    const specs = byId.length && !req.IpPermissions?.length && req.IpProtocol === undefined && req.CidrIp === undefined ? [] : requestedRules(req, egress);
    const found = await this.find(caller, req);
    const result = await this.queue.run(found.groupId, async () => {
      const g = (await this.groups.group(caller.account, caller.region, found.groupId))!;
      const gone = new Set<SecurityGroupRuleRecord>();
      for (const id of byId) {
        const r = g.rules.find((x) => x.ruleId === id && x.egress === egress);
        if (!r) throw Errors.ruleIdNotFound(id);
        gone.add(r);
      }
      const unknown: IpPermission[] = [];
      for (const spec of specs) {
        let resolved: Omit<SecurityGroupRuleRecord, 'ruleId'> | undefined;
        try {
          [resolved] = await this.resolveSources(caller, g, [spec]);
        } catch {
          resolved = undefined;
        }
        const r = resolved && g.rules.find((x) => sameRule(x, resolved));
        if (r) gone.add(r);
        else unknown.push(specToPermission(spec));
      }
      g.rules = g.rules.filter((r) => !gone.has(r));
      if (gone.size) {
        await this.groups.updateGroup(g);
        await this.deps.store.tags.remove(caller.account, caller.region, [...gone].map((r) => r.ruleId), undefined);
      }
      return { g, gone: [...gone], unknown };
    });
    if (!egress && result.gone.length) await this.deps.network.refreshGroup(caller, found.groupId);
    return {
      Return: true,
      UnknownIpPermissions: result.unknown.length ? result.unknown : undefined,
      RevokedSecurityGroupRules: result.gone.map((r) => ({
        SecurityGroupRuleId: r.ruleId, GroupId: result.g.groupId, IsEgress: r.egress, IpProtocol: r.protocol, FromPort: r.fromPort, ToPort: r.toPort,
        CidrIpv4: r.cidrIpv4, CidrIpv6: r.cidrIpv6, PrefixListId: r.prefixListId, ReferencedGroupId: r.referencedGroupId, Description: r.description,
      })),
    };
  }

  async describeRules(caller: Caller, req: DescribeSecurityGroupRulesRequest): Promise<{ SecurityGroupRules: SecurityGroupRule[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, ruleFilters);
    const limit = pageSize(req.MaxResults, { min: 5, max: 1000, default: 1000 });
    const after = decodeToken(req.NextToken);
    for (const id of req.SecurityGroupRuleIds ?? []) if (!isResourceId('sgr', id)) throw Errors.ruleIdMalformed(id);
    await ensureDefaultNetwork(this.groups, caller);
    const all = (await this.groups.groups(caller.account, caller.region)).flatMap((g) => g.rules.map((r) => ({ g, r })))
      .sort((a, b) => (a.r.ruleId < b.r.ruleId ? -1 : a.r.ruleId > b.r.ruleId ? 1 : 0));
    for (const id of req.SecurityGroupRuleIds ?? []) if (!all.some((x) => x.r.ruleId === id)) throw Errors.ruleIdNotFound(id);
    const tags = await this.deps.store.tags.forResources(caller.account, caller.region, all.map((x) => x.r.ruleId));
    const own = (x: { r: SecurityGroupRuleRecord }) => tags.get(x.r.ruleId) ?? [];
    const { out, next } = pageByKey(all, (x) => x.r.ruleId,
      (x) => (!req.SecurityGroupRuleIds?.length || req.SecurityGroupRuleIds.includes(x.r.ruleId)) && matchesFilters(x, own(x), filters, ruleFilters), limit, after);
    return { SecurityGroupRules: out.map((x) => toWireRule(x.g, x.r, own(x))), NextToken: next };
  }

  /** Replaces rules in place, keeping their ids and directions. */
  async modifyRules(caller: Caller, req: ModifySecurityGroupRulesRequest): Promise<{ Return: boolean }> {
    const found = await this.find(caller, { GroupId: req.GroupId });
    if (!req.SecurityGroupRules?.length) throw Errors.missingParameter('SecurityGroupRule');
    await this.queue.run(found.groupId, async () => {
      const g = (await this.groups.group(caller.account, caller.region, found.groupId))!;
      const next = [...g.rules];
      for (const u of req.SecurityGroupRules) {
        if (!isResourceId('sgr', u.SecurityGroupRuleId)) throw Errors.ruleIdMalformed(u.SecurityGroupRuleId);
        const i = next.findIndex((r) => r.ruleId === u.SecurityGroupRuleId);
        if (i < 0) throw Errors.ruleIdNotFound(u.SecurityGroupRuleId);
        const s = u.SecurityGroupRule;
        if (!s) throw Errors.missingParameter('SecurityGroupRule.N.SecurityGroupRule');
        const permission: IpPermission = {
          IpProtocol: s.IpProtocol, FromPort: s.FromPort, ToPort: s.ToPort,
          IpRanges: s.CidrIpv4 !== undefined ? [{ CidrIp: s.CidrIpv4, Description: s.Description }] : undefined,
          Ipv6Ranges: s.CidrIpv6 !== undefined ? [{ CidrIpv6: s.CidrIpv6, Description: s.Description }] : undefined,
          PrefixListIds: s.PrefixListId !== undefined ? [{ PrefixListId: s.PrefixListId, Description: s.Description }] : undefined,
          UserIdGroupPairs: s.ReferencedGroupId !== undefined ? [{ GroupId: s.ReferencedGroupId, Description: s.Description }] : undefined,
        };
        const specs = requestedRules({ IpPermissions: [permission] }, next[i].egress);
        if (specs.length !== 1) throw Errors.invalidParameterValue('A security group rule has exactly one source: CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupId.');
        const [rule] = await this.resolveSources(caller, g, specs);
        if (next.some((r, j) => j !== i && sameRule(r, rule))) throw Errors.permissionDuplicate(describeRule(rule));
        next[i] = { ...rule, ruleId: next[i].ruleId };
      }
      g.rules = next;
      await this.groups.updateGroup(g);
    });
    await this.deps.network.refreshGroup(caller, found.groupId);
    return { Return: true };
  }
}
