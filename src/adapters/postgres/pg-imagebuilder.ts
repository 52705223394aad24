// Image Builder's records in PostgreSQL: one row per record, the document as jsonb.
import type { IbQuery, IbRecord, ImageBuilderRepository } from '../../ports/imagebuilder-repository.ts';
import type { PgDatabase, Queryable } from './pg-database.ts';

type Row = {
  arn: string; kind: IbRecord['kind']; account: string; region: string; name: string; version: string | null; build: number | null;
  parent: string | null; state: string | null; created_at: string; updated_at: string; doc: IbRecord['doc'];
};

const COLUMNS = 'arn, kind, account, region, name, version, build, parent, state, created_at, updated_at, doc';
const VALUES = '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb';
// The upsert leaves seq alone: a record keeps its place among those created in the same instant.
const UPDATES = COLUMNS.split(', ').slice(1).map((c) => `${c} = excluded.${c}`).join(', ');

function toParams(r: IbRecord): unknown[] {
  return [r.arn, r.kind, r.account, r.region, r.name, r.version ?? null, r.build ?? null, r.parent ?? null,
    r.state ?? null, r.createdAt, r.updatedAt, JSON.stringify(r.doc)];
}

function fromRow(row: Row): IbRecord {
  const r: IbRecord = {
    arn: row.arn, kind: row.kind, account: row.account, region: row.region, name: row.name, doc: row.doc,
    createdAt: row.created_at, updatedAt: row.updated_at,
  };
  if (row.version !== null) r.version = row.version;
  if (row.build !== null) r.build = row.build;
  if (row.parent !== null) r.parent = row.parent;
  if (row.state !== null) r.state = row.state;
  return r;
}

async function upsert(q: Queryable, record: IbRecord): Promise<void> {
  await q.query(`INSERT INTO ib_records (${COLUMNS}) VALUES (${VALUES}) ON CONFLICT (arn) DO UPDATE SET ${UPDATES}`, toParams(record));
}

export class PgImageBuilder implements ImageBuilderRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async insert(record: IbRecord): Promise<boolean> {
    return (await this.db.query(`INSERT INTO ib_records (${COLUMNS}) VALUES (${VALUES}) ON CONFLICT (arn) DO NOTHING RETURNING 1`,
      toParams(record))).length > 0;
  }

  async put(record: IbRecord): Promise<void> {
    await upsert(this.db, record);
  }

  async get(arn: string): Promise<IbRecord | undefined> {
    const [row] = await this.db.query<Row>(`SELECT ${COLUMNS} FROM ib_records WHERE arn = $1`, [arn]);
    return row && fromRow(row);
  }

  async list(q: IbQuery): Promise<IbRecord[]> {
    const params: unknown[] = [q.kind];
    const where = ['kind = $1'];
    for (const [column, value] of [['account', q.account], ['region', q.region], ['name', q.name], ['version', q.version], ['parent', q.parent]] as const) {
      if (value !== undefined) where.push(`${column} = $${params.push(value)}`);
    }
    if (q.states) {
      if (!q.states.length) return [];
      where.push(`state = ANY($${params.push(q.states)}::text[])`);
    }
    return (await this.db.query<Row>(`SELECT ${COLUMNS} FROM ib_records WHERE ${where.join(' AND ')} ORDER BY created_at, seq`, params)).map(fromRow);
  }

  async update(arn: string, change: (current: IbRecord) => IbRecord | undefined): Promise<IbRecord | undefined> {
    // The row lock makes concurrent updates of one record (from any node) apply one after the other.
    return this.db.tx(async (q) => {
      const [row] = await q.query<Row>(`SELECT ${COLUMNS} FROM ib_records WHERE arn = $1 FOR UPDATE`, [arn]);
      if (!row) return undefined;
      const next = change(fromRow(row));
      if (!next) return undefined;
      await upsert(q, next);
      return next;
    });
  }

  async delete(arn: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM ib_records WHERE arn = $1 RETURNING 1', [arn])).length > 0;
  }
}
