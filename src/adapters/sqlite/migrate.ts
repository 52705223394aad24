// The SQLite migration runner. The schema's version is the file's `PRAGMA user_version` (0 in a
// new file, and in files made before versioned migrations). Each migration runs in its own
// IMMEDIATE transaction together with the version bump, so a crash leaves the file at a whole
// version, and two processes opening the same file at once (serve and fsck) apply it once: the
// second one waits for the write lock and then reads the version the first one left.
import type { DatabaseSync } from 'node:sqlite';
import { SchemaTooNewError } from '../schema-version.ts';

export interface SqliteMigration {
  version: number;
  description: string;
  /** SQL statements, or a function for changes SQL alone cannot decide (a column that may exist). */
  up: string | ((db: DatabaseSync) => void);
}

export function schemaVersion(db: DatabaseSync): number {
  return Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
}

/** Brings the file to the newest version in `migrations`; returns the versions applied. */
export function migrateSqlite(db: DatabaseSync, migrations: SqliteMigration[]): number[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const latest = sorted.at(-1)?.version ?? 0;
  // Checked before taking the write lock too, so a read-only look at a newer file fails fast.
  const seen = schemaVersion(db);
  if (seen > latest) throw new SchemaTooNewError(seen, latest);
  const applied: number[] = [];
  for (const m of sorted) {
    if (m.version <= seen) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      const found = schemaVersion(db);
      if (found > latest) throw new SchemaTooNewError(found, latest);
      if (m.version > found) {
        if (typeof m.up === 'string') db.exec(m.up);
        else m.up(db);
        // PRAGMA takes no bound parameters; the version is a number from the list above.
        db.exec(`PRAGMA user_version = ${Math.trunc(m.version)}`);
        applied.push(m.version);
      }
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
  return applied;
}
