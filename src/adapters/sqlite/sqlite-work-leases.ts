// Work leases in SQLite: one row per lease. The conditional upsert is plain SQL that PostgreSQL
// runs as well (INSERT ... ON CONFLICT ... DO UPDATE ... WHERE).
import type { DatabaseSync } from 'node:sqlite';
import type { WorkLease, WorkLeaseRepository } from '../../ports/work-leases.ts';

export const WORK_LEASES_SCHEMA = `
CREATE TABLE IF NOT EXISTS work_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS work_leases_by_holder ON work_leases (holder);
`;


export class SqliteWorkLeases implements WorkLeaseRepository {
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  async acquire(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    // The update applies only to the holder itself or over an expired lease; otherwise the
    // statement changes nothing, which is the answer.
    const result = this.db.prepare(`INSERT INTO work_leases (name, holder, expires_at) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
      WHERE work_leases.holder = excluded.holder OR work_leases.expires_at <= ?`)
      .run(name, holder, now.getTime() + ttlMs, now.getTime());
    return Number(result.changes) > 0;
  }

  async renew(names: string[], holder: string, ttlMs: number, now: Date): Promise<string[]> {
    if (!names.length) return [];
    const marks = names.map(() => '?').join(', ');
    // A lease that expired is still renewed when nobody took it over: the work never changed hands.
    const rows = this.db.prepare(`UPDATE work_leases SET expires_at = ? WHERE holder = ? AND name IN (${marks}) RETURNING name`)
      .all(now.getTime() + ttlMs, holder, ...names) as { name: string }[];
    return rows.map((r) => String(r.name));
  }

  async release(name: string, holder: string): Promise<void> {
    this.db.prepare('DELETE FROM work_leases WHERE name = ? AND holder = ?').run(name, holder);
  }

  async held(holder?: string): Promise<WorkLease[]> {
    const rows = (holder === undefined
      ? this.db.prepare('SELECT name, holder, expires_at FROM work_leases ORDER BY name').all()
      : this.db.prepare('SELECT name, holder, expires_at FROM work_leases WHERE holder = ? ORDER BY name').all(holder)) as Record<string, unknown>[];
    return rows.map((r) => ({ name: String(r.name), holder: String(r.holder), expiresAt: new Date(Number(r.expires_at)) }));
  }
}
