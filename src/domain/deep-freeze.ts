// Freezes an object and everything it holds, for values shared between callers: nothing can
// change them in place, and whoever keeps something derived from one (its XML) may rely on that.
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
