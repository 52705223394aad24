// The PostgreSQL schema of the cluster's shared work: leases on background work and copy
// schedules' run state (schema version 3, applied over version 2 by migrate()).
export const SCHEMA_CLUSTER = `
CREATE TABLE work_leases (
  name       text COLLATE "C" PRIMARY KEY,
  holder     text COLLATE "C" NOT NULL,
  expires_ms bigint NOT NULL      -- epoch milliseconds, by the acquiring node's clock
);
CREATE INDEX work_leases_holder ON work_leases (holder);

CREATE TABLE copy_schedule_state (
  name  text COLLATE "C" PRIMARY KEY,
  state jsonb NOT NULL
);
`;
