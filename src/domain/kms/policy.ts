// Key policies: the IAM policy language as KMS uses it. A statement applies when its principal,
// action, resource and conditions all match; an explicit Deny wins over any Allow, and without
// an Allow nothing is allowed (grants may still allow, see grants.ts).
//
// amiforge's callers are accounts, so a principal matches by account: `*`, an account id, its
// root, or any user or role in it. Service and federated principals are valid but never match.
import { Errors } from '../errors.ts';
import { ConditionContext } from '../policy-language/condition-context.ts';
import { conditionHolds, ConditionSyntaxError, parseCondition, type Condition } from '../policy-language/conditions.ts';
import { iamWildcard } from '../policy-language/wildcard.ts';
import { principalAccount } from './identifiers.ts';

export type Decision = 'allow' | 'deny' | 'none';

export interface PolicyRequest {
  /** e.g. `kms:Encrypt` */
  action: string;
  callerAccount: string;
  keyArn: string;
  /** The request's condition keys (`kms:ViaService`, ...); multi-valued keys are lists. */
  conditionKeys: Record<string, string | string[]>;
}

interface Principals { any: boolean; accounts: Set<string> }
interface Statement {
  effect: 'Allow' | 'Deny';
  principal?: Principals;
  notPrincipal?: Principals;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  conditions: Condition[];
}
export interface KeyPolicy { statements: Statement[] }

const malformed = (why: string) => Errors.kmsMalformedPolicy(why);
const INVALID_PRINCIPALS = 'Policy contains a statement with one or more invalid principals.';

function list(v: unknown, what: string): string[] {
  const items = Array.isArray(v) ? v : [v];
  if (!items.length || !items.every((x) => typeof x === 'string')) throw malformed(`Policy contains a statement whose ${what} is not a string or a list of strings.`);
  return items as string[];
}

function parsePrincipals(v: unknown): Principals {
  if (v === '*') return { any: true, accounts: new Set() };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(INVALID_PRINCIPALS);
  const out: Principals = { any: false, accounts: new Set() };
  for (const [kind, value] of Object.entries(v)) {
    if (!['AWS', 'Service', 'Federated', 'CanonicalUser'].includes(kind)) throw malformed(INVALID_PRINCIPALS);
    for (const p of list(value, 'Principal')) {
      if (kind !== 'AWS') continue;
      if (p === '*') {
        out.any = true;
        continue;
      }
      const account = principalAccount(p);
      if (!account) throw malformed(INVALID_PRINCIPALS);
      out.accounts.add(account);
    }
  }
  return out;
}

function parseConditions(v: unknown): Condition[] {
  if (v === undefined) return [];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed('Policy contains a statement whose Condition is not an object.');
  const out: Condition[] = [];
  for (const [operator, block] of Object.entries(v)) {
    try {
      out.push(...parseCondition(operator, block));
    } catch (err) {
      if (!(err instanceof ConditionSyntaxError)) throw err;
      throw malformed(`Policy contains a statement with an invalid Condition: ${err.message}.`);
    }
  }
  return out;
}

function parseStatement(raw: unknown): Statement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed('Policy contains a statement that is not an object.');
  const s = raw as Record<string, unknown>;
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed('Policy contains a statement whose Effect is neither Allow nor Deny.');
  const one = (a: string, b: string) => {
    if ((s[a] === undefined) === (s[b] === undefined)) throw malformed(`Policy contains a statement that needs exactly one of ${a} and ${b}.`);
  };
  one('Principal', 'NotPrincipal');
  one('Action', 'NotAction');
  one('Resource', 'NotResource');
  const actions = (v: unknown) => {
    const items = list(v, 'Action');
    if (!items.every((a) => a === '*' || /^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(a))) throw malformed('Policy contains a statement with an invalid action.');
    return items;
  };
  return {
    effect: s.Effect,
    principal: s.Principal === undefined ? undefined : parsePrincipals(s.Principal),
    notPrincipal: s.NotPrincipal === undefined ? undefined : parsePrincipals(s.NotPrincipal),
    action: s.Action === undefined ? undefined : actions(s.Action),
    notAction: s.NotAction === undefined ? undefined : actions(s.NotAction),
    resource: s.Resource === undefined ? undefined : list(s.Resource, 'Resource'),
    notResource: s.NotResource === undefined ? undefined : list(s.NotResource, 'NotResource'),
    conditions: parseConditions(s.Condition),
  };
}

