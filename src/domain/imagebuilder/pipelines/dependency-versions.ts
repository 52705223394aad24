// What a recipe's parent image and components resolve to now. A pipeline whose schedule has the
// start condition EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE builds only when this differs
// from what its last build resolved to: a component named `1.x.x` (or a version without a build)
// that now has a newer build, or a parent image ARN with `x` wildcards that now has a newer image.
// An AMI id, or an exact build ARN, never changes.
import type { ImageBuilderRepository, IbRecord } from '../../../ports/imagebuilder-repository.ts';
import type { Component, ImageRecipe } from '../../../protocol/imagebuilder/types.generated.ts';
import { AMAZON_OWNER, ibArn, parseIbArn, type IbArn } from '../arns.ts';
import { compareSemVer, matchesVersionFilter } from '../versions.ts';

export interface ResolvedDependencies {
  /** The parent image as it resolves now (an AMI id, or an image build version ARN). */
  parentImage: string;
  /** Each component's build version ARN, in the recipe's order. */
  components: string[];
}

export interface DependencyResolverDeps {
  store: ImageBuilderRepository;
  /** Amazon-managed components (owner `aws`), which are not records of any account. */
  amazonComponents?: (region: string) => Component[];
}

interface Candidate { version: string; build: number; arn: string }

/** The newest candidate whose version matches `ref` (a filter with `x`, or an exact version), and its build when `ref` names one. */
function newest(ref: IbArn, candidates: Candidate[]): string | undefined {
  const matching = candidates.filter((c) => ref.version === undefined || matchesVersionFilter(ref.version, c.version))
    .filter((c) => ref.build === undefined || c.build === ref.build);
  matching.sort((a, b) => compareSemVer(a.version, b.version) || a.build - b.build);
  return matching.at(-1)?.arn;
}

const candidateOf = (r: IbRecord): Candidate | undefined => {
  const parsed = parseIbArn(r.arn);
  if (!parsed?.version || parsed.build === undefined) return undefined;
  return { version: parsed.version, build: parsed.build, arn: r.arn };
};

export class DependencyResolver {
  private readonly deps: DependencyResolverDeps;

  constructor(deps: DependencyResolverDeps) {
    this.deps = deps;
  }

  async resolve(recipe: ImageRecipe): Promise<ResolvedDependencies> {
    const components: string[] = [];
    for (const c of recipe.components ?? []) components.push(await this.resolveComponent(c.componentArn));
    return { parentImage: await this.resolveParent(recipe.parentImage ?? ''), components };
  }

  private async resolveComponent(arn: string): Promise<string> {
    const ref = parseIbArn(arn);
    if (!ref || ref.type !== 'component' || (ref.build !== undefined && !ref.version?.includes('x'))) return arn;
    let candidates: Candidate[];
    if (ref.owner === AMAZON_OWNER) {
      candidates = (this.deps.amazonComponents?.(ref.region) ?? [])
        .map((c) => (c.arn ? parseIbArn(c.arn) : undefined))
        .filter((p): p is IbArn => !!p && p.name === ref.name && !!p.version)
        .map((p) => ({ version: p.version!, build: p.build ?? 1, arn: ibArn({ ...p, build: p.build ?? 1 }) }));
    } else {
      const records = await this.deps.store.list({ kind: 'component', account: ref.owner, region: ref.region });
      candidates = records.map(candidateOf).filter((c): c is Candidate => !!c && parseIbArn(c.arn)!.name === ref.name);
    }
    return newest(ref, candidates) ?? arn;
  }

  private async resolveParent(parent: string): Promise<string> {
    const ref = parseIbArn(parent);
    if (!ref || ref.type !== 'image' || ref.owner === AMAZON_OWNER) return parent;
    if (ref.build !== undefined && !ref.version?.includes('x')) return parent;
    const images = await this.deps.store.list({ kind: 'image', account: ref.owner, region: ref.region, states: ['AVAILABLE'] });
    const candidates = images.map(candidateOf).filter((c): c is Candidate => !!c && parseIbArn(c.arn)!.name === ref.name);
    return newest(ref, candidates) ?? parent;
  }
}

/** Whether anything resolves differently from `before`. */
export function dependenciesChanged(before: ResolvedDependencies, now: ResolvedDependencies): boolean {
  return before.parentImage !== now.parentImage
    || before.components.length !== now.components.length
    || before.components.some((c, i) => c !== now.components[i]);
}
