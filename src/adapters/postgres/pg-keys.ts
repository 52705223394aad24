// KMS keys, their wrapped key material, aliases and grants in PostgreSQL. An alias name is the
// primary key of its row, so two nodes creating the same alias cannot both succeed.
import type {
  AliasQuery, AliasRecord, GrantQuery, GrantRecord, KeyQuery, KeyRecord, KeyRepository,
} from '../../ports/key-repository.ts';
import { isUniqueViolation, type PgDatabase, type Queryable } from './pg-database.ts';

const SCAN_BATCH = 500;
const ROOT_FINGERPRINT = 'root-key-fingerprint';

type AliasRow = { account: string; region: string; alias_name: string; target_key_id: string; created: string; updated: string };
const toAlias = (row: AliasRow): AliasRecord => ({
  account: row.account, region: row.region, aliasName: row.alias_name,
  targetKeyId: row.target_key_id, creationDate: row.created, lastUpdatedDate: row.updated,
});

/** Rows of `sql` (whose last parameter is the cursor) in batches, resuming after the last `key`. */
async function* batches<R extends Record<string, unknown>>(db: Queryable, sql: string, params: unknown[], key: keyof R, after: string): AsyncIterable<R> {
  for (;;) {
    const rows = await db.query<R>(`${sql} LIMIT ${SCAN_BATCH}`, [...params, after]);
    yield* rows;
    if (rows.length < SCAN_BATCH) return;
    after = String(rows[rows.length - 1][key]);
  }
}

