// EC2 filter wildcards (`*` any run, `?` one character, `\` escapes) as SQLite GLOB patterns,
// which are case-sensitive like EC2 filters. GLOB treats `[` specially, so literals are bracketed.
export function wildcardToGlob(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      out += `[${pattern[++i]}]`;
    } else if (c === '*' || c === '?') {
      out += c;
    } else if (c === '[' || c === ']') {
      out += `[${c}]`;
    } else {
      out += c;
    }
  }
  return out;
}
