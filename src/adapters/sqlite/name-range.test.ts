import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesWildcard } from '../../domain/filters.ts';
import { literalPrefix, wildcardRange } from './name-range.ts';

/** SQLite's BINARY collation: UTF-8 bytes compared as memcmp does. */
const sqliteLess = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')) < 0;

test('the literal prefix stops at the first unescaped wildcard and unescapes', () => {
  assert.deepEqual(literalPrefix('ubuntu/images/*').join(''), 'ubuntu/images/');
  assert.deepEqual(literalPrefix('al2023-ami-?.*').join(''), 'al2023-ami-');
  assert.deepEqual(literalPrefix('a\\*b*').join(''), 'a*b');
  assert.deepEqual(literalPrefix('a\\?b?').join(''), 'a?b');
  assert.deepEqual(literalPrefix('ends\\').join(''), 'ends\\');
  assert.deepEqual(literalPrefix('*anything').join(''), '');
  assert.deepEqual(literalPrefix('exact').join(''), 'exact');
  assert.deepEqual(literalPrefix('x\u{1F600}y*'), ['x', '\u{1F600}', 'y']);
  assert.deepEqual(literalPrefix('ab\uD800cd').join(''), 'ab');
});

test('the range is the common prefix and its successor, or none', () => {
  assert.deepEqual(wildcardRange(['bench-00042?']), ['bench-00042', 'bench-00043']);
  assert.deepEqual(wildcardRange(['app-1*', 'app-2*']), ['app-', 'app.']);
  assert.equal(wildcardRange(['a*', 'b*']), undefined);
  assert.equal(wildcardRange(['*x']), undefined);
  assert.equal(wildcardRange([]), undefined);
  assert.deepEqual(wildcardRange(['x\u{1F600}*']), ['x\u{1F600}', 'x\u{1F601}']);
});

test('every name a pattern matches lies inside its range (seeded random check)', () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const alphabet = ['a', 'b', 'z', '-', '.', '~', 'é', '\u{1F600}', '\u07FF', '\u0800', '\uFFFD'];
  const word = (len: number) => Array.from({ length: len }, () => alphabet[rand(alphabet.length)]).join('');
  let inRange = 0;
  for (let k = 0; k < 10000; k++) {
    const name = word(1 + rand(6));
    // Patterns made from the name (so that many match) or at random.
    const chars = Array.from(name);
    const cut = rand(chars.length + 1);
    const patterns = [
      chars.slice(0, cut).join('') + (rand(2) ? '*' : chars.slice(cut).map(() => '?').join('')),
      rand(2) ? word(1 + rand(3)) + '*' : chars.slice(0, cut).join('') + '*',
    ].slice(0, 1 + rand(2));
    const range = wildcardRange(patterns);
    if (!patterns.some((p) => matchesWildcard(p, name)) || !range) continue;
    const [low, high] = range;
    assert.ok(!sqliteLess(name, low) && sqliteLess(name, high), `${JSON.stringify(name)} outside ${JSON.stringify(range)} for ${JSON.stringify(patterns)}`);
    inRange++;
  }
  assert.ok(inRange > 1000, `only ${inRange} matching cases checked`);
});
