// IAM's wildcards: `*` matches any run of characters (colons and slashes included), `?` any one
// character. Unlike EC2 filters there is no escape character.
const compiled = new Map<string, RegExp>();

export function iamWildcard(pattern: string, text: string, ignoreCase = false): boolean {
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = compiled.get(cacheKey);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
    if (compiled.size > 5000) compiled.clear();
    compiled.set(cacheKey, re);
  }
  return re.test(text);
}
