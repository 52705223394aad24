// The copy-schedules file (`amiforge serve --copy-schedules FILE`), parsed and checked once at
// start-up into frozen specs. Every mistake is reported with the schedule and field it is in, so
// a platform engineer can fix the file without reading code; unknown fields are errors too,
// because a misspelt `keep` silently keeping everything would be worse than refusing to start.
import { findRegion } from '../regions.ts';
import { imageFilters } from '../images/image-filters.ts';
import { parseEvery, parseCron, type CronSchedule } from './schedule-timing.ts';

export interface ImageFilter { Name: string; Values: string[] }

/** Which image a run copies: a fixed id, or the newest available image DescribeImages finds. */
export type SourceSelector =
  | { readonly imageId: string }
  | { readonly owners: readonly string[]; readonly filters: readonly ImageFilter[] };

export interface CopyScheduleSpec {
  readonly name: string;
  /** The account the schedule acts as: it reads the source and owns the copies. */
  readonly account: string;
  readonly sourceRegion: string;
  readonly source: SourceSelector;
  readonly destinationRegions: readonly string[];
  readonly cron?: CronSchedule;
  /** Interval between runs, ms. */
  readonly everyMs?: number;
  /** How many of this schedule's copies to keep per destination region (the newest). */
  readonly keep: number;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly copyImageTags?: boolean;
}

export class ScheduleConfigError extends Error {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FIELDS = new Set(['name', 'account', 'sourceRegion', 'image', 'destinationRegions', 'cron', 'every', 'keep', 'encrypted', 'kmsKeyId', 'copyImageTags']);
const MAX_KEEP = 1000;

export interface ParseOptions {
  /** Accounts the server knows (strict mode); undefined in dev mode, where any 12-digit id acts. */
  isKnownAccount?: (id: string) => boolean;
}

/** Parses the file's JSON text; throws ScheduleConfigError naming what is wrong and where. */
export function parseCopySchedules(text: string, options: ParseOptions = {}): CopyScheduleSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ScheduleConfigError(`not valid JSON (${(err as Error).message})`);
  }
  const list = isObject(parsed) ? parsed.schedules : undefined;
  if (!Array.isArray(list)) throw new ScheduleConfigError('expected an object {"schedules": [ ... ]}');
  const names = new Set<string>();
  return list.map((raw, i) => {
    const spec = parseOne(raw, `schedules[${i}]`, options);
    if (names.has(spec.name)) throw new ScheduleConfigError(`schedules[${i}]: the name "${spec.name}" is used twice`);
    names.add(spec.name);
    return spec;
  });
}

