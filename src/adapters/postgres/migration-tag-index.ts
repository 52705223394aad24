// Schema version 6: tags_by_key leads with (account, region, key, resource_id). A DescribeImages
// tag filter probes one image's tag of one key; the old (account, region, key, value) index
// matched that probe as well as the primary key does by the planner's estimates on a table not
// yet analysed (a fresh or fast-growing database), and when chosen it walked every resource's
// tag of that key for each image. With the resource in the index both indexes answer the probe
// with one entry. Ordered by resource after the key, it also serves DescribeTags filtered by key
// in its (resource, key) page order; the value rides along for index-only reads.
export const TAG_INDEX_SQL = `
DROP INDEX tags_by_key;
CREATE INDEX tags_by_key ON tags (account, region, key, resource_id) INCLUDE (value);
`;
