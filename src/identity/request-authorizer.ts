// The authorization step for IAM-style users: before an operation runs (and before EC2's DryRun
// check, so a DryRun answers whether the caller may), every resource the request acts on is
// evaluated against the user's identity policies with the request's condition keys. An account's
// root is not checked here: it may do whatever its account may, as AWS's root user can.
//
// Identity policies only ever narrow what the account may do: a user's request runs as its
// account in the domain, so another account's resources stay out of reach whatever a policy says.
import type { Caller } from '../domain/context.ts';
import { Errors } from '../domain/errors.ts';
import { aliasArn, keyArn, parseKeyReference } from '../domain/kms/identifiers.ts';
import type { ImageRepository, TagRepository } from '../ports/metadata-store.ts';
import { denialSentence, ec2DenialDetail } from './denial.ts';
import { requestResources, requestTags, tagOnCreate, type ResourceTarget } from './ec2-resources.ts';
import { imageSnapshotResources } from './image-snapshots.ts';
import { imageBuilderRequestTags, imageBuilderResources } from './imagebuilder-resources.ts';
import { ssmRequestTags, ssmResources } from './ssm-resources.ts';
import { ConditionContext } from '../domain/policy-language/condition-context.ts';
import { evaluatePolicies } from './policy/evaluate.ts';
import type { IamUser, Principal } from './principal.ts';

/** Called by a dispatcher with the operation's name and parsed input; throws when not allowed. */
export type AuthorizeHook = (action: string, input: Record<string, unknown>) => Promise<void>;

export interface RequestAuthorization {
  ec2: AuthorizeHook;
  ebs: AuthorizeHook;
  kms: AuthorizeHook;
  ssm: AuthorizeHook;
  rbin: AuthorizeHook;
  imagebuilder: AuthorizeHook;
}

interface Check {
  service: 'ec2' | 'ebs' | 'kms' | 'ssm' | 'rbin' | 'imagebuilder';
  action: string;
  targets: ResourceTarget[];
  tags: { Key?: string; Value?: string }[];
  /** Condition keys of this check only (ec2:CreateAction for tag-on-create). */
  keys?: Record<string, string>;
  /** The API whose error a refusal is (RunInstances' ssm:GetParameters check answers as EC2). */
  answerAs?: Check['service'];
}

/** The image id a `resolve:ssm:` ImageId names for the caller, if it names one. */
export type ImageParameterResolver = (caller: Caller, reference: string) => Promise<string | undefined>;

export class RequestAuthorizer {
  private readonly tags: TagRepository;
  private readonly images: ImageRepository;
  private readonly resolveImage?: ImageParameterResolver;
  constructor(tags: TagRepository, images: ImageRepository, resolveImage?: ImageParameterResolver) {
    this.tags = tags;
    this.images = images;
    this.resolveImage = resolveImage;
  }

  /** The hooks for one request; undefined for an account's root, which policies do not limit. */
  forRequest(principal: Principal, caller: Caller): RequestAuthorization | undefined {
    const user = principal.user;
    if (!user) return undefined;
    const { account, region } = caller;
    return {
      ec2: async (action, request) => {
        const input = await this.withResolvedImage(user, caller, action, request);
        const targets = withImageSnapshots(requestResources(action, input, account, region), await imageSnapshotResources(this.images, caller, action, input));
        await this.check(user, caller, { service: 'ec2', action, targets, tags: requestTags(input) });
        if (action === 'CreateTags') return;
        for (const t of tagOnCreate(action, input, account, region)) {
          await this.check(user, caller, { service: 'ec2', action: 'CreateTags', targets: [t.target], tags: t.tags, keys: { 'ec2:CreateAction': action } });
        }
      },
      ebs: (action, input) =>
        this.check(user, caller, { service: 'ebs', action, targets: requestResources(action, input, account, region), tags: requestTags(input) }),
      kms: (action, input) => this.check(user, caller, { service: 'kms', action, targets: kmsResources(input, caller), tags: kmsRequestTags(input) }),
      ssm: (action, input) => this.check(user, caller, { service: 'ssm', action, targets: ssmResources(action, input, caller), tags: ssmRequestTags(input) }),
      rbin: (action, input) => this.check(user, caller, {
        service: 'rbin', action, targets: rbinResources(input, caller), tags: Array.isArray(input.Tags) ? input.Tags as { Key?: string; Value?: string }[] : [],
      }),
      imagebuilder: (action, input) => this.check(user, caller, {
        service: 'imagebuilder', action, targets: imageBuilderResources(action, input, caller), tags: imageBuilderRequestTags(input),
      }),
    };
  }

  private async check(user: IamUser, caller: Caller, c: Check): Promise<void> {
    const action = `${c.service}:${c.action}`;
    const resourceTags = await this.resourceTags(caller.account, c.targets);
    for (const target of c.targets) {
      const context = baseContext(user, caller, c.tags).set('ec2:Region', target.region);
      for (const [key, value] of Object.entries(c.keys ?? {})) context.set(key, value);
      for (const t of (target.id && resourceTags.get(target.id)) || []) {
        context.set(`ec2:ResourceTag/${t.Key}`, t.Value ?? '').set(`aws:ResourceTag/${t.Key}`, t.Value ?? '');
      }
      const decision = evaluatePolicies(user.policies, { action, resource: target.arn, context });
      if (decision.effect === 'allow') continue;
      const denial = { user, action, resource: target.arn, decision, context };
      const answerAs = c.answerAs ?? c.service;
      if (answerAs === 'ec2') throw Errors.unauthorizedByPolicy(ec2DenialDetail(denial));
      if (c.service === 'ebs') throw Errors.ebsAccessDenied(denialSentence(denial));
      if (c.service === 'rbin') throw Errors.rbinAccessDenied(denialSentence(denial));
      if (c.service === 'imagebuilder') throw Errors.ibAccessDenied(denialSentence(denial));
      if (c.service === 'ssm') throw Errors.ssmAccessDenied(denialSentence(denial));
      throw Errors.kmsAccessDeniedByPolicy(denialSentence(denial));
    }
  }

