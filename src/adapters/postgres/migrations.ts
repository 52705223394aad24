// Versioned schema migrations for PostgreSQL. Each node runs them at start-up under an advisory
// lock, so several nodes starting together apply each migration once. A database whose version
// is newer than this release knows is refused: an older node must not write rows it does not
// understand.
import type { PgDatabase, Queryable } from './pg-database.ts';
import { SchemaTooNewError } from '../schema-version.ts';

// Re-exported: callers of the runner catch what it throws with one import.
export { SchemaTooNewError };

export interface Migration {
  version: number;
  description: string;
  /** Statements run in one transaction with the version row. */
  sql: string;
}

/** Any constant: the key of the advisory lock that serialises migrations across nodes. */
const MIGRATION_LOCK = 0x616d69666f726765n; // "amiforge"

async function currentVersion(q: Queryable): Promise<number> {
  await q.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    description text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  )`);
  const [row] = await q.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return row?.v ?? 0;
}

/** Brings the database to the newest version in `migrations`; returns the versions applied. */
export async function migrate(db: PgDatabase, migrations: Migration[]): Promise<number[]> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const latest = sorted.at(-1)?.version ?? 0;
  return db.tx(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    const found = await currentVersion(q);
    if (found > latest) throw new SchemaTooNewError(found, latest);
    const applied: number[] = [];
    for (const m of sorted) {
      if (m.version <= found) continue;
      await q.query(m.sql);
      await q.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [m.version, m.description]);
      applied.push(m.version);
    }
    return applied;
  });
}
