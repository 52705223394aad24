import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServiceError } from '../../errors.ts';
import { parseScheduleExpression } from './schedule-expression.ts';

/** The next `n` times after `after` (ISO strings). */
function runs(expression: string, after: string, n = 3, timezone?: string): string[] {
  const timing = parseScheduleExpression(expression, timezone);
  const out: string[] = [];
  let t: Date | undefined = new Date(after);
  for (let i = 0; i < n && t; i++) {
    t = timing.next(t);
    if (t) out.push(t.toISOString());
  }
  return out;
}

function rejects(expression: string, fragment: RegExp, timezone?: string): void {
  assert.throws(() => parseScheduleExpression(expression, timezone), (err: unknown) => {
    assert.ok(err instanceof ServiceError);
    assert.equal(err.code, 'InvalidParameterValueException');
    assert.match(err.message, fragment);
    return true;
  });
}

// 2026-03-01 is a Sunday.
const SUNDAY = '2026-03-01T00:00:00Z';

describe('cron expressions as Image Builder documents them', () => {
  test('the documented examples', () => {
    assert.deepEqual(runs('cron(0 10 * * ? *)', SUNDAY, 2), ['2026-03-01T10:00:00.000Z', '2026-03-02T10:00:00.000Z']);
    assert.deepEqual(runs('cron(15 12 * * ? *)', SUNDAY, 1), ['2026-03-01T12:15:00.000Z']);
    assert.deepEqual(runs('cron(0 0 * * ? *)', SUNDAY, 1), ['2026-03-02T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 18 ? * mon-fri *)', SUNDAY, 2), ['2026-03-02T18:00:00.000Z', '2026-03-03T18:00:00.000Z']);
    assert.deepEqual(runs('cron(0 8 1 * ? *)', SUNDAY, 2), ['2026-03-01T08:00:00.000Z', '2026-04-01T08:00:00.000Z']);
    assert.deepEqual(runs('cron(30 22 ? * tue#2 *)', SUNDAY, 2), ['2026-03-10T22:30:00.000Z', '2026-04-14T22:30:00.000Z']);
  });

  test('weekday numbers run 1-7 from Sunday, as SUN-SAT', () => {
    assert.deepEqual(runs('cron(0 0 ? * 1 *)', '2026-03-02T00:00:00Z', 1), ['2026-03-08T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 ? * 7 *)', SUNDAY, 1), ['2026-03-07T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 10 ? * 2-6 *)', SUNDAY, 5).map((d) => new Date(d).getUTCDay()), [1, 2, 3, 4, 5]);
    assert.deepEqual(runs('cron(0 0 ? * SAT,sun *)', SUNDAY, 3), ['2026-03-07T00:00:00.000Z', '2026-03-08T00:00:00.000Z', '2026-03-14T00:00:00.000Z']);
  });

  test('ranges, lists and steps', () => {
    assert.deepEqual(runs('cron(*/20 * * * ? *)', SUNDAY, 3), ['2026-03-01T00:20:00.000Z', '2026-03-01T00:40:00.000Z', '2026-03-01T01:00:00.000Z']);
    assert.deepEqual(runs('cron(5/20 * * * ? *)', SUNDAY, 3), ['2026-03-01T00:05:00.000Z', '2026-03-01T00:25:00.000Z', '2026-03-01T00:45:00.000Z']);
    assert.deepEqual(runs('cron(0 9-17/4 * * ? *)', SUNDAY, 3), ['2026-03-01T09:00:00.000Z', '2026-03-01T13:00:00.000Z', '2026-03-01T17:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 1,15 * ? *)', SUNDAY, 3), ['2026-03-15T00:00:00.000Z', '2026-04-01T00:00:00.000Z', '2026-04-15T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 1 jan,jul ? *)', SUNDAY, 2), ['2026-07-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 */2 * ? *)', SUNDAY, 2), ['2026-03-03T00:00:00.000Z', '2026-03-05T00:00:00.000Z']);
  });

  test('L, W and # in the day fields', () => {
    assert.deepEqual(runs('cron(0 0 L * ? *)', SUNDAY, 3), ['2026-03-31T00:00:00.000Z', '2026-04-30T00:00:00.000Z', '2026-05-31T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 L 2 ? *)', SUNDAY, 2), ['2027-02-28T00:00:00.000Z', '2028-02-29T00:00:00.000Z']);
    // 2026-03-14 is a Saturday: 14W is Friday the 13th; 2026-02-01 a Sunday: 1W is Monday the 2nd.
    assert.deepEqual(runs('cron(0 0 14W 3 ? *)', '2026-01-01T00:00:00Z', 1), ['2026-03-13T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 1W 2 ? *)', '2026-01-01T00:00:00Z', 1), ['2026-02-02T00:00:00.000Z']);
    // The last weekday of May 2026 (the 31st is a Sunday) is Friday the 29th.
    assert.deepEqual(runs('cron(0 0 LW 5 ? *)', SUNDAY, 1), ['2026-05-29T00:00:00.000Z']);
    // The last Friday (6L), the second and fourth Saturday (Image Builder's `sat#2,4`).
    assert.deepEqual(runs('cron(0 0 ? * 6L *)', SUNDAY, 2), ['2026-03-27T00:00:00.000Z', '2026-04-24T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 ? * sat#2,4 *)', SUNDAY, 3), ['2026-03-14T00:00:00.000Z', '2026-03-28T00:00:00.000Z', '2026-04-11T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 ? * MON#1,FRI#3 *)', SUNDAY, 2), ['2026-03-02T00:00:00.000Z', '2026-03-20T00:00:00.000Z']);
    // L alone in day-of-week is the week's last day, 7 (Saturday).
    assert.deepEqual(runs('cron(0 0 ? * L *)', SUNDAY, 1), ['2026-03-07T00:00:00.000Z']);
  });

  test('the year field', () => {
    assert.deepEqual(runs('cron(0 0 1 1 ? 2030)', SUNDAY, 2), ['2030-01-01T00:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 1 1 ? 2028-2032/2)', SUNDAY, 4), ['2028-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z', '2032-01-01T00:00:00.000Z']);
  });

  test('next is strictly after the given time', () => {
    assert.deepEqual(runs('cron(0 10 * * ? *)', '2026-03-01T10:00:00Z', 1), ['2026-03-02T10:00:00.000Z']);
  });
});

