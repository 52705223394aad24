// Helpers every resource service shares: reading a caller's own record by ARN with Image Builder's
// errors, list filters and pages. (A stored document's wire shape is wire-mappers.ts'.)
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import type { IbKind, IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import { requireIbArn, type IbArn, type IbResourceType } from '../arns.ts';

/**
 * Checks an ARN the caller names as its own resource of `type`: another account's ARN is
 * ForbiddenException (nothing in amiforge is shared across accounts yet), another region's is
 * not found, as Image Builder's resources are regional.
 */
export function requireOwnArn(caller: Caller, arn: string, type: IbResourceType, parameter: string): IbArn {
  const parsed = requireIbArn(arn, type, parameter);
  if (parsed.owner !== caller.account) {
    throw Errors.ibForbidden(`You are not authorized to access ${arn}.`);
  }
  if (parsed.region !== caller.region) throw Errors.ibNotFound(`The resource ${arn} does not exist in ${caller.region}.`);
  return parsed;
}

/** The caller's record under this ARN, or ResourceNotFoundException. */
export async function ownRecord(store: ImageBuilderRepository, caller: Caller, arn: string, kind: IbKind, type: IbResourceType, parameter: string): Promise<IbRecord> {
  requireOwnArn(caller, arn, type, parameter);
  const record = await store.get(arn);
  if (!record || record.kind !== kind || record.account !== caller.account) {
    throw Errors.ibNotFound(`The ${type} ${arn} does not exist.`);
  }
  return record;
}

/** Pipelines of the caller that use `arn` in `field`: a recipe or configuration they use cannot be deleted. */
export async function pipelinesUsing(store: ImageBuilderRepository, caller: Caller, field: string, arn: string): Promise<string[]> {
  const pipelines = await store.list({ kind: 'image-pipeline', account: caller.account, region: caller.region });
  return pipelines.filter((p) => p.doc[field] === arn).map((p) => p.arn);
}

export function refuseIfUsed(arn: string, users: string[]): void {
  if (users.length) {
    throw Errors.ibDependency(`Resource dependency error: ${arn} is used by ${users.join(', ')}. Delete or update those first.`);
  }
}

/** Image Builder's list filters: `{ name, values }`; a value matches when equal (any of the values). */
export interface FilterRule<T> {
  [name: string]: (item: T) => string | string[] | undefined;
}

export function applyFilters<T>(items: T[], filters: { name?: string; values?: string[] }[] | undefined, rules: FilterRule<T>): T[] {
  let out = items;
  for (const f of filters ?? []) {
    const read = f.name ? rules[f.name] : undefined;
    if (!read || !Object.hasOwn(rules, f.name!)) {
      throw Errors.ibInvalidParameterValue(
        `The value supplied for parameter 'filters' is not valid: unknown filter name '${f.name ?? ''}'. Valid names: ${Object.keys(rules).join(', ')}.`);
    }
    const values = f.values ?? [];
    out = out.filter((item) => {
      const v = read(item);
      const have = Array.isArray(v) ? v : v === undefined ? [] : [v];
      return values.some((x) => have.includes(x));
    });
  }
  return out;
}

const PAGE_DEFAULT = 25;

/** One page of `items` (already in their final order); the token is the index of the next item. */
export function page<T>(items: T[], maxResults: number | undefined, nextToken: string | undefined): { items: T[]; nextToken?: string } {
  const size = maxResults ?? PAGE_DEFAULT;
  let start = 0;
  if (nextToken !== undefined) {
    const m = /^p(\d{1,9})$/.exec(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!m || Number(m[1]) > items.length) throw Errors.ibInvalidPaginationToken();
    start = Number(m[1]);
  }
  const end = start + size;
  return { items: items.slice(start, end), nextToken: end < items.length ? Buffer.from(`p${end}`).toString('base64url') : undefined };
}


export const MAX_TAGS = 50;

/**
 * Image Builder's tag limits, which the codec does not check on maps: at most 50 tags, keys of 1 to
 * 128 characters not starting with `aws:`, values of at most 256.
 */
export function checkTags(tags: Record<string, string> | undefined, fail: (message: string) => Error): void {
  const keys = Object.keys(tags ?? {});
  if (keys.length > MAX_TAGS) throw fail(`A resource can have at most ${MAX_TAGS} tags.`);
  for (const key of keys) {
    if (!key.length || key.length > 128) throw fail(`Tag keys must have 1 to 128 characters: '${key.slice(0, 130)}'.`);
    if (key.toLowerCase().startsWith('aws:')) throw fail(`Tag keys may not start with 'aws:': ${key}`);
    if (String(tags![key]).length > 256) throw fail(`The value of tag '${key}' is longer than 256 characters.`);
  }
}

/** checkTags for a Create's `tags` member. */
export const checkCreateTags = (tags: Record<string, string> | undefined): void =>
  checkTags(tags, (m) => Errors.ibInvalidParameterValue(`The value supplied for parameter 'tags' is not valid. ${m}`));