function parseOne(raw: unknown, at: string, options: ParseOptions): CopyScheduleSpec {
  if (!isObject(raw)) throw new ScheduleConfigError(`${at}: expected an object`);
  const name = raw.name;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ScheduleConfigError(`${at}.name: required, 1-64 letters, digits, '.', '_' or '-' (it names the schedule in tags, logs and URLs)`);
  }
  const where = `schedule "${name}"`;
  const fail = (field: string, why: string): never => {
    throw new ScheduleConfigError(`${where}: ${field}: ${why}`);
  };
  for (const key of Object.keys(raw)) if (!FIELDS.has(key)) fail(key, `unknown field (known: ${[...FIELDS].join(', ')})`);

  const account = raw.account;
  if (typeof account !== 'string' || !/^\d{12}$/.test(account)) fail('account', 'required, a 12-digit account id');
  if (options.isKnownAccount && !options.isKnownAccount(account as string)) fail('account', `${account} is not in the accounts file`);

  const region = (field: string, v: unknown): string => {
    if (typeof v !== 'string' || !findRegion(v)) fail(field, `"${String(v)}" is not a region amiforge serves`);
    return v as string;
  };
  const sourceRegion = region('sourceRegion', raw.sourceRegion);
  if (!Array.isArray(raw.destinationRegions) || raw.destinationRegions.length === 0) fail('destinationRegions', 'required, a non-empty list of regions');
  const destinationRegions = (raw.destinationRegions as unknown[]).map((r, i) => region(`destinationRegions[${i}]`, r));
  if (new Set(destinationRegions).size !== destinationRegions.length) fail('destinationRegions', 'a region is listed twice');

  const source = parseSource(raw.image, fail);

  if (raw.cron === undefined && raw.every === undefined) fail('cron/every', 'give a cron expression ("0 2 * * *", UTC), an interval ("every": "24h"), or both');
  let cron: CronSchedule | undefined;
  if (raw.cron !== undefined) {
    if (typeof raw.cron !== 'string') fail('cron', 'expected a string such as "0 2 * * *"');
    try {
      cron = parseCron(raw.cron as string);
    } catch (err) {
      fail('cron', (err as Error).message);
    }
  }
  let everyMs: number | undefined;
  if (raw.every !== undefined) {
    try {
      everyMs = parseEvery(raw.every);
    } catch (err) {
      fail('every', (err as Error).message);
    }
  }

  const keep = raw.keep;
  if (!Number.isInteger(keep) || (keep as number) < 1 || (keep as number) > MAX_KEEP) fail('keep', `required, a whole number from 1 to ${MAX_KEEP}`);
  for (const flag of ['encrypted', 'copyImageTags'] as const) {
    if (raw[flag] !== undefined && typeof raw[flag] !== 'boolean') fail(flag, 'expected true or false');
  }
  if (raw.kmsKeyId !== undefined) {
    if (typeof raw.kmsKeyId !== 'string' || !raw.kmsKeyId) fail('kmsKeyId', 'expected a key id, key ARN, alias name or alias ARN');
    // CopyImage's own rule: a KmsKeyId needs Encrypted.
    if (raw.encrypted !== true) fail('kmsKeyId', 'requires "encrypted": true (as CopyImage does)');
  }
  return Object.freeze({
    name, account: account as string, sourceRegion, source, destinationRegions: Object.freeze(destinationRegions),
    cron, everyMs, keep: keep as number,
    encrypted: raw.encrypted as boolean | undefined, kmsKeyId: raw.kmsKeyId as string | undefined,
    copyImageTags: raw.copyImageTags as boolean | undefined,
  });
}

function parseSource(image: unknown, fail: (field: string, why: string) => never): SourceSelector {
  if (!isObject(image)) return fail('image', 'required: {"imageId": "ami-..."} or {"owners": [...], "filters": [{"Name": ..., "Values": [...]}]}');
  const keys = Object.keys(image);
  for (const k of keys) if (!['imageId', 'owners', 'filters'].includes(k)) fail(`image.${k}`, 'unknown field (known: imageId, owners, filters)');
  if (image.imageId !== undefined) {
    if (keys.length > 1) fail('image', 'give either imageId or owners/filters, not both');
    if (typeof image.imageId !== 'string' || !/^ami-[0-9a-f]{8}([0-9a-f]{9})?$/.test(image.imageId)) fail('image.imageId', `"${String(image.imageId)}" is not an image id (ami-...)`);
    return Object.freeze({ imageId: image.imageId as string });
  }
  const owners = image.owners ?? ['self'];
  if (!Array.isArray(owners) || owners.length === 0 || !owners.every((o) => typeof o === 'string' && (o === 'self' || /^\d{12}$/.test(o) || o === 'amazon' || o === 'aws-marketplace'))) {
    fail('image.owners', 'a non-empty list of "self", "amazon", "aws-marketplace" or 12-digit account ids (default ["self"])');
  }
  if (!Array.isArray(image.filters) || image.filters.length === 0) fail('image.filters', 'required with owners: DescribeImages filters such as [{"Name": "name", "Values": ["golden-*"]}]');
  const filters = (image.filters as unknown[]).map((f, i): ImageFilter => {
    if (!isObject(f) || typeof f.Name !== 'string' || !Array.isArray(f.Values) || !f.Values.every((v) => typeof v === 'string')) {
      return fail(`image.filters[${i}]`, 'expected {"Name": "...", "Values": ["..."]}');
    }
    const known = f.Name.startsWith('tag:') || f.Name === 'tag-key' || f.Name === 'tag-value' || Object.hasOwn(imageFilters, f.Name);
    if (!known) fail(`image.filters[${i}].Name`, `"${f.Name}" is not a DescribeImages filter`);
    return { Name: f.Name, Values: [...(f.Values as string[])] };
  });
  return Object.freeze({ owners: Object.freeze([...(owners as string[])]), filters: Object.freeze(filters) });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
