// Security group rules in and out of EC2's two request forms: IpPermissions (each a protocol and
// port range with lists of CIDR, IPv6 CIDR, prefix list and group sources) and the legacy
// top-level IpProtocol/FromPort/ToPort/CidrIp/SourceSecurityGroupName. Inside amiforge a rule
// has exactly one source, as EC2's SecurityGroupRule model has it; DescribeSecurityGroups groups
// them back into IpPermissions.
import type { IpPermission, SecurityGroupRule } from '../../protocol/ec2/types.generated.ts';
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from '../../ports/network-repository.ts';
import { Errors } from '../errors.ts';
import { isResourceId } from '../resource-ids.ts';
import { isIpv6Cidr, parseIpv4Cidr } from './cidr.ts';

/** A rule as asked for, before it has an id; a group source is named by id or (legacy) by name. */
export type RuleSpec = Omit<SecurityGroupRuleRecord, 'ruleId' | 'referencedGroupId'> & {
  referencedGroup?: { groupId?: string; groupName?: string; userId?: string };
};

const PROTOCOL_NAMES: Record<string, string> = { tcp: 'tcp', '6': 'tcp', udp: 'udp', '17': 'udp', icmp: 'icmp', '1': 'icmp', icmpv6: 'icmpv6', '58': 'icmpv6', '-1': '-1', all: '-1' };

/** EC2's protocol forms: a name (tcp, udp, icmp, icmpv6), -1 for all, or a number 0-255. */
export function normalizeProtocol(p: string | undefined): string {
  if (p === undefined || p === '') throw Errors.missingParameter('IpProtocol');
  const lower = p.toLowerCase();
  if (Object.hasOwn(PROTOCOL_NAMES, lower)) return PROTOCOL_NAMES[lower];
  if (/^[0-9]{1,3}$/.test(p) && Number(p) <= 255) return String(Number(p));
  throw Errors.invalidParameterValue(`Invalid value '${p}' for IP protocol. Unknown protocol.`);
}

function portRange(protocol: string, from: number | undefined, to: number | undefined): { fromPort: number; toPort: number } {
  if (protocol === 'tcp' || protocol === 'udp') {
    if (from === undefined || to === undefined) throw Errors.invalidParameterValue(`Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`);
    if (from < 0 || from > 65535 || to < 0 || to > 65535) throw Errors.invalidParameterValue(`Invalid value for portRange. Ports must be 0-65535 (got ${from}-${to}).`);
    if (from > to) throw Errors.invalidParameterValue(`Invalid TCP/UDP port range ${from}-${to}: the from port must not be greater than the to port.`);
    return { fromPort: from, toPort: to };
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    const type = from ?? -1;
    const code = to ?? -1;
    if (type < -1 || type > 255) throw Errors.invalidParameterValue(`Invalid value '${type}' for ICMP type: must be -1 to 255.`);
    if (code < -1 || code > 255) throw Errors.invalidParameterValue(`Invalid value '${code}' for ICMP code: must be -1 to 255.`);
    if (type === -1 && code !== -1) throw Errors.invalidParameterValue('Invalid ICMP code: a code needs a specific ICMP type.');
    return { fromPort: type, toPort: code };
  }
  // All protocols, or one without ports: the range is all of it, whatever was given.
  return { fromPort: -1, toPort: -1 };
}

function checkDescription(d: string | undefined): string | undefined {
  if (d === undefined) return undefined;
  // EC2: up to 255 characters of a-zA-Z0-9, spaces, and ._-:/()#,@[]+=&;{}!$*
  if (d.length > 255 || !/^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/.test(d)) {
    throw Errors.invalidParameterValue(`Invalid rule description '${d}': up to 255 characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*`);
  }
  return d || undefined;
}

function checkCidr4(cidr: string | undefined): string {
  if (cidr === undefined || !parseIpv4Cidr(cidr)) throw Errors.invalidParameterValue(`CIDR block ${cidr ?? ''} is malformed`);
  return cidr;
}

function checkCidr6(cidr: string | undefined): string {
  if (cidr === undefined || !isIpv6Cidr(cidr)) throw Errors.invalidParameterValue(`CIDR block ${cidr ?? ''} is malformed`);
  return cidr.toLowerCase();
}

