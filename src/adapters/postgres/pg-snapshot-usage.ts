// Storage accounting over snapshot block maps in PostgreSQL: what each billed snapshot holds,
// what each owner stores, and the snapshots deregistered images left behind.
import type { LeftBehindSnapshot, SnapshotUsage } from '../../ports/snapshot-repository.ts';
import type { Queryable } from './pg-database.ts';

// What AWS bills: live snapshots and those in the Recycle Bin (billed at the normal rate there;
// bin_exit is when the bin deletes them for good, NULL for a live one).
const BILLED = `billed AS (
  SELECT snapshot_id, owner_id, region, NULL::text AS bin_exit FROM snapshots
  UNION ALL SELECT resource_id, account, region, exit_time FROM recycle_bin WHERE resource_type = 'EBS_SNAPSHOT')`;

/** Images in the Recycle Bin, one row per block device mapping (m); the caller adds the region and snapshot id. */
export const BINNED_IMAGES_NAMING = `SELECT r.resource_id FROM recycle_bin r
  CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.doc->'image'->'image'->'blockDeviceMappings', '[]'::jsonb)) m
  WHERE r.resource_type = 'EC2_IMAGE'`;

export async function usage(q: Queryable, region: string, ownerId?: string): Promise<SnapshotUsage[]> {
  // A block is a snapshot's own when no other snapshot in the region maps any index to it.
  const rows = await q.query<{ snapshot_id: string; owner_id: string; bin_exit: string | null; blocks: number; own: number;
    binned_images: { imageId: string; until: string }[] }>(`
    WITH ${BILLED},
    refs AS (
      SELECT b.hash, count(DISTINCT b.snapshot_id) AS n FROM snapshot_blocks b
      JOIN billed s ON s.snapshot_id = b.snapshot_id WHERE s.region = $1 GROUP BY b.hash),
    counted AS (
      SELECT s.snapshot_id, s.owner_id, s.region, s.bin_exit, count(b.hash)::int AS blocks,
             coalesce(sum(CASE WHEN refs.n = 1 THEN 1 ELSE 0 END), 0)::int AS own
      FROM billed s LEFT JOIN snapshot_blocks b ON b.snapshot_id = s.snapshot_id LEFT JOIN refs ON refs.hash = b.hash
      WHERE s.region = $1 AND ($2::text IS NULL OR s.owner_id = $2)
      GROUP BY s.snapshot_id, s.owner_id, s.region, s.bin_exit)
    SELECT c.*, (SELECT coalesce(jsonb_agg(jsonb_build_object('imageId', r.resource_id, 'until', r.exit_time) ORDER BY r.resource_id), '[]'::jsonb)
        FROM recycle_bin r CROSS JOIN LATERAL jsonb_array_elements(coalesce(r.doc->'image'->'image'->'blockDeviceMappings', '[]'::jsonb)) m
        WHERE r.resource_type = 'EC2_IMAGE' AND r.region = c.region AND m->'ebs'->>'snapshotId' = c.snapshot_id) AS binned_images
    FROM counted c ORDER BY c.snapshot_id`, [region, ownerId ?? null]);
  return rows.map((r) => {
    const u: SnapshotUsage = { snapshotId: r.snapshot_id, ownerId: r.owner_id, blocks: r.blocks, ownBlocks: r.own };
    if (r.bin_exit !== null) u.inRecycleBinUntil = r.bin_exit;
    if (r.binned_images.length) u.binnedImages = r.binned_images;
    return u;
  });
}

export async function storedBlocksByOwner(q: Queryable, region: string): Promise<Map<string, number>> {
  const rows = await q.query<{ owner_id: string; n: number }>(`WITH ${BILLED} SELECT s.owner_id, count(DISTINCT b.hash)::int AS n
    FROM snapshot_blocks b JOIN billed s ON s.snapshot_id = b.snapshot_id WHERE s.region = $1 GROUP BY s.owner_id`, [region]);
  return new Map(rows.map((r) => [r.owner_id, r.n]));
}

export async function storedBlocksExcluding(q: Queryable, region: string, ownerId: string, excluding: string[]): Promise<number> {
  const [row] = await q.query<{ n: number }>(`WITH ${BILLED} SELECT count(DISTINCT b.hash)::int AS n FROM snapshot_blocks b
    JOIN billed s ON s.snapshot_id = b.snapshot_id
    WHERE s.region = $1 AND s.owner_id = $2 AND NOT (s.snapshot_id = ANY($3::text[]))`, [region, ownerId, excluding]);
  return row.n;
}

export async function leftBehind(q: Queryable, region: string, ownerId?: string): Promise<LeftBehindSnapshot[]> {
  const rows = await q.query<{ snapshot_id: string; owner_id: string; images: string[]; volumes: string[] }>(`
    SELECT s.snapshot_id, s.owner_id,
      ARRAY(SELECT d.image_id FROM deregistered_image_snapshots d
        WHERE d.snapshot_id = s.snapshot_id AND d.region = s.region ORDER BY d.image_id) AS images,
      ARRAY(SELECT v.volume_id FROM volumes v WHERE v.snapshot_id = s.snapshot_id AND v.region = s.region ORDER BY v.volume_id) AS volumes
    FROM snapshots s
    WHERE s.region = $1 AND ($2::text IS NULL OR s.owner_id = $2)
      AND EXISTS (SELECT 1 FROM deregistered_image_snapshots d WHERE d.snapshot_id = s.snapshot_id AND d.region = s.region)
      AND NOT EXISTS (SELECT 1 FROM image_snapshots m JOIN images i ON i.image_id = m.image_id
        WHERE m.snapshot_id = s.snapshot_id AND i.region = s.region)
      AND NOT EXISTS (${BINNED_IMAGES_NAMING} AND r.region = s.region AND m->'ebs'->>'snapshotId' = s.snapshot_id)
    ORDER BY s.snapshot_id`, [region, ownerId ?? null]);
  return rows.map((r) => ({ snapshotId: r.snapshot_id, ownerId: r.owner_id, imageIds: r.images, volumeIds: r.volumes }));
}
