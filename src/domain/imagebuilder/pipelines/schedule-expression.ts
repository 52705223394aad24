// A pipeline schedule's expression, as Image Builder reads it:
//   cron(<minute> <hour> <day-of-month> <month> <day-of-week> <year>)  in an IANA time zone (UTC by default)
//   rate(<n> minute[s] | hour[s] | day[s])                           from the schedule's anchor
// The six cron fields and their wildcards are Image Builder's (see docs/imagebuilder-pipelines.md):
// exactly one of the two day fields is `?`; weekdays are 1-7 = SUN-SAT. Each field is checked here,
// with a message naming the field, and the checked expression is handed to croner (seconds first,
// Quartz weekday numbering, day fields ANDed) for next-occurrence arithmetic in the time zone:
// a hand-written calendar walk is where DST and nth-weekday corner cases go wrong.
import { Cron } from 'croner';
import { Errors } from '../../errors.ts';

export interface ScheduleTiming {
  readonly expression: string;
  readonly timezone: string;
  /** The first time strictly after `after` that the schedule fires; undefined when it never does again. */
  next(after: Date): Date | undefined;
}

const PARAM = 'schedule.scheduleExpression';
const invalid = (details: string) => Errors.ibInvalidParameterValue(
  `The value supplied for parameter '${PARAM}' is not valid. Invalid schedule expression. Details: ${details}`);

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names for values, from `min` on (months, weekdays). */
  names?: string[];
}

const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTHS };
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 1, max: 7, names: DAYS };
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199 };

/** Default time zone of a schedule without one. */
export const DEFAULT_TIMEZONE = 'UTC';

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isKnownTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a schedule expression. `anchor` is where a rate() schedule counts from (the pipeline's
 * last create or update). InvalidParameterValueException, with the field at fault, otherwise.
 */
export function parseScheduleExpression(expression: string, timezone: string = DEFAULT_TIMEZONE, anchor: Date = new Date(0)): ScheduleTiming {
  if (!isKnownTimezone(timezone)) {
    throw Errors.ibInvalidParameterValue(
      `The value supplied for parameter 'schedule.timezone' is not valid. '${timezone}' is not an IANA time zone (e.g. Etc/UTC, America/Los_Angeles).`);
  }
  const cron = /^cron\((.*)\)$/s.exec(expression);
  if (cron) return cronTiming(expression, cron[1], timezone);
  const rate = /^rate\((.*)\)$/s.exec(expression);
  if (rate) return rateTiming(expression, rate[1], timezone, anchor);
  throw invalid(`'${expression}' is neither cron(minute hour day-of-month month day-of-week year) nor rate(value unit), e.g. cron(0 10 * * ? *).`);
}

function cronTiming(expression: string, body: string, timezone: string): ScheduleTiming {
  if (body !== body.trim() || /\s{2,}|\t|\n/.test(body)) {
    throw invalid('the six fields are separated by single spaces, with no leading or trailing spaces.');
  }
  const fields = body.split(' ');
  if (fields.length !== 6) {
    throw invalid(`a cron expression has six fields (minute hour day-of-month month day-of-week year), this one has ${fields.length}: '${body}'.`);
  }
  const [minute, hour, dom, month, dow, year] = fields;
  if ((dom === '?') === (dow === '?')) {
    throw invalid(`exactly one of day-of-month ('${dom}') and day-of-week ('${dow}') must be '?', e.g. cron(0 10 * * ? *) for every day, cron(0 10 ? * MON *) for Mondays.`);
  }
  const pattern = [
    '0',
    plainField(minute, MINUTE),
    plainField(hour, HOUR),
    dom === '?' ? '*' : dayOfMonthField(dom),
    plainField(month, MONTH),
    dow === '?' ? '*' : dayOfWeekField(dow),
    plainField(year, YEAR),
  ].join(' ');
  let job: Cron;
  try {
    job = new Cron(pattern, { timezone, paused: true, mode: '7-part', alternativeWeekdays: true, domAndDow: true });
  } catch (err) {
    throw invalid(`'${body}': ${(err as Error).message.replace(/^CronPattern: /, '')}.`);
  }
  const next = (after: Date) => job.nextRun(after) ?? undefined;
  // A day that no month has (30 February), or only years already gone.
  if (!next(new Date(Date.UTC(1970, 0, 1)))) throw invalid(`'${body}' never matches a date.`);
  return Object.freeze({ expression, timezone, next });
}

/** A field of numbers (or names) with `*`, `,`, `-` and `/`. */
function plainField(raw: string, spec: FieldSpec): string {
  if (raw === '') throw invalid(`the ${spec.name} field is empty.`);
  return raw.split(',').map((item) => plainItem(item, spec)).join(',');
}

