// Systems Manager parameters in SQLite: one JSON document per (account, region, name).
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { ParameterRecord, SsmParameterRepository, StoredParameterRecord } from '../../ports/ssm-parameter-repository.ts';

export const SSM_PARAMETERS_SCHEMA = `
CREATE TABLE IF NOT EXISTS ssm_parameters (
  account  TEXT NOT NULL,
  region   TEXT NOT NULL,
  name     TEXT NOT NULL,
  revision INTEGER NOT NULL,
  doc      TEXT NOT NULL,   -- the ParameterRecord, JSON (SecureString values sealed)
  PRIMARY KEY (account, region, name)
);`;

export const SSM_PARAMETERS_RESET = ' DELETE FROM ssm_parameters;';

export class SqliteSsmParameters implements SsmParameterRepository {
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  async get(account: string, region: string, name: string): Promise<StoredParameterRecord | undefined> {
    const row = this.db.prepare('SELECT revision, doc FROM ssm_parameters WHERE account = ? AND region = ? AND name = ?')
      .get(account, region, name) as Record<string, SQLInputValue> | undefined;
    return row && { record: JSON.parse(String(row.doc)), revision: Number(row.revision) };
  }

  async save(record: ParameterRecord, expectedRevision?: number): Promise<boolean> {
    const doc = JSON.stringify(record);
    const r = expectedRevision === undefined
      ? this.db.prepare('INSERT OR IGNORE INTO ssm_parameters (account, region, name, revision, doc) VALUES (?, ?, ?, 1, ?)')
        .run(record.account, record.region, record.name, doc)
      : this.db.prepare('UPDATE ssm_parameters SET revision = revision + 1, doc = ? WHERE account = ? AND region = ? AND name = ? AND revision = ?')
        .run(doc, record.account, record.region, record.name, expectedRevision);
    return Number(r.changes) === 1;
  }

  async delete(account: string, region: string, name: string): Promise<boolean> {
    const r = this.db.prepare('DELETE FROM ssm_parameters WHERE account = ? AND region = ? AND name = ?').run(account, region, name);
    return Number(r.changes) === 1;
  }

  async list(account: string, region: string, prefix: string): Promise<ParameterRecord[]> {
    // substr, not LIKE: names may contain `_`, which LIKE reads as a wildcard.
    const rows = this.db.prepare('SELECT doc FROM ssm_parameters WHERE account = ? AND region = ? AND substr(name, 1, ?) = ? ORDER BY name')
      .all(account, region, prefix.length, prefix) as Record<string, SQLInputValue>[];
    return rows.map((r) => JSON.parse(String(r.doc)));
  }
}
