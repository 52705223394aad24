// DescribeVpcs, DescribeSubnets and DescribeAccountAttributes: each account's default VPC and its
// default subnets (made on first use), and the account attributes clients read to find them.
import type {
  AccountAttribute, DescribeAccountAttributesRequest, DescribeSubnetsRequest, DescribeVpcsRequest, Subnet, Tag, Vpc,
} from '../../protocol/ec2/types.generated.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SubnetRecord, VpcRecord } from '../../ports/network-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { checkFilterNames, matchesFilters, normalizeFilters, type FilterMap } from '../filters.ts';
import { decodeToken, pageByKey, pageSize } from '../pagination.ts';
import { findRegion, zonesOf } from '../regions.ts';
import { isResourceId } from '../resource-ids.ts';
import { ensureDefaultNetwork } from './default-network.ts';
import { GROUPS_PER_INTERFACE, subnetAddressRange } from './instance-network.ts';

export interface VpcServiceDeps { store: MetadataStore; instanceLimit: number }

const vpcFilters: FilterMap<VpcRecord> = {
  'vpc-id': (v) => v.vpcId,
  'cidr': (v) => v.cidrBlock,
  'cidr-block-association.cidr-block': (v) => v.cidrBlock,
  'cidr-block-association.state': () => 'associated',
  'is-default': (v) => v.isDefault,
  // The camel-case name Terraform's aws_vpc data source sends (`default = true`).
  'isDefault': (v) => v.isDefault,
  'owner-id': (v) => v.account,
  'state': () => 'available',
  'dhcp-options-id': (v) => v.dhcpOptionsId,
};

const zoneId = (s: SubnetRecord) => zonesOf(findRegion(s.region)!).find((z) => z.name === s.availabilityZone)?.id;

const subnetFilters: FilterMap<SubnetRecord> = {
  'subnet-id': (s) => s.subnetId,
  'vpc-id': (s) => s.vpcId,
  'availability-zone': (s) => s.availabilityZone,
  'availabilityZone': (s) => s.availabilityZone,
  'availability-zone-id': zoneId,
  'availabilityZoneId': zoneId,
  'cidr-block': (s) => s.cidrBlock,
  'cidrBlock': (s) => s.cidrBlock,
  'cidr': (s) => s.cidrBlock,
  'default-for-az': (s) => s.defaultForAz,
  'defaultForAz': (s) => s.defaultForAz,
  'map-public-ip-on-launch': (s) => s.mapPublicIpOnLaunch,
  'owner-id': (s) => s.account,
  'state': () => 'available',
  'subnet-arn': (s) => subnetArn(s),
};

const subnetArn = (s: SubnetRecord) => `arn:aws:ec2:${s.region}:${s.account}:subnet/${s.subnetId}`;

/** Pages of `items` (in id order) after the token, passing the filters. */
function page<T>(items: T[], id: (t: T) => string, keep: (t: T) => boolean, req: { MaxResults?: number; NextToken?: string }) {
  const limit = pageSize(req.MaxResults, { min: 5, max: 1000, default: Number.MAX_SAFE_INTEGER });
  return pageByKey(items, id, keep, limit, decodeToken(req.NextToken));
}

export class VpcService {
  private readonly deps: VpcServiceDeps;
  constructor(deps: VpcServiceDeps) {
    this.deps = deps;
  }

  async describeVpcs(caller: Caller, req: DescribeVpcsRequest): Promise<{ Vpcs: Vpc[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, vpcFilters);
    await ensureDefaultNetwork(this.deps.store.network, caller);
    const vpcs = await this.deps.store.network.vpcs(caller.account, caller.region);
    for (const id of req.VpcIds ?? []) {
      if (!isResourceId('vpc', id)) throw Errors.vpcMalformed(id);
      if (!vpcs.some((v) => v.vpcId === id)) throw Errors.vpcNotFound(id);
    }
    const tags = await this.deps.store.tags.forResources(caller.account, caller.region, vpcs.map((v) => v.vpcId));
    const own = (v: VpcRecord): Tag[] => tags.get(v.vpcId) ?? [];
    const { out, next } = page(vpcs, (v) => v.vpcId, (v) => (!req.VpcIds?.length || req.VpcIds.includes(v.vpcId))
      && matchesFilters(v, own(v), filters, vpcFilters), req);
    return {
      Vpcs: out.map((v) => ({
        VpcId: v.vpcId, OwnerId: v.account, State: 'available', CidrBlock: v.cidrBlock, DhcpOptionsId: v.dhcpOptionsId, InstanceTenancy: 'default',
        IsDefault: v.isDefault, Tags: own(v).length ? own(v) : undefined,
        CidrBlockAssociationSet: [{ AssociationId: v.vpcId.replace(/^vpc-/, 'vpc-cidr-assoc-'), CidrBlock: v.cidrBlock, CidrBlockState: { State: 'associated' } }],
      })),
      NextToken: next,
    };
  }

