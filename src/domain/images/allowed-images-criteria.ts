// The Allowed AMIs criteria: how ReplaceImageCriteriaInAllowedImagesSettings validates them and
// how an image is judged against them, as the EC2 User Guide ("How Allowed AMIs works") says:
// values of one parameter OR together, the parameters of one ImageCriterion AND together, and
// the ImageCriterion entries OR together. Images the account owns are always allowed.
import type { ImageCriterion, ImageCriterionRequest } from '../../protocol/ec2/types.generated.ts';
import type { StoredImage } from '../../ports/metadata-store.ts';
import { Errors } from '../errors.ts';
import { matchesWildcard } from '../filters.ts';
import { isAccountId } from '../resource-ids.ts';

/** AWS's limits (ImageCriterionRequest in the API reference). */
export const CRITERIA_LIMITS = { criteria: 10, providers: 200, names: 50, productCodes: 50 } as const;

const PROVIDER_ALIASES = new Set(['amazon', 'aws-marketplace', 'aws-backup-vault']);
const NAME_CHARS = /^[A-Za-z0-9()[\]./\-'@_*? ]+$/;
const PRODUCT_CODE = /^[A-Za-z0-9]{1,25}$/;
const DAY_MS = 86_400_000;
const MAX_DAYS = 2_147_483_647;

const invalid = (message: string) => Errors.invalidParameterValue(message);

function checkCount(what: string, values: unknown[] | undefined, max: number, index: number): void {
  if ((values?.length ?? 0) > max) {
    throw invalid(`ImageCriterion ${index} has ${values!.length} values for ${what}; the maximum is ${max}.`);
  }
}

function checkDays(what: string, days: number | undefined, index: number): number | undefined {
  if (days === undefined) return undefined;
  if (!Number.isInteger(days) || days < 0 || days > MAX_DAYS) {
    throw invalid(`Value (${days}) for ${what} of ImageCriterion ${index} is invalid. Expected an integer from 0 to ${MAX_DAYS}.`);
  }
  return days;
}

function checkProvider(p: string, index: number): void {
  if (PROVIDER_ALIASES.has(p) || p === 'none' || isAccountId(p)) return;
  throw invalid(`Value (${p}) for ImageProvider of ImageCriterion ${index} is invalid. Expected amazon, aws-marketplace, aws-backup-vault, none or a 12-digit account ID.`);
}

function checkName(name: string, index: number): void {
  const min = name.includes('?') ? 3 : 1;
  if (name.length < min || name.length > 128 || !NAME_CHARS.test(name)) {
    throw invalid(`Value (${name}) for ImageName of ImageCriterion ${index} is invalid. Names are 1-128 characters (at least 3 with ?) of letters, digits, spaces and ( ) [ ] . / - ' @ _ * ?.`);
  }
}

/**
 * The criteria as they will be stored and returned by GetAllowedImagesSettings, or AWS's
 * InvalidParameterValue for the first rule broken. Nothing is stored when one is broken.
 */
export function validateCriteria(requested: ImageCriterionRequest[] | undefined): ImageCriterion[] {
  const list = requested ?? [];
  if (list.length > CRITERIA_LIMITS.criteria) {
    throw invalid(`The number of ImageCriterion (${list.length}) exceeds the maximum of ${CRITERIA_LIMITS.criteria}.`);
  }
  return list.map((c, i) => {
    const index = i + 1;
    checkCount('ImageProviders', c.ImageProviders, CRITERIA_LIMITS.providers, index);
    checkCount('ImageNames', c.ImageNames, CRITERIA_LIMITS.names, index);
    checkCount('MarketplaceProductCodes', c.MarketplaceProductCodes, CRITERIA_LIMITS.productCodes, index);
    for (const p of c.ImageProviders ?? []) checkProvider(p, index);
    if (c.ImageProviders?.includes('none') && c.ImageProviders.length > 1) {
      throw invalid(`ImageCriterion ${index}: when the ImageProvider none is specified, no other ImageProvider values can be specified.`);
    }
    for (const n of c.ImageNames ?? []) checkName(n, index);
    for (const code of c.MarketplaceProductCodes ?? []) {
      if (!PRODUCT_CODE.test(code)) throw invalid(`Value (${code}) for MarketplaceProductCode of ImageCriterion ${index} is invalid. Expected 1-25 letters and digits.`);
    }
    const created = checkDays('MaximumDaysSinceCreated', c.CreationDateCondition?.MaximumDaysSinceCreated, index);
    const deprecated = checkDays('MaximumDaysSinceDeprecated', c.DeprecationTimeCondition?.MaximumDaysSinceDeprecated, index);
    const out: ImageCriterion = {};
    if (c.ImageProviders?.length) out.ImageProviders = [...c.ImageProviders];
    if (c.MarketplaceProductCodes?.length) out.MarketplaceProductCodes = [...c.MarketplaceProductCodes];
    if (c.ImageNames?.length) out.ImageNames = [...c.ImageNames];
    if (deprecated !== undefined) out.DeprecationTimeCondition = { MaximumDaysSinceDeprecated: deprecated };
    if (created !== undefined) out.CreationDateCondition = { MaximumDaysSinceCreated: created };
    // A criterion without parameters would allow every image: that is what disabling is for.
    if (!Object.keys(out).length) throw invalid(`ImageCriterion ${index} specifies no criteria.`);
    return out;
  });
}

function providerMatches(provider: string, image: StoredImage): boolean {
  if (PROVIDER_ALIASES.has(provider)) return image.ownerAlias === provider;
  // `none` allows the account's own images only, and those are allowed whatever the criteria.
  if (provider === 'none') return false;
  return image.ownerId === provider;
}

/** Whole and partial days both count: 300 allows images created less than 300 days ago. */
const within = (since: string, days: number, now: Date) => now.getTime() - Date.parse(since) < days * DAY_MS;

function criterionMatches(c: ImageCriterion, image: StoredImage, now: Date): boolean {
  if (c.ImageProviders?.length && !c.ImageProviders.some((p) => providerMatches(p, image))) return false;
  if (c.ImageNames?.length && !c.ImageNames.some((n) => matchesWildcard(n, image.name))) return false;
  if (c.MarketplaceProductCodes?.length) {
    const codes = (image.productCodes ?? []).filter((p) => p.productCodeType === 'marketplace').map((p) => p.productCodeId);
    if (!c.MarketplaceProductCodes.some((code) => codes.includes(code))) return false;
  }
  const maxAge = c.CreationDateCondition?.MaximumDaysSinceCreated;
  if (maxAge !== undefined && !within(image.creationDate, maxAge, now)) return false;
  const maxDeprecated = c.DeprecationTimeCondition?.MaximumDaysSinceDeprecated;
  const deprecatedAt = image.deprecationTime;
  if (maxDeprecated !== undefined && deprecatedAt !== undefined && Date.parse(deprecatedAt) <= now.getTime()) {
    // 0 leaves out every deprecated image; images not (yet) deprecated always pass.
    if (!within(deprecatedAt, maxDeprecated, now)) return false;
  }
  return true;
}

/** Whether `account` may discover and use `image` under `criteria` (when Allowed AMIs is enabled). */
export function isImageAllowed(criteria: ImageCriterion[], image: StoredImage, account: string, now: Date): boolean {
  if (image.ownerId === account) return true;
  return criteria.some((c) => criterionMatches(c, image, now));
}