/** The rules one IpPermission asks for: one per source. */
function specsOf(p: IpPermission, egress: boolean): RuleSpec[] {
  const protocol = normalizeProtocol(p.IpProtocol);
  const ports = portRange(protocol, p.FromPort, p.ToPort);
  const base = { egress, protocol, ...ports };
  const out: RuleSpec[] = [];
  for (const r of p.IpRanges ?? []) out.push({ ...base, cidrIpv4: checkCidr4(r.CidrIp), description: checkDescription(r.Description) });
  for (const r of p.Ipv6Ranges ?? []) out.push({ ...base, cidrIpv6: checkCidr6(r.CidrIpv6), description: checkDescription(r.Description) });
  for (const r of p.PrefixListIds ?? []) {
    if (!r.PrefixListId || !isResourceId('pl', r.PrefixListId)) throw Errors.invalidParameterValue(`Invalid prefix list ID '${r.PrefixListId ?? ''}'`);
    out.push({ ...base, prefixListId: r.PrefixListId, description: checkDescription(r.Description) });
  }
  for (const g of p.UserIdGroupPairs ?? []) {
    if (g.GroupId === undefined && g.GroupName === undefined) throw Errors.missingParameter('UserIdGroupPair.N.GroupId');
    if (g.GroupId !== undefined && !isResourceId('sg', g.GroupId)) throw Errors.groupIdMalformed(g.GroupId);
    out.push({ ...base, referencedGroup: { groupId: g.GroupId, groupName: g.GroupName, userId: g.UserId }, description: checkDescription(g.Description) });
  }
  if (!out.length) throw Errors.missingParameter('IpPermissions.N.IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs');
  return out;
}

export interface PermissionRequest {
  IpPermissions?: IpPermission[];
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  CidrIp?: string;
  SourceSecurityGroupName?: string;
  SourceSecurityGroupOwnerId?: string;
}

/** The rules a request asks for, in either form (not both). */
export function requestedRules(req: PermissionRequest, egress: boolean): RuleSpec[] {
  const legacy = req.IpProtocol !== undefined || req.FromPort !== undefined || req.ToPort !== undefined || req.CidrIp !== undefined
    || req.SourceSecurityGroupName !== undefined || req.SourceSecurityGroupOwnerId !== undefined;
  if (legacy && req.IpPermissions?.length) {
    throw Errors.invalidParameterCombination('The parameter IpPermissions cannot be used with the parameters IpProtocol, FromPort, ToPort, CidrIp or SourceSecurityGroupName.');
  }
  if (!legacy) {
    if (!req.IpPermissions?.length) throw Errors.missingParameter('IpPermissions');
    return req.IpPermissions.flatMap((p) => specsOf(p, egress));
  }
  if (req.SourceSecurityGroupName !== undefined || req.SourceSecurityGroupOwnerId !== undefined) {
    if (req.CidrIp !== undefined) throw Errors.invalidParameterCombination('The parameter CidrIp cannot be used with the parameter SourceSecurityGroupName.');
    if (req.SourceSecurityGroupName === undefined) throw Errors.missingParameter('SourceSecurityGroupName');
    // As EC2 does for a VPC group named by the legacy form: every protocol and port from that group.
    const permission = req.IpProtocol === undefined ? { IpProtocol: '-1' } : { IpProtocol: req.IpProtocol, FromPort: req.FromPort, ToPort: req.ToPort };
    return specsOf({ ...permission, UserIdGroupPairs: [{ GroupName: req.SourceSecurityGroupName, UserId: req.SourceSecurityGroupOwnerId }] }, egress);
  }
  if (req.CidrIp === undefined) throw Errors.missingParameter('CidrIp');
  return specsOf({ IpProtocol: req.IpProtocol, FromPort: req.FromPort, ToPort: req.ToPort, IpRanges: [{ CidrIp: req.CidrIp }] }, egress);
}

