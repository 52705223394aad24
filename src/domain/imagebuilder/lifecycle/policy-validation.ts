// The checks CreateLifecyclePolicy and UpdateLifecyclePolicy make beyond the model's own
// (required members, enums, ranges, patterns: the codec checks those). Image Builder answers
// these with InvalidRequestException, the validation error both operations model.
import type {
  LifecyclePolicyDetail, LifecyclePolicyResourceSelection,
} from '../../../protocol/imagebuilder/types.generated.ts';
import { Errors } from '../../errors.ts';
import { isValidVersionFilter } from '../versions.ts';

export interface PolicyFields {
  resourceType: string;
  policyDetails: LifecyclePolicyDetail[];
  resourceSelection: LifecyclePolicyResourceSelection;
}

const invalid = (message: string) => Errors.ibInvalidRequest(message);

function checkDetail(d: LifecyclePolicyDetail, i: number): void {
  const at = `policyDetails[${i}]`;
  const { filter, action } = d;
  if (filter.type === 'AGE' && !filter.unit) throw invalid(`${at}.filter: an AGE filter needs a unit (DAYS, WEEKS, MONTHS or YEARS).`);
  if (filter.type === 'COUNT' && filter.unit) throw invalid(`${at}.filter: a COUNT filter takes no unit; its value is a number of images.`);
  if (filter.type === 'COUNT' && filter.retainAtLeast !== undefined) {
    throw invalid(`${at}.filter: retainAtLeast applies to AGE filters only; a COUNT filter's value already keeps the newest images.`);
  }
  const include = action.includeResources;
  if (include?.containers) throw invalid(`${at}.action.includeResources.containers: an AMI_IMAGE policy has no containers to include.`);
  if (include?.snapshots && action.type !== 'DELETE') {
    throw invalid(`${at}.action.includeResources.snapshots: only a DELETE rule can include snapshots (deleted with their AMIs).`);
  }
}

function checkSelection(sel: LifecyclePolicyResourceSelection): void {
  const recipes = sel.recipes ?? [];
  const tags = Object.keys(sel.tagMap ?? {});
  if (!recipes.length && !tags.length) throw invalid('resourceSelection needs recipes or a tagMap to select the images the policy applies to.');
  if (recipes.length && tags.length) throw invalid('resourceSelection takes recipes or a tagMap, not both.');
  for (const r of recipes) {
    if (!isValidVersionFilter(r.semanticVersion)) {
      throw invalid(`resourceSelection.recipes: '${r.semanticVersion}' (recipe ${r.name}) is not a semantic version or a pattern with x wildcards from the right, such as 1.0.0, 1.x.x or x.x.x.`);
    }
  }
}

export function validatePolicy(p: PolicyFields): void {
  if (p.resourceType === 'CONTAINER_IMAGE') {
    throw invalid('resourceType CONTAINER_IMAGE is not supported: amiforge builds AMIs only, so its lifecycle policies manage AMI_IMAGE resources.');
  }
  const seen = new Set<string>();
  p.policyDetails.forEach((d, i) => {
    if (seen.has(d.action.type)) throw invalid(`policyDetails: a lifecycle policy has at most one rule per action; ${d.action.type} appears more than once.`);
    seen.add(d.action.type);
    checkDetail(d, i);
  });
  checkSelection(p.resourceSelection);
}
