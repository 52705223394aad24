// The console image table's SQL, once for both stores: each dialect says how it writes a
// parameter, a member of the image document, a boolean and a name match; the clauses are the
// same. The sort expressions match the indexes the migrations create (SQLite version 8,
// PostgreSQL version 9) expression for expression, or the planner cannot use them.
import { IMAGE_TABLE_COUNT_LIMIT, type ImageTableQuery, type ImageTableSort } from '../ports/image-table.ts';

export interface ImageTableDialect {
  /** Adds a parameter and answers its placeholder. */
  param(value: unknown, params: unknown[]): string;
  /** A text member of the stored image document `i.doc`. */
  member(name: string): string;
  true: string;
  /** `images i`, with the index the dialect's planner must be told to use for this query, if any. */
  from(q: ImageTableQuery): string;
  /** A name containing `text` literally (case-sensitive), or matching an EC2 wildcard. */
  nameContains(placeholder: string): string;
  nameMatches(pattern: string, params: unknown[]): string;
}

export function sortExpression(d: ImageTableDialect, sort: ImageTableSort): string {
  switch (sort) {
    case 'name': return 'i.name';
    case 'imageId': return 'i.image_id';
    case 'owner': return 'i.owner_id';
    case 'creationDate': return d.member('creationDate');
    case 'state': return d.member('state');
    case 'architecture': return `coalesce(${d.member('architecture')}, '')`;
  }
}

/** WHERE over `images i` for the query's scope and filters (without the cursor). */
export function imageTableWhere(d: ImageTableDialect, q: ImageTableQuery, params: unknown[]): string {
  const p = (v: unknown) => d.param(v, params);
  const v = q.visibleTo;
  // Parameters are added when first used: PostgreSQL refuses one the statement never names.
  let account: string | undefined;
  const me = () => (account ??= p(v.account));
  const grantees = [v.organizationArn, ...(v.organizationalUnitArns ?? [])].filter((x): x is string => !!x);
  // Launch permissions for the reader: its account, its organization or one of its OUs.
  const grants = () => `(lp.kind = 'user' AND lp.value = ${me()})${grantees.map((g) => ` OR (lp.kind IN ('org', 'ou') AND lp.value = ${p(g)})`).join('')}`;
  const where = [`i.region = ${p(q.region)}`];
  const isPublic = `i.is_public = ${d.true}`;
  switch (q.scope) {
    case 'own': where.push(`i.owner_id = ${me()}`); break;
    case 'public': where.push(isPublic); break;
    // Driven from the grants (launch_permissions_grantee): images shared with one account are
    // usually few among the region's, and walking the region's images in page order to find them
    // read them all when there were none.
    case 'shared': where.push(`i.owner_id <> ${me()}`, `NOT ${isPublic}`, `i.image_id IN (SELECT lp.image_id FROM launch_permissions lp WHERE ${grants()})`); break;
    case 'visible': where.push(`(i.owner_id = ${me()} OR ${isPublic} OR EXISTS (SELECT 1 FROM launch_permissions lp WHERE lp.image_id = i.image_id AND (${grants()})))`); break;
  }
  if (q.isPublic === false) where.push(`NOT ${isPublic}`);
  if (q.isPublic === true) where.push(isPublic);
  if (q.state?.is) where.push(`${d.member('state')} = ${p(q.state.is)}`);
  if (q.state?.isNot) where.push(`${d.member('state')} <> ${p(q.state.isNot)}`);
  const deprecation = d.member('deprecationTime');
  if (q.deprecatedBy) where.push(`${deprecation} <= ${p(q.deprecatedBy)}`);
  if (q.hideOthersDeprecatedBy) where.push(`(i.owner_id = ${me()} OR ${deprecation} IS NULL OR ${deprecation} > ${p(q.hideOthersDeprecatedBy)})`);
  if (q.nameContains) where.push(d.nameContains(p(q.nameContains)));
  if (q.namePattern) where.push(d.nameMatches(q.namePattern, params));
  if (q.imageIds?.length) where.push(`i.image_id IN (${q.imageIds.map(p).join(', ')})`);
  if (q.tag) {
    // The reader's one tag of that key on the image, as a scalar sub-query with coalesce rather
    // than EXISTS, for PostgreSQL's planner on a table not yet analysed (see pg-image-query.ts):
    // EXISTS became a join of every image's tag of that key, 450 ms for a page of 1,000 images.
    const value = `(SELECT t.value FROM tags t WHERE t.account = ${me()} AND t.region = i.region AND t.resource_id = i.image_id AND t.key = ${p(q.tag.key)})`;
    where.push(q.tag.value === undefined ? `${value} IS NOT NULL` : `coalesce(${value} = ${p(q.tag.value)}, false)`);
  }
  if (q.architecture) where.push(`${d.member('architecture')} = ${p(q.architecture)}`);
  if (q.platform === 'linux') where.push(`${d.member('platform')} IS NULL`);
  else if (q.platform) where.push(`${d.member('platform')} = ${p(q.platform)}`);
  if (q.ownerId) where.push(`i.owner_id = ${p(q.ownerId)}`);
  return where.join(' AND ');
}

/** The page's SELECT (columns given) and the count's (capped at IMAGE_TABLE_COUNT_LIMIT + 1), with their parameters. */
export function imageTableSql(d: ImageTableDialect, q: ImageTableQuery, columns: string): {
  page: { sql: string; params: unknown[] }; count: { sql: string; params: unknown[] };
} {
  const countParams: unknown[] = [];
  const countWhere = imageTableWhere(d, q, countParams);
  const params: unknown[] = [];
  const where = [imageTableWhere(d, q, params)];
  const key = sortExpression(d, q.sort);
  const dir = q.descending ? 'DESC' : 'ASC';
  const cmp = q.descending ? '<' : '>';
  if (q.after) {
    // Keyset paging: rows after the last one shown, by (sort value, id). The image id breaks ties.
    if (q.sort === 'imageId') where.push(`i.image_id ${cmp} ${d.param(q.after.imageId, params)}`);
    // A row value rather than `a > x OR (a = x AND ...)`: both stores seek an index with it.
    else where.push(`(${key}, i.image_id) ${cmp} (${d.param(q.after.value, params)}, ${d.param(q.after.imageId, params)})`);
  }
  const order = q.sort === 'imageId' ? `i.image_id ${dir}` : `${key} ${dir}, i.image_id ${dir}`;
  const limit = d.param(q.limit, params);
  return {
    page: { sql: `SELECT ${columns} FROM ${d.from(q)} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${limit}`, params },
    count: {
      sql: `SELECT count(*) AS n FROM (SELECT 1 FROM ${d.from(q)} WHERE ${countWhere} LIMIT ${d.param(IMAGE_TABLE_COUNT_LIMIT + 1, countParams)}) AS matching`,
      params: countParams,
    },
  };
}
