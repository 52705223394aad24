// EC2 wildcard patterns (`*` any run, `?` any one character, `\` escapes the next character) as
// PostgreSQL LIKE patterns (escape character `\`), so name and tag-value filters run in SQL with
// the same meaning as the domain's matchesWildcard. In a UTF8 database `_` matches one code
// point, as `?` does in the domain's matcher; a trailing lone `\` is a literal backslash there.
export function wildcardToLike(pattern: string): string {
  const chars = Array.from(pattern);
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    let c = chars[i];
    if (c === '\\' && i + 1 < chars.length) c = chars[++i];
    else if (c === '*') { out += '%'; continue; }
    else if (c === '?') { out += '_'; continue; }
    out += c === '%' || c === '_' || c === '\\' ? `\\${c}` : c;
  }
  return out;
}