const cache = new Map<string, KeyPolicy>();
const CACHE_LIMIT = 1000;

/** Parses and validates a key policy document; MalformedPolicyDocumentException when invalid. */
export function parseKeyPolicy(text: string): KeyPolicy {
  const cached = cache.get(text);
  if (cached) return cached;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('The policy document is not valid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('The policy document is not a JSON object.');
  const d = doc as Record<string, unknown>;
  if (d.Version !== undefined && d.Version !== '2012-10-17' && d.Version !== '2008-10-17') {
    throw malformed(`The policy Version must be 2012-10-17 or 2008-10-17, not ${JSON.stringify(d.Version)}.`);
  }
  const raw = Array.isArray(d.Statement) ? d.Statement : d.Statement === undefined ? [] : [d.Statement];
  if (!raw.length) throw malformed('The policy has no Statement.');
  const policy = { statements: raw.map(parseStatement) };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, policy);
  return policy;
}

const principalMatches = (p: Principals, account: string) => p.any || p.accounts.has(account);
const anyWildcard = (patterns: string[], text: string, ignoreCase: boolean) =>
  patterns.some((p) => iamWildcard(p, text, { ignoreCase }));

function statementApplies(s: Statement, r: PolicyRequest, context: ConditionContext): boolean {
  if (s.principal && !principalMatches(s.principal, r.callerAccount)) return false;
  if (s.notPrincipal && principalMatches(s.notPrincipal, r.callerAccount)) return false;
  if (s.action && !anyWildcard(s.action, r.action, true)) return false;
  if (s.notAction && anyWildcard(s.notAction, r.action, true)) return false;
  if (s.resource && !anyWildcard(s.resource, r.keyArn, false)) return false;
  if (s.notResource && anyWildcard(s.notResource, r.keyArn, false)) return false;
  return s.conditions.every((c) => conditionHolds(c, context));
}

export function evaluateKeyPolicy(policy: KeyPolicy, request: PolicyRequest): Decision {
  const context = ConditionContext.from(request.conditionKeys);
  let allowed = false;
  for (const s of policy.statements) {
    if (!statementApplies(s, request, context)) continue;
    if (s.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

const pretty = (doc: unknown) => JSON.stringify(doc, null, 2);

/** The policy CreateKey gives a key without one: the account's root may do everything. */
export function defaultKeyPolicy(account: string): string {
  return pretty({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [{
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: 'kms:*',
      Resource: '*',
    }],
  });
}

/**
 * The policy of an account's AWS managed key for a service (`alias/aws/ebs`, `alias/aws/ssm`), as
 * AWS writes it: the account may use the key only through that service in the key's region
 * (kms:ViaService), and may read its metadata.
 */
function serviceManagedKeyPolicy(id: string, serviceName: string, endpoint: string, account: string, region: string): string {
  return pretty({
    Version: '2012-10-17',
    Id: id,
    Statement: [{
      Sid: `Allow access through ${serviceName} for all principals in the account that are authorized to use ${serviceName}`,
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': account, 'kms:ViaService': `${endpoint}.${region}.amazonaws.com` } },
    }, {
      Sid: 'Allow direct access to key metadata to the account',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
      Resource: '*',
    }],
  });
}

export const ebsManagedKeyPolicy = (account: string, region: string) => serviceManagedKeyPolicy('auto-ebs-2', 'EBS', 'ec2', account, region);
export const ssmManagedKeyPolicy = (account: string, region: string) => serviceManagedKeyPolicy('auto-ssm-1', 'AWS Systems Manager', 'ssm', account, region);
