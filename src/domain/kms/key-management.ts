// KMS key management: create, describe, list, enable and disable, schedule and cancel deletion,
// key policies, tags, description. amiforge's keys are symmetric encryption keys
// (SYMMETRIC_DEFAULT, AES-256-GCM) with key material it generates.
import type {
  CancelKeyDeletionRequest, CancelKeyDeletionResponse, CreateKeyRequest, CreateKeyResponse, DescribeKeyRequest,
  DescribeKeyResponse, EnableKeyRequest, GetKeyPolicyRequest, GetKeyPolicyResponse, KeyMetadata, ListKeyPoliciesRequest,
  ListKeyPoliciesResponse, ListKeysRequest, ListKeysResponse, ListResourceTagsRequest, ListResourceTagsResponse,
  PutKeyPolicyRequest, ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse, Tag, TagResourceRequest,
  UntagResourceRequest, UpdateKeyDescriptionRequest,
} from '../../protocol/kms/types.generated.ts';
import type { KeyRecord } from '../../ports/key-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { KeyAccess, policyDecision, type KmsDeps } from './key-access.ts';
import { pageLimit, readMarker, takePage } from './paging.ts';
import { defaultKeyPolicy, parseKeyPolicy } from './policy.ts';

const DAY_MS = 86_400_000;
const MAX_TAGS = 50;
const POLICY_NAME = 'default';
type Empty = Record<string, never>;

export function keyMetadata(k: KeyRecord): KeyMetadata {
  return {
    AWSAccountId: k.account, KeyId: k.keyId, Arn: k.arn, CreationDate: new Date(k.creationDate), Enabled: k.state === 'Enabled',
    Description: k.description, KeyUsage: 'ENCRYPT_DECRYPT', KeyState: k.state,
    // PendingDeletionWindowInDays is AWS's for multi-Region keys awaiting their replicas' deletion only.
    DeletionDate: k.deletionDate ? new Date(k.deletionDate) : undefined,
    Origin: 'AWS_KMS', KeyManager: k.keyManager, CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT', KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'], MultiRegion: false,
  };
}

function unsupported(what: string): never {
  throw Errors.kmsUnsupported(`amiforge supports symmetric encryption KMS keys with key material it generates (KeySpec SYMMETRIC_DEFAULT, KeyUsage ENCRYPT_DECRYPT, Origin AWS_KMS, single-Region); ${what} is not available.`);
}

function checkTags(tags: Tag[]): void {
  for (const t of tags) {
    if (t.TagKey.toLowerCase().startsWith('aws:')) throw Errors.kmsTag(`Tag keys beginning with aws: are reserved: ${t.TagKey}`);
  }
}

/** `tags` merged into `existing` (a key already present takes the new value). */
function mergeTags(existing: Tag[], tags: Tag[]): Tag[] {
  const merged = new Map(existing.map((t) => [t.TagKey, t.TagValue]));
  for (const t of tags) merged.set(t.TagKey, t.TagValue);
  if (merged.size > MAX_TAGS) throw Errors.kmsLimitExceeded(`A KMS key can have at most ${MAX_TAGS} tags.`);
  return [...merged].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}

export class KeyManagement {
  private readonly deps: KmsDeps;
  private readonly access: KeyAccess;
  constructor(deps: KmsDeps, access: KeyAccess) {
    this.deps = deps;
    this.access = access;
  }

  /**
   * MalformedPolicyDocumentException unless the policy is valid and (without the bypass) still
   * lets the caller change it: KMS's lockout safety check.
   */
  private checkNewPolicy(caller: Caller, arn: string, policy: string, bypass: boolean | undefined): void {
    parseKeyPolicy(policy);
    if (!bypass && policyDecision(caller, arn, policy, 'PutKeyPolicy') !== 'allow') {
      throw Errors.kmsMalformedPolicy('The new key policy will not allow you to update the key policy in the future.');
    }
  }