  async describeSubnets(caller: Caller, req: DescribeSubnetsRequest): Promise<{ Subnets: Subnet[]; NextToken?: string }> {
    const filters = normalizeFilters(req.Filters);
    checkFilterNames(filters, subnetFilters);
    await ensureDefaultNetwork(this.deps.store.network, caller);
    const subnets = await this.deps.store.network.subnets(caller.account, caller.region);
    for (const id of req.SubnetIds ?? []) {
      if (!isResourceId('subnet', id)) throw Errors.subnetMalformed(id);
      if (!subnets.some((s) => s.subnetId === id)) throw Errors.subnetNotFound(id);
    }
    const tags = await this.deps.store.tags.forResources(caller.account, caller.region, subnets.map((s) => s.subnetId));
    const own = (s: SubnetRecord): Tag[] => tags.get(s.subnetId) ?? [];
    const { out, next } = page(subnets, (s) => s.subnetId, (s) => (!req.SubnetIds?.length || req.SubnetIds.includes(s.subnetId))
      && matchesFilters(s, own(s), filters, subnetFilters), req);
    const used = await this.addressesInUse(caller, out);
    return {
      Subnets: out.map((s) => {
        const range = subnetAddressRange(s);
        return {
          SubnetId: s.subnetId, VpcId: s.vpcId, OwnerId: s.account, State: 'available', CidrBlock: s.cidrBlock,
          AvailabilityZone: s.availabilityZone, AvailabilityZoneId: zoneId(s), DefaultForAz: s.defaultForAz, MapPublicIpOnLaunch: s.mapPublicIpOnLaunch,
          AvailableIpAddressCount: range.last - range.first + 1 - (used.get(s.subnetId) ?? 0),
          AssignIpv6AddressOnCreation: false, MapCustomerOwnedIpOnLaunch: false, EnableDns64: false, Ipv6Native: false,
          Ipv6CidrBlockAssociationSet: [], SubnetArn: subnetArn(s), Tags: own(s).length ? own(s) : undefined,
          PrivateDnsNameOptionsOnLaunch: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
        };
      }),
      NextToken: next,
    };
  }

  /** The caller's instances holding an address in each subnet. */
  private async addressesInUse(caller: Caller, subnets: SubnetRecord[]): Promise<Map<string, number>> {
    const used = new Map<string, number>();
    if (!subnets.length) return used;
    for await (const r of this.deps.store.instances.scan({ region: caller.region, ownerId: caller.account })) {
      if (r.state !== 'terminated' && r.network) used.set(r.network.subnetId, (used.get(r.network.subnetId) ?? 0) + 1);
    }
    return used;
  }

  async describeAccountAttributes(caller: Caller, req: DescribeAccountAttributesRequest): Promise<{ AccountAttributes: AccountAttribute[] }> {
    const { vpc } = await ensureDefaultNetwork(this.deps.store.network, caller);
    const all: [string, string[]][] = [
      ['supported-platforms', ['VPC']],
      ['default-vpc', [vpc.vpcId]],
      ['max-instances', [String(this.deps.instanceLimit)]],
      ['vpc-max-security-groups-per-interface', [String(GROUPS_PER_INTERFACE)]],
      ['max-elastic-ips', ['5']],
      ['vpc-max-elastic-ips', ['5']],
    ];
    const names = req.AttributeNames ?? [];
    return {
      AccountAttributes: all.filter(([n]) => !names.length || (names as string[]).includes(n))
        .map(([n, values]) => ({ AttributeName: n, AttributeValues: values.map((v) => ({ AttributeValue: v })) })),
    };
  }
}
