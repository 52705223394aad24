// Semantic versions as Image Builder uses them: `major.minor.patch` (non-negative integers, each
// below 2^30) on the resources a user creates; version filters in ARNs may put `x` for any part
// from the left (`x.x.x`, `1.x.x`, `1.2.x`), and a build version adds `/build`.
import { Errors } from '../errors.ts';

export type SemVer = [number, number, number];

const MAX_PART = 2 ** 30;

/** Parses `1.2.3`; InvalidVersionNumberException when it is not one. */
export function parseSemVer(version: string, parameter = 'semanticVersion'): SemVer {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  const parts = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (!m || parts.some((p) => p >= MAX_PART) || m.slice(1).some((p) => p.length > 1 && p.startsWith('0'))) {
    throw Errors.ibInvalidVersionNumber(
      `The value supplied for parameter '${parameter}' is not a valid semantic version: ${version}. Use <major>.<minor>.<patch>, e.g. 1.0.0.`);
  }
  return parts as SemVer;
}

export function compareSemVer(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/**
 * Whether `version` matches a filter with `x` wildcards. Wildcards go from the right only, as
 * Image Builder accepts them: `1.x.3` is not a filter.
 */
export function matchesVersionFilter(filter: string, version: string): boolean {
  const f = filter.split('.');
  const v = version.split('.');
  return f.length === 3 && f.every((p, i) => p === 'x' || p === v[i]);
}

export function isValidVersionFilter(filter: string): boolean {
  return /^(\d+|x)\.(\d+|x)\.(\d+|x)$/.test(filter) && !/x\.\d|x\.x\.\d/.test(filter) && !/^x\.\d/.test(filter);
}

/** The newest of `versions` matching `filter` (`x` wildcards), if any. */
export function newestMatching(filter: string, versions: string[]): string | undefined {
  return versions.filter((v) => matchesVersionFilter(filter, v)).sort(compareSemVer).at(-1);
}
