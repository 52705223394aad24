// The resources an Image Builder request acts on, for identity policies (`imagebuilder:<Action>`):
// every Image Builder ARN among its members (nested ones too, such as a recipe's components), and
// for a Create the ARN of what it would create. A request naming none is evaluated on `*`.
import type { Caller } from '../domain/context.ts';
import { ibArn, parseIbArn, type IbResourceType } from '../domain/imagebuilder/arns.ts';
import type { ResourceTarget } from './ec2-resources.ts';

/** What each Create names: the resource type and whether its ARN carries the semantic version. */
const CREATES: Record<string, [IbResourceType, boolean]> = {
  CreateComponent: ['component', true],
  ImportComponent: ['component', true],
  CreateImageRecipe: ['image-recipe', true],
  CreateContainerRecipe: ['container-recipe', true],
  CreateInfrastructureConfiguration: ['infrastructure-configuration', false],
  CreateDistributionConfiguration: ['distribution-configuration', false],
  CreateImagePipeline: ['image-pipeline', false],
  CreateLifecyclePolicy: ['lifecycle-policy', false],
};

function collectArns(value: unknown, out: Set<string>, depth = 0): void {
  if (depth > 6) return;
  if (typeof value === 'string') {
    if (value.startsWith('arn:') && parseIbArn(value)) out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectArns(v, out, depth + 1);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== 'tags') collectArns(v, out, depth + 1);
  }
}

export function imageBuilderResources(action: string, input: Record<string, unknown>, caller: Caller): ResourceTarget[] {
  const arns = new Set<string>();
  const created = CREATES[action];
  if (created && typeof input.name === 'string' && input.name) {
    const version = created[1] && typeof input.semanticVersion === 'string' ? input.semanticVersion : undefined;
    arns.add(ibArn({ region: caller.region, owner: caller.account, type: created[0], name: input.name, version }));
  }
  collectArns(input, arns);
  const targets = [...arns].map((arn) => ({ arn, region: parseIbArn(arn)?.region ?? caller.region }));
  return targets.length ? targets : [{ arn: '*', region: caller.region }];
}

/** A request's tags (`tags` maps) as the `aws:RequestTag` condition keys read them. */
export function imageBuilderRequestTags(input: Record<string, unknown>): { Key?: string; Value?: string }[] {
  const tags = input.tags;
  if (!tags || typeof tags !== 'object' || Array.isArray(tags)) return [];
  return Object.entries(tags as Record<string, unknown>).map(([Key, Value]) => ({ Key, Value: String(Value) }));
}
