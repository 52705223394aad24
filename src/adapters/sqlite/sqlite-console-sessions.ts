// Console sessions in SQLite: one row per session, its expiry as epoch milliseconds so that the
// clean-up of expired ones is one indexed comparison (PostgreSQL keeps the same shape).
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { ConsoleSessionRecord, ConsoleSessionStore } from '../../ports/console-sessions.ts';

export const CONSOLE_SESSIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS console_sessions (
  id_hash    TEXT PRIMARY KEY,
  expires_ms INTEGER NOT NULL,
  doc        TEXT NOT NULL    -- the ConsoleSessionRecord, JSON
);
CREATE INDEX IF NOT EXISTS console_sessions_expiry ON console_sessions (expires_ms);`;

type Row = Record<string, SQLInputValue>;

export class SqliteConsoleSessions implements ConsoleSessionStore {
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  async create(s: ConsoleSessionRecord): Promise<void> {
    this.db.prepare('INSERT INTO console_sessions (id_hash, expires_ms, doc) VALUES (?, ?, ?)')
      .run(s.idHash, Date.parse(s.expiresAt), JSON.stringify(s));
  }

  async get(idHash: string): Promise<ConsoleSessionRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM console_sessions WHERE id_hash = ?').get(idHash) as Row | undefined;
    return row && JSON.parse(String(row.doc)) as ConsoleSessionRecord;
  }

  async delete(idHash: string): Promise<boolean> {
    return Number(this.db.prepare('DELETE FROM console_sessions WHERE id_hash = ?').run(idHash).changes) > 0;
  }

  async deleteExpired(now: Date): Promise<number> {
    return Number(this.db.prepare('DELETE FROM console_sessions WHERE expires_ms <= ?').run(now.getTime()).changes);
  }
}
