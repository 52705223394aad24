// Wiring of scheduled image copies (--copy-schedules FILE): reads and checks the file before
// anything else starts, and builds the scheduler over the domain's own services, acting as each
// schedule's account.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonScheduleStateStore } from '../adapters/fs/json-schedule-state.ts';
import { runCopySchedule, type CopyRunDeps } from '../domain/copy-schedules/copy-run.ts';
import { CopyScheduler } from '../domain/copy-schedules/copy-scheduler.ts';
import { parseCopySchedules, ScheduleConfigError, type CopyScheduleSpec } from '../domain/copy-schedules/schedule-spec.ts';
import type { AccountDirectory } from '../identity/accounts.ts';
import type { InstanceStateName } from '../ports/instance-repository.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { Logger } from './logger.ts';

/** The schedules in `file`; an Error naming the file, schedule and field when anything is wrong. */
export function readCopySchedules(file: string, accounts: AccountDirectory | undefined): CopyScheduleSpec[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--copy-schedules ${file}: cannot read it (${(err as Error).message})`);
  }
  try {
    return parseCopySchedules(text, { isKnownAccount: accounts ? (id) => !!accounts.byId(id) : undefined });
  } catch (err) {
    if (err instanceof ScheduleConfigError) throw new Error(`--copy-schedules ${file}: ${err.message}`);
    throw err;
  }
}

/** An image is in use while an instance launched from it is not terminated (stopped ones too). */
const IN_USE: InstanceStateName[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

export function createCopyScheduler(o: {
  specs: CopyScheduleSpec[];
  dataDir: string;
  store: MetadataStore;
  services: Omit<CopyRunDeps, 'instancesUsing' | 'now' | 'orgOf'>;
  accounts?: AccountDirectory;
  log: Logger;
}): CopyScheduler {
  const deps: CopyRunDeps = {
    ...o.services,
    orgOf: (account) => o.accounts?.byId(account)?.org,
    now: () => new Date(),
    instancesUsing: async (region, imageId) =>
      (await o.store.instances.inStates(IN_USE)).filter((i) => i.region === region && i.imageId === imageId).length,
  };
  return new CopyScheduler({
    specs: o.specs,
    state: new JsonScheduleStateStore(join(o.dataDir, 'copy-schedules-state.json')),
    now: () => new Date(),
    log: o.log,
    run: (spec, trigger, signal) => runCopySchedule(spec, deps, trigger, signal),
  });
}
