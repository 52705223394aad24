// IAM's wildcards: `*` matches any run of characters (colons and slashes included), `?` any one
// character, and there is no escape character (unlike EC2 filters). Policy variables
// (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`) are replaced by the request's values,
// which match literally: a `*` in a user name is not a wildcard.
//
// No regular expressions: policies come from API callers (key policies) and from operators, and
// a pattern such as `a*a*a*...b` once made V8's backtracking stall the server. The matcher below
// retries only from the last star, so it costs at most text length × pattern length steps.
import type { ConditionContext } from './condition-context.ts';

/** One step of a compiled pattern: any run, any one character, or one literal code point. */
type Token = typeof STAR | typeof ONE | string;
const STAR = Symbol('*');
const ONE = Symbol('?');

export interface MatchOptions {
  ignoreCase?: boolean;
  /** `false` for exact comparison (StringEquals) with variables still substituted. */
  wildcards?: boolean;
  /** Substitutes policy variables from these keys; absent, `${...}` is literal text. */
  variables?: ConditionContext;
}

const compiled = new Map<string, Token[]>();
const CACHE_LIMIT = 5000;

/** A variable's value: `${key}` or `${key, 'default'}`; undefined when the key has none. */
function variableValue(body: string, context: ConditionContext): string | undefined {
  const comma = body.indexOf(',');
  const key = (comma < 0 ? body : body.slice(0, comma)).trim();
  if (!key || /\s/.test(key)) return undefined;
  let fallback: string | undefined;
  if (comma >= 0) {
    const rest = body.slice(comma + 1).trim();
    if (rest.length < 2 || !rest.startsWith("'") || !rest.endsWith("'") || rest.slice(1, -1).includes("'")) return undefined;
    fallback = rest.slice(1, -1);
  }
  return context.get(key)?.[0] ?? fallback;
}

/** The pattern's tokens, or undefined when a variable in it has no value (IAM: matches nothing). */
function compile(pattern: string, options: MatchOptions): Token[] | undefined {
  const { ignoreCase = false, wildcards = true, variables } = options;
  const tokens: Token[] = [];
  const literal = (s: string) => {
    for (const c of ignoreCase ? s.toLowerCase() : s) tokens.push(c);
  };
  for (let i = 0; i < pattern.length;) {
    if (variables && pattern.startsWith('${', i)) {
      const end = pattern.indexOf('}', i + 2);
      if (end >= 0) {
        const value = variableValue(pattern.slice(i + 2, end), variables);
        if (value === undefined) return undefined;
        literal(value);
        i = end + 1;
        continue;
      }
    }
    const c = String.fromCodePoint(pattern.codePointAt(i)!);
    i += c.length;
    if (wildcards && c === '*') {
      // A run of stars means the same as one; keeping one keeps retries from multiplying.
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
    } else if (wildcards && c === '?') tokens.push(ONE);
    else literal(c);
  }
  return tokens;
}

function tokensFor(pattern: string, options: MatchOptions): Token[] | undefined {
  if (options.variables && pattern.includes('${')) return compile(pattern, options);
  const key = `${options.ignoreCase ? 'i' : 's'}${options.wildcards === false ? 'e' : 'w'}${pattern}`;
  let tokens = compiled.get(key);
  if (!tokens) {
    tokens = compile(pattern, options)!;
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(key, tokens);
  }
  return tokens;
}

/** True when `text` as a whole matches the IAM `pattern`. */
export function iamWildcard(pattern: string, text: string, options: MatchOptions = {}): boolean {
  const p = tokensFor(pattern, options);
  if (!p) return false;
  const t = Array.from(options.ignoreCase ? text.toLowerCase() : text); // code points: `?` is one character
  let i = 0;
  let j = 0;
  let starJ = -1;
  let starI = 0;
  while (i < t.length) {
    const tok = p[j];
    if (tok === STAR) {
      starJ = j++;
      starI = i;
    } else if (tok !== undefined && (tok === ONE || tok === t[i])) {
      i++;
      j++;
    } else if (starJ >= 0) {
      // Let the last star swallow one more character and retry what follows it; earlier stars
      // never need revisiting, since the last one can absorb anything they would have.
      j = starJ + 1;
      i = ++starI;
    } else {
      return false;
    }
  }
  while (p[j] === STAR) j++;
  return j === p.length;
}
