// Which resources an EC2 or EBS direct request acts on, as IAM sees them: the ARNs its policy
// Resource elements are matched against. Derived from the request's member names (ImageId,
// InstanceIds, SourceSnapshotId, ...), plus the `type/*` ARN of what a create action makes, as
// EC2's "actions, resources and condition keys" table lists them. Describe* actions support no
// resource-level permissions in EC2 and are evaluated against `*`, whatever ids they name.
import { resourceTypeOf } from '../domain/resource-ids.ts';

export type Ec2ResourceType = 'image' | 'snapshot' | 'instance' | 'volume' | 'key-pair' | 'security-group' | 'security-group-rule' | 'vpc' | 'subnet';

export interface ResourceTarget {
  arn: string;
  /** Present for an existing resource (its tags become ec2:ResourceTag/*); absent for `*` and `type/*`. */
  id?: string;
  type?: Ec2ResourceType;
  region: string;
}

/** EC2's ARN formats: images and snapshots carry no account, the others the owner's. */
export function ec2Arn(type: Ec2ResourceType, region: string, account: string, id: string): string {
  const owner = type === 'image' || type === 'snapshot' ? '' : account;
  return `arn:aws:ec2:${region}:${owner}:${type}/${id}`;
}

/** Members naming existing resources, by member name. Source* members live in SourceRegion. */
const MEMBERS: Record<string, Ec2ResourceType> = {
  ImageId: 'image', ImageIds: 'image', SourceImageId: 'image',
  SnapshotId: 'snapshot', SnapshotIds: 'snapshot', SourceSnapshotId: 'snapshot',
  FirstSnapshotId: 'snapshot', SecondSnapshotId: 'snapshot', ParentSnapshotId: 'snapshot',
  InstanceId: 'instance', InstanceIds: 'instance',
  VolumeId: 'volume', VolumeIds: 'volume',
  KeyName: 'key-pair',
  // Security groups by id (CreateSecurityGroup's VpcId, RunInstances' SubnetId and groups,
  // ModifyInstanceAttribute's Groups); a group named only by name is matched against `*`.
  GroupId: 'security-group', SecurityGroupIds: 'security-group', Groups: 'security-group',
  VpcId: 'vpc', SubnetId: 'subnet',
};

/** What each create action makes (its `type/*` resource). */
const CREATES: Record<string, Ec2ResourceType[]> = {
  RunInstances: ['instance', 'volume'],
  CreateImage: ['image', 'snapshot'],
  // CopyImage makes the image and a copy of each of its backing snapshots.
  CopyImage: ['image', 'snapshot'],
  RegisterImage: ['image'],
  CreateVolume: ['volume'],
  CreateSnapshot: ['snapshot'],
  CreateSnapshots: ['snapshot'],
  CopySnapshot: ['snapshot'],
  StartSnapshot: ['snapshot'],
  CreateSecurityGroup: ['security-group'],
};

const TAGGABLE: Record<string, Ec2ResourceType> = {
  image: 'image', snapshot: 'snapshot', instance: 'instance', volume: 'volume', 'key-pair': 'key-pair',
  'security-group': 'security-group', 'security-group-rule': 'security-group-rule', vpc: 'vpc', subnet: 'subnet',
};

const strings = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string' && x !== '');

export function requestResources(action: string, input: Record<string, unknown>, account: string, region: string): ResourceTarget[] {
  if (action.startsWith('Describe')) return [{ arn: '*', region }];
  const out: ResourceTarget[] = [];
  const sourceRegion = typeof input.SourceRegion === 'string' && input.SourceRegion ? input.SourceRegion : region;
  const add = (type: Ec2ResourceType, id: string, where = region) => {
    // A key pair's ARN names it by name; DeleteKeyPair by KeyPairId names it by id.
    out.push({ arn: ec2Arn(type, where, account, id), id: type === 'key-pair' ? undefined : id, type, region: where });
  };
  for (const [member, type] of Object.entries(MEMBERS)) {
    for (const id of strings(input[member])) add(type, id, member.startsWith('Source') ? sourceRegion : region);
  }
  const spec = input.InstanceSpecification as { InstanceId?: unknown } | undefined;
  for (const id of strings(spec?.InstanceId)) add('instance', id);
  // Snapshots named in block device mappings (RegisterImage's backing snapshots, the volumes
  // RunInstances and CreateImage make from a snapshot) are resources of the request too.
  for (const id of mappedSnapshotIds(input.BlockDeviceMappings)) add('snapshot', id);
  // CreateTags / DeleteTags: ids of any taggable type. An id of no known type names no
  // resource: the operation answers it with EC2's InvalidID.
  for (const id of strings(input.Resources)) {
    const type = TAGGABLE[resourceTypeOf(id) ?? ''];
    if (type) add(type, id);
  }
  for (const type of CREATES[action] ?? []) out.push({ arn: ec2Arn(type, region, account, '*'), type, region });
  if (!out.length) out.push({ arn: '*', region });
  return out;
}

export interface MappingLike {
  DeviceName?: string;
  NoDevice?: string;
  VirtualName?: string;
  Ebs?: { SnapshotId?: string };
}

/** The snapshot ids `BlockDeviceMappings` names, once each, in order. */
export function mappedSnapshotIds(mappings: unknown): string[] {
  const list = (Array.isArray(mappings) ? mappings : []) as MappingLike[];
  return [...new Set(strings(list.map((m) => m?.Ebs?.SnapshotId)))];
}

export interface TagOnCreate {
  target: ResourceTarget;
  tags: { Key?: string; Value?: string }[];
}

/**
 * EC2 authorizes tags given at creation (TagSpecifications) as an additional `ec2:CreateTags`
 * on each resource being created, with `ec2:CreateAction` naming the creating action: one per
 * TagSpecification that sets tags.
 */
export function tagOnCreate(action: string, input: Record<string, unknown>, account: string, region: string): TagOnCreate[] {
  const specs = (Array.isArray(input.TagSpecifications) ? input.TagSpecifications : []) as { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[];
  return specs.filter((s) => s.Tags?.length && s.ResourceType).map((s) => {
    const type = s.ResourceType!;
    const name = type === 'key-pair' && typeof input.KeyName === 'string' ? input.KeyName : '*';
    const owner = type === 'image' || type === 'snapshot' ? '' : account;
    return { target: { arn: `arn:aws:ec2:${region}:${owner}:${type}/${name}`, region }, tags: s.Tags! };
  });
}

/** The tags a request asks to set (TagSpecifications, CreateTags' and StartSnapshot's Tags). */
export function requestTags(input: Record<string, unknown>): { Key?: string; Value?: string }[] {
  const specs = (input.TagSpecifications ?? []) as { Tags?: { Key?: string; Value?: string }[] }[];
  const direct = Array.isArray(input.Tags) ? input.Tags as { Key?: string; Value?: string }[] : [];
  return [...specs.flatMap((s) => s.Tags ?? []), ...direct];
}
