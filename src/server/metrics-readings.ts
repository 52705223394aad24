// The gauges /metrics reads from the stores when scraped: bytes stored and billed per region (the
// storage report's figures), instances per region and state, and the background work recorded
// in the store. Cluster-wide: every node reads the same store, so any node's answer is the
// cluster's. Whether a recorded job runs is whether some node holds its unexpired work lease.
import { RUNNING_STATES } from '../domain/imagebuilder/builds/build-types.ts';
import type { CopyScheduler } from '../domain/copy-schedules/copy-scheduler.ts';
import { copyLease } from '../domain/snapshots/snapshot-copier.ts';
import type { StorageMaintenance } from '../domain/storage/storage-maintenance.ts';
import { snapshotLease } from '../domain/volumes/volume-snapshots.ts';
import type { InstanceStateName } from '../ports/instance-repository.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';

export interface GaugeReadings {
  storage: { region: string; storedBytes: number; billedBytes: number }[];
  instances: { region: string; state: string; count: number }[];
  jobs: { kind: JobKind; state: 'queued' | 'running'; count: number }[];
}

/**
 * snapshot-copy: CopySnapshot and CopyImage's copies; volume-snapshot: CreateSnapshot(s) and
 * CreateImage completing; snapshot-upload: EBS direct uploads not completed yet; image: images
 * pending until their snapshots complete; image-build: Image Builder builds; copy-schedule:
 * scheduled copies running.
 */
export const JOB_KINDS = ['snapshot-copy', 'volume-snapshot', 'snapshot-upload', 'image', 'image-build', 'copy-schedule'] as const;
export type JobKind = typeof JOB_KINDS[number];

const LIVE_STATES: InstanceStateName[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];
/** EC2's volume id for snapshots not taken from a volume (uploads, copies). */
const NO_VOLUME = 'vol-ffffffff';

export interface ReadingSources {
  store: MetadataStore;
  maintenance: StorageMaintenance;
  copySchedules?: CopyScheduler;
}

export async function readGauges(s: ReadingSources): Promise<GaugeReadings> {
  const counts = new Map<string, number>();
  const count = (kind: JobKind, state: 'queued' | 'running') => counts.set(`${kind}/${state}`, (counts.get(`${kind}/${state}`) ?? 0) + 1);
  const now = Date.now();
  const leased = new Set((await s.store.leases.held()).filter((l) => l.expiresAt.getTime() > now).map((l) => l.name));
  for (const snap of await s.store.snapshots.inState('pending')) {
    if (snap.copySource) count('snapshot-copy', leased.has(copyLease(snap.region, snap.snapshotId)) ? 'running' : 'queued');
    else if (snap.volumeId !== NO_VOLUME) count('volume-snapshot', leased.has(snapshotLease(snap.region, snap.snapshotId)) ? 'running' : 'queued');
    else count('snapshot-upload', 'running');
  }
  for (const _ of await s.store.images.inState('pending')) count('image', 'running');
  for (const build of await s.store.imageBuilder.list({ kind: 'image', states: RUNNING_STATES })) {
    count('image-build', build.state === 'PENDING' ? 'queued' : 'running');
  }
  await s.copySchedules?.refresh();
  for (const schedule of s.copySchedules?.status() ?? []) if (schedule.running) count('copy-schedule', 'running');

  const instances = new Map<string, { region: string; state: string; count: number }>();
  for (const i of await s.store.instances.inStates(LIVE_STATES)) {
    const key = `${i.region}/${i.state}`;
    const entry = instances.get(key) ?? instances.set(key, { region: i.region, state: i.state, count: 0 }).get(key)!;
    entry.count++;
  }
  return {
    storage: await s.maintenance.regionTotals(),
    instances: [...instances.values()],
    // Every kind in both states, zero included: a series that vanishes at zero breaks rate() and alerts.
    jobs: JOB_KINDS.flatMap((kind) => (['queued', 'running'] as const).map((state) => ({ kind, state, count: counts.get(`${kind}/${state}`) ?? 0 }))),
  };
}
