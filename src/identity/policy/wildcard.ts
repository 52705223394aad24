// IAM's wildcards: `*` matches any run of characters (colons and slashes included), `?` any one
// character. Unlike EC2 filters there is no escape character. Policy variables (`${aws:username}`,
// `${aws:PrincipalTag/team, 'none'}`) in a Version 2012-10-17 policy are replaced by the request's
// values, which match literally: a `*` in a user name is not a wildcard.
import type { ConditionContext } from './conditions.ts';

const compiled = new Map<string, RegExp>();
const VARIABLE = /\$\{([^}]*)\}/g;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const wildcardSource = (s: string, wildcards: boolean) =>
  wildcards ? s.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') : escapeRegex(s);

/** A variable's value: `${key}` or `${key, 'default'}`; undefined when the key has none. */
function variableValue(body: string, context: ConditionContext): string | undefined {
  const m = /^\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?$/.exec(body);
  if (!m) return undefined;
  return context.get(m[1])?.[0] ?? m[2];
}

/**
 * The regular expression source for an IAM pattern, or undefined when a variable in it has no
 * value (the element then matches nothing, as in IAM).
 */
function patternSource(pattern: string, wildcards: boolean, context?: ConditionContext): string | undefined {
  if (!context || !pattern.includes('${')) return wildcardSource(pattern, wildcards);
  let out = '';
  let last = 0;
  for (const m of pattern.matchAll(VARIABLE)) {
    const value = variableValue(m[1], context);
    if (value === undefined) return undefined;
    out += wildcardSource(pattern.slice(last, m.index), wildcards) + escapeRegex(value);
    last = m.index + m[0].length;
  }
  return out + wildcardSource(pattern.slice(last), wildcards);
}

export interface MatchOptions {
  ignoreCase?: boolean;
  /** `false` for exact comparison (StringEquals) with variables still substituted. */
  wildcards?: boolean;
  /** Substitutes policy variables from these keys; absent, `${...}` is literal text. */
  variables?: ConditionContext;
}

export function iamWildcard(pattern: string, text: string, options: MatchOptions = {}): boolean {
  const { ignoreCase = false, wildcards = true, variables } = options;
  const dynamic = !!variables && pattern.includes('${');
  const cacheKey = `${ignoreCase ? 'i' : 's'}${wildcards ? 'w' : 'e'}${pattern}`;
  let re = dynamic ? undefined : compiled.get(cacheKey);
  if (!re) {
    const source = patternSource(pattern, wildcards, variables);
    if (source === undefined) return false;
    re = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    if (!dynamic) {
      if (compiled.size > 5000) compiled.clear();
      compiled.set(cacheKey, re);
    }
  }
  return re.test(text);
}
