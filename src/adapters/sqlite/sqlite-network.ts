// Default VPCs, subnets, security groups and host addresses in SQLite.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type {
  DefaultNetwork, HostAddressHolder, NetworkRepository, SecurityGroupRecord, SubnetRecord, VpcRecord,
} from '../../ports/network-repository.ts';
import { putTags, type Tx } from './sqlite-tags.ts';

type Row = Record<string, SQLInputValue>;
const parse = <T>(row: Row): T => JSON.parse(String(row.doc)) as T;

export class SqliteNetwork implements NetworkRepository {
  private readonly db: DatabaseSync;
  private readonly tx: Tx;
  constructor(db: DatabaseSync, tx: Tx) {
    this.db = db;
    this.tx = tx;
  }

  async ensureDefaultNetwork(n: DefaultNetwork): Promise<void> {
    this.tx(() => {
      const vpc = this.db.prepare('INSERT INTO vpcs (vpc_id, account, region, doc) VALUES (?, ?, ?, ?) ON CONFLICT (vpc_id) DO NOTHING')
        .run(n.vpc.vpcId, n.vpc.account, n.vpc.region, JSON.stringify(n.vpc));
      if (!Number(vpc.changes)) return;
      const subnet = this.db.prepare('INSERT OR IGNORE INTO subnets (subnet_id, account, region, doc) VALUES (?, ?, ?, ?)');
      for (const s of n.subnets) subnet.run(s.subnetId, s.account, s.region, JSON.stringify(s));
      this.putGroup(n.defaultGroup, 'OR IGNORE');
    });
  }

  private putGroup(g: SecurityGroupRecord, conflict = ''): boolean {
    return Number(this.db.prepare(`INSERT ${conflict} INTO security_groups (group_id, account, region, vpc_id, group_name, doc) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(g.groupId, g.account, g.region, g.vpcId, g.groupName, JSON.stringify(g)).changes) > 0;
  }

  async vpcs(account: string, region: string): Promise<VpcRecord[]> {
    return (this.db.prepare('SELECT doc FROM vpcs WHERE account = ? AND region = ? ORDER BY vpc_id').all(account, region) as Row[]).map((r) => parse<VpcRecord>(r));
  }

  async subnets(account: string, region: string): Promise<SubnetRecord[]> {
    return (this.db.prepare('SELECT doc FROM subnets WHERE account = ? AND region = ? ORDER BY subnet_id').all(account, region) as Row[])
      .map((r) => parse<SubnetRecord>(r));
  }

  async insertGroup(g: SecurityGroupRecord, tags?: { Key?: string; Value?: string }[]): Promise<boolean> {
    return this.tx(() => {
      const taken = this.db.prepare('SELECT 1 FROM security_groups WHERE account = ? AND region = ? AND vpc_id = ? AND group_name = ?')
        .get(g.account, g.region, g.vpcId, g.groupName);
      if (taken) return false;
      this.putGroup(g);
      if (tags?.length) putTags(this.db, g.account, g.region, [{ id: g.groupId, type: 'security-group' }], tags);
      return true;
    });
  }

  async group(account: string, region: string, groupId: string): Promise<SecurityGroupRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM security_groups WHERE group_id = ? AND account = ? AND region = ?').get(groupId, account, region) as Row | undefined;
    return row && parse<SecurityGroupRecord>(row);
  }

  async groupByName(account: string, region: string, vpcId: string, groupName: string): Promise<SecurityGroupRecord | undefined> {
    const row = this.db.prepare('SELECT doc FROM security_groups WHERE account = ? AND region = ? AND vpc_id = ? AND group_name = ?')
      .get(account, region, vpcId, groupName) as Row | undefined;
    return row && parse<SecurityGroupRecord>(row);
  }

  async groups(account: string, region: string): Promise<SecurityGroupRecord[]> {
    return (this.db.prepare('SELECT doc FROM security_groups WHERE account = ? AND region = ? ORDER BY group_id').all(account, region) as Row[])
      .map((r) => parse<SecurityGroupRecord>(r));
  }

  async updateGroup(g: SecurityGroupRecord): Promise<void> {
    this.db.prepare('UPDATE security_groups SET doc = ? WHERE group_id = ? AND account = ? AND region = ?').run(JSON.stringify(g), g.groupId, g.account, g.region);
  }

  async deleteGroup(account: string, region: string, groupId: string): Promise<boolean> {
    return this.tx(() => {
      const row = this.db.prepare('SELECT doc FROM security_groups WHERE group_id = ? AND account = ? AND region = ?').get(groupId, account, region) as Row | undefined;
      if (!row) return false;
      this.db.prepare('DELETE FROM security_groups WHERE group_id = ?').run(groupId);
      const untag = this.db.prepare('DELETE FROM tags WHERE resource_id = ? AND region = ?');
      untag.run(groupId, region);
      for (const r of parse<SecurityGroupRecord>(row).rules) untag.run(r.ruleId, region);
      return true;
    });
  }

  async allocateHostAddress(holder: HostAddressHolder, first: number, last: number): Promise<number | undefined> {
    return this.tx(() => {
      const own = this.db.prepare('SELECT address FROM host_addresses WHERE instance_id = ?').get(holder.instanceId) as Row | undefined;
      if (own) return Number(own.address);
      // The lowest free address: few instances run at once, so the gap search stays short.
      const firstUsed = this.db.prepare('SELECT 1 FROM host_addresses WHERE address = ?').get(first);
      let address: number | undefined = first;
      if (firstUsed) {
        const gap = this.db.prepare(`SELECT a.address + 1 AS free FROM host_addresses a WHERE a.address BETWEEN ? AND ?
          AND NOT EXISTS (SELECT 1 FROM host_addresses b WHERE b.address = a.address + 1) ORDER BY a.address LIMIT 1`).get(first, last - 1) as Row | undefined;
        address = gap ? Number(gap.free) : undefined;
      }
      if (address === undefined) return undefined;
      this.db.prepare('INSERT INTO host_addresses (address, instance_id, account, region) VALUES (?, ?, ?, ?)')
        .run(address, holder.instanceId, holder.account, holder.region);
      return address;
    });
  }

  async releaseHostAddress(instanceId: string): Promise<void> {
    this.db.prepare('DELETE FROM host_addresses WHERE instance_id = ?').run(instanceId);
  }
}
