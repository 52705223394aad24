// Migration 5: Image Builder records kept amiforge's own bookkeeping as `_`-prefixed members
// beside the wire members (an image's `_resources`, a pipeline's `_lastBuild`, ...); they get
// names of their own (buildResources, lastBuild, ...). Key order is kept, other members untouched.
import type { DatabaseSync } from 'node:sqlite';
import { IB_MEMBER_RENAMES, renameIbMembers } from '../ib-record-renames.ts';

export function ibRecordsOwnMembers(db: DatabaseSync): void {
  const kinds = Object.keys(IB_MEMBER_RENAMES);
  const rows = db.prepare(`SELECT arn, kind, doc FROM ib_records WHERE kind IN (${kinds.map(() => '?').join(', ')})`)
    .all(...kinds) as { arn: string; kind: string; doc: string }[];
  const update = db.prepare('UPDATE ib_records SET doc = ? WHERE arn = ?');
  for (const row of rows) {
    const renamed = renameIbMembers(row.kind, JSON.parse(row.doc));
    if (renamed) update.run(JSON.stringify(renamed), row.arn);
  }
}
