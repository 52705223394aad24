// Index ranges for EC2 wildcard patterns. Every name a pattern such as `ubuntu/images/*` matches
// starts with its literal prefix, so `prefix <= name < successor(prefix)` narrows an index scan;
// the wildcard itself is still checked on each row. SQLite compares TEXT by its UTF-8 bytes,
// which order as code points do, so the successor is the prefix with its last code point + 1.

/** The literal text before a pattern's first unescaped `*` or `?` (`\` escapes, as the matcher). */
export function literalPrefix(pattern: string): string[] {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    let c = chars[i];
    if (c === '\\' && i + 1 < chars.length) c = chars[++i];
    else if (c === '*' || c === '?') break;
    // A lone surrogate has no UTF-8 form of its own; stop short of it.
    if (c.length === 1 && c.charCodeAt(0) >= 0xd800 && c.charCodeAt(0) <= 0xdfff) break;
    out.push(c);
  }
  return out;
}

/**
 * `[low, high)` containing every value that matches any of `patterns`, or undefined when they
 * share no literal prefix (then no range helps).
 */
export function wildcardRange(patterns: string[]): [string, string] | undefined {
  if (!patterns.length) return undefined;
  let common = literalPrefix(patterns[0]);
  for (const p of patterns.slice(1)) {
    const other = literalPrefix(p);
    let n = 0;
    while (n < common.length && n < other.length && common[n] === other[n]) n++;
    common = common.slice(0, n);
  }
  if (!common.length) return undefined;
  const last = common[common.length - 1].codePointAt(0)!;
  // U+D7FF's successor would be a surrogate; U+10FFFF has none. Neither occurs in AMI names.
  if (last === 0xd7ff || last === 0x10ffff) return undefined;
  return [common.join(''), common.slice(0, -1).join('') + String.fromCodePoint(last + 1)];
}