  /**
   * RunInstances with `ImageId=resolve:ssm:NAME`: as in AWS the user needs ssm:GetParameters on
   * the parameter, and the EC2 checks see the image it resolves to. A reference that does not
   * resolve is left as written: RunInstances answers it.
   */
  private async withResolvedImage(user: IamUser, caller: Caller, action: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ref = input.ImageId;
    if (action !== 'RunInstances' || typeof ref !== 'string' || !ref.startsWith('resolve:ssm:')) return input;
    const name = ref.slice('resolve:ssm:'.length);
    await this.check(user, caller, { service: 'ssm', action: 'GetParameters', targets: ssmResources('GetParameters', { Name: name }, caller), tags: [], answerAs: 'ec2' });
    const imageId = await this.resolveImage?.(caller, ref);
    return imageId ? { ...input, ImageId: imageId } : input;
  }

  /** The tags the calling account has on each existing resource, read once per region. */
  private async resourceTags(account: string, targets: ResourceTarget[]) {
    const byRegion = new Map<string, string[]>();
    for (const t of targets) if (t.id) byRegion.set(t.region, [...(byRegion.get(t.region) ?? []), t.id]);
    const out = new Map<string, { Key?: string; Value?: string }[]>();
    for (const [region, ids] of byRegion) {
      for (const [id, tags] of await this.tags.forResources(account, region, ids)) out.set(id, tags);
    }
    return out;
  }
}

/** The image's snapshots go right after the image itself; one named twice is checked once. */
function withImageSnapshots(targets: ResourceTarget[], snapshots: ResourceTarget[]): ResourceTarget[] {
  if (!snapshots.length) return targets;
  const at = targets.findIndex((t) => t.type === 'image') + 1;
  const merged = [...targets.slice(0, at), ...snapshots, ...targets.slice(at)];
  const seen = new Set<string>();
  return merged.filter((t) => !seen.has(t.arn) && !!seen.add(t.arn));
}

function baseContext(user: IamUser, caller: Caller, tags: { Key?: string; Value?: string }[]): ConditionContext {
  const context = new ConditionContext()
    .set('aws:RequestedRegion', caller.region)
    .set('aws:PrincipalAccount', caller.account)
    .set('aws:PrincipalArn', user.arn)
    .set('aws:PrincipalType', 'User')
    .set('aws:username', user.name);
  if (tags.length) {
    context.set('aws:TagKeys', [...new Set(tags.map((t) => t.Key ?? ''))]);
    for (const t of tags) context.set(`aws:RequestTag/${t.Key}`, t.Value ?? '');
  }
  return context;
}

/** The keys and aliases a KMS request names; operations that name none are evaluated on `*`. */
function kmsResources(input: Record<string, unknown>, caller: Caller): ResourceTarget[] {
  const out: ResourceTarget[] = [];
  for (const member of ['KeyId', 'TargetKeyId', 'SourceKeyId', 'DestinationKeyId']) {
    const text = input[member];
    if (typeof text !== 'string' || !text) continue;
    try {
      const ref = parseKeyReference(text);
      // Aliases are matched by their alias ARN: amiforge does not resolve them before authorizing.
      if (ref.text.startsWith('arn:')) out.push({ arn: ref.text, region: ref.region ?? caller.region });
      else if (ref.kind === 'alias') out.push({ arn: aliasArn(caller.region, caller.account, ref.aliasName), region: caller.region });
      else out.push({ arn: keyArn(caller.region, caller.account, ref.keyId), region: caller.region });
    } catch {
      // Not a key reference at all: the operation itself answers with KMS's own error.
    }
  }
  if (typeof input.AliasName === 'string' && input.AliasName.startsWith('alias/')) {
    out.push({ arn: aliasArn(caller.region, caller.account, input.AliasName), region: caller.region });
  }
  return out.length ? out : [{ arn: '*', region: caller.region }];
}

function kmsRequestTags(input: Record<string, unknown>): { Key?: string; Value?: string }[] {
  const tags = Array.isArray(input.Tags) ? input.Tags as { TagKey?: string; TagValue?: string }[] : [];
  return tags.map((t) => ({ Key: t.TagKey, Value: t.TagValue }));
}

/** The retention rule a Recycle Bin request names (by id or ARN); CreateRule and ListRules act on `*`. */
function rbinResources(input: Record<string, unknown>, caller: Caller): ResourceTarget[] {
  if (typeof input.ResourceArn === 'string') return [{ arn: input.ResourceArn, region: caller.region }];
  if (typeof input.Identifier === 'string') {
    return [{ arn: `arn:aws:rbin:${caller.region}:${caller.account}:rule/${input.Identifier}`, region: caller.region }];
  }
  return [{ arn: '*', region: caller.region }];
}