/** Two rules are the same rule when all but the id and description agree. */
export function sameRule(a: Omit<SecurityGroupRuleRecord, 'ruleId'>, b: Omit<SecurityGroupRuleRecord, 'ruleId'>): boolean {
  return a.egress === b.egress && a.protocol === b.protocol && a.fromPort === b.fromPort && a.toPort === b.toPort
    && a.cidrIpv4 === b.cidrIpv4 && a.cidrIpv6 === b.cidrIpv6 && a.prefixListId === b.prefixListId && a.referencedGroupId === b.referencedGroupId;
}

/** How EC2 names a rule in InvalidPermission.Duplicate. */
export function describeRule(r: Omit<SecurityGroupRuleRecord, 'ruleId'>): string {
  const peer = r.cidrIpv4 ?? r.cidrIpv6 ?? r.prefixListId ?? r.referencedGroupId ?? '';
  const protocol = r.protocol === '-1' ? 'ALL' : r.protocol.toUpperCase();
  const ports = r.fromPort === -1 ? '' : `, from port: ${r.fromPort}, to port: ${r.toPort}`;
  return `peer: ${peer}, ${protocol}${ports}, ALLOW`;
}

const wirePorts = (r: SecurityGroupRuleRecord) =>
  (r.protocol === '-1' || (r.fromPort === -1 && r.protocol !== 'icmp' && r.protocol !== 'icmpv6') ? {} : { FromPort: r.fromPort, ToPort: r.toPort });

/** Rules grouped back into IpPermissions by protocol and ports, as DescribeSecurityGroups shows them. */
export function toIpPermissions(g: SecurityGroupRecord, egress: boolean): IpPermission[] {
  const byKey = new Map<string, IpPermission>();
  for (const r of g.rules) {
    if (r.egress !== egress) continue;
    const key = `${r.protocol}/${r.fromPort}/${r.toPort}`;
    let p = byKey.get(key);
    if (!p) byKey.set(key, (p = { IpProtocol: r.protocol, ...wirePorts(r), IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] }));
    if (r.cidrIpv4) p.IpRanges!.push({ CidrIp: r.cidrIpv4, Description: r.description });
    if (r.cidrIpv6) p.Ipv6Ranges!.push({ CidrIpv6: r.cidrIpv6, Description: r.description });
    if (r.prefixListId) p.PrefixListIds!.push({ PrefixListId: r.prefixListId, Description: r.description });
    if (r.referencedGroupId) p.UserIdGroupPairs!.push({ GroupId: r.referencedGroupId, UserId: g.account, Description: r.description });
  }
  return [...byKey.values()];
}

/** A rule as DescribeSecurityGroupRules and Authorize* return it. */
export function toWireRule(g: SecurityGroupRecord, r: SecurityGroupRuleRecord, tags?: { Key?: string; Value?: string }[]): SecurityGroupRule {
  return {
    SecurityGroupRuleId: r.ruleId, GroupId: g.groupId, GroupOwnerId: g.account, IsEgress: r.egress, IpProtocol: r.protocol,
    FromPort: r.fromPort, ToPort: r.toPort, CidrIpv4: r.cidrIpv4, CidrIpv6: r.cidrIpv6, PrefixListId: r.prefixListId,
    ReferencedGroupInfo: r.referencedGroupId ? { GroupId: r.referencedGroupId, UserId: g.account } : undefined,
    Description: r.description, Tags: tags ?? [],
    SecurityGroupRuleArn: `arn:aws:ec2:${g.region}:${g.account}:security-group-rule/${r.ruleId}`,
  };
}

/** The IpPermission one rule is, for Revoke's UnknownIpPermissions. */
export function specToPermission(s: RuleSpec): IpPermission {
  return {
    IpProtocol: s.protocol, ...(s.protocol === '-1' ? {} : { FromPort: s.fromPort, ToPort: s.toPort }),
    IpRanges: s.cidrIpv4 ? [{ CidrIp: s.cidrIpv4 }] : undefined,
    Ipv6Ranges: s.cidrIpv6 ? [{ CidrIpv6: s.cidrIpv6 }] : undefined,
    PrefixListIds: s.prefixListId ? [{ PrefixListId: s.prefixListId }] : undefined,
    UserIdGroupPairs: s.referencedGroup ? [{ GroupId: s.referencedGroup.groupId, GroupName: s.referencedGroup.groupName }] : undefined,
  };
}
