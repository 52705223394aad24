// EC2 wildcards translated to LIKE must decide exactly as the domain's matcher does, on the
// database itself: escapes, LIKE's own metacharacters as literals, code points, empty strings.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesWildcard } from '../../domain/filters.ts';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.ts';
import { PgDatabase } from './pg-database.ts';
import { wildcardToLike } from './pg-wildcard.ts';

let pg: TestPostgres;
let db: PgDatabase;
before(async () => { pg = await startPostgres(); db = new PgDatabase(await pg.createDatabase()); });
after(async () => { await db?.close(); await pg?.stop(); });

const PATTERNS = ['', '*', '?', 'a*', '*a', 'a?c', 'a\\*c', 'a\\?c', 'a\\\\c', 'a\\', '50%', '50%*', 'a_c', '*_*', 'x\\%', '\\',
  '**', 'é?', '😀?', '?😀', 'ubuntu/images/*', 'a*b*c', 'A*'];
const TEXTS = ['', 'a', 'abc', 'a*c', 'a?c', 'a\\c', 'a\\', '50%', '50%off', '500', 'a_c', 'abc_', 'x%', 'x\\%', '\\',
  'éa', 'é😀', '😀x', 'x😀', 'ubuntu/images/hvm', 'ubuntu/image', 'aXbYc', 'abc\n', 'ABC'];

test('LIKE with the translated pattern matches exactly what matchesWildcard matches', async () => {
  const pairs = PATTERNS.flatMap((p) => TEXTS.map((t) => [p, t] as const));
  const rows = await db.query<{ n: number; m: boolean }>(`SELECT n::int, t COLLATE "C" LIKE p AS m
    FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(p, t, n) ORDER BY n`,
  [pairs.map(([p]) => wildcardToLike(p)), pairs.map(([, t]) => t)]);
  const mismatches = rows.filter((r) => r.m !== matchesWildcard(pairs[r.n - 1]![0], pairs[r.n - 1]![1]))
    .map((r) => `${JSON.stringify(pairs[r.n - 1])} LIKE says ${r.m}`);
  assert.deepEqual(mismatches, []);
  assert.equal(rows.length, pairs.length);
});
