import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IbRecord } from '../../../ports/imagebuilder-repository.ts';
import { page } from './list-pages.ts';

const rec = (arn: string, createdAt: string) => ({ arn, createdAt }) as IbRecord;

test('records of one millisecond page in the store order (insertion), none repeated or skipped', () => {
  const t = '2026-01-01T00:00:00.000Z';
  const records = [rec('arn:c', t), rec('arn:a', t), rec('arn:b', t)];
  const first = page(records, undefined, 1);
  const second = page(records, first.nextToken, 1);
  const third = page(records, second.nextToken, 1);
  assert.deepEqual([...first.items, ...second.items, ...third.items].map((r) => r.arn), ['arn:c', 'arn:a', 'arn:b']);
  assert.equal(third.nextToken, undefined);
});

test('a page resumes after its last record even when that record was deleted since', () => {
  const records = [rec('arn:1', '2026-01-01T00:00:01Z'), rec('arn:2', '2026-01-01T00:00:02Z'), rec('arn:3', '2026-01-01T00:00:03Z')];
  const first = page(records, undefined, 2);
  assert.deepEqual(page([records[0], records[2]], first.nextToken, 2).items.map((r) => r.arn), ['arn:3']);
});
