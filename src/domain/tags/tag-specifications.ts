// Tag rules shared by CreateTags and every operation's TagSpecifications.
import type { Tag, TagSpecification } from '../../protocol/ec2/types.generated.ts';
import { Errors } from '../errors.ts';

export function checkTags(tags: Tag[]): Tag[] {
  const keys = new Set<string>();
  for (const t of tags) {
    if (t.Key === undefined || t.Key === '') throw Errors.invalidParameterValue('Tag key must not be empty.');
    if (t.Key.length > 127) throw Errors.invalidParameterValue(`Tag key exceeds the maximum length of 127 characters: ${t.Key}`);
    if ((t.Value ?? '').length > 256) throw Errors.invalidParameterValue(`Tag value exceeds the maximum length of 256 characters for key ${t.Key}`);
    if (t.Key.toLowerCase().startsWith('aws:')) {
      throw Errors.invalidParameterValue("Tag keys starting with 'aws:' are reserved for internal use");
    }
    if (keys.has(t.Key)) throw Errors.invalidParameterValue(`Duplicate tag key '${t.Key}' specified.`);
    keys.add(t.Key);
  }
  return tags.map((t) => ({ Key: t.Key, Value: t.Value ?? '' }));
}

/**
 * The tags a create operation's TagSpecifications give to `resourceType`; `allowed` lists the
 * resource types that operation may tag, others are AWS's InvalidParameterValue.
 */
export function tagsFor(specs: TagSpecification[] | undefined, allowed: string[], resourceType: string): Tag[] {
  const out: Tag[] = [];
  for (const spec of specs ?? []) {
    if (!spec.ResourceType) throw Errors.missingParameter('TagSpecification.N.ResourceType');
    if (!allowed.includes(spec.ResourceType)) {
      throw Errors.invalidParameterValue(`'${spec.ResourceType}' is not a valid taggable resource type for this operation.`);
    }
    if (spec.ResourceType === resourceType) out.push(...(spec.Tags ?? []));
  }
  return checkTags(out);
}
