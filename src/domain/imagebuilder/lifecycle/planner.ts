// An execution's plan: the image resources its policy selects (Image Builder images by recipe or
// by tag, and, by tag, AMIs of the account no Image Builder image made), the rules' decisions on
// them, and the resource records the execution then works through, an image's AMIs before it.
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type { Image } from '../../../protocol/imagebuilder/types.generated.ts';
import type { LifecyclePolicyRecord } from '../resources/resource-records.ts';
import { matchesVersionFilter } from '../versions.ts';
import type { LifecycleEc2 } from './lifecycle-ec2.ts';
import type { ManualUpdate, ResourceAction, ResourceDoc, ResourceStatus } from './execution-records.ts';
import { amiExclusion, evaluate, type AmiFacts, type Decision, type Subject } from './rules.ts';

export interface PlanDeps { repo: ImageBuilderRepository; ec2: LifecycleEc2 }

/** The group of AMIs selected by tag without an Image Builder image: retention counts them together. */
export const TAGGED_AMIS_GROUP = 'the AMIs selected by tag';

function selectsImage(policy: LifecyclePolicyRecord, image: Image): boolean {
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

type Live = Map<string, string[]>;
const withLive = (live: Live) => (f: AmiFacts): AmiFacts => ({ ...f, liveInstances: live.get(`${f.region}/${f.imageId}`) ?? [] });

/** An Image Builder image record as a subject of the rules, with the output AMIs that still exist. */
export async function imageSubject(deps: PlanDeps, record: IbRecord, live: Live): Promise<Subject> {
  const doc = record.doc as Image;
  const amis: AmiFacts[] = [];
  for (const out of doc.outputResources?.amis ?? []) {
    const facts = out.region && out.image ? await deps.ec2.facts(out.region, out.image) : undefined;
    if (facts) amis.push(withLive(live)(facts));
  }
  return {
    id: record.arn, kind: 'image', group: `recipe ${doc.imageRecipe?.name ?? record.name} ${doc.imageRecipe?.version ?? record.version ?? ''}`.trim(),
    createdAt: String(doc.dateCreated ?? record.createdAt), status: doc.state?.status ?? record.state ?? 'AVAILABLE', tags: doc.tags ?? {}, amis,
  };
}

export async function selectSubjects(deps: PlanDeps, policy: LifecyclePolicyRecord, account: string, region: string): Promise<Subject[]> {
  const live = await deps.ec2.liveInstances();
  const images = (await deps.repo.list({ kind: 'image', account, region })).map((r) => ({ record: r, doc: r.doc as Image }));
  const subjects: Subject[] = [];
  for (const { record, doc } of images) {
    if (doc.type === 'DOCKER' || doc.containerRecipe || !selectsImage(policy, doc)) continue;
    subjects.push(await imageSubject(deps, record, live));
  }
  const tagMap = policy.resourceSelection?.tagMap;
  if (tagMap && Object.keys(tagMap).length) {
    // AMIs an Image Builder image made are that image's: acted on through it, never twice.
    const owned = new Set(images.flatMap(({ doc }) => (doc.outputResources?.amis ?? []).map((a) => a.image)));
    for (const f of await deps.ec2.tagged(account, region, tagMap)) {
      if (owned.has(f.imageId)) continue;
      const ami = withLive(live)(f);
      subjects.push({ id: f.imageId, kind: 'ami', group: TAGGED_AMIS_GROUP, createdAt: f.createdAt, status: amiStatus(ami), tags: ami.tags, amis: [ami] });
    }
  }
  return subjects;
}

const state = (status: ResourceStatus, reason?: string) => ({ status, ...(reason ? { reason } : {}) });

/** A decision of the rules, or of a manual state update (which may ask for AVAILABLE). */
export type PlannedDecision = Omit<Decision, 'action'> & { action: ResourceAction };

function amiDoc(d: PlannedDecision, ami: AmiFacts, skipped: string | undefined, account: string, parent?: string): ResourceDoc {
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
    parentImageArn: parent, resourceKind: 'ami', plannedAction: d.action, withSnapshots: withSnapshots || undefined,
  };
}

/** The resource records of a plan, in processing order (each image's AMIs just before it). */
export function planResources(decisions: PlannedDecision[], account: string, region: string): ResourceDoc[] {
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
      resourceKind: 'image', plannedAction: d.action, includeAmis: includeAmis || undefined,
    });
  }
  return docs;
}

export async function plan(deps: PlanDeps, policy: LifecyclePolicyRecord, account: string, region: string, now: Date): Promise<ResourceDoc[]> {
  const subjects = await selectSubjects(deps, policy, account, region);
  return planResources(evaluate(policy.policyDetails ?? [], subjects, now), account, region);
}

/** A manual state update of one image: that image and its AMIs, with the request's AMI exclusions. */
export async function planManual(deps: PlanDeps, record: IbRecord, update: ManualUpdate, now: Date): Promise<ResourceDoc[]> {
  const subject = await imageSubject(deps, record, await deps.ec2.liveInstances());
  const decision: PlannedDecision = {
    subject, action: update.action, reason: 'A manual state update (StartResourceStateUpdate).',
    rule: { action: { type: 'DELETE', includeResources: { amis: update.includeResources?.amis, snapshots: update.action === 'DELETE' && update.includeResources?.snapshots } }, filter: { type: 'COUNT', value: 1 } },
    amis: subject.amis.map((ami) => ({ ami, skipped: amiExclusion(update.exclusionRules?.amis, ami, now) })),
  };
  return planResources([decision], record.account, record.region);
}
