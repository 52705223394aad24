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
import type { CopyScheduleState, CopyScheduleStateStore } from '../ports/copy-schedule-state.ts';
import type { LeaseKeeper } from '../domain/cluster/lease-keeper.ts';

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
  /** This node's work leases: a run is made by the node holding copy-schedule:NAME. */
  leases: LeaseKeeper;
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
    state: importingJsonState(o.store.copyScheduleState, new JsonScheduleStateStore(join(o.dataDir, 'copy-schedules-state.json'))),
    now: () => new Date(),
    retryMs: o.leases.ttlMs,
    claim: async (name) => {
      const lease = `copy-schedule:${name}`;
      const lost = await o.leases.acquire(lease);
      return lost && { lost, release: () => o.leases.release(lease) };
    },
    log: o.log,
    run: (spec, trigger, signal) => runCopySchedule(spec, deps, trigger, signal),
  });
}

/**
 * The state lives in the metadata store (shared by every node); a data directory from before
 * keeps it in a JSON file, read once when the store has none so no run is repeated or missed.
 */
function importingJsonState(shared: CopyScheduleStateStore, legacy: CopyScheduleStateStore): CopyScheduleStateStore {
  let imported = false;
  return {
    async load(): Promise<Map<string, CopyScheduleState>> {
      let states = await shared.load();
      if (!imported && !states.size) {
        for (const [name, state] of await legacy.load()) await shared.save(name, state);
        states = await shared.load();
      }
      imported = true;
      return states;
    },
    save: (name, state) => shared.save(name, state),
  };
}
