// Each account's default VPC in a region, as AWS lays it out: 172.31.0.0/16, one /20 default
// subnet per availability zone (172.31.0.0/20, 172.31.16.0/20, ...) that maps a public address
// on launch, and the `default` security group. Made on first use; the ids are derived from the
// account and region, so they are the same on every server and after every reset.
import { createHash } from 'node:crypto';
import type { DefaultNetwork, NetworkRepository, SecurityGroupRuleRecord, SubnetRecord } from '../../ports/network-repository.ts';
import type { Caller } from '../context.ts';
import { findRegion, zonesOf } from '../regions.ts';

export const DEFAULT_VPC_CIDR = '172.31.0.0/16';
export const DEFAULT_GROUP_NAME = 'default';
export const DEFAULT_GROUP_DESCRIPTION = 'default VPC security group';

/** A stable id of the resource type: the prefix and 17 hex digits, as AWS's long ids. */
export function derivedId(prefix: string, ...parts: string[]): string {
  return `${prefix}-0${createHash('sha256').update([prefix, ...parts].join('\u0000')).digest('hex').slice(0, 16)}`;
}

/** Egress to anywhere: what EC2 gives every new VPC security group. */
export function allowAllEgress(groupId: string): SecurityGroupRuleRecord {
  return { ruleId: derivedId('sgr', groupId, 'egress-all'), egress: true, protocol: '-1', fromPort: -1, toPort: -1, cidrIpv4: '0.0.0.0/0' };
}

export function defaultNetworkOf(caller: Caller): DefaultNetwork {
  const { account, region } = caller;
  const vpcId = derivedId('vpc', account, region);
  const subnets: SubnetRecord[] = zonesOf(findRegion(region)!).map((z, i) => ({
    account, region, subnetId: derivedId('subnet', account, region, z.name), vpcId, availabilityZone: z.name,
    cidrBlock: `172.31.${i * 16}.0/20`, defaultForAz: true, mapPublicIpOnLaunch: true,
  }));
  const groupId = derivedId('sg', account, region, DEFAULT_GROUP_NAME);
  return {
    vpc: { account, region, vpcId, cidrBlock: DEFAULT_VPC_CIDR, isDefault: true, dhcpOptionsId: derivedId('dopt', account, region) },
    subnets,
    defaultGroup: {
      account, region, groupId, groupName: DEFAULT_GROUP_NAME, description: DEFAULT_GROUP_DESCRIPTION, vpcId,
      rules: [
        { ruleId: derivedId('sgr', groupId, 'ingress-self'), egress: false, protocol: '-1', fromPort: -1, toPort: -1, referencedGroupId: groupId },
        allowAllEgress(groupId),
      ],
    },
  };
}

/** The caller's default network, stored on first use. */
export async function ensureDefaultNetwork(store: NetworkRepository, caller: Caller): Promise<DefaultNetwork> {
  const n = defaultNetworkOf(caller);
  await store.ensureDefaultNetwork(n);
  return n;
}
