// The node registry in SQLite: one row per node, its heartbeat as epoch milliseconds so that
// "live" is one indexed comparison (the PostgreSQL version keeps the same shape).
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { NodeInfo, NodeRecord, NodeRegistry } from '../../ports/node-registry.ts';

export const NODES_SCHEMA = `
CREATE TABLE IF NOT EXISTS nodes (
  node_id      TEXT PRIMARY KEY,
  heartbeat_ms INTEGER NOT NULL,
  doc          TEXT NOT NULL    -- the NodeInfo, JSON
);`;

type Row = Record<string, SQLInputValue>;

const toRecord = (row: Row): NodeRecord => ({
  ...(JSON.parse(String(row.doc)) as NodeInfo),
  lastHeartbeat: new Date(Number(row.heartbeat_ms)).toISOString(),
});

export class SqliteNodes implements NodeRegistry {
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  async heartbeat(node: NodeInfo, now: Date): Promise<void> {
    const info: NodeInfo = { nodeId: node.nodeId, url: node.url, startedAt: node.startedAt, hypervisor: node.hypervisor, version: node.version };
    this.db.prepare(`INSERT INTO nodes (node_id, heartbeat_ms, doc) VALUES (?, ?, ?)
      ON CONFLICT (node_id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms, doc = excluded.doc`)
      .run(node.nodeId, now.getTime(), JSON.stringify(info));
  }

  async live(now: Date, ttlMs: number): Promise<NodeRecord[]> {
    return (this.db.prepare('SELECT heartbeat_ms, doc FROM nodes WHERE heartbeat_ms > ? ORDER BY node_id').all(now.getTime() - ttlMs) as Row[])
      .map(toRecord);
  }

  async get(nodeId: string): Promise<NodeRecord | undefined> {
    const row = this.db.prepare('SELECT heartbeat_ms, doc FROM nodes WHERE node_id = ?').get(nodeId) as Row | undefined;
    return row && toRecord(row);
  }

  async remove(nodeId: string): Promise<boolean> {
    return Number(this.db.prepare('DELETE FROM nodes WHERE node_id = ?').run(nodeId).changes) > 0;
  }
}
