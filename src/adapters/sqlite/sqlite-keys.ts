// KMS keys, their wrapped key material, aliases and grants in SQLite.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type {
  AliasQuery, AliasRecord, GrantQuery, GrantRecord, KeyQuery, KeyRecord, KeyRepository,
} from '../../ports/key-repository.ts';
import type { Tx } from './sqlite-tags.ts';

type Row = Record<string, SQLInputValue>;
const SCAN_BATCH = 500;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const ROOT_FINGERPRINT = 'root-key-fingerprint';

const toKey = (row: Row): KeyRecord => JSON.parse(String(row.doc));
const toGrant = (row: Row): GrantRecord => JSON.parse(String(row.doc));
const toAlias = (row: Row): AliasRecord => ({
  account: String(row.account), region: String(row.region), aliasName: String(row.alias_name),
  targetKeyId: String(row.target_key_id), creationDate: String(row.created), lastUpdatedDate: String(row.updated),
});

export class SqliteKeys implements KeyRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  constructor(db: DatabaseSync, tx: Tx) {
    this.db = db;
    this.tx = tx;
  }

  /** Inserts the alias row; false when the name is taken. */
  private putAlias(a: AliasRecord): boolean {
    try {
      this.db.prepare('INSERT INTO kms_aliases (account, region, alias_name, target_key_id, created, updated) VALUES (?, ?, ?, ?, ?, ?)')
        .run(a.account, a.region, a.aliasName, a.targetKeyId, a.creationDate, a.lastUpdatedDate);
      return true;
    } catch (err) {
      if ((err as { errcode?: number }).errcode === SQLITE_CONSTRAINT_PRIMARYKEY) return false;
      throw err;
    }
  }

  async insert(key: KeyRecord, wrappedMaterial: Uint8Array, alias?: AliasRecord): Promise<boolean> {
    // A taken alias throws out of the transaction, so the key rolls back with it.
    const taken = new Error('alias taken');
    try {
      this.tx(() => {
        this.db.prepare('INSERT INTO kms_keys (key_id, region, account, doc) VALUES (?, ?, ?, ?)')
          .run(key.keyId, key.region, key.account, JSON.stringify(key));
        this.db.prepare('INSERT INTO kms_key_material (key_id, version, wrapped) VALUES (?, ?, ?)')
          .run(key.keyId, key.materialVersion, wrappedMaterial);
        if (alias && !this.putAlias(alias)) throw taken;
      });
      return true;
    } catch (err) {
      if (err === taken) return false;
      throw err;
    }
  }

  async get(region: string, keyId: string): Promise<KeyRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM kms_keys WHERE key_id = ? AND region = ?').get(keyId, region) as Row | undefined;
    return row && toKey(row);
  }

  async update(key: KeyRecord): Promise<void> {
    this.db.prepare('UPDATE kms_keys SET doc = ? WHERE key_id = ? AND region = ?').run(JSON.stringify(key), key.keyId, key.region);
  }

  async delete(region: string, keyId: string): Promise<boolean> {
    return this.tx(() => {
      const gone = Number(this.db.prepare('DELETE FROM kms_keys WHERE key_id = ? AND region = ?').run(keyId, region).changes) > 0;
      if (!gone) return false;
      this.db.prepare('DELETE FROM kms_key_material WHERE key_id = ?').run(keyId);
      this.db.prepare('DELETE FROM kms_aliases WHERE target_key_id = ?').run(keyId);
      this.db.prepare('DELETE FROM kms_grants WHERE key_id = ?').run(keyId);
      return true;
    });
  }

  async *scan(q: KeyQuery): AsyncIterable<KeyRecord> {
    const stmt = this.db.prepare('SELECT key_id, doc FROM kms_keys WHERE account = ? AND region = ? AND key_id > ? ORDER BY key_id LIMIT ?');
    let after = q.afterKeyId ?? '';
    for (;;) {
      const rows = stmt.all(q.account, q.region, after, SCAN_BATCH) as Row[];
      for (const row of rows) yield toKey(row);
      if (rows.length < SCAN_BATCH) return;
      after = String(rows[rows.length - 1].key_id);
    }
  }

  async material(keyId: string, version: number): Promise<Uint8Array | undefined> {
    const row = this.db.prepare('SELECT wrapped FROM kms_key_material WHERE key_id = ? AND version = ?').get(keyId, version) as Row | undefined;
    return row ? (row.wrapped as Uint8Array) : undefined;
  }

  async getAlias(account: string, region: string, aliasName: string): Promise<AliasRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM kms_aliases WHERE account = ? AND region = ? AND alias_name = ?')
      .get(account, region, aliasName) as Row | undefined;
    return row && toAlias(row);
  }

  async insertAlias(alias: AliasRecord): Promise<boolean> {
    return this.putAlias(alias);
  }

  async updateAlias(a: AliasRecord): Promise<boolean> {
    return Number(this.db.prepare('UPDATE kms_aliases SET target_key_id = ?, updated = ? WHERE account = ? AND region = ? AND alias_name = ?')
      .run(a.targetKeyId, a.lastUpdatedDate, a.account, a.region, a.aliasName).changes) > 0;
  }

  async deleteAlias(account: string, region: string, aliasName: string): Promise<boolean> {
    return Number(this.db.prepare('DELETE FROM kms_aliases WHERE account = ? AND region = ? AND alias_name = ?')
      .run(account, region, aliasName).changes) > 0;
  }

  async *scanAliases(q: AliasQuery): AsyncIterable<AliasRecord> {
    const byKey = q.targetKeyId !== undefined;
    const stmt = this.db.prepare(`SELECT * FROM kms_aliases WHERE account = ? AND region = ? ${byKey ? 'AND target_key_id = ?' : ''}
      AND alias_name > ? ORDER BY alias_name LIMIT ?`);
    let after = q.afterAliasName ?? '';
    for (;;) {
      const rows = stmt.all(q.account, q.region, ...(byKey ? [q.targetKeyId!] : []), after, SCAN_BATCH) as Row[];
      for (const row of rows) yield toAlias(row);
      if (rows.length < SCAN_BATCH) return;
      after = String(rows[rows.length - 1].alias_name);
    }
  }

  async insertGrant(g: GrantRecord): Promise<void> {
    this.db.prepare('INSERT INTO kms_grants (key_id, grant_id, region, grantee_account, retiring_principal, doc) VALUES (?, ?, ?, ?, ?, ?)')
      .run(g.keyId, g.grantId, g.region, g.granteeAccount, g.retiringPrincipal ?? null, JSON.stringify(g));
  }

  async deleteGrant(keyId: string, grantId: string): Promise<boolean> {
    return Number(this.db.prepare('DELETE FROM kms_grants WHERE key_id = ? AND grant_id = ?').run(keyId, grantId).changes) > 0;
  }

  async *grants(keyId: string, q: GrantQuery = {}): AsyncIterable<GrantRecord> {
    const where = ['key_id = ?'];
    const params: SQLInputValue[] = [keyId];
    if (q.granteeAccount !== undefined) {
      where.push('grantee_account = ?');
      params.push(q.granteeAccount);
    }
    if (q.grantId !== undefined) {
      where.push('grant_id = ?');
      params.push(q.grantId);
    }
    const stmt = this.db.prepare(`SELECT grant_id, doc FROM kms_grants WHERE ${where.join(' AND ')} AND grant_id > ? ORDER BY grant_id LIMIT ?`);
    let after = q.afterGrantId ?? '';
    for (;;) {
      const rows = stmt.all(...params, after, SCAN_BATCH) as Row[];
      for (const row of rows) yield toGrant(row);
      if (rows.length < SCAN_BATCH) return;
      after = String(rows[rows.length - 1].grant_id);
    }
  }

  async *retirableBy(region: string, principal: string, afterGrantId?: string): AsyncIterable<GrantRecord> {
    const stmt = this.db.prepare(`SELECT grant_id, doc FROM kms_grants WHERE region = ? AND retiring_principal = ? AND grant_id > ?
      ORDER BY grant_id LIMIT ?`);
    let after = afterGrantId ?? '';
    for (;;) {
      const rows = stmt.all(region, principal, after, SCAN_BATCH) as Row[];
      for (const row of rows) yield toGrant(row);
      if (rows.length < SCAN_BATCH) return;
      after = String(rows[rows.length - 1].grant_id);
    }
  }

  async rootKeyFingerprint(): Promise<string | undefined> {
    const row = this.db.prepare('SELECT value FROM kms_settings WHERE name = ?').get(ROOT_FINGERPRINT) as Row | undefined;
    return row ? String(row.value) : undefined;
  }

  async setRootKeyFingerprint(fingerprint: string): Promise<void> {
    this.db.prepare('INSERT INTO kms_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value')
      .run(ROOT_FINGERPRINT, fingerprint);
  }
}
