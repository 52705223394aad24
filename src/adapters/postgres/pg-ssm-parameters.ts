// Systems Manager parameters in PostgreSQL: one JSON document per (account, region, name); a
// write is a single conditional statement, so concurrent nodes cannot both make the same version.
import type { ParameterRecord, SsmParameterRepository, StoredParameterRecord } from '../../ports/ssm-parameter-repository.ts';
import type { PgDatabase } from './pg-database.ts';

export const SCHEMA_SSM_PARAMETERS = `
CREATE TABLE ssm_parameters (
  account  text COLLATE "C" NOT NULL,
  region   text COLLATE "C" NOT NULL,
  name     text COLLATE "C" NOT NULL,
  revision integer NOT NULL,
  doc      jsonb NOT NULL,
  PRIMARY KEY (account, region, name)
);
`;

export class PgSsmParameters implements SsmParameterRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async get(account: string, region: string, name: string): Promise<StoredParameterRecord | undefined> {
    const [row] = await this.db.query<{ revision: number; doc: ParameterRecord }>(
      'SELECT revision, doc FROM ssm_parameters WHERE account = $1 AND region = $2 AND name = $3', [account, region, name]);
    return row && { record: row.doc, revision: row.revision };
  }

  async save(record: ParameterRecord, expectedRevision?: number): Promise<boolean> {
    const doc = JSON.stringify(record);
    const rows = expectedRevision === undefined
      ? await this.db.query(`INSERT INTO ssm_parameters (account, region, name, revision, doc) VALUES ($1, $2, $3, 1, $4)
          ON CONFLICT (account, region, name) DO NOTHING RETURNING name`, [record.account, record.region, record.name, doc])
      : await this.db.query(`UPDATE ssm_parameters SET revision = revision + 1, doc = $4
          WHERE account = $1 AND region = $2 AND name = $3 AND revision = $5 RETURNING name`,
      [record.account, record.region, record.name, doc, expectedRevision]);
    return rows.length === 1;
  }

  async delete(account: string, region: string, name: string): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM ssm_parameters WHERE account = $1 AND region = $2 AND name = $3 RETURNING name',
      [account, region, name]);
    return rows.length === 1;
  }

  async list(account: string, region: string, prefix: string): Promise<ParameterRecord[]> {
    const rows = await this.db.query<{ doc: ParameterRecord }>(
      'SELECT doc FROM ssm_parameters WHERE account = $1 AND region = $2 AND left(name, $3) = $4 ORDER BY name',
      [account, region, prefix.length, prefix]);
    return rows.map((r) => r.doc);
  }
}
