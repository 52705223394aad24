// EC2's generic filter semantics, shared by every Describe* operation: filters AND together,
// values of one filter OR together, values may use `*` and `?` wildcards (`\` escapes), and
// matching is case-sensitive. Each resource supplies a map from filter name to its values.
import type { Filter, Tag } from '../protocol/ec2/types.generated.ts';
import { Errors } from './errors.ts';

export type FilterValue = string | number | boolean | undefined | null;
/** For each filter name, the resource's values under that name (several for lists). */
export type FilterMap<T> = Record<string, (item: T) => FilterValue | FilterValue[]>;

const patternCache = new Map<string, RegExp>();

export function wildcardRegExp(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (re) return re;
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) src += escapeRegExp(pattern[++i]);
    else if (c === '*') src += '[\\s\\S]*';
    else if (c === '?') src += '[\\s\\S]';
    else src += escapeRegExp(c);
  }
  re = new RegExp(`^${src}$`, 'u');
  if (patternCache.size > 10_000) patternCache.clear();
  patternCache.set(pattern, re);
  return re;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function matchesAny(values: FilterValue[], patterns: string[]): boolean {
  for (const v of values) {
    if (v === undefined || v === null) continue;
    const text = String(v);
    for (const p of patterns) if (wildcardRegExp(p).test(text)) return true;
  }
  return false;
}

/** Filters with names and at least one value, or AWS's error for a malformed one. */
export function normalizeFilters(filters: Filter[] | undefined): { name: string; values: string[] }[] {
  return (filters ?? []).map((f) => {
    if (!f.Name) throw Errors.missingParameter('Filter.N.Name');
    return { name: f.Name, values: f.Values ?? [] };
  });
}

/** Throws AWS's InvalidParameterValue for a filter name this resource does not know. */
export function checkFilterNames<T>(filters: { name: string }[], map: FilterMap<T>): void {
  for (const f of filters) {
    if (f.name.startsWith('tag:') || f.name === 'tag-key' || f.name === 'tag-value') continue;
    if (!(f.name in map)) throw Errors.invalidFilter(f.name);
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
