// Console sessions in PostgreSQL, the same shape as in SQLite: any node on the database accepts them.
import type { ConsoleSessionRecord, ConsoleSessionStore } from '../../ports/console-sessions.ts';
import type { PgDatabase } from './pg-database.ts';

export const SCHEMA_CONSOLE_SESSIONS = `
CREATE TABLE console_sessions (
  id_hash    text COLLATE "C" PRIMARY KEY,
  expires_ms bigint NOT NULL,
  doc        jsonb NOT NULL     -- the ConsoleSessionRecord
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_ms);
`;

export class PgConsoleSessions implements ConsoleSessionStore {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async create(s: ConsoleSessionRecord): Promise<void> {
    await this.db.query('INSERT INTO console_sessions (id_hash, expires_ms, doc) VALUES ($1, $2, $3::jsonb)',
      [s.idHash, Date.parse(s.expiresAt), JSON.stringify(s)]);
  }

  async get(idHash: string): Promise<ConsoleSessionRecord | undefined> {
    const [row] = await this.db.query<{ doc: ConsoleSessionRecord }>('SELECT doc FROM console_sessions WHERE id_hash = $1', [idHash]);
    return row?.doc;
  }

  async delete(idHash: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM console_sessions WHERE id_hash = $1 RETURNING 1', [idHash])).length > 0;
  }

  async deleteExpired(now: Date): Promise<number> {
    return (await this.db.query('DELETE FROM console_sessions WHERE expires_ms <= $1 RETURNING 1', [now.getTime()])).length;
  }
}
