// Work leases and copy schedules' state in PostgreSQL: the same single statements as SQLite's
// (a conditional upsert takes a lease; a row lock makes concurrent acquisitions of one name wait
// for each other, so exactly one wins).
import type { CopyScheduleState, CopyScheduleStateStore } from '../../ports/copy-schedule-state.ts';
import type { WorkLease, WorkLeaseRepository } from '../../ports/work-leases.ts';
import type { PgDatabase } from './pg-database.ts';

export class PgWorkLeases implements WorkLeaseRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async acquire(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    const rows = await this.db.query(`INSERT INTO work_leases (name, holder, expires_ms) VALUES ($1, $2, $3)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
      WHERE work_leases.holder = excluded.holder OR work_leases.expires_ms <= $4
      RETURNING 1`, [name, holder, now.getTime() + ttlMs, now.getTime()]);
    return rows.length > 0;
  }

  async renew(names: string[], holder: string, ttlMs: number, now: Date): Promise<string[]> {
    if (!names.length) return [];
    const rows = await this.db.query<{ name: string }>('UPDATE work_leases SET expires_ms = $1 WHERE holder = $2 AND name = ANY($3::text[]) RETURNING name',
      [now.getTime() + ttlMs, holder, names]);
    return rows.map((r) => r.name);
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db.query('DELETE FROM work_leases WHERE name = $1 AND holder = $2', [name, holder]);
  }

  async held(holder?: string): Promise<WorkLease[]> {
    const rows = await this.db.query<{ name: string; holder: string; expires_ms: string | number }>(holder === undefined
      ? 'SELECT name, holder, expires_ms FROM work_leases ORDER BY name'
      : 'SELECT name, holder, expires_ms FROM work_leases WHERE holder = $1 ORDER BY name', holder === undefined ? [] : [holder]);
    return rows.map((r) => ({ name: r.name, holder: r.holder, expiresAt: new Date(Number(r.expires_ms)) }));
  }
}

export class PgCopyScheduleState implements CopyScheduleStateStore {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async load(): Promise<Map<string, CopyScheduleState>> {
    const rows = await this.db.query<{ name: string; state: CopyScheduleState }>('SELECT name, state FROM copy_schedule_state ORDER BY name');
    return new Map(rows.map((r) => [r.name, r.state]));
  }

  async save(name: string, state: CopyScheduleState): Promise<void> {
    await this.db.query('INSERT INTO copy_schedule_state (name, state) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO UPDATE SET state = excluded.state',
      [name, JSON.stringify(state)]);
  }
}