  async create(caller: Caller, req: CreateKeyRequest): Promise<CreateKeyResponse> {
    if (req.KeySpec && req.CustomerMasterKeySpec && req.KeySpec !== req.CustomerMasterKeySpec) {
      throw Errors.kmsValidation('You cannot specify KeySpec and CustomerMasterKeySpec with different values.');
    }
    const spec = req.KeySpec ?? req.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
    if (spec !== 'SYMMETRIC_DEFAULT') unsupported(`KeySpec ${spec}`);
    if ((req.KeyUsage ?? 'ENCRYPT_DECRYPT') !== 'ENCRYPT_DECRYPT') unsupported(`KeyUsage ${req.KeyUsage}`);
    if ((req.Origin ?? 'AWS_KMS') !== 'AWS_KMS') unsupported(`Origin ${req.Origin}`);
    if (req.MultiRegion) unsupported('a multi-Region key');
    if (req.CustomKeyStoreId || req.XksKeyId) unsupported('a custom key store');
    const tags = mergeTags([], req.Tags ?? []);
    checkTags(tags);
    const policy = req.Policy ?? defaultKeyPolicy(caller.account);
    const key = this.access.newKey(caller, { keyManager: 'CUSTOMER', description: req.Description ?? '', policy, tags });
    if (req.Policy !== undefined) this.checkNewPolicy(caller, key.arn, policy, req.BypassPolicyLockoutSafetyCheck);
    await this.deps.keys.insert(key, this.deps.vault.newMaterial(key.keyId, key.materialVersion));
    return { KeyMetadata: keyMetadata(key) };
  }

  async describe(caller: Caller, req: DescribeKeyRequest): Promise<DescribeKeyResponse> {
    const key = await this.access.use(caller, req.KeyId, 'DescribeKey', { aliases: true, states: 'any', grantTokens: req.GrantTokens });
    return { KeyMetadata: keyMetadata(key) };
  }

  async list(caller: Caller, req: ListKeysRequest): Promise<ListKeysResponse> {
    const limit = pageLimit(req.Limit, { max: 1000, default: 100 });
    const scan = this.deps.keys.scan({ account: caller.account, region: caller.region, afterKeyId: readMarker(req.Marker) });
    const page = await takePage(this.live(scan), limit, (k) => k.keyId);
    return { Keys: page.items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: page.truncated, NextMarker: page.nextMarker };
  }

  /** Keys whose deletion date has passed are deleted as a listing comes across them. */
  private async *live(keys: AsyncIterable<KeyRecord>): AsyncIterable<KeyRecord> {
    for await (const k of keys) {
      if (await this.access.load(k.region, k.keyId)) yield k;
    }
  }

  /** A key of the caller's own account by id or ARN, authorized for `operation`, state checked. */
  private async own(caller: Caller, keyId: string, operation: string, states: 'notPending' | 'any' = 'notPending'): Promise<KeyRecord> {
    return this.access.use(caller, keyId, operation, { states });
  }

  async enable(caller: Caller, req: EnableKeyRequest): Promise<Empty> {
    const key = await this.own(caller, req.KeyId, 'EnableKey');
    if (key.state !== 'Enabled') await this.deps.keys.update({ ...key, state: 'Enabled' });
    return {};
  }

  async disable(caller: Caller, req: EnableKeyRequest): Promise<Empty> {
    const key = await this.own(caller, req.KeyId, 'DisableKey');
    if (key.state !== 'Disabled') await this.deps.keys.update({ ...key, state: 'Disabled' });
    return {};
  }

  async scheduleDeletion(caller: Caller, req: ScheduleKeyDeletionRequest): Promise<ScheduleKeyDeletionResponse> {
    const days = req.PendingWindowInDays ?? 30;
    if (days < 7 || days > 30) {
      throw Errors.kmsValidation(`1 validation error detected: Value '${days}' at 'pendingWindowInDays' failed to satisfy constraint: `
        + `Member must have value ${days < 7 ? 'greater than or equal to 7' : 'less than or equal to 30'}`);
    }
    const key = await this.own(caller, req.KeyId, 'ScheduleKeyDeletion');
    const deletionDate = new Date(this.deps.clock.now().getTime() + days * DAY_MS);
    await this.deps.keys.update({ ...key, state: 'PendingDeletion', deletionDate: deletionDate.toISOString(), pendingWindowInDays: days });
    return { KeyId: key.arn, DeletionDate: deletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: days };
  }

