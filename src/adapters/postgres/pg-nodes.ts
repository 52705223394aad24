// The node registry in PostgreSQL: one row per node, the heartbeat an upsert, as in SQLite.
import type { NodeInfo, NodeRecord, NodeRegistry } from '../../ports/node-registry.ts';
import type { PgDatabase } from './pg-database.ts';

type Row = { heartbeat_ms: string | number; doc: NodeInfo };

const toRecord = (row: Row): NodeRecord => ({ ...row.doc, lastHeartbeat: new Date(Number(row.heartbeat_ms)).toISOString() });

export class PgNodes implements NodeRegistry {
  private readonly db: PgDatabase;
  constructor(db: PgDatabase) {
    this.db = db;
  }

  async heartbeat(node: NodeInfo, now: Date): Promise<void> {
    const info: NodeInfo = { nodeId: node.nodeId, url: node.url, startedAt: node.startedAt, hypervisor: node.hypervisor, version: node.version };
    await this.db.query(`INSERT INTO nodes (node_id, heartbeat_ms, doc) VALUES ($1, $2, $3::jsonb)
      ON CONFLICT (node_id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms, doc = excluded.doc`,
    [node.nodeId, now.getTime(), JSON.stringify(info)]);
  }

  async live(now: Date, ttlMs: number): Promise<NodeRecord[]> {
    return (await this.db.query<Row>('SELECT heartbeat_ms, doc FROM nodes WHERE heartbeat_ms > $1 ORDER BY node_id', [now.getTime() - ttlMs]))
      .map(toRecord);
  }

  async get(nodeId: string): Promise<NodeRecord | undefined> {
    const [row] = await this.db.query<Row>('SELECT heartbeat_ms, doc FROM nodes WHERE node_id = $1', [nodeId]);
    return row && toRecord(row);
  }

  async remove(nodeId: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM nodes WHERE node_id = $1 RETURNING 1', [nodeId])).length > 0;
  }
}
