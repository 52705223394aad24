// EC2's generic filter semantics, shared by every Describe* operation: filters AND together,
// values of one filter OR together, values may use `*` and `?` wildcards (`\` escapes), and
// matching is case-sensitive. Each resource supplies a map from filter name to its values.
import type { Filter, Tag } from '../protocol/ec2/types.generated.ts';
import { Errors } from './errors.ts';

export type FilterValue = string | number | boolean | undefined | null;
/** For each filter name, the resource's values under that name (several for lists). */
export type FilterMap<T> = Record<string, (item: T) => FilterValue | FilterValue[]>;

/** One step of a compiled wildcard pattern: `*` (any run), `?` (any one character) or a literal. */
type Token = { star: true } | { star: false; any: boolean; char: string };

const STAR: Token = { star: true };
const ANY: Token = { star: false, any: true, char: '' };
const patternCache = new Map<string, Token[]>();

function compile(pattern: string): Token[] {
  let tokens = patternCache.get(pattern);
  if (tokens) return tokens;
  tokens = [];
  const chars = Array.from(pattern); // code points, so `?` matches one character, not half a surrogate pair
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\' && i + 1 < chars.length) tokens.push({ star: false, any: false, char: chars[++i] });
    else if (c === '*') {
      // A run of stars means the same as one; keeping one keeps matching linear.
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
    } else if (c === '?') tokens.push(ANY);
    else tokens.push({ star: false, any: false, char: c });
  }
  if (patternCache.size > 10_000) patternCache.clear();
  patternCache.set(pattern, tokens);
  return tokens;
}

/**
 * True when `text` matches the EC2 wildcard `pattern` as a whole. Not a RegExp: a pattern such as
 * `*a*a*a...*b` made V8's backtracking take exponential time, and one request could stall the
 * server. This is the classic greedy matcher that retries only from the last star, which costs
 * at most O(text length squared + pattern length) whatever the pattern.
 */
export function matchesWildcard(pattern: string, text: string): boolean {
  const p = compile(pattern);
  const t = Array.from(text);
  let i = 0;
  let j = 0;
  let starJ = -1;
  let starI = 0;
  while (i < t.length) {
    const tok = p[j];
    if (tok !== undefined && !tok.star && (tok.any || tok.char === t[i])) {
      i++;
      j++;
    } else if (tok !== undefined && tok.star) {
      starJ = j++;
      starI = i;
    } else if (starJ >= 0) {
      j = starJ + 1;
      i = ++starI;
    } else {
      return false;
    }
  }
  while (j < p.length && p[j].star) j++;
  return j === p.length;
}

export function matchesAny(values: FilterValue[], patterns: string[]): boolean {
  for (const v of values) {
    if (v === undefined || v === null) continue;
    const text = String(v);
    for (const p of patterns) if (matchesWildcard(p, text)) return true;
  }
  return false;
}

/** AWS's cap on filter values in one call; past it EC2 answers FilterLimitExceeded. */
export const MAX_FILTER_VALUES = 200;

/** Filters with names and at least one value, or AWS's error for a malformed one. */
export function normalizeFilters(filters: Filter[] | undefined): { name: string; values: string[] }[] {
  const out = (filters ?? []).map((f) => {
    if (!f.Name) throw Errors.missingParameter('Filter.N.Name');
    return { name: f.Name, values: f.Values ?? [] };
  });
  // Unbounded filters reached the store as unbounded SQL (SQLite refused with "Expression tree
  // is too large", a 500). A filter given without values still costs a clause, so it counts as one.
  const count = out.reduce((n, f) => n + Math.max(1, f.values.length), 0);
  if (count > MAX_FILTER_VALUES) throw Errors.filterLimitExceeded(MAX_FILTER_VALUES);
  return out;
}

/** Throws AWS's InvalidParameterValue for a filter name this resource does not know. */
export function checkFilterNames<T>(filters: { name: string }[], map: FilterMap<T>): void {
  for (const f of filters) {
    if (f.name.startsWith('tag:') || f.name === 'tag-key' || f.name === 'tag-value') continue;
    // Own names only: `in` also found Object.prototype's, so `constructor` passed as a filter
    // and `__proto__` was then called as one (a 500).
    if (!Object.hasOwn(map, f.name)) throw Errors.invalidFilter(f.name);
  }
}

/** True when `item` (with the caller's `tags` on it) passes every filter. */
export function matchesFilters<T>(item: T, tags: Tag[], filters: { name: string; values: string[] }[], map: FilterMap<T>): boolean {
  for (const f of filters) {
    let values: FilterValue[];
    if (f.name.startsWith('tag:')) {
      const key = f.name.slice(4);
      values = tags.filter((t) => t.Key === key).map((t) => t.Value ?? '');
    } else if (f.name === 'tag-key') {
      values = tags.map((t) => t.Key);
    } else if (f.name === 'tag-value') {
      values = tags.map((t) => t.Value);
    } else {
      const v = map[f.name](item);
      values = Array.isArray(v) ? v : [v];
    }
    if (!matchesAny(values, f.values)) return false;
  }
  return true;
}
