// Condition operators of the IAM policy language, as AWS documents them ("IAM JSON policy
// elements: Condition operators"), shared by identity policies and KMS key policies: String*,
// Arn*, Numeric*, Date*, Bool and Null, their ...IfExists forms and the ForAnyValue /
// ForAllValues set qualifiers.
//
// An absent key (or one with no values) follows the documentation: a positive operator does not
// match, a negated one (StringNotEquals, ...) does, IfExists matches, ForAllValues matches (every
// one of no values matches) and ForAnyValue does not. A negated operator applies its negation to
// each request value before the set qualifier combines them: ForAllValues:StringNotEquals means
// "no request value is one of these", ForAnyValue:StringNotEquals "some request value is not".
import type { ConditionContext } from './condition-context.ts';
import { iamWildcard } from './wildcard.ts';

const NUMERIC = ['NumericEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'] as const;
const DATE = ['DateEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'] as const;
const POSITIVE = ['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike', 'Bool', 'Null', ...NUMERIC, ...DATE] as const;
type Base = (typeof POSITIVE)[number];
const NEGATIONS: Record<string, Base> = {
  StringNotEquals: 'StringEquals', StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase', StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals', ArnNotLike: 'ArnLike', NumericNotEquals: 'NumericEquals', DateNotEquals: 'DateEquals',
};
const POSITIVE_SET = new Set<string>(POSITIVE);

export interface Condition {
  operator: string;
  base: Base;
  negated: boolean;
  ifExists: boolean;
  set?: 'any' | 'all';
  key: string;
  values: string[];
}

/** A condition block that is not valid; the message names the problem, for the caller to wrap. */
export class ConditionSyntaxError extends Error {}

function operatorParts(operator: string): { set?: 'any' | 'all'; name: string; ifExists: boolean } {
  let rest = operator;
  let set: 'any' | 'all' | undefined;
  if (rest.startsWith('ForAnyValue:')) set = 'any';
  else if (rest.startsWith('ForAllValues:')) set = 'all';
  if (set) rest = rest.slice(rest.indexOf(':') + 1);
  const ifExists = rest.endsWith('IfExists');
  return { set, name: ifExists ? rest.slice(0, -'IfExists'.length) : rest, ifExists };
}

/** One operator block (`"StringEquals": {"key": "value"}`) as one condition per key. */
export function parseCondition(operator: string, block: unknown): Condition[] {
  const { set, name, ifExists } = operatorParts(operator);
  // Own keys only: `constructor` must not pass for an operator.
  const negated = Object.hasOwn(NEGATIONS, name);
  const base = negated ? NEGATIONS[name] : POSITIVE_SET.has(name) ? (name as Base) : undefined;
  if (!base || (base === 'Null' && (ifExists || set))) throw new ConditionSyntaxError(`unknown condition operator "${operator}"`);
  if (typeof block !== 'object' || block === null || Array.isArray(block)) throw new ConditionSyntaxError(`condition ${operator} must be an object of keys and values`);
  const out: Condition[] = [];
  for (const [key, raw] of Object.entries(block)) {
    const items = Array.isArray(raw) ? raw : [raw];
    if (!items.length) throw new ConditionSyntaxError(`condition ${operator} "${key}" has no values`);
    const values = items.map((v) => {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ConditionSyntaxError(`condition ${operator} "${key}" has a value that is not a string`);
      return String(v);
    });
    if (base === 'Bool' || base === 'Null') {
      for (const v of values) if (!/^(true|false)$/i.test(v)) throw new ConditionSyntaxError(`condition ${operator} "${key}" must be "true" or "false", not "${v}"`);
    }
    out.push({ operator, base, negated, ifExists, set, key, values });
  }
  return out;
}

/** IAM dates: ISO 8601 (`2026-01-01T00:00:00Z`) or epoch seconds. NaN when neither. */
function parseDate(s: string): number {
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  return Date.parse(s);
}

const parseNumber = (s: string) => (s.trim() === '' ? NaN : Number(s));

function compare(base: string, a: number, e: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(e)) return false;
  if (base.endsWith('LessThanEquals')) return a <= e;
  if (base.endsWith('LessThan')) return a < e;
  if (base.endsWith('GreaterThanEquals')) return a >= e;
  if (base.endsWith('GreaterThan')) return a > e;
  return a === e;
}

function matches(base: Base, actual: string, expected: string, variables?: ConditionContext): boolean {
  switch (base) {
    case 'StringEquals':
    case 'ArnEquals':
      return iamWildcard(expected, actual, { wildcards: false, variables });
    case 'StringEqualsIgnoreCase':
      return iamWildcard(expected, actual, { wildcards: false, ignoreCase: true, variables });
    case 'StringLike':
    case 'ArnLike':
      return iamWildcard(expected, actual, { variables });
    case 'Bool':
    case 'Null':
      return actual.toLowerCase() === expected.toLowerCase();
    default:
      return base.startsWith('Date')
        ? compare(base, parseDate(actual), parseDate(expected))
        : compare(base, parseNumber(actual), parseNumber(expected));
  }
}

/** `variables`: the keys policy variables in the condition's values take their values from. */
export function conditionHolds(c: Condition, context: ConditionContext, variables?: ConditionContext): boolean {
  const actual = context.get(c.key);
  const absent = actual === undefined || !actual.length;
  if (c.base === 'Null') return c.values.some((v) => (v.toLowerCase() === 'true') === absent);
  if (absent) {
    if (c.ifExists || c.set === 'all') return true;
    return c.negated && c.set === undefined;
  }
  const one = (v: string) => c.values.some((e) => matches(c.base, v, e, variables)) !== c.negated;
  if (c.set === 'all') return actual.every(one);
  if (c.set === 'any') return actual.some(one);
  // A single-valued operator given several values (a multivalued key used without a set
  // qualifier) matches as ForAnyValue would; negated, none of them may match.
  return c.negated ? actual.every(one) : actual.some(one);
}
