// The network part of the metadata store port: each account's default VPC in a region with its
// default subnets, its security groups (their rules inside the group's record) and the host
// addresses running instances are reachable on. Every record carries its account and region;
// lookups take both, so one account never reads another's.

export interface VpcRecord {
  account: string;
  region: string;
  vpcId: string;
  cidrBlock: string;
  isDefault: boolean;
  dhcpOptionsId: string;
}

export interface SubnetRecord {
  account: string;
  region: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  cidrBlock: string;
  defaultForAz: boolean;
  mapPublicIpOnLaunch: boolean;
}

/** One rule as EC2's SecurityGroupRule model has it: one protocol and port range, one source. */
export interface SecurityGroupRuleRecord {
  /** `sgr-...` */
  ruleId: string;
  egress: boolean;
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (all), or another protocol number as a string. */
  protocol: string;
  /** Port range (tcp/udp), ICMP type and code (icmp), or -1 when the protocol has none. */
  fromPort: number;
  toPort: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  /** A group of the same account as the source (ingress) or destination (egress). */
  referencedGroupId?: string;
  description?: string;
}

export interface SecurityGroupRecord {
  account: string;
  region: string;
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  rules: SecurityGroupRuleRecord[];
}

export interface DefaultNetwork {
  vpc: VpcRecord;
  subnets: SubnetRecord[];
  defaultGroup: SecurityGroupRecord;
}

/** The instance a host address is given to. */
export interface HostAddressHolder { instanceId: string; account: string; region: string }

export interface NetworkRepository {
  /** Stores the default VPC, its subnets and default group unless the VPC is stored already; idempotent. */
  ensureDefaultNetwork(network: DefaultNetwork): Promise<void>;
  vpcs(account: string, region: string): Promise<VpcRecord[]>;
  /** The account's subnets in the region, by subnet id. */
  subnets(account: string, region: string): Promise<SubnetRecord[]>;
  /**
   * Inserts a group (and the caller's tags on it) in one transaction; false, storing nothing, when
   * its VPC already has a group of that name.
   */
  insertGroup(group: SecurityGroupRecord, tags?: { Key?: string; Value?: string }[]): Promise<boolean>;
  group(account: string, region: string, groupId: string): Promise<SecurityGroupRecord | undefined>;
  groupByName(account: string, region: string, vpcId: string, groupName: string): Promise<SecurityGroupRecord | undefined>;
  /** The account's groups in the region, in group id order. */
  groups(account: string, region: string): Promise<SecurityGroupRecord[]>;
  /** Replaces the group's record (its rules). */
  updateGroup(group: SecurityGroupRecord): Promise<void>;
  /** Removes the group and every tag on it and on its rules. */
  deleteGroup(account: string, region: string, groupId: string): Promise<boolean>;
  /**
   * Reserves a free host address in [first, last] (32-bit integers) for the instance, unique
   * across regions and accounts; the one it holds already if any. Undefined when none is free.
   */
  allocateHostAddress(instance: HostAddressHolder, first: number, last: number): Promise<number | undefined>;
  releaseHostAddress(instanceId: string): Promise<void>;
}
