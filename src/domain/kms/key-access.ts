// Finding a key the way KMS does, and deciding whether the caller may do something with it.
//
// A KeyId names a key by id or key ARN, or (where the operation accepts it) by alias name or alias
// ARN. Bare ids and alias names are looked up in the caller's own account; another account's key
// is reachable only by its ARN or an alias ARN, and only for operations KMS allows across
// accounts. Every use is authorized against the key policy, then the key's grants; the key's
// state is checked after authorization, so nobody learns the state of a key they cannot use.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../ports/clock.ts';
import type { AliasRecord, KeyRecord, KeyRepository } from '../../ports/key-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { grantAllows, readGrantToken, SYMMETRIC_GRANT_OPERATIONS } from './grants.ts';
import { aliasArn, isKeyId, keyArn, parseKeyReference, rootPrincipal } from './identifiers.ts';
import type { KeyVault } from './key-vault.ts';
import { ebsManagedKeyPolicy, evaluateKeyPolicy, ssmManagedKeyPolicy, parseKeyPolicy, type Decision } from './policy.ts';

export interface KmsDeps {
  keys: KeyRepository;
  clock: Clock;
  vault: KeyVault;
  /** Told of each operation other services make through the domain API (for metrics). */
  onServiceOperation?: (operation: 'DescribeKey' | 'GenerateDataKey' | 'Decrypt') => void;
}

/** Operations KMS lets another account perform on a key, when the key policy or a grant allows. */
const CROSS_ACCOUNT = new Set([
  'CreateGrant', 'Decrypt', 'DescribeKey', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext',
  'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'ListGrants', 'ReEncryptFrom', 'ReEncryptTo',
  'RetireGrant', 'RevokeGrant', 'GetPublicKey', 'GetKeyRotationStatus',
]);

/** AWS managed keys amiforge creates on first use, by alias. */
export const MANAGED_KEYS: Record<string, { description: string; policy: (account: string, region: string) => string }> = {
  'alias/aws/ebs': {
    description: 'Default key that protects my EBS volumes when no other key is defined',
    policy: ebsManagedKeyPolicy,
  },
  'alias/aws/ssm': {
    description: 'Default key that protects my SSM parameters when no other key is defined',
    policy: ssmManagedKeyPolicy,
  },
};

export interface UseOptions {
  /** Accept alias names and alias ARNs, as DescribeKey and the cryptographic operations do. */
  aliases?: boolean;
  /** Key states the operation works in: only Enabled (cryptographic use), any but PendingDeletion, or any. */
  states?: 'enabled' | 'notPending' | 'any';
  /** The AWS service calling on the caller's behalf (`ec2.us-east-1.amazonaws.com`): kms:ViaService. */
  viaService?: string;
  encryptionContext?: Record<string, string>;
  grantTokens?: string[];
  /** The request's other condition keys, e.g. CreateGrant's kms:GrantOperations. */
  conditionKeys?: Record<string, string | string[]>;
  /** Consult the key policy only: CreateGrant applies its own rules to the caller's grants. */
  policyOnly?: boolean;
}

export class KeyAccess {
  private readonly deps: KmsDeps;
  constructor(deps: KmsDeps) {
    this.deps = deps;
  }

  /** A key by id in a region; a key whose deletion date has passed is deleted now and is gone. */
  async load(region: string, keyId: string): Promise<KeyRecord | undefined> {
    const key = await this.deps.keys.get(region, keyId);
    if (key?.state === 'PendingDeletion' && Date.parse(key.deletionDate!) <= this.deps.clock.now().getTime()) {
      await this.deps.keys.delete(region, keyId);
      return undefined;
    }
    return key;
  }

  /** The key a KeyId parameter names, as the caller sees it. */
  async find(caller: Caller, text: string, aliases = false): Promise<KeyRecord> {
    const ref = parseKeyReference(text);
    if (ref.region && ref.region !== caller.region) throw Errors.kmsNotFound(`Invalid arn ${ref.region}`);
    const account = ref.account ?? caller.account;
    if (ref.kind === 'alias') {
      if (!aliases) throw Errors.kmsNotFound(`Invalid keyId ${text}`);
      const alias = await this.deps.keys.getAlias(account, caller.region, ref.aliasName);
      if (!alias && account === caller.account && Object.hasOwn(MANAGED_KEYS, ref.aliasName)) return this.managedKey(caller, ref.aliasName);
      const key = alias && await this.load(caller.region, alias.targetKeyId);
      if (!key) throw Errors.kmsAliasNotFound(aliasArn(caller.region, account, ref.aliasName));
      return key;
    }
    if (!isKeyId(ref.keyId)) throw Errors.kmsNotFound(`Invalid keyId ${text}`);
    const key = await this.load(caller.region, ref.keyId);
    if (!key || key.account !== account) throw Errors.kmsKeyNotFound(keyArn(caller.region, account, ref.keyId));
    return key;
  }

  /** Finds the key, authorizes `operation` on it and checks its state. */
  async use(caller: Caller, text: string, operation: string, o: UseOptions = {}): Promise<KeyRecord> {
    const key = await this.find(caller, text, o.aliases);
    await this.authorize(caller, key, operation, o);
    checkState(key, o.states ?? 'enabled');
    return key;
  }

