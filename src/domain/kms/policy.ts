// Key policies: the IAM policy language as KMS uses it. A statement applies when its principal,
// action, resource and conditions all match; an explicit Deny wins over any Allow, and without
// an Allow nothing is allowed (grants may still allow, see grants.ts).
//
// amiforge's callers are accounts, so a principal matches by account: `*`, an account id, its
// root, or any user or role in it. Service and federated principals are valid but never match.
import { Errors } from '../errors.ts';
import { matchesWildcard } from '../filters.ts';
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
interface Condition { base: string; negated: boolean; ifExists: boolean; set?: 'any' | 'all'; key: string; values: string[] }
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

const STRING_OPS = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike']);
const NUMERIC_OPS = new Set(['NumericEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals']);
const DATE_OPS = new Set(['DateEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals']);
const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals', StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase', StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals', ArnNotLike: 'ArnLike', NumericNotEquals: 'NumericEquals', DateNotEquals: 'DateEquals',
};

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
    const m = /^(?:(ForAnyValue|ForAllValues):)?([A-Za-z]+?)(IfExists)?$/.exec(operator);
    const name = m?.[2] ?? '';
    const base = NEGATED[name] ?? name;
    const known = STRING_OPS.has(base) || NUMERIC_OPS.has(base) || DATE_OPS.has(base) || base === 'Bool' || base === 'Null';
    if (!m || !known || (name === 'Null' && m[3])) throw malformed(`Policy contains an unknown condition operator: ${operator}.`);
    if (typeof block !== 'object' || block === null || Array.isArray(block)) throw malformed(`Policy condition ${operator} is not an object.`);
    for (const [key, values] of Object.entries(block)) {
      const items = (Array.isArray(values) ? values : [values]).map((x) => {
        if (!['string', 'number', 'boolean'].includes(typeof x)) throw malformed(`Policy condition ${operator} ${key} has a value that is not a string.`);
        return String(x);
      });
      out.push({
        base, negated: base !== name, ifExists: !!m[3], key,
        set: m[1] === 'ForAnyValue' ? 'any' : m[1] === 'ForAllValues' ? 'all' : undefined, values: items,
      });
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
  patterns.some((p) => (ignoreCase ? matchesWildcard(p.toLowerCase(), text.toLowerCase()) : matchesWildcard(p, text)));

function lookup(keys: Record<string, string | string[]>, key: string): string | string[] | undefined {
  if (Object.hasOwn(keys, key)) return keys[key];
  const lower = key.toLowerCase();
  const found = Object.keys(keys).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : keys[found];
}

function valueMatches(base: string, actual: string, expected: string): boolean {
  switch (base) {
    case 'StringEquals':
    case 'ArnEquals':
      return actual === expected;
    case 'StringEqualsIgnoreCase':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'StringLike':
    case 'ArnLike':
      return matchesWildcard(expected, actual);
    case 'Bool':
      return actual.toLowerCase() === expected.toLowerCase();
    default: {
      const numeric = NUMERIC_OPS.has(base);
      const a = numeric ? Number(actual) : Date.parse(actual);
      const e = numeric ? Number(expected) : Date.parse(expected);
      if (Number.isNaN(a) || Number.isNaN(e)) return false;
      if (base.endsWith('LessThanEquals')) return a <= e;
      if (base.endsWith('LessThan')) return a < e;
      if (base.endsWith('GreaterThanEquals')) return a >= e;
      if (base.endsWith('GreaterThan')) return a > e;
      return a === e;
    }
  }
}

function conditionHolds(c: Condition, keys: Record<string, string | string[]>): boolean {
  const raw = lookup(keys, c.key);
  if (c.base === 'Null') return c.values.some((v) => (v.toLowerCase() === 'true') === (raw === undefined));
  // IAM's rules for an absent key: ...IfExists and negated operators hold, ForAllValues holds
  // (every one of no values matches), anything else does not.
  if (raw === undefined) return c.ifExists || c.negated || c.set === 'all';
  const actual = Array.isArray(raw) ? raw : [raw];
  const matches = (v: string) => c.values.some((e) => valueMatches(c.base, v, e));
  const positive = c.set === 'all' ? actual.every(matches) : actual.some(matches);
  return c.negated ? !positive : positive;
}

function statementApplies(s: Statement, r: PolicyRequest): boolean {
  if (s.principal && !principalMatches(s.principal, r.callerAccount)) return false;
  if (s.notPrincipal && principalMatches(s.notPrincipal, r.callerAccount)) return false;
  if (s.action && !anyWildcard(s.action, r.action, true)) return false;
  if (s.notAction && anyWildcard(s.notAction, r.action, true)) return false;
  if (s.resource && !anyWildcard(s.resource, r.keyArn, false)) return false;
  if (s.notResource && anyWildcard(s.notResource, r.keyArn, false)) return false;
  return s.conditions.every((c) => conditionHolds(c, r.conditionKeys));
}

export function evaluateKeyPolicy(policy: KeyPolicy, request: PolicyRequest): Decision {
  let allowed = false;
  for (const s of policy.statements) {
    if (!statementApplies(s, request)) continue;
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
 * The policy of an account's AWS managed EBS key (`alias/aws/ebs`), as AWS writes it: the
 * account may use the key only through EC2 in the key's region, and may read its metadata.
 */
export function ebsManagedKeyPolicy(account: string, region: string): string {
  return pretty({
    Version: '2012-10-17',
    Id: 'auto-ebs-2',
    Statement: [{
      Sid: 'Allow access through EBS for all principals in the account that are authorized to use EBS',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': account, 'kms:ViaService': `ec2.${region}.amazonaws.com` } },
    }, {
      Sid: 'Allow direct access to key metadata to the account',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
      Resource: '*',
    }],
  });
}
