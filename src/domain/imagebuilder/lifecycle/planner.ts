// An execution's plan: the image resources its policy selects (Image Builder images by recipe or
// by tag, and, by tag, AMIs of the account no Image Builder image made), the rules' decisions on
// them, and the resource records the execution then works through, an image's AMIs before it.
import type { ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type { Image, LifecyclePolicy } from '../../../protocol/imagebuilder/types.generated.ts';
import { matchesVersionFilter } from '../versions.ts';
import type { LifecycleEc2 } from './lifecycle-ec2.ts';
import type { ResourceDoc, ResourceStatus } from './execution-records.ts';
import { evaluate, type AmiFacts, type Decision, type Subject } from './rules.ts';

export interface PlanDeps { repo: ImageBuilderRepository; ec2: LifecycleEc2 }

/** The group of AMIs selected by tag without an Image Builder image: retention counts them together. */
export const TAGGED_AMIS_GROUP = 'the AMIs selected by tag';

function selectsImage(policy: LifecyclePolicy, image: Image): boolean {
  const sel = policy.resourceSelection ?? {};
  if (sel.recipes?.length) {
    const recipe = image.imageRecipe;
    return !!recipe?.name && sel.recipes.some((r) => r.name === recipe.name && matchesVersionFilter(r.semanticVersion, recipe.version ?? ''));
  }
  return Object.entries(sel.tagMap ?? {}).some(([k, v]) => image.tags?.[k] === v);
}

/** EC2 states seen as Image Builder statuses, so AMI subjects meet the same rules. */
function amiStatus(ami: AmiFacts): string {
  if (ami.state === 'available') return ami.deprecated ? 'DEPRECATED' : 'AVAILABLE';
  if (ami.state === 'disabled') return 'DISABLED';
  if (ami.state === 'pending') return 'PENDING';
  return 'FAILED';
}

export async function selectSubjects(deps: PlanDeps, policy: LifecyclePolicy, account: string, region: string): Promise<Subject[]> {
  const live = await deps.ec2.liveInstances();
  const withLive = (f: AmiFacts): AmiFacts => ({ ...f, liveInstances: live.get(`${f.region}/${f.imageId}`) ?? [] });
  const images = (await deps.repo.list({ kind: 'image', account, region })).map((r) => ({ record: r, doc: r.doc as Image }));
  const subjects: Subject[] = [];
  for (const { record, doc } of images) {
    if (doc.type === 'DOCKER' || doc.containerRecipe || !selectsImage(policy, doc)) continue;
    const amis: AmiFacts[] = [];
    for (const out of doc.outputResources?.amis ?? []) {
      const facts = out.region && out.image ? await deps.ec2.facts(out.region, out.image) : undefined;
      if (facts) amis.push(withLive(facts));
    }
    subjects.push({
      id: record.arn, kind: 'image', group: `recipe ${doc.imageRecipe?.name ?? record.name} ${doc.imageRecipe?.version ?? record.version ?? ''}`.trim(),
      createdAt: String(doc.dateCreated ?? record.createdAt), status: doc.state?.status ?? record.state ?? 'AVAILABLE', tags: doc.tags ?? {}, amis,
    });
  }
  const tagMap = policy.resourceSelection?.tagMap;
  if (tagMap && Object.keys(tagMap).length) {
    // AMIs an Image Builder image made are that image's: acted on through it, never twice.
    const owned = new Set(images.flatMap(({ doc }) => (doc.outputResources?.amis ?? []).map((a) => a.image)));
    for (const f of await deps.ec2.tagged(account, region, tagMap)) {
      if (owned.has(f.imageId)) continue;
      const ami = withLive(f);
      subjects.push({ id: f.imageId, kind: 'ami', group: TAGGED_AMIS_GROUP, createdAt: f.createdAt, status: amiStatus(ami), tags: ami.tags, amis: [ami] });
    }
  }
  return subjects;
}

const state = (status: ResourceStatus, reason?: string) => ({ status, ...(reason ? { reason } : {}) });

function amiDoc(d: Decision, ami: AmiFacts, skipped: string | undefined, account: string, parent?: string): ResourceDoc {
  const withSnapshots = d.action === 'DELETE' && !!d.rule.action.includeResources?.snapshots;
  // amiforge acts as the policy's account only: it holds no role in the accounts AMIs went to.
  const foreign = ami.accountId !== account
    ? `The AMI belongs to account ${ami.accountId}; amiforge's lifecycle policies act only as their own account (${account}).` : undefined;
  const skip = skipped ?? foreign;
  return {
    accountId: ami.accountId, resourceId: ami.imageId, region: ami.region,
    action: { name: d.action, reason: d.reason },
    state: skip ? state('SKIPPED', skip) : state('IN_PROGRESS'),
    snapshots: withSnapshots && !skip ? ami.snapshotIds.map((snapshotId) => ({ snapshotId, state: state('IN_PROGRESS') })) : undefined,
    _parent: parent, _kind: 'ami', _action: d.action, _withSnapshots: withSnapshots || undefined,
  };
}

/** The resource records of a plan, in processing order (each image's AMIs just before it). */
export function planResources(decisions: Decision[], account: string, region: string): ResourceDoc[] {
  const docs: ResourceDoc[] = [];
  for (const d of decisions) {
    const s = d.subject;
    if (s.kind === 'ami') {
      docs.push(amiDoc(d, s.amis[0], d.skipped ?? d.amis[0]?.skipped, account));
      continue;
    }
    const includeAmis = !!d.rule.action.includeResources?.amis;
    if (includeAmis && !d.skipped) for (const a of d.amis) docs.push(amiDoc(d, a.ami, a.skipped, account, s.id));
    docs.push({
      accountId: account, resourceId: s.id, region,
      action: { name: d.action, reason: d.reason },
      state: d.skipped ? state('SKIPPED', d.skipped) : state('IN_PROGRESS'),
      _kind: 'image', _action: d.action, _includeAmis: includeAmis || undefined,
    });
  }
  return docs;
}

export async function plan(deps: PlanDeps, policy: LifecyclePolicy, account: string, region: string, now: Date): Promise<ResourceDoc[]> {
  const subjects = await selectSubjects(deps, policy, account, region);
  return planResources(evaluate(policy.policyDetails ?? [], subjects, now), account, region);
}
