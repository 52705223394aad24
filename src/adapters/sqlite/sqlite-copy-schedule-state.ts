// Copy schedules' run state in the metadata store: one JSON document per schedule, so every node
// on the database sees the runs the others made (the data directory is not shared between hosts).
import type { DatabaseSync } from 'node:sqlite';
import type { CopyScheduleState, CopyScheduleStateStore } from '../../ports/copy-schedule-state.ts';

export const COPY_SCHEDULE_STATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS copy_schedule_state (
  name TEXT PRIMARY KEY,
  state TEXT NOT NULL
);
`;


export class SqliteCopyScheduleState implements CopyScheduleStateStore {
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  async load(): Promise<Map<string, CopyScheduleState>> {
    const rows = this.db.prepare('SELECT name, state FROM copy_schedule_state ORDER BY name').all() as { name: string; state: string }[];
    return new Map(rows.map((r) => [String(r.name), JSON.parse(String(r.state)) as CopyScheduleState]));
  }

  async save(name: string, state: CopyScheduleState): Promise<void> {
    this.db.prepare('INSERT INTO copy_schedule_state (name, state) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET state = excluded.state')
      .run(name, JSON.stringify(state));
  }
}
