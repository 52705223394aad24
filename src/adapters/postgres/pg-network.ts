// Default VPCs, subnets, security groups and host addresses in PostgreSQL. Unique constraints
// decide between nodes: the default network is made once, a group name is taken once, and a
// host address is given to one instance.
import type {
  DefaultNetwork, HostAddressHolder, NetworkRepository, SecurityGroupRecord, SubnetRecord, VpcRecord,
} from '../../ports/network-repository.ts';
import type { PgDatabase, Queryable } from './pg-database.ts';
import { putTags } from './pg-tags.ts';
import { retryOnUniqueViolation } from './pg-unique-retry.ts';

type Doc<T> = { doc: T };

async function putGroup(q: Queryable, g: SecurityGroupRecord): Promise<boolean> {
  return (await q.query(`INSERT INTO security_groups (group_id, account, region, vpc_id, group_name, doc) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
    ON CONFLICT (account, region, vpc_id, group_name) DO NOTHING RETURNING 1`,
  [g.groupId, g.account, g.region, g.vpcId, g.groupName, JSON.stringify(g)])).length > 0;
}

export class PgNetwork implements NetworkRepository {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async ensureDefaultNetwork(n: DefaultNetwork): Promise<void> {
    await this.db.tx(async (q) => {
      // A second node making the same network waits on the VPC's key, then finds it made.
      const vpc = await q.query('INSERT INTO vpcs (vpc_id, account, region, doc) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (vpc_id) DO NOTHING RETURNING 1',
        [n.vpc.vpcId, n.vpc.account, n.vpc.region, JSON.stringify(n.vpc)]);
      if (!vpc.length) return;
      for (const s of n.subnets) {
        await q.query('INSERT INTO subnets (subnet_id, account, region, doc) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING',
          [s.subnetId, s.account, s.region, JSON.stringify(s)]);
      }
      await putGroup(q, n.defaultGroup);
    });
  }

  async vpcs(account: string, region: string): Promise<VpcRecord[]> {
    return (await this.db.query<Doc<VpcRecord>>('SELECT doc FROM vpcs WHERE account = $1 AND region = $2 ORDER BY vpc_id', [account, region]))
      .map((r) => r.doc);
  }

  async subnets(account: string, region: string): Promise<SubnetRecord[]> {
    return (await this.db.query<Doc<SubnetRecord>>('SELECT doc FROM subnets WHERE account = $1 AND region = $2 ORDER BY subnet_id', [account, region]))
      .map((r) => r.doc);
  }

  async insertGroup(g: SecurityGroupRecord, tags?: { Key?: string; Value?: string }[]): Promise<boolean> {
    return this.db.tx(async (q) => {
      if (!await putGroup(q, g)) return false;
      if (tags?.length) await putTags(q, g.account, g.region, [{ id: g.groupId, type: 'security-group' }], tags);
      return true;
    });
  }

  async group(account: string, region: string, groupId: string): Promise<SecurityGroupRecord | undefined> {
    const [row] = await this.db.query<Doc<SecurityGroupRecord>>('SELECT doc FROM security_groups WHERE group_id = $1 AND account = $2 AND region = $3',
      [groupId, account, region]);
    return row?.doc;
  }

  async groupByName(account: string, region: string, vpcId: string, groupName: string): Promise<SecurityGroupRecord | undefined> {
    const [row] = await this.db.query<Doc<SecurityGroupRecord>>(`SELECT doc FROM security_groups
      WHERE account = $1 AND region = $2 AND vpc_id = $3 AND group_name = $4`, [account, region, vpcId, groupName]);
    return row?.doc;
  }

  async groups(account: string, region: string): Promise<SecurityGroupRecord[]> {
    return (await this.db.query<Doc<SecurityGroupRecord>>('SELECT doc FROM security_groups WHERE account = $1 AND region = $2 ORDER BY group_id',
      [account, region])).map((r) => r.doc);
  }

  async updateGroup(g: SecurityGroupRecord): Promise<void> {
    await this.db.query('UPDATE security_groups SET doc = $1::jsonb WHERE group_id = $2 AND account = $3 AND region = $4',
      [JSON.stringify(g), g.groupId, g.account, g.region]);
  }

  async deleteGroup(account: string, region: string, groupId: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const [row] = await q.query<Doc<SecurityGroupRecord>>('DELETE FROM security_groups WHERE group_id = $1 AND account = $2 AND region = $3 RETURNING doc',
        [groupId, account, region]);
      if (!row) return false;
      await q.query('DELETE FROM tags WHERE resource_id = ANY($1::text[]) AND region = $2', [[groupId, ...row.doc.rules.map((r) => r.ruleId)], region]);
      return true;
    });
  }

  async allocateHostAddress(holder: HostAddressHolder, first: number, last: number): Promise<number | undefined> {
    // Two nodes may choose the same address at once: the primary key refuses the second, which chooses again.
    return retryOnUniqueViolation(() => this.db.tx(async (q) => {
      const [own] = await q.query<{ address: number }>('SELECT address::float8 AS address FROM host_addresses WHERE instance_id = $1', [holder.instanceId]);
      if (own) return own.address;
      // The lowest free address: few instances run at once, so the gap search stays short.
      const [firstUsed] = await q.query('SELECT 1 FROM host_addresses WHERE address = $1', [first]);
      let address: number | undefined = first;
      if (firstUsed) {
        const [gap] = await q.query<{ free: number }>(`SELECT (a.address + 1)::float8 AS free FROM host_addresses a WHERE a.address BETWEEN $1 AND $2
          AND NOT EXISTS (SELECT 1 FROM host_addresses b WHERE b.address = a.address + 1) ORDER BY a.address LIMIT 1`, [first, last - 1]);
        address = gap?.free;
      }
      if (address === undefined) return undefined;
      await q.query('INSERT INTO host_addresses (address, instance_id, account, region) VALUES ($1, $2, $3, $4)',
        [address, holder.instanceId, holder.account, holder.region]);
      return address;
    }));
  }

  async releaseHostAddress(instanceId: string): Promise<void> {
    await this.db.query('DELETE FROM host_addresses WHERE instance_id = $1', [instanceId]);
  }
}
