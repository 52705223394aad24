// Migration 3: stored images were EC2's wire `Image` members as JSON (ImageId, BlockDeviceMappings
// with Ebs.SnapshotId, ...); they become the image record (imageId, blockDeviceMappings with
// ebs.snapshotId, ...). Frozen with the migration: it converts the shape that release wrote, so
// it must not follow later changes to the record or its wire mapping.
import type { DatabaseSync } from 'node:sqlite';

/** Wire members whose record name is not simply the member with a lower-case first letter. */
const RENAMED: Record<string, string> = { ImageOwnerAlias: 'ownerAlias' };

/** Every key of every nested object renamed; the old documents hold only wire members. */
function recordKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(recordKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[RENAMED[k] ?? k.charAt(0).toLowerCase() + k.slice(1)] = recordKeys(v);
  return out;
}

/** True for a document already in the record's shape (a file migrated, then restored half-way). */
const isRecord = (doc: { imageId?: unknown }): boolean => typeof doc.imageId === 'string';

export function imageDocsToRecords(db: DatabaseSync): void {
  const images = db.prepare('SELECT image_id, doc FROM images').all() as { image_id: string; doc: string }[];
  const updateImage = db.prepare('UPDATE images SET doc = ? WHERE image_id = ?');
  for (const row of images) {
    const doc = JSON.parse(row.doc);
    if (!isRecord(doc)) updateImage.run(JSON.stringify(recordKeys(doc)), row.image_id);
  }
  // Images in the Recycle Bin keep their ImageRecord at $.image, with the stored image at $.image.image.
  const binned = db.prepare("SELECT resource_id, doc FROM recycle_bin WHERE resource_type = 'EC2_IMAGE'").all() as { resource_id: string; doc: string }[];
  const updateBinned = db.prepare('UPDATE recycle_bin SET doc = ? WHERE resource_id = ?');
  for (const row of binned) {
    const entry = JSON.parse(row.doc);
    if (!entry.image?.image || isRecord(entry.image.image)) continue;
    entry.image.image = recordKeys(entry.image.image);
    updateBinned.run(JSON.stringify(entry), row.resource_id);
  }
}
