// Condition operators of the IAM policy language, as AWS documents them: string, ARN, numeric,
// Bool and Null operators, their ...IfExists forms and the ForAnyValue / ForAllValues set
// qualifiers. How an absent key is treated follows the documentation: a positive operator does
// not match, a negated one (StringNotEquals, ...) does, IfExists matches, ForAllValues matches
// (every one of no values matches) and ForAnyValue does not.
import { iamWildcard } from './wildcard.ts';

type Base = 'StringEquals' | 'StringEqualsIgnoreCase' | 'StringLike' | 'ArnEquals' | 'ArnLike' | 'Bool' | 'Null'
  | 'NumericEquals' | 'NumericLessThan' | 'NumericLessThanEquals' | 'NumericGreaterThan' | 'NumericGreaterThanEquals';

export interface Condition {
  operator: string;
  base: Base;
  negated: boolean;
  ifExists: boolean;
  set?: 'any' | 'all';
  key: string;
  values: string[];
}

/** Condition keys of one request, for one resource. Key names are case-insensitive, as in IAM. */
export class ConditionContext {
  private readonly keys = new Map<string, { key: string; values: string[] }>();
  set(key: string, value: string | string[]): this {
    this.keys.set(key.toLowerCase(), { key, values: Array.isArray(value) ? value : [value] });
    return this;
  }
  get(key: string): string[] | undefined {
    return this.keys.get(key.toLowerCase())?.values;
  }
  entries(): [string, string[]][] {
    return [...this.keys.values()].map((e) => [e.key, e.values]);
  }
}

const POSITIVE = new Set<string>(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike', 'Bool', 'Null',
  'NumericEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals']);
const NEGATIONS: Record<string, Base> = {
  StringNotEquals: 'StringEquals', StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase', StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals', ArnNotLike: 'ArnLike', NumericNotEquals: 'NumericEquals',
};

/** One operator block (`"StringEquals": {"key": "value"}`) as one condition per key. */
export function parseCondition(operator: string, block: unknown): Condition[] {
  const m = /^(?:(ForAnyValue|ForAllValues):)?([A-Za-z]+?)(IfExists)?$/.exec(operator);
  const name = m?.[2] ?? '';
  const base = (NEGATIONS[name] ?? (POSITIVE.has(name) ? name : undefined)) as Base | undefined;
  if (!m || !base || (base === 'Null' && (m[3] || m[1]))) throw new Error(`unknown condition operator "${operator}"`);
  if (typeof block !== 'object' || block === null || Array.isArray(block)) throw new Error(`condition ${operator} must be an object of keys and values`);
  const out: Condition[] = [];
  for (const [key, raw] of Object.entries(block)) {
    const items = Array.isArray(raw) ? raw : [raw];
    if (!items.length) throw new Error(`condition ${operator} "${key}" has no values`);
    const values = items.map((v) => {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new Error(`condition ${operator} "${key}" has a value that is not a string`);
      return String(v);
    });
    if (base === 'Bool' || base === 'Null') {
      for (const v of values) if (!/^(true|false)$/i.test(v)) throw new Error(`condition ${operator} "${key}" must be "true" or "false", not "${v}"`);
    }
    out.push({
      operator, base, negated: name in NEGATIONS, ifExists: !!m[3], key,
      set: m[1] === 'ForAnyValue' ? 'any' : m[1] === 'ForAllValues' ? 'all' : undefined, values,
    });
  }
  return out;
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
      return actual.toLowerCase() === expected.toLowerCase();
    default: {
      const a = Number(actual);
      const e = Number(expected);
      if (Number.isNaN(a) || Number.isNaN(e)) return false;
      if (base === 'NumericLessThan') return a < e;
      if (base === 'NumericLessThanEquals') return a <= e;
      if (base === 'NumericGreaterThan') return a > e;
      if (base === 'NumericGreaterThanEquals') return a >= e;
      return a === e;
    }
  }
}

/** `variables`: the keys policy variables in the condition's values take their values from. */
export function conditionHolds(c: Condition, context: ConditionContext, variables?: ConditionContext): boolean {
  const actual = context.get(c.key);
  if (c.base === 'Null') return c.values.some((v) => (v.toLowerCase() === 'true') === (actual === undefined || !actual.length));
  if (actual === undefined || !actual.length) {
    if (c.ifExists || c.set === 'all') return true;
    return c.negated && c.set === undefined;
  }
  // A negated operator matches a value that matches none of the policy's values.
  const one = (v: string) => c.values.some((e) => matches(c.base, v, e, variables)) !== c.negated;
  if (c.set === 'all') return actual.every(one);
  if (c.set === 'any') return actual.some(one);
  // A single-valued operator given several values (a multivalued key used without a set
  // qualifier) matches as ForAnyValue would; negated, none of them may match.
  return c.negated ? actual.every(one) : actual.some(one);
}
