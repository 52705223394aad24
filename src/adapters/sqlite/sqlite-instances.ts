// Instances, their private addresses and key pairs in SQLite.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type {
  InstanceQuery, InstanceRecord, InstanceRepository, InstanceStateName, KeyPairRecord, KeyPairRepository,
} from '../../ports/instance-repository.ts';
import { putTags, type Tx } from './sqlite-tags.ts';

type Row = Record<string, SQLInputValue>;
const SCAN_BATCH = 500;
const parse = <T>(row: Row): T => JSON.parse(String(row.doc)) as T;

export class SqliteInstances implements InstanceRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  constructor(db: DatabaseSync, tx: Tx) {
    this.db = db;
    this.tx = tx;
  }

  async insert(records: InstanceRecord[], tags?: { account: string; tags: Tag[] }): Promise<void> {
    this.tx(() => {
      const insert = this.db.prepare(`INSERT INTO instances (instance_id, region, owner_id, state, client_token, terminated_at, node_id, doc)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
      for (const r of records) {
        insert.run(r.instanceId, r.region, r.ownerId, r.state, r.clientToken ?? null, r.terminatedAt ?? null, r.nodeId ?? null, JSON.stringify(r));
      }
      if (tags?.tags.length && records.length) {
        putTags(this.db, tags.account, records[0].region, records.map((r) => ({ id: r.instanceId, type: 'instance' })), tags.tags);
      }
    });
  }

  async get(region: string, instanceId: string): Promise<InstanceRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM instances WHERE instance_id = ? AND region = ?').get(instanceId, region) as Row | undefined;
    return row && parse<InstanceRecord>(row);
  }

  async update(r: InstanceRecord): Promise<void> {
    this.db.prepare('UPDATE instances SET state = ?, terminated_at = ?, node_id = ?, doc = ? WHERE instance_id = ? AND region = ?')
      .run(r.state, r.terminatedAt ?? null, r.nodeId ?? null, JSON.stringify(r), r.instanceId, r.region);
  }

  async delete(region: string, instanceId: string): Promise<boolean> {
    return this.tx(() => {
      this.db.prepare('DELETE FROM tags WHERE resource_id = ? AND region = ?').run(instanceId, region);
      this.db.prepare('DELETE FROM private_addresses WHERE instance_id = ?').run(instanceId);
      return Number(this.db.prepare('DELETE FROM instances WHERE instance_id = ? AND region = ?').run(instanceId, region).changes) > 0;
    });
  }

  async *scan(q: InstanceQuery): AsyncIterable<InstanceRecord> {
    const where = ['region = ?', 'owner_id = ?'];
    const params: SQLInputValue[] = [q.region, q.ownerId];
    if (q.instanceIds) {
      where.push('instance_id IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(q.instanceIds));
    }
    const stmt = this.db.prepare(`SELECT instance_id, doc FROM instances WHERE ${where.join(' AND ')} AND instance_id > ?
      ORDER BY instance_id LIMIT ?`);
    let after = q.afterInstanceId ?? '';
    for (;;) {
      const rows = stmt.all(...params, after, SCAN_BATCH) as Row[];
      for (const row of rows) yield parse<InstanceRecord>(row);
      if (rows.length < SCAN_BATCH) return;
      after = String(rows[rows.length - 1].instance_id);
    }
  }

  async findByClientToken(region: string, ownerId: string, clientToken: string): Promise<InstanceRecord[]> {
    return (this.db.prepare('SELECT doc FROM instances WHERE region = ? AND owner_id = ? AND client_token = ? ORDER BY instance_id')
      .all(region, ownerId, clientToken) as Row[]).map((r) => parse<InstanceRecord>(r));
  }

  async countActive(region: string, ownerId: string): Promise<number> {
    return Number((this.db.prepare(`SELECT count(*) AS n FROM instances WHERE region = ? AND owner_id = ? AND state != 'terminated'`)
      .get(region, ownerId) as Row).n);
  }

  async inStates(states: InstanceStateName[]): Promise<InstanceRecord[]> {
    return (this.db.prepare('SELECT doc FROM instances WHERE state IN (SELECT value FROM json_each(?)) ORDER BY instance_id')
      .all(JSON.stringify(states)) as Row[]).map((r) => parse<InstanceRecord>(r));
  }

  async onNode(nodeId: string, states: InstanceStateName[]): Promise<InstanceRecord[]> {
    return (this.db.prepare('SELECT doc FROM instances WHERE node_id = ? AND state IN (SELECT value FROM json_each(?)) ORDER BY instance_id')
      .all(nodeId, JSON.stringify(states)) as Row[]).map((r) => parse<InstanceRecord>(r));
  }

  async terminatedBefore(cutoff: string): Promise<InstanceRecord[]> {
    return (this.db.prepare(`SELECT doc FROM instances WHERE state = 'terminated' AND terminated_at < ?`).all(cutoff) as Row[])
      .map((r) => parse<InstanceRecord>(r));
  }

  async allocateAddress(region: string, instanceId: string, first: number, last: number): Promise<number | undefined> {
    return this.tx(() => {
      const own = this.db.prepare('SELECT address FROM private_addresses WHERE instance_id = ?').get(instanceId) as Row | undefined;
      if (own) return Number(own.address);
      // Next after the highest in use; past the end, the lowest gap (addresses of terminated
      // instances are given again only once the range has wrapped, as a DHCP server does).
      const max = this.db.prepare('SELECT max(address) AS m FROM private_addresses WHERE region = ? AND address BETWEEN ? AND ?')
        .get(region, first, last) as Row;
      let address: number | undefined = max.m === null ? first : Number(max.m) + 1;
      if (address > last) {
        const firstFree = this.db.prepare('SELECT 1 FROM private_addresses WHERE region = ? AND address = ?').get(region, first);
        if (!firstFree) address = first;
        else {
          const gap = this.db.prepare(`SELECT a.address + 1 AS free FROM private_addresses a WHERE a.region = ? AND a.address BETWEEN ? AND ?
            AND NOT EXISTS (SELECT 1 FROM private_addresses b WHERE b.region = a.region AND b.address = a.address + 1)
            ORDER BY a.address LIMIT 1`).get(region, first, last - 1) as Row | undefined;
          address = gap ? Number(gap.free) : undefined;
        }
      }
      if (address === undefined) return undefined;
      this.db.prepare('INSERT INTO private_addresses (region, address, instance_id) VALUES (?, ?, ?)').run(region, address, instanceId);
      return address;
    });
  }

  async releaseAddress(region: string, instanceId: string): Promise<void> {
    this.db.prepare('DELETE FROM private_addresses WHERE region = ? AND instance_id = ?').run(region, instanceId);
  }
}

export class SqliteKeyPairs implements KeyPairRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  constructor(db: DatabaseSync, tx: Tx) {
    this.db = db;
    this.tx = tx;
  }

  async insert(r: KeyPairRecord, tags?: { account: string; tags: Tag[] }): Promise<boolean> {
    return this.tx(() => {
      const inserted = this.db.prepare(`INSERT INTO key_pairs (key_pair_id, region, owner_id, key_name, doc) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (region, owner_id, key_name) DO NOTHING`).run(r.keyPairId, r.region, r.ownerId, r.keyName, JSON.stringify(r));
      if (!Number(inserted.changes)) return false;
      if (tags?.tags.length) putTags(this.db, tags.account, r.region, [{ id: r.keyPairId, type: 'key-pair' }], tags.tags);
      return true;
    });
  }

  async byName(region: string, ownerId: string, keyName: string): Promise<KeyPairRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM key_pairs WHERE region = ? AND owner_id = ? AND key_name = ?').get(region, ownerId, keyName) as Row | undefined;
    return row && parse<KeyPairRecord>(row);
  }

  async byId(region: string, ownerId: string, keyPairId: string): Promise<KeyPairRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM key_pairs WHERE region = ? AND owner_id = ? AND key_pair_id = ?').get(region, ownerId, keyPairId) as Row | undefined;
    return row && parse<KeyPairRecord>(row);
  }

  async list(region: string, ownerId: string): Promise<KeyPairRecord[]> {
    return (this.db.prepare('SELECT doc FROM key_pairs WHERE region = ? AND owner_id = ? ORDER BY key_name').all(region, ownerId) as Row[])
      .map((r) => parse<KeyPairRecord>(r));
  }

  async delete(region: string, keyPairId: string): Promise<boolean> {
    return this.tx(() => {
      this.db.prepare('DELETE FROM tags WHERE resource_id = ? AND region = ?').run(keyPairId, region);
      return Number(this.db.prepare('DELETE FROM key_pairs WHERE key_pair_id = ? AND region = ?').run(keyPairId, region).changes) > 0;
    });
  }
}
