// The Recycle Bin: retention rules through rbin's REST API, retained images and snapshots and
// their restore through EC2's actions.
import { ec2, rbin } from '../../api.ts';
import type { Tag } from '../../components/format.ts';
import type { ImageRecycleBinInfo, RetentionRule, RuleResourceTag, RuleSummary, SnapshotRecycleBinInfo } from '../../wire.ts';

export type RuleResourceType = 'EBS_SNAPSHOT' | 'EC2_IMAGE';

export type { RetentionRule };

export interface RetainedResource {
  kind: 'image' | 'snapshot';
  id: string;
  name?: string;
  description?: string;
  enteredAt?: string | number;
  exitsAt?: string | number;
}

/** Every rule of both resource types, each with its full description (GetRule: tags, status). */
export async function listRules(): Promise<RetentionRule[]> {
  const lists = await Promise.all((['EBS_SNAPSHOT', 'EC2_IMAGE'] as const).map(async (ResourceType) => {
    const rules: RuleSummary[] = [];
    let NextToken: string | undefined;
    do {
      const page = await rbin<{ Rules?: RuleSummary[]; NextToken?: string }>('POST', '/list-rules', { ResourceType, NextToken });
      rules.push(...(page.Rules ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return rules;
  }));
  return Promise.all(lists.flat().map((r) => rbin<RetentionRule>('GET', `/rules/${encodeURIComponent(r.Identifier ?? '')}`)));
}

export function createRule(o: { resourceType: RuleResourceType; days: number; description: string; tags: Tag[] }): Promise<RetentionRule> {
  return rbin<RetentionRule>('POST', '/rules', {
    ResourceType: o.resourceType,
    RetentionPeriod: { RetentionPeriodValue: o.days, RetentionPeriodUnit: 'DAYS' },
    Description: o.description || undefined,
    ResourceTags: o.tags.length ? o.tags.map((t) => ({ ResourceTagKey: t.Key, ResourceTagValue: t.Value })) : undefined,
  });
}

export const deleteRule = (id: string) => rbin('DELETE', `/rules/${encodeURIComponent(id)}`);

/** The images and snapshots in the Recycle Bin of this region. */
export async function listRetained(): Promise<RetainedResource[]> {
  const [images, snapshots] = await Promise.all([
    ec2<{ Images?: ImageRecycleBinInfo[] }>('ListImagesInRecycleBin'),
    ec2<{ Snapshots?: SnapshotRecycleBinInfo[] }>('ListSnapshotsInRecycleBin'),
  ]);
  return [
    ...(images.Images ?? []).map((i): RetainedResource => ({
      kind: 'image', id: i.ImageId ?? '', name: i.Name, description: i.Description, enteredAt: i.RecycleBinEnterTime, exitsAt: i.RecycleBinExitTime,
    })),
    ...(snapshots.Snapshots ?? []).map((s): RetainedResource => ({
      kind: 'snapshot', id: s.SnapshotId ?? '', description: s.Description, enteredAt: s.RecycleBinEnterTime, exitsAt: s.RecycleBinExitTime,
    })),
  ];
}

export function restore(r: RetainedResource): Promise<unknown> {
  return r.kind === 'image' ? ec2('RestoreImageFromRecycleBin', { ImageId: r.id }) : ec2('RestoreSnapshotFromRecycleBin', { SnapshotId: r.id });
}

export function ruleTagsText(tags?: RuleResourceTag[]): string {
  return (tags ?? []).map((t) => `${t.ResourceTagKey}=${t.ResourceTagValue ?? ''}`).join(', ');
}