function plainItem(item: string, spec: FieldSpec): string {
  const m = /^([^/]+)(?:\/(\d+))?$/.exec(item);
  if (!m) throw invalid(`'${item}' in the ${spec.name} field is not a value, range or step (${spec.min}-${spec.max}).`);
  const [, base, stepText] = m;
  if (stepText !== undefined) {
    const step = Number(stepText);
    if (step < 1 || step > spec.max - spec.min + 1) throw invalid(`the step '/${stepText}' in the ${spec.name} field is out of range.`);
  }
  const step = stepText === undefined ? '' : `/${stepText}`;
  if (base === '*') return `*${step}`;
  const range = /^([^-]+)-([^-]+)$/.exec(base);
  if (range) {
    const from = value(range[1], spec);
    const to = value(range[2], spec);
    if (from > to) throw invalid(`the range '${base}' in the ${spec.name} field runs backwards.`);
    return `${from}-${to}${step}`;
  }
  const v = value(base, spec);
  // `5/15` (Quartz: from 5 on, every 15) is croner's `5-59/15`.
  return step ? `${v}-${spec.max}${step}` : String(v);
}

function value(text: string, spec: FieldSpec): number {
  let v: number;
  if (/^\d+$/.test(text)) v = Number(text);
  else {
    const i = spec.names?.indexOf(text.toUpperCase()) ?? -1;
    if (i < 0) {
      const names = spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : '';
      throw invalid(`'${text}' is not a value of the ${spec.name} field (${spec.min}-${spec.max}${names}).`);
    }
    v = spec.min + i;
  }
  if (v < spec.min || v > spec.max) throw invalid(`${text} is out of range for the ${spec.name} field (${spec.min}-${spec.max}).`);
  return v;
}

/** Day of month: the plain forms plus `L` (last day), `LW` (last weekday) and `nW` (weekday nearest day n). */
function dayOfMonthField(raw: string): string {
  if (raw === 'L' || raw === 'LW') return raw;
  const w = /^(\d+)W$/.exec(raw);
  if (w) return `${value(w[1], DAY_OF_MONTH)}W`;
  if (/[LW]/i.test(raw)) {
    throw invalid(`'${raw}' in the day-of-month field: L and W stand alone ('L', 'LW', '15W'), not in lists or ranges.`);
  }
  return plainField(raw, DAY_OF_MONTH);
}

/**
 * Day of week: the plain forms (1-7 = SUN-SAT) plus `L` (the last day of the week, 7 = SAT),
 * `nL` (the last day n of the month), `n#k` (the k-th day n, k 1-5) and Image Builder's documented
 * `SAT#2,4` (the second and fourth Saturday).
 */
function dayOfWeekField(raw: string): string {
  if (raw === 'L') return '7';
  const last = /^([A-Za-z]+|\d+)L$/.exec(raw);
  if (last) return `${value(last[1], DAY_OF_WEEK)}#L`;
  if (raw.includes('#')) {
    const nth = /^([A-Za-z]+|\d+)#([1-5](?:,[1-5])*)$/.exec(raw);
    if (nth) return nth[2].split(',').map((k) => `${value(nth[1], DAY_OF_WEEK)}#${k}`).join(',');
    const items = raw.split(',').map((item) => {
      const m = /^([A-Za-z]+|\d+)#([1-5])$/.exec(item);
      if (!m) throw invalid(`'${item}' in the day-of-week field: '#' takes a day and a week 1-5, e.g. FRI#2 (the second Friday).`);
      return `${value(m[1], DAY_OF_WEEK)}#${m[2]}`;
    });
    return items.join(',');
  }
  return plainField(raw, DAY_OF_WEEK);
}

const RATE_UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

function rateTiming(expression: string, body: string, timezone: string, anchor: Date): ScheduleTiming {
  const m = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!m) throw invalid(`'${body}' is not a rate: use rate(value unit) with unit minute(s), hour(s) or day(s), e.g. rate(1 day).`);
  const n = Number(m[1]);
  const unit = m[2].replace(/s$/, '');
  if (n < 1) throw invalid(`the rate value must be a positive whole number, not ${m[1]}.`);
  if ((n === 1) !== !m[2].endsWith('s')) {
    throw invalid(`write rate(1 ${unit}) for one and rate(${n === 1 ? 2 : n} ${unit}s) for more.`);
  }
  const period = n * RATE_UNITS[unit];
  const start = anchor.getTime();
  const next = (after: Date) => {
    const t = after.getTime();
    if (t < start) return new Date(start + period);
    return new Date(start + (Math.floor((t - start) / period) + 1) * period);
  };
  return Object.freeze({ expression, timezone, next });
}
