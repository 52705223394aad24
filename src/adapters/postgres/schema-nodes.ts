// The PostgreSQL schema of the node registry and of instance ownership (which node runs each
// guest): schema version 2, applied over version 1 by migrate().
export const SCHEMA_NODES = `
CREATE TABLE nodes (
  node_id      text COLLATE "C" PRIMARY KEY,
  heartbeat_ms bigint NOT NULL,   -- the last heartbeat, epoch milliseconds: "live" is one comparison
  doc          jsonb NOT NULL     -- the NodeInfo
);
CREATE INDEX nodes_heartbeat ON nodes (heartbeat_ms);

ALTER TABLE instances ADD COLUMN node_id text COLLATE "C";
CREATE INDEX instances_node ON instances (node_id, state);
`;
