// Instances, their private addresses and key pairs in PostgreSQL.
import type { Tag } from '../../protocol/ec2/types.generated.ts';
import type {
  InstanceQuery, InstanceRecord, InstanceRepository, InstanceStateName, KeyPairRecord, KeyPairRepository,
} from '../../ports/instance-repository.ts';
import type { PgDatabase } from './pg-database.ts';
import { putTags } from './pg-tags.ts';
import { retryOnUniqueViolation } from './pg-unique-retry.ts';

type Doc<T> = { doc: T };
const SCAN_BATCH = 500;

export class PgInstances implements InstanceRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async insert(records: InstanceRecord[], tags?: { account: string; tags: Tag[] }): Promise<void> {
    await this.db.tx(async (q) => {
      await q.query(`INSERT INTO instances (instance_id, region, owner_id, state, client_token, terminated_at, doc, node_id)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[])`, [
        records.map((r) => r.instanceId), records.map((r) => r.region), records.map((r) => r.ownerId), records.map((r) => r.state),
        records.map((r) => r.clientToken ?? null), records.map((r) => r.terminatedAt ?? null), records.map((r) => JSON.stringify(r)),
        records.map((r) => r.nodeId ?? null),
      ]);
      if (tags?.tags.length && records.length) {
        await putTags(q, tags.account, records[0].region, records.map((r) => ({ id: r.instanceId, type: 'instance' })), tags.tags);
      }
    });
  }

  async get(region: string, instanceId: string): Promise<InstanceRecord | undefined> {
    const [row] = await this.db.query<Doc<InstanceRecord>>('SELECT doc FROM instances WHERE instance_id = $1 AND region = $2', [instanceId, region]);
    return row?.doc;
  }

  async update(r: InstanceRecord): Promise<void> {
    await this.db.query('UPDATE instances SET state = $1, terminated_at = $2, doc = $3::jsonb, node_id = $6 WHERE instance_id = $4 AND region = $5',
      [r.state, r.terminatedAt ?? null, JSON.stringify(r), r.instanceId, r.region, r.nodeId ?? null]);
  }

  async delete(region: string, instanceId: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      await q.query('DELETE FROM tags WHERE resource_id = $1 AND region = $2', [instanceId, region]);
      await q.query('DELETE FROM private_addresses WHERE instance_id = $1', [instanceId]);
      return (await q.query('DELETE FROM instances WHERE instance_id = $1 AND region = $2 RETURNING 1', [instanceId, region])).length > 0;
    });
  }

  async *scan(q: InstanceQuery): AsyncIterable<InstanceRecord> {
    const params: unknown[] = [q.region, q.ownerId];
    const where = ['region = $1', 'owner_id = $2'];
    if (q.instanceIds) where.push(`instance_id = ANY($${params.push(q.instanceIds)}::text[])`);
    const sql = `SELECT instance_id, doc FROM instances WHERE ${where.join(' AND ')} AND instance_id > $${params.length + 1}
      ORDER BY instance_id LIMIT ${SCAN_BATCH}`;
    let after = q.afterInstanceId ?? '';
    for (;;) {
      const rows = await this.db.query<{ instance_id: string; doc: InstanceRecord }>(sql, [...params, after]);
      for (const row of rows) yield row.doc;
      if (rows.length < SCAN_BATCH) return;
      after = rows[rows.length - 1].instance_id;
    }
  }

  async findByClientToken(region: string, ownerId: string, clientToken: string): Promise<InstanceRecord[]> {
    return (await this.db.query<Doc<InstanceRecord>>(`SELECT doc FROM instances WHERE region = $1 AND owner_id = $2 AND client_token = $3
      ORDER BY instance_id`, [region, ownerId, clientToken])).map((r) => r.doc);
  }

  async countActive(region: string, ownerId: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM instances WHERE region = $1 AND owner_id = $2
      AND state <> 'terminated'`, [region, ownerId]);
    return row.n;
  }

  async onNode(nodeId: string, states: InstanceStateName[]): Promise<InstanceRecord[]> {
    return (await this.db.query<Doc<InstanceRecord>>('SELECT doc FROM instances WHERE node_id = $1 AND state = ANY($2::text[]) ORDER BY instance_id',
      [nodeId, states])).map((r) => r.doc);
  }

  async inStates(states: InstanceStateName[]): Promise<InstanceRecord[]> {
    return (await this.db.query<Doc<InstanceRecord>>('SELECT doc FROM instances WHERE state = ANY($1::text[]) ORDER BY instance_id', [states]))
      .map((r) => r.doc);
  }

  async terminatedBefore(cutoff: string): Promise<InstanceRecord[]> {
    return (await this.db.query<Doc<InstanceRecord>>(`SELECT doc FROM instances WHERE state = 'terminated' AND terminated_at < $1
      ORDER BY instance_id`, [cutoff])).map((r) => r.doc);
  }

  async allocateAddress(region: string, instanceId: string, first: number, last: number): Promise<number | undefined> {
    // Two nodes may choose the same address at once: the primary key refuses the second, which chooses again.
    // Addresses are IPv4 numbers, past int4's range (172.31.x.x): read back as float8, exact and a JS number.
    return retryOnUniqueViolation(() => this.db.tx(async (q) => {
      const [own] = await q.query<{ address: number }>('SELECT address::float8 AS address FROM private_addresses WHERE instance_id = $1', [instanceId]);
      if (own) return own.address;
      // Next after the highest in use; past the end, the lowest gap (addresses of terminated
      // instances are given again only once the range has wrapped, as a DHCP server does).
      const [max] = await q.query<{ m: number | null }>('SELECT max(address)::float8 AS m FROM private_addresses WHERE region = $1 AND address BETWEEN $2 AND $3',
        [region, first, last]);
      let address: number | undefined = max.m === null ? first : max.m + 1;
      if (address > last) {
        const [firstUsed] = await q.query('SELECT 1 FROM private_addresses WHERE region = $1 AND address = $2', [region, first]);
        if (!firstUsed) address = first;
        else {
          const [gap] = await q.query<{ free: number }>(`SELECT (a.address + 1)::float8 AS free FROM private_addresses a
            WHERE a.region = $1 AND a.address BETWEEN $2 AND $3
              AND NOT EXISTS (SELECT 1 FROM private_addresses b WHERE b.region = a.region AND b.address = a.address + 1)
            ORDER BY a.address LIMIT 1`, [region, first, last - 1]);
          address = gap?.free;
        }
      }
      if (address === undefined) return undefined;
      await q.query('INSERT INTO private_addresses (region, address, instance_id) VALUES ($1, $2, $3)', [region, address, instanceId]);
      return address;
    }));
  }

  async releaseAddress(region: string, instanceId: string): Promise<void> {
    await this.db.query('DELETE FROM private_addresses WHERE region = $1 AND instance_id = $2', [region, instanceId]);
  }
}

export class PgKeyPairs implements KeyPairRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async insert(r: KeyPairRecord, tags?: { account: string; tags: Tag[] }): Promise<boolean> {
    return this.db.tx(async (q) => {
      const inserted = await q.query(`INSERT INTO key_pairs (key_pair_id, region, owner_id, key_name, doc) VALUES ($1, $2, $3, $4, $5::jsonb)
        ON CONFLICT (region, owner_id, key_name) DO NOTHING RETURNING 1`, [r.keyPairId, r.region, r.ownerId, r.keyName, JSON.stringify(r)]);
      if (!inserted.length) return false;
      if (tags?.tags.length) await putTags(q, tags.account, r.region, [{ id: r.keyPairId, type: 'key-pair' }], tags.tags);
      return true;
    });
  }

  async byName(region: string, ownerId: string, keyName: string): Promise<KeyPairRecord | undefined> {
    const [row] = await this.db.query<Doc<KeyPairRecord>>('SELECT doc FROM key_pairs WHERE region = $1 AND owner_id = $2 AND key_name = $3',
      [region, ownerId, keyName]);
    return row?.doc;
  }

  async byId(region: string, ownerId: string, keyPairId: string): Promise<KeyPairRecord | undefined> {
    const [row] = await this.db.query<Doc<KeyPairRecord>>('SELECT doc FROM key_pairs WHERE region = $1 AND owner_id = $2 AND key_pair_id = $3',
      [region, ownerId, keyPairId]);
    return row?.doc;
  }

  async list(region: string, ownerId: string): Promise<KeyPairRecord[]> {
    return (await this.db.query<Doc<KeyPairRecord>>('SELECT doc FROM key_pairs WHERE region = $1 AND owner_id = $2 ORDER BY key_name',
      [region, ownerId])).map((r) => r.doc);
  }

  async delete(region: string, keyPairId: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      await q.query('DELETE FROM tags WHERE resource_id = $1 AND region = $2', [keyPairId, region]);
      return (await q.query('DELETE FROM key_pairs WHERE key_pair_id = $1 AND region = $2 RETURNING 1', [keyPairId, region])).length > 0;
    });
  }
}