export class PgKeys implements KeyRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  /** Inserts the alias row; false when the name is taken (the statement itself does not fail, so a transaction goes on). */
  private static async putAlias(q: Queryable, a: AliasRecord): Promise<boolean> {
    const rows = await q.query(`INSERT INTO kms_aliases (account, region, alias_name, target_key_id, created, updated)
      VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account, region, alias_name) DO NOTHING RETURNING 1`,
    [a.account, a.region, a.aliasName, a.targetKeyId, a.creationDate, a.lastUpdatedDate]);
    return rows.length > 0;
  }

  async insert(key: KeyRecord, wrappedMaterial: Uint8Array, alias?: AliasRecord): Promise<boolean> {
    // A taken alias throws out of the transaction, so the key rolls back with it.
    const taken = new Error('alias taken');
    try {
      await this.db.tx(async (q) => {
        await q.query('INSERT INTO kms_keys (key_id, region, account, doc) VALUES ($1, $2, $3, $4::jsonb)',
          [key.keyId, key.region, key.account, JSON.stringify(key)]);
        await q.query('INSERT INTO kms_key_material (key_id, version, wrapped) VALUES ($1, $2, $3)',
          [key.keyId, key.materialVersion, Buffer.from(wrappedMaterial)]);
        if (alias && !await PgKeys.putAlias(q, alias)) throw taken;
      });
      return true;
    } catch (err) {
      if (err === taken || isUniqueViolation(err, 'kms_aliases_pkey')) return false;
      throw err;
    }
  }

  async get(region: string, keyId: string): Promise<KeyRecord | undefined> {
    const [row] = await this.db.query<{ doc: KeyRecord }>('SELECT doc FROM kms_keys WHERE key_id = $1 AND region = $2', [keyId, region]);
    return row?.doc;
  }

  async update(key: KeyRecord): Promise<void> {
    await this.db.query('UPDATE kms_keys SET doc = $1::jsonb WHERE key_id = $2 AND region = $3', [JSON.stringify(key), key.keyId, key.region]);
  }

  async delete(region: string, keyId: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const gone = await q.query('DELETE FROM kms_keys WHERE key_id = $1 AND region = $2 RETURNING 1', [keyId, region]);
      if (!gone.length) return false;
      await q.query('DELETE FROM kms_key_material WHERE key_id = $1', [keyId]);
      await q.query('DELETE FROM kms_aliases WHERE target_key_id = $1', [keyId]);
      await q.query('DELETE FROM kms_grants WHERE key_id = $1', [keyId]);
      return true;
    });
  }

  async *scan(q: KeyQuery): AsyncIterable<KeyRecord> {
    const rows = batches<{ key_id: string; doc: KeyRecord }>(this.db,
      'SELECT key_id, doc FROM kms_keys WHERE account = $1 AND region = $2 AND key_id > $3 ORDER BY key_id',
      [q.account, q.region], 'key_id', q.afterKeyId ?? '');
    for await (const row of rows) yield row.doc;
  }

  async material(keyId: string, version: number): Promise<Uint8Array | undefined> {
    const [row] = await this.db.query<{ wrapped: Buffer }>('SELECT wrapped FROM kms_key_material WHERE key_id = $1 AND version = $2', [keyId, version]);
    return row?.wrapped;
  }

  async getAlias(account: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const [row] = await this.db.query<AliasRow>('SELECT * FROM kms_aliases WHERE account = $1 AND region = $2 AND alias_name = $3',
      [account, region, aliasName]);
    return row && toAlias(row);
  }

  async insertAlias(alias: AliasRecord): Promise<boolean> {
    return PgKeys.putAlias(this.db, alias);
  }

  async updateAlias(a: AliasRecord): Promise<boolean> {
    return (await this.db.query(`UPDATE kms_aliases SET target_key_id = $1, updated = $2 WHERE account = $3 AND region = $4 AND alias_name = $5
      RETURNING 1`, [a.targetKeyId, a.lastUpdatedDate, a.account, a.region, a.aliasName])).length > 0;
  }

  async deleteAlias(account: string, region: string, aliasName: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM kms_aliases WHERE account = $1 AND region = $2 AND alias_name = $3 RETURNING 1',
      [account, region, aliasName])).length > 0;
  }

  async *scanAliases(q: AliasQuery): AsyncIterable<AliasRecord> {
    const byKey = q.targetKeyId !== undefined;
    const rows = batches<AliasRow>(this.db, `SELECT * FROM kms_aliases WHERE account = $1 AND region = $2
      ${byKey ? 'AND target_key_id = $3 AND alias_name > $4' : 'AND alias_name > $3'} ORDER BY alias_name`,
    [q.account, q.region, ...(byKey ? [q.targetKeyId] : [])], 'alias_name', q.afterAliasName ?? '');
    for await (const row of rows) yield toAlias(row);
  }

  async insertGrant(g: GrantRecord): Promise<void> {
    await this.db.query(`INSERT INTO kms_grants (key_id, grant_id, region, grantee_account, retiring_principal, doc)
      VALUES ($1, $2, $3, $4, $5, $6::jsonb)`, [g.keyId, g.grantId, g.region, g.granteeAccount, g.retiringPrincipal ?? null, JSON.stringify(g)]);
  }

  async deleteGrant(keyId: string, grantId: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM kms_grants WHERE key_id = $1 AND grant_id = $2 RETURNING 1', [keyId, grantId])).length > 0;
  }

  async *grants(keyId: string, q: GrantQuery = {}): AsyncIterable<GrantRecord> {
    const params: unknown[] = [keyId];
    const where = ['key_id = $1'];
    if (q.granteeAccount !== undefined) where.push(`grantee_account = $${params.push(q.granteeAccount)}`);
    if (q.grantId !== undefined) where.push(`grant_id = $${params.push(q.grantId)}`);
    const rows = batches<{ grant_id: string; doc: GrantRecord }>(this.db,
      `SELECT grant_id, doc FROM kms_grants WHERE ${where.join(' AND ')} AND grant_id > $${params.length + 1} ORDER BY grant_id`,
      params, 'grant_id', q.afterGrantId ?? '');
    for await (const row of rows) yield row.doc;
  }

  async *retirableBy(region: string, principal: string, afterGrantId?: string): AsyncIterable<GrantRecord> {
    const rows = batches<{ grant_id: string; doc: GrantRecord }>(this.db,
      'SELECT grant_id, doc FROM kms_grants WHERE region = $1 AND retiring_principal = $2 AND grant_id > $3 ORDER BY grant_id',
      [region, principal], 'grant_id', afterGrantId ?? '');
    for await (const row of rows) yield row.doc;
  }

  async rootKeyFingerprint(): Promise<string | undefined> {
    const [row] = await this.db.query<{ value: string }>('SELECT value FROM kms_settings WHERE name = $1', [ROOT_FINGERPRINT]);
    return row?.value;
  }

  async setRootKeyFingerprint(fingerprint: string): Promise<void> {
    await this.db.query('INSERT INTO kms_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      [ROOT_FINGERPRINT, fingerprint]);
  }
}
