// Image Builder's records in SQLite: one row per record, the document as JSON.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { IbQuery, IbRecord, ImageBuilderRepository } from '../../ports/imagebuilder-repository.ts';
import type { Tx } from './sqlite-tags.ts';

type Row = Record<string, SQLInputValue>;

const COLUMNS = 'arn, kind, account, region, name, version, build, parent, state, created_at, updated_at, doc';
const UPDATES = COLUMNS.split(', ').slice(1).map((c) => `${c} = excluded.${c}`).join(', ');

function toRow(r: IbRecord): SQLInputValue[] {
  return [r.arn, r.kind, r.account, r.region, r.name, r.version ?? null, r.build ?? null, r.parent ?? null,
    r.state ?? null, r.createdAt, r.updatedAt, JSON.stringify(r.doc)];
}

function fromRow(row: Row): IbRecord {
  const r: IbRecord = {
    arn: String(row.arn), kind: String(row.kind) as IbRecord['kind'], account: String(row.account),
    region: String(row.region), name: String(row.name), doc: JSON.parse(String(row.doc)),
    createdAt: String(row.created_at), updatedAt: String(row.updated_at),
  };
  if (row.version !== null) r.version = String(row.version);
  if (row.build !== null) r.build = Number(row.build);
  if (row.parent !== null) r.parent = String(row.parent);
  if (row.state !== null) r.state = String(row.state);
  return r;
}

export class SqliteImageBuilder implements ImageBuilderRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  constructor(db: DatabaseSync, tx: Tx) {
    this.db = db;
    this.tx = tx;
  }

  async insert(record: IbRecord): Promise<boolean> {
    const result = this.db.prepare(`INSERT OR IGNORE INTO ib_records (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(...toRow(record));
    return Number(result.changes) > 0;
  }

  async put(record: IbRecord): Promise<void> {
    this.upsert(record);
  }

  /** An upsert, not INSERT OR REPLACE: a replaced row would get a new rowid, which orders ties. */
  private upsert(record: IbRecord): void {
    this.db.prepare(`INSERT INTO ib_records (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (arn) DO UPDATE SET ${UPDATES}`)
      .run(...toRow(record));
  }

  async get(arn: string): Promise<IbRecord | undefined> {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM ib_records WHERE arn = ?`).get(arn) as Row | undefined;
    return row && fromRow(row);
  }

  async list(q: IbQuery): Promise<IbRecord[]> {
    const where = ['kind = ?'];
    const args: SQLInputValue[] = [q.kind];
    for (const [column, value] of [['account', q.account], ['region', q.region], ['name', q.name], ['version', q.version], ['parent', q.parent]] as const) {
      if (value !== undefined) { where.push(`${column} = ?`); args.push(value); }
    }
    if (q.states) {
      if (!q.states.length) return [];
      where.push(`state IN (${q.states.map(() => '?').join(', ')})`);
      args.push(...q.states);
    }
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM ib_records WHERE ${where.join(' AND ')} ORDER BY created_at, rowid`)
      .all(...args) as Row[];
    return rows.map(fromRow);
  }

  async update(arn: string, change: (current: IbRecord) => IbRecord | undefined): Promise<IbRecord | undefined> {
    return this.tx(() => {
      const row = this.db.prepare(`SELECT ${COLUMNS} FROM ib_records WHERE arn = ?`).get(arn) as Row | undefined;
      if (!row) return undefined;
      const next = change(fromRow(row));
      if (!next) return undefined;
      this.upsert(next);
      return next;
    });
  }

  async delete(arn: string): Promise<boolean> {
    return Number(this.db.prepare('DELETE FROM ib_records WHERE arn = ?').run(arn).changes) > 0;
  }
}