  /** AccessDeniedException unless the key policy (and no explicit deny), or a grant, allows it. */
  async authorize(caller: Caller, key: KeyRecord, operation: string, o: UseOptions = {}): Promise<void> {
    const action = `kms:${operation}`;
    const principal = rootPrincipal(caller.account);
    for (const t of o.grantTokens ?? []) readGrantToken(t);
    if (caller.account !== key.account && !CROSS_ACCOUNT.has(operation)) throw Errors.kmsAccessDenied(principal, action, key.arn);
    const decision = policyDecision(caller, key.arn, key.policy, operation, o);
    if (decision === 'deny') throw Errors.kmsAccessDenied(principal, action, key.arn, true);
    if (decision === 'allow') return;
    if (!o.policyOnly && SYMMETRIC_GRANT_OPERATIONS.has(operation)) {
      for await (const g of this.deps.keys.grants(key.keyId, { granteeAccount: caller.account })) {
        if (grantAllows(g, operation, o.encryptionContext)) return;
      }
    }
    throw Errors.kmsAccessDenied(principal, action, key.arn);
  }

  /** Runs `use` with the plaintext material of a key's version, wiped afterwards. */
  async withMaterial<T>(key: KeyRecord, version: number, use: (material: Buffer) => T): Promise<T> {
    const wrapped = await this.deps.keys.material(key.keyId, version);
    if (!wrapped) throw Errors.kmsInvalidCiphertext();
    return this.deps.vault.withMaterial(key.keyId, version, wrapped, use);
  }

  /** A new key record (not stored) in the caller's account and region. */
  newKey(caller: Caller, o: { keyManager: KeyRecord['keyManager']; description: string; policy: string; tags?: KeyRecord['tags'] }): KeyRecord {
    const keyId = randomUUID();
    return {
      region: caller.region, account: caller.account, keyId, arn: keyArn(caller.region, caller.account, keyId),
      description: o.description, keyManager: o.keyManager, state: 'Enabled', creationDate: this.deps.clock.now().toISOString(),
      policy: o.policy, tags: o.tags ?? [], materialVersion: 1,
    };
  }

  /** The account's AWS managed key for an alias such as alias/aws/ebs, created on first use. */
  private async managedKey(caller: Caller, aliasName: string): Promise<KeyRecord> {
    const spec = MANAGED_KEYS[aliasName];
    const key = this.newKey(caller, { keyManager: 'AWS', description: spec.description, policy: spec.policy(caller.account, caller.region) });
    const now = key.creationDate;
    const alias: AliasRecord = { account: caller.account, region: caller.region, aliasName, targetKeyId: key.keyId, creationDate: now, lastUpdatedDate: now };
    if (await this.deps.keys.insert(key, this.deps.vault.newMaterial(key.keyId, key.materialVersion), alias)) return key;
    // Another request created it first.
    const existing = await this.deps.keys.getAlias(caller.account, caller.region, aliasName);
    const found = existing && await this.load(caller.region, existing.targetKeyId);
    if (!found) throw Errors.kmsInternal();
    return found;
  }
}

/** KMSInvalidStateException or DisabledException when the key's state does not allow the operation. */
export function checkState(key: KeyRecord, states: NonNullable<UseOptions['states']>): void {
  if (states === 'any') return;
  if (key.state === 'PendingDeletion') throw Errors.kmsPendingDeletion(key.arn);
  if (states === 'enabled' && key.state === 'Disabled') throw Errors.kmsDisabled(key.arn);
}

/** What a key policy document says about the caller performing `operation` on the key. */
export function policyDecision(caller: Caller, arn: string, policy: string, operation: string, o: UseOptions = {}): Decision {
  return evaluateKeyPolicy(parseKeyPolicy(policy), {
    action: `kms:${operation}`, callerAccount: caller.account, keyArn: arn, conditionKeys: conditionKeys(caller, o),
  });
}

/** The condition keys a key policy can test for this request. */
function conditionKeys(caller: Caller, o: UseOptions): Record<string, string | string[]> {
  const keys: Record<string, string | string[]> = {
    'kms:CallerAccount': caller.account,
    'aws:PrincipalAccount': caller.account,
    'aws:PrincipalArn': rootPrincipal(caller.account),
    'aws:PrincipalType': 'Account',
    'kms:KeyOrigin': 'AWS_KMS',
    'kms:KeySpec': 'SYMMETRIC_DEFAULT',
    'kms:KeyUsage': 'ENCRYPT_DECRYPT',
  };
  if (o.viaService) keys['kms:ViaService'] = o.viaService;
  const orgId = /organization\/(o-[a-z0-9]+)$/.exec(caller.org?.organizationArn ?? '')?.[1];
  if (orgId) keys['aws:PrincipalOrgID'] = orgId;
  const context = o.encryptionContext ?? {};
  if (Object.keys(context).length) keys['kms:EncryptionContextKeys'] = Object.keys(context);
  for (const [k, v] of Object.entries(context)) keys[`kms:EncryptionContext:${k}`] = v;
  return { ...keys, ...o.conditionKeys };
}
