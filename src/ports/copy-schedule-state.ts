// Where copy schedules remember their runs, so a restart knows what was due while it was down.
import type { RunReport } from '../domain/copy-schedules/copy-run.ts';

export interface CopyScheduleState {
  /** When the server first saw the schedule: the anchor of its first run. */
  firstSeenAt: string;
  /** Set while a run is under way: still set at start-up, the server stopped or died during it. */
  runningSince?: string;
  /** The last run that finished (or was interrupted). */
  lastRun?: RunReport;
}

export interface CopyScheduleStateStore {
  load(): Promise<Map<string, CopyScheduleState>>;
  /** Saves one schedule's state; whole or not at all. */
  save(name: string, state: CopyScheduleState): Promise<void>;
}
