// Identity-based policy documents (the IAM JSON policy language), parsed and validated once at
// start-up. What is not valid here is refused with a message naming the problem, as IAM's
// MalformedPolicyDocument does, so a typo never silently widens or narrows a user's rights.
import { parseCondition, type Condition } from './conditions.ts';

export class PolicyDocumentError extends Error {}

export interface Statement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  /** Exactly one of action / notAction is set; likewise resource / notResource. */
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  conditions: Condition[];
  /** Policy variables (`${aws:username}`) are substituted only in Version 2012-10-17 policies. */
  variables: boolean;
}

export interface IdentityPolicy {
  /** Where the policy came from, for messages: `inline policy 1` or the file's name. */
  source: string;
  statements: Statement[];
}

const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const ACTION = /^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/i;
/** arn:partition:service:region:account:resource, where wildcards may stand for parts. */
const ARN = /^arn:[a-z*?-]*:[a-z0-9*?-]*:[a-z0-9*?-]*:[0-9*?]*:.+$/;

function fail(why: string): never {
  throw new PolicyDocumentError(why);
}

function stringList(value: unknown, element: string): string[] {
  const items = Array.isArray(value) ? value : [value];
  if (!items.length) fail(`${element} is an empty list`);
  for (const item of items) if (typeof item !== 'string' || !item) fail(`${element} must be a string or a list of non-empty strings`);
  return items as string[];
}

function actions(value: unknown, element: string): string[] {
  const list = stringList(value, element);
  for (const a of list) if (!ACTION.test(a)) fail(`${element} "${a}" is not "*" or "service:Action" (for example "ec2:CreateImage" or "ec2:Describe*")`);
  return list;
}

function resources(value: unknown, element: string): string[] {
  const list = stringList(value, element);
  for (const r of list) if (r !== '*' && !ARN.test(r)) fail(`${element} "${r}" is not "*" or an ARN (arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE)`);
  return list;
}

function parseStatement(raw: unknown, index: number, variables: boolean): Statement {
  const where = `statement ${index + 1}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${where} is not an object`);
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition', 'Principal', 'NotPrincipal'].includes(key)) fail(`${where} has an unknown element "${key}"`);
  }
  if (s.Principal !== undefined || s.NotPrincipal !== undefined) fail(`${where}: an identity-based policy must not name a Principal (the user it is attached to is the principal)`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') fail(`${where}: Effect must be "Allow" or "Deny", not ${JSON.stringify(s.Effect)}`);
  if (s.Sid !== undefined && (typeof s.Sid !== 'string' || !/^[A-Za-z0-9 ]*$/.test(s.Sid))) fail(`${where}: Sid must be letters and digits`);
  const exactlyOne = (a: string, b: string) => {
    if (s[a] === undefined && s[b] === undefined) fail(`${where} is missing ${a} (or ${b})`);
    if (s[a] !== undefined && s[b] !== undefined) fail(`${where} has both ${a} and ${b}`);
  };
  exactlyOne('Action', 'NotAction');
  exactlyOne('Resource', 'NotResource');
  const conditions: Condition[] = [];
  if (s.Condition !== undefined) {
    if (typeof s.Condition !== 'object' || s.Condition === null || Array.isArray(s.Condition)) fail(`${where}: Condition must be an object`);
    for (const [operator, block] of Object.entries(s.Condition)) {
      try {
        conditions.push(...parseCondition(operator, block));
      } catch (err) {
        fail(`${where}: ${(err as Error).message}`);
      }
    }
  }
  return {
    sid: s.Sid as string | undefined,
    effect: s.Effect,
    action: s.Action === undefined ? undefined : actions(s.Action, `${where}: Action`),
    notAction: s.NotAction === undefined ? undefined : actions(s.NotAction, `${where}: NotAction`),
    resource: s.Resource === undefined ? undefined : resources(s.Resource, `${where}: Resource`),
    notResource: s.NotResource === undefined ? undefined : resources(s.NotResource, `${where}: NotResource`),
    conditions,
    variables,
  };
}

/** Validates an already-parsed JSON policy document; throws PolicyDocumentError. */
export function parseIdentityPolicy(doc: unknown, source: string): IdentityPolicy {
  try {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('the policy is not a JSON object');
    const d = doc as Record<string, unknown>;
    for (const key of Object.keys(d)) if (!['Version', 'Id', 'Statement'].includes(key)) fail(`unknown top-level element "${key}"`);
    if (d.Version !== undefined && !VERSIONS.has(d.Version as string)) fail(`Version must be "2012-10-17" (or "2008-10-17"), not ${JSON.stringify(d.Version)}`);
    if (d.Statement === undefined) fail('the policy has no Statement');
    const raw = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
    if (!raw.length) fail('the policy has no Statement');
    return { source, statements: raw.map((r, i) => parseStatement(r, i, d.Version === '2012-10-17')) };
  } catch (err) {
    if (err instanceof PolicyDocumentError) throw new PolicyDocumentError(`${source}: ${err.message}`);
    throw err;
  }
}
