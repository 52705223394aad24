// KMS grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant. A grant
// lets its grantee principal's account perform the listed operations on one key, within its
// encryption context constraints; it takes effect at once.
import type {
  CreateGrantRequest, CreateGrantResponse, GrantListEntry, ListGrantsRequest, ListGrantsResponse,
  ListRetirableGrantsRequest, RetireGrantRequest, RevokeGrantRequest,
} from '../../protocol/kms/types.generated.ts';
import type { GrantConstraintsRecord, GrantRecord, KeyRecord } from '../../ports/key-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { CONTEXT_OPERATIONS, grantToken, isGrantId, newGrantId, readGrantToken, SYMMETRIC_GRANT_OPERATIONS } from './grants.ts';
import { principalAccount, rootPrincipal } from './identifiers.ts';
import { checkState, KeyAccess, type KmsDeps } from './key-access.ts';
import { pageLimit, readMarker, takePage } from './paging.ts';

type Empty = Record<string, never>;

function entry(g: GrantRecord, keyArn: string): GrantListEntry {
  const c = g.constraints;
  return {
    KeyId: keyArn, GrantId: g.grantId, Name: g.name, CreationDate: new Date(g.creationDate), GranteePrincipal: g.granteePrincipal,
    RetiringPrincipal: g.retiringPrincipal, IssuingAccount: g.issuingAccount, Operations: g.operations as GrantListEntry['Operations'],
    Constraints: c && { EncryptionContextSubset: c.encryptionContextSubset, EncryptionContextEquals: c.encryptionContextEquals },
  };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function checkPrincipal(principal: string, member: string): string {
  const account = principalAccount(principal);
  if (!account) throw Errors.kmsValidation(`${member} ${principal} is not a valid principal: give an account id or an IAM ARN.`);
  return account;
}

export class GrantService {
  private readonly deps: KmsDeps;
  private readonly access: KeyAccess;
  constructor(deps: KmsDeps, access: KeyAccess) {
    this.deps = deps;
    this.access = access;
  }

  async create(caller: Caller, req: CreateGrantRequest): Promise<CreateGrantResponse> {
    const operations = [...new Set(req.Operations)];
    if (!operations.length) throw Errors.kmsValidation('A grant must allow at least one operation.');
    const invalid = operations.filter((op) => !SYMMETRIC_GRANT_OPERATIONS.has(op));
    if (invalid.length) throw Errors.kmsValidation(`Grant operations ${invalid.join(', ')} are not valid for a symmetric encryption KMS key.`);
    const constraints: GrantConstraintsRecord | undefined = req.Constraints && {
      encryptionContextSubset: req.Constraints.EncryptionContextSubset, encryptionContextEquals: req.Constraints.EncryptionContextEquals,
    };
    if (constraints) {
      const noContext = operations.filter((op) => !CONTEXT_OPERATIONS.has(op) && op !== 'CreateGrant');
      if (noContext.length) throw Errors.kmsValidation(`Grant constraints cannot apply to ${noContext.join(', ')}, which take no encryption context.`);
    }
    const granteeAccount = checkPrincipal(req.GranteePrincipal, 'GranteePrincipal');
    if (req.RetiringPrincipal) checkPrincipal(req.RetiringPrincipal, 'RetiringPrincipal');
    const key = await this.access.find(caller, req.KeyId);
    await this.authorizeCreate(caller, key, operations, constraints, req);
    checkState(key, 'notPending');
    if (req.DryRun) throw Errors.kmsDryRun();
    // A named grant asked for again with the same properties is the same grant (idempotent retries).
    if (req.Name) {
      for await (const g of this.deps.keys.grants(key.keyId, { granteeAccount })) {
        if (g.name === req.Name && g.granteePrincipal === req.GranteePrincipal && g.retiringPrincipal === req.RetiringPrincipal
          && sameJson([...g.operations].sort(), [...operations].sort()) && sameJson(g.constraints, constraints)) {
          return { GrantId: g.grantId, GrantToken: grantToken(key.keyId, g.grantId) };
        }
      }
    }
    const grant: GrantRecord = {
      grantId: newGrantId(), keyId: key.keyId, region: key.region, name: req.Name, granteePrincipal: req.GranteePrincipal, granteeAccount,
      retiringPrincipal: req.RetiringPrincipal, issuingAccount: rootPrincipal(caller.account), operations, constraints,
      creationDate: this.deps.clock.now().toISOString(),
    };
    await this.deps.keys.insertGrant(grant);
    return { GrantId: grant.grantId, GrantToken: grantToken(key.keyId, grant.grantId) };
  }

  /**
   * kms:CreateGrant from the key policy, or from a grant of the caller's that includes CreateGrant
   * and every operation asked for, whose constraints the new grant keeps.
   */
  private async authorizeCreate(caller: Caller, key: KeyRecord, operations: string[], constraints: GrantConstraintsRecord | undefined, req: CreateGrantRequest): Promise<void> {
    const conditionKeys = {
      'kms:GrantOperations': operations, 'kms:GranteePrincipal': req.GranteePrincipal, 'kms:GrantIsForAWSResource': 'false',
      ...(req.RetiringPrincipal ? { 'kms:RetiringPrincipal': req.RetiringPrincipal } : {}),
    };
    try {
      await this.access.authorize(caller, key, 'CreateGrant', { grantTokens: req.GrantTokens, conditionKeys, policyOnly: true });
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'AccessDeniedException' || (err as Error).message.includes('explicit deny')) throw err;
      for await (const g of this.deps.keys.grants(key.keyId, { granteeAccount: caller.account })) {
        if (g.operations.includes('CreateGrant') && operations.every((op) => g.operations.includes(op))
          && (!g.constraints || sameJson(g.constraints, constraints))) return;
      }
      throw err;
    }
  }

  async list(caller: Caller, req: ListGrantsRequest): Promise<ListGrantsResponse> {
    const limit = pageLimit(req.Limit, { max: 100, default: 50 });
    const after = readMarker(req.Marker);
    if (req.GrantId !== undefined && !isGrantId(req.GrantId)) throw Errors.kmsInvalidGrantId();
    const key = await this.access.use(caller, req.KeyId, 'ListGrants', { states: 'any' });
    const grants = this.deps.keys.grants(key.keyId, { grantId: req.GrantId, afterGrantId: after });
    const filtered = (async function* () {
      for await (const g of grants) if (req.GranteePrincipal === undefined || g.granteePrincipal === req.GranteePrincipal) yield g;
    })();
    const page = await takePage(filtered, limit, (g) => g.grantId);
    return { Grants: page.items.map((g) => entry(g, key.arn)), Truncated: page.truncated, NextMarker: page.nextMarker };
  }

  /** Grants naming the principal as retiring principal; only an account's own principals may be asked about. */
  async listRetirable(caller: Caller, req: ListRetirableGrantsRequest): Promise<ListGrantsResponse> {
    const limit = pageLimit(req.Limit, { max: 100, default: 50 });
    const after = readMarker(req.Marker);
    const account = principalAccount(req.RetiringPrincipal);
    if (!account) throw Errors.kmsInvalidArn(`${req.RetiringPrincipal} is not a valid principal ARN.`);
    if (account !== caller.account) {
      throw Errors.kmsAccessDenied(rootPrincipal(caller.account), 'kms:ListRetirableGrants', req.RetiringPrincipal);
    }
    const page = await takePage(this.deps.keys.retirableBy(caller.region, req.RetiringPrincipal, after), limit, (g) => g.grantId);
    const grants: GrantListEntry[] = [];
    for (const g of page.items) {
      const key = await this.access.load(g.region, g.keyId);
      if (key) grants.push(entry(g, key.arn));
    }
    return { Grants: grants, Truncated: page.truncated, NextMarker: page.nextMarker };
  }

  /** The grant a RetireGrant or RevokeGrant names, on a key the caller can address. */
  private async grantOf(caller: Caller, keyId: string, grantId: string): Promise<{ key: KeyRecord; grant: GrantRecord }> {
    if (!isGrantId(grantId)) throw Errors.kmsInvalidGrantId();
    return this.grantOnKey(await this.access.find(caller, keyId), grantId);
  }

  /**
   * The key's account, the grant's retiring principal, or its grantee when the grant includes
   * RetireGrant may retire it; no key policy is involved.
   */
  async retire(caller: Caller, req: RetireGrantRequest): Promise<Empty> {
    let named: { keyId: string; grantId: string };
    if (req.GrantToken) {
      const t = readGrantToken(req.GrantToken);
      named = { keyId: req.KeyId ?? t.keyId, grantId: req.GrantId ?? t.grantId };
    } else if (req.KeyId && req.GrantId) {
      named = { keyId: req.KeyId, grantId: req.GrantId };
    } else {
      throw Errors.kmsValidation('Give either GrantToken, or both KeyId and GrantId.');
    }
    // A token names the key by id, which is looked up across accounts in the region.
    const byId = req.GrantToken && !req.KeyId ? await this.access.load(caller.region, named.keyId) : undefined;
    const { key, grant } = byId ? await this.grantOnKey(byId, named.grantId) : await this.grantOf(caller, named.keyId, named.grantId);
    const may = caller.account === key.account
      || (grant.retiringPrincipal !== undefined && principalAccount(grant.retiringPrincipal) === caller.account)
      || (grant.granteeAccount === caller.account && grant.operations.includes('RetireGrant'));
    if (!may) throw Errors.kmsAccessDenied(rootPrincipal(caller.account), 'kms:RetireGrant', key.arn);
    if (req.DryRun) throw Errors.kmsDryRun();
    await this.deps.keys.deleteGrant(key.keyId, grant.grantId);
    return {};
  }

  private async grantOnKey(key: KeyRecord, grantId: string): Promise<{ key: KeyRecord; grant: GrantRecord }> {
    for await (const grant of this.deps.keys.grants(key.keyId, { grantId })) return { key, grant };
    throw Errors.kmsNotFound(`Grant ID ${grantId} not found`);
  }

  async revoke(caller: Caller, req: RevokeGrantRequest): Promise<Empty> {
    if (!isGrantId(req.GrantId)) throw Errors.kmsInvalidGrantId();
    const key = await this.access.find(caller, req.KeyId);
    await this.access.authorize(caller, key, 'RevokeGrant');
    const { grant } = await this.grantOnKey(key, req.GrantId);
    if (req.DryRun) throw Errors.kmsDryRun();
    await this.deps.keys.deleteGrant(key.keyId, grant.grantId);
    return {};
  }
}
