import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCopySchedules, ScheduleConfigError } from './schedule-spec.ts';
import { nextRunAfter, parseEvery } from './schedule-timing.ts';

const base = {
  name: 'golden-dr', account: '111111111111', sourceRegion: 'us-east-1', destinationRegions: ['us-west-2'],
  image: { owners: ['self'], filters: [{ Name: 'name', Values: ['golden-*'] }] }, cron: '0 2 * * *', keep: 3,
};
const parse = (over: Record<string, unknown>, options = {}) => parseCopySchedules(JSON.stringify({ schedules: [{ ...base, ...over }] }), options);
const rejects = (over: Record<string, unknown>, message: RegExp, options = {}) =>
  assert.throws(() => parse(over, options), (err: Error) => err instanceof ScheduleConfigError && message.test(err.message), `expected ${message}`);

test('a valid schedule parses into a frozen spec', () => {
  const [s] = parse({ every: '1h30m', encrypted: true, kmsKeyId: 'alias/dr', copyImageTags: true });
  assert.equal(s.name, 'golden-dr');
  assert.equal(s.everyMs, 90 * 60_000);
  assert.equal(s.cron?.expression, '0 2 * * *');
  assert.deepEqual(s.source, { owners: ['self'], filters: [{ Name: 'name', Values: ['golden-*'] }] });
  assert.ok(Object.isFrozen(s));
  assert.deepEqual(parse({ image: { imageId: 'ami-0123456789abcdef0' } })[0].source, { imageId: 'ami-0123456789abcdef0' });
});

test('each mistake names the schedule and the field', () => {
  assert.throws(() => parseCopySchedules('{'), /not valid JSON/);
  assert.throws(() => parseCopySchedules('[]'), /"schedules"/);
  rejects({ name: 'has space' }, /schedules\[0\]\.name/);
  rejects({ account: '12' }, /schedule "golden-dr": account: required, a 12-digit/);
  rejects({ account: '999999999999' }, /999999999999 is not in the accounts file/, { isKnownAccount: (id: string) => id === '111111111111' });
  rejects({ sourceRegion: 'mars-1' }, /sourceRegion: "mars-1" is not a region/);
  rejects({ destinationRegions: [] }, /destinationRegions: required/);
  rejects({ destinationRegions: ['us-west-2', 'us-west-2'] }, /listed twice/);
  rejects({ cron: undefined }, /cron\/every: give a cron expression/);
  rejects({ cron: '61 * * * *' }, /cron: "61 \* \* \* \*" is not a cron expression/);
  rejects({ every: '10 minutes' }, /every: "10 minutes" is not an interval/);
  rejects({ every: '500ms' }, /shorter than the 1s minimum/);
  rejects({ keep: 0 }, /keep: required, a whole number from 1/);
  rejects({ keep: 2.5 }, /keep/);
  rejects({ kmsKeyId: 'alias/dr' }, /kmsKeyId: requires "encrypted": true/);
  rejects({ encrypted: 'yes' }, /encrypted: expected true or false/);
  rejects({ kepe: 3 }, /kepe: unknown field/);
  rejects({ image: undefined }, /image: required/);
  rejects({ image: { imageId: 'ami-0123456789abcdef0', filters: [] } }, /either imageId or owners\/filters/);
  rejects({ image: { imageId: 'img-1' } }, /image\.imageId: "img-1" is not an image id/);
  rejects({ image: { filters: [{ Name: 'colour', Values: ['x'] }] } }, /"colour" is not a DescribeImages filter/);
  rejects({ image: { owners: ['someone'], filters: [{ Name: 'name', Values: ['x'] }] } }, /image\.owners/);
  rejects({ image: { owners: ['self'] } }, /image\.filters: required/);
  assert.throws(() => parseCopySchedules(JSON.stringify({ schedules: [base, base] })), /"golden-dr" is used twice/);
});

test('intervals and the next run', () => {
  assert.equal(parseEvery('30s'), 30_000);
  assert.equal(parseEvery('1d'), 86_400_000);
  assert.throws(() => parseEvery('24'), /not an interval/);
  assert.throws(() => parseEvery(''), /not an interval/);
  const [s] = parse({ every: '6h' });
  // 02:00 UTC daily, or 6 h after the last run, whichever comes first.
  assert.equal(nextRunAfter(s, new Date('2026-01-01T01:00:00Z'))!.toISOString(), '2026-01-01T02:00:00.000Z');
  assert.equal(nextRunAfter(s, new Date('2026-01-01T03:00:00Z'))!.toISOString(), '2026-01-01T09:00:00.000Z');
  const [c] = parse({ cron: '*/10 * * * * *' });
  assert.equal(nextRunAfter(c, new Date('2026-01-01T00:00:05Z'))!.toISOString(), '2026-01-01T00:00:10.000Z');
});
