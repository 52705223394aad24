// PostgreSQL migration 4: stored images were EC2's wire `Image` members (ImageId,
// BlockDeviceMappings[].Ebs.SnapshotId, ...); they become the image record (imageId,
// blockDeviceMappings[].ebs.snapshotId, ...), as SQLite's migration 3 does. Frozen with the
// migration: it converts the shape versions 1-3 stored, whatever the record becomes later.

export const IMAGE_RECORDS_SQL = `
-- Every key of every nested object gets a lower-case first letter; ImageOwnerAlias is ownerAlias.
-- A temporary function: it lives only in this migration's session.
CREATE FUNCTION pg_temp.amiforge_record_keys(j jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
  IF jsonb_typeof(j) = 'object' THEN
    RETURN coalesce((SELECT jsonb_object_agg(
        CASE WHEN k = 'ImageOwnerAlias' THEN 'ownerAlias' ELSE lower(left(k, 1)) || substr(k, 2) END,
        pg_temp.amiforge_record_keys(v))
      FROM jsonb_each(j) AS e(k, v)), '{}'::jsonb);
  ELSIF jsonb_typeof(j) = 'array' THEN
    RETURN coalesce((SELECT jsonb_agg(pg_temp.amiforge_record_keys(x) ORDER BY n)
      FROM jsonb_array_elements(j) WITH ORDINALITY AS a(x, n)), '[]'::jsonb);
  END IF;
  RETURN j;
END
$fn$;

-- Documents already in the record's shape (they have imageId) are left alone.
UPDATE images SET doc = pg_temp.amiforge_record_keys(doc) WHERE doc ? 'ImageId';
UPDATE recycle_bin SET doc = jsonb_set(doc, '{image,image}', pg_temp.amiforge_record_keys(doc #> '{image,image}'))
  WHERE resource_type = 'EC2_IMAGE' AND doc #> '{image,image}' ? 'ImageId';

DROP INDEX images_state;
CREATE INDEX images_state ON images ((doc->>'state'));
DROP FUNCTION pg_temp.amiforge_record_keys(jsonb);
`;
