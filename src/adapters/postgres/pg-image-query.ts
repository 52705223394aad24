// DescribeImages' pushed-down criteria (ImageQuery) as a PostgreSQL WHERE clause. Lists travel
// as array parameters (`= ANY($n)`), one parameter however long the request's list is.
import type { ImageQuery } from '../../ports/metadata-store.ts';
import { wildcardRange } from '../sqlite/name-range.ts';
import { wildcardToLike } from './pg-wildcard.ts';

/** The scan's WHERE clause over `images i` (without the id cursor) and its parameters. */
export function imageScanWhere(q: ImageQuery): { where: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (value: unknown) => { params.push(value); return `$${params.length}`; };
  where.push(`i.region = ${p(q.region)}`);
  const v = q.visibleTo;
  const grantees = [v.organizationArn, ...(v.organizationalUnitArns ?? [])].filter((x): x is string => !!x);
  const account = p(v.account);
  where.push(`(i.owner_id = ${account} OR i.is_public OR EXISTS (SELECT 1 FROM launch_permissions lp WHERE lp.image_id = i.image_id
    AND ((lp.kind = 'user' AND lp.value = ${account}) OR (lp.kind IN ('org', 'ou') AND lp.value = ANY(${p(grantees)}::text[])))))`);
  if (q.imageIds) where.push(`i.image_id = ANY(${p(q.imageIds)}::text[])`);
  if (q.ownerIds || q.ownerAliases) {
    const ids = q.ownerIds ?? [];
    const aliases = q.ownerAliases ?? [];
    // Owners=self, one account or one alias (amazon) are equalities: an (owner, region, image_id)
    // index then yields the owner's images in page order.
    if (ids.length === 1 && !aliases.length) where.push(`i.owner_id = ${p(ids[0])}`);
    else if (!ids.length && aliases.length === 1) where.push(`i.owner_alias = ${p(aliases[0])}`);
    else where.push(`(i.owner_id = ANY(${p(ids)}::text[]) OR i.owner_alias = ANY(${p(aliases)}::text[]))`);
  }
  if (q.executableBy) {
    const { accounts, includePublic, orgs } = q.executableBy;
    where.push(`(${includePublic ? 'i.is_public' : 'false'} OR EXISTS (SELECT 1 FROM launch_permissions lp WHERE lp.image_id = i.image_id
      AND ((lp.kind = 'user' AND lp.value = ANY(${p(accounts)}::text[])) OR (lp.kind IN ('org', 'ou') AND lp.value = ANY(${p(orgs)}::text[])))))`);
  }
  if (q.namePatterns) {
    where.push(`i.name LIKE ANY(${p(q.namePatterns.map(wildcardToLike))}::text[])`);
    // A shared literal prefix (`ubuntu/images/*`) bounds the name: a range of images_region_name.
    const range = wildcardRange(q.namePatterns);
    if (range) where.push(`i.name >= ${p(range[0])} AND i.name < ${p(range[1])}`);
  }
  // Each tag filter probes the one tag of that key the caller set on the image at hand (one index
  // entry), as a scalar sub-query rather than EXISTS. EXISTS may become a join, and on a table
  // not yet analysed (a fresh or fast-growing database) the planner joined every image's tag of
  // that key to each image, ~50x slower. The coalesce keeps the planner from taking the filter
  // as very selective (its default for an expression it cannot estimate): it then reads images
  // in page order and stops when the page is full, instead of reading and sorting them all.
  for (const t of q.tagFilters ?? []) {
    const value = `(SELECT t.value FROM tags t WHERE t.account = ${account} AND t.region = i.region AND t.resource_id = i.image_id
      AND t.key = ${p(t.key)})`;
    where.push(t.values ? `coalesce(${value} LIKE ANY(${p(t.values.map(wildcardToLike))}::text[]), false)` : `${value} IS NOT NULL`);
  }
  return { where: where.join(' AND '), params };
}