  async cancelDeletion(caller: Caller, req: CancelKeyDeletionRequest): Promise<CancelKeyDeletionResponse> {
    const key = await this.own(caller, req.KeyId, 'CancelKeyDeletion', 'any');
    if (key.state !== 'PendingDeletion') throw Errors.kmsInvalidState(`${key.arn} is not pending deletion.`);
    // As in AWS, a key whose deletion is canceled is disabled, not enabled.
    await this.deps.keys.update({ ...key, state: 'Disabled', deletionDate: undefined, pendingWindowInDays: undefined });
    return { KeyId: key.arn };
  }

  private static policyName(name: string | undefined): void {
    if (name !== undefined && name !== POLICY_NAME) throw Errors.kmsNotFound(`Key policy ${name} does not exist; a key's one policy is named ${POLICY_NAME}.`);
  }

  async getPolicy(caller: Caller, req: GetKeyPolicyRequest): Promise<GetKeyPolicyResponse> {
    KeyManagement.policyName(req.PolicyName);
    const key = await this.own(caller, req.KeyId, 'GetKeyPolicy', 'any');
    return { Policy: key.policy, PolicyName: POLICY_NAME };
  }

  async putPolicy(caller: Caller, req: PutKeyPolicyRequest): Promise<Empty> {
    KeyManagement.policyName(req.PolicyName);
    const key = await this.own(caller, req.KeyId, 'PutKeyPolicy', 'any');
    this.checkNewPolicy(caller, key.arn, req.Policy, req.BypassPolicyLockoutSafetyCheck);
    await this.deps.keys.update({ ...key, policy: req.Policy });
    return {};
  }

  async listPolicies(caller: Caller, req: ListKeyPoliciesRequest): Promise<ListKeyPoliciesResponse> {
    pageLimit(req.Limit, { max: 1000, default: 100 });
    await this.own(caller, req.KeyId, 'ListKeyPolicies', 'any');
    return { PolicyNames: [POLICY_NAME], Truncated: false };
  }

  async tag(caller: Caller, req: TagResourceRequest): Promise<Empty> {
    checkTags(req.Tags);
    const key = await this.own(caller, req.KeyId, 'TagResource');
    await this.deps.keys.update({ ...key, tags: mergeTags(key.tags, req.Tags) });
    return {};
  }

  async untag(caller: Caller, req: UntagResourceRequest): Promise<Empty> {
    const key = await this.own(caller, req.KeyId, 'UntagResource');
    const remove = new Set(req.TagKeys);
    await this.deps.keys.update({ ...key, tags: key.tags.filter((t) => !remove.has(t.TagKey)) });
    return {};
  }

  async listTags(caller: Caller, req: ListResourceTagsRequest): Promise<ListResourceTagsResponse> {
    const limit = pageLimit(req.Limit, { max: 50, default: 50 });
    const after = readMarker(req.Marker);
    const key = await this.own(caller, req.KeyId, 'ListResourceTags', 'any');
    const sorted = [...key.tags].sort((a, b) => (a.TagKey < b.TagKey ? -1 : a.TagKey > b.TagKey ? 1 : 0));
    const rest = (async function* () {
      for (const t of sorted) if (after === undefined || t.TagKey > after) yield t;
    })();
    const page = await takePage(rest, limit, (t) => t.TagKey);
    return { Tags: page.items, Truncated: page.truncated, NextMarker: page.nextMarker };
  }

  async updateDescription(caller: Caller, req: UpdateKeyDescriptionRequest): Promise<Empty> {
    const key = await this.own(caller, req.KeyId, 'UpdateKeyDescription');
    await this.deps.keys.update({ ...key, description: req.Description });
    return {};
  }
}