describe('time zones', () => {
  test('UTC by default; an IANA zone moves the wall-clock time', () => {
    assert.deepEqual(runs('cron(0 10 * * ? *)', SUNDAY, 1, 'Etc/UTC'), ['2026-03-01T10:00:00.000Z']);
    assert.deepEqual(runs('cron(0 10 * * ? *)', SUNDAY, 1, 'America/Los_Angeles'), ['2026-03-01T18:00:00.000Z']);
    assert.deepEqual(runs('cron(0 10 * * ? *)', SUNDAY, 1, 'Asia/Kolkata'), ['2026-03-01T04:30:00.000Z']);
    assert.deepEqual(runs('cron(0 10 * * ? *)', SUNDAY, 1, 'Europe/Berlin'), ['2026-03-01T09:00:00.000Z']);
  });

  test('the day fields are read in the zone, not in UTC', () => {
    // 23:30 on Sunday in Los Angeles is Monday 07:30 UTC.
    assert.deepEqual(runs('cron(30 23 ? * SUN *)', SUNDAY, 1, 'America/Los_Angeles'), ['2026-03-02T07:30:00.000Z']);
  });

  test('DST: the same wall-clock time across the change moves in UTC', () => {
    // New York springs forward on 2026-03-08 and falls back on 2026-11-01.
    assert.deepEqual(runs('cron(0 10 * * ? *)', '2026-03-07T00:00:00Z', 2, 'America/New_York'), ['2026-03-07T15:00:00.000Z', '2026-03-08T14:00:00.000Z']);
    assert.deepEqual(runs('cron(0 10 * * ? *)', '2026-10-31T00:00:00Z', 2, 'America/New_York'), ['2026-10-31T14:00:00.000Z', '2026-11-01T15:00:00.000Z']);
  });

  test('DST: a time in the spring gap runs once, just after the gap', () => {
    // 02:30 does not exist on 2026-03-08 in New York: it runs at 03:00 EDT (07:00 UTC).
    assert.deepEqual(runs('cron(30 2 * * ? *)', '2026-03-07T12:00:00Z', 2, 'America/New_York'), ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  test('DST: a time repeated in the autumn runs once, at its first occurrence', () => {
    // 01:30 happens twice on 2026-11-01 in New York (05:30 and 06:30 UTC).
    assert.deepEqual(runs('cron(30 1 * * ? *)', '2026-10-31T12:00:00Z', 2, 'America/New_York'), ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  test('DST in Europe and in the southern hemisphere', () => {
    // London moves to BST on 2026-03-29: 09:00 local is 09:00 UTC before, 08:00 UTC after.
    assert.deepEqual(runs('cron(0 9 * * ? *)', '2026-03-28T00:00:00Z', 2, 'Europe/London'), ['2026-03-28T09:00:00.000Z', '2026-03-29T08:00:00.000Z']);
    // Sydney leaves daylight time early on 2026-04-05 (UTC+11 to UTC+10) and starts it early on
    // 2026-10-04: 06:00 local on those days is already in the new offset.
    assert.deepEqual(runs('cron(0 6 * * ? *)', '2026-04-03T12:00:00Z', 3, 'Australia/Sydney'), ['2026-04-03T19:00:00.000Z', '2026-04-04T20:00:00.000Z', '2026-04-05T20:00:00.000Z']);
    assert.deepEqual(runs('cron(0 6 * * ? *)', '2026-10-02T12:00:00Z', 3, 'Australia/Sydney'), ['2026-10-02T20:00:00.000Z', '2026-10-03T19:00:00.000Z', '2026-10-04T19:00:00.000Z']);
  });

  test('a weekly schedule in a zone keeps its weekday across DST', () => {
    // Every Monday 08:00 in New York, across the spring change (2026-03-08).
    const mondays = runs('cron(0 8 ? * MON *)', '2026-03-01T00:00:00Z', 3, 'America/New_York');
    assert.deepEqual(mondays, ['2026-03-02T13:00:00.000Z', '2026-03-09T12:00:00.000Z', '2026-03-16T12:00:00.000Z']);
  });

  test('Etc zones and fixed offsets', () => {
    assert.deepEqual(runs('cron(0 0 * * ? *)', SUNDAY, 1, 'Etc/GMT+5'), ['2026-03-01T05:00:00.000Z']);
    assert.deepEqual(runs('cron(0 0 * * ? *)', SUNDAY, 1, 'Asia/Kathmandu'), ['2026-03-01T18:15:00.000Z']);
  });

  test('an unknown zone is refused', () => {
    rejects('cron(0 10 * * ? *)', /schedule\.timezone.*Mars\/Olympus/, 'Mars/Olympus');
  });
});

describe('rate expressions', () => {
  test('count from the anchor', () => {
    const timing = parseScheduleExpression('rate(2 hours)', 'UTC', new Date('2026-03-01T00:10:00Z'));
    assert.equal(timing.next(new Date('2026-03-01T00:00:00Z'))?.toISOString(), '2026-03-01T02:10:00.000Z');
    assert.equal(timing.next(new Date('2026-03-01T02:10:00Z'))?.toISOString(), '2026-03-01T04:10:00.000Z');
    assert.equal(timing.next(new Date('2026-03-01T05:00:00Z'))?.toISOString(), '2026-03-01T06:10:00.000Z');
    const daily = parseScheduleExpression('rate(1 day)', 'UTC', new Date('2026-03-01T00:00:00Z'));
    assert.equal(daily.next(new Date('2026-03-01T00:00:00Z'))?.toISOString(), '2026-03-02T00:00:00.000Z');
  });

  test('bad rates', () => {
    rejects('rate(0 minutes)', /positive/);
    rejects('rate(1 minutes)', /rate\(1 minute\)/);
    rejects('rate(5 minute)', /rate\(5 minutes\)/);
    rejects('rate(5 seconds)', /minute\(s\), hour\(s\) or day\(s\)/);
  });
});

describe('invalid expressions answer InvalidParameterValueException naming the problem', () => {
  test('shape', () => {
    rejects('0 10 * * ? *', /neither cron\(.*\) nor rate/);
    rejects('cron(0 10 * * ?)', /six fields.*has 5/);
    rejects('cron(0 0 10 * * ? *)', /six fields.*has 7/);
    rejects('cron( 0 10 * * ? *)', /single spaces/);
    rejects('cron(0  10 * * ? *)', /single spaces/);
  });

  test('the two day fields', () => {
    rejects('cron(0 10 * * * *)', /exactly one of day-of-month.*day-of-week/);
    rejects('cron(0 10 ? * ? *)', /exactly one of day-of-month/);
    rejects('cron(0 10 1 * MON *)', /exactly one of day-of-month/);
  });

  test('values out of range', () => {
    rejects('cron(60 10 * * ? *)', /60 is out of range for the minute field \(0-59\)/);
    rejects('cron(0 24 * * ? *)', /24 is out of range for the hour field/);
    rejects('cron(0 0 0 * ? *)', /0 is out of range for the day-of-month field \(1-31\)/);
    rejects('cron(0 0 32 * ? *)', /32 is out of range for the day-of-month/);
    rejects('cron(0 0 1 13 ? *)', /13 is out of range for the month field/);
    rejects('cron(0 0 ? * 0 *)', /0 is out of range for the day-of-week field \(1-7\)/);
    rejects('cron(0 0 ? * 8 *)', /8 is out of range for the day-of-week/);
    rejects('cron(0 0 1 1 ? 1969)', /1969 is out of range for the year field \(1970-2199\)/);
    rejects('cron(0 0 1 1 ? 2200)', /out of range for the year/);
  });

  test('bad names, ranges, steps and specials', () => {
    rejects('cron(0 0 1 FOO ? *)', /'FOO' is not a value of the month field \(1-12 or JAN-DEC\)/);
    rejects('cron(0 0 ? * FUNDAY *)', /'FUNDAY' is not a value of the day-of-week field/);
    rejects('cron(0 17-9 * * ? *)', /range '17-9'.*backwards/);
    rejects('cron(*/0 * * * ? *)', /step/);
    rejects('cron(0 0 L,15 * ? *)', /L and W stand alone/);
    rejects('cron(0 0 ? * FRI#6 *)', /'#' takes a day and a week 1-5/);
    rejects('cron(0 0 ? * FRI#2-3 *)', /'#' takes a day and a week 1-5/);
    rejects('cron(0 0 ? * MON-FRI# *)', /'#' takes/);
    rejects('cron(a b ? d e f)', /'a' is not a value of the minute field/);
    rejects('cron(0 0 , * ? *)', /'' in the day-of-month field|empty|not a value/);
  });

  test('a date no month has', () => {
    rejects('cron(0 0 30 2 ? *)', /never matches/);
    rejects('cron(0 0 31 4,6,9,11 ? *)', /never matches/);
  });
});
