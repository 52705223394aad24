// Copy schedules #/copy-schedules: the operator's scheduled copies acting as this account (the
// console view copy-schedules), each with its source, destinations, timing and last run.
import { ApiError, view } from '../../api.ts';
import { DataTable, type Column } from '../../components/DataTable.tsx';
import { dateText } from '../../components/format.ts';
import { useLoad } from '../../components/useLoad.ts';

interface RegionReport {
  region: string;
  outcome: string;
  /** The copy in this region of the run's source image. */
  imageId?: string;
  error?: string;
}

interface RunReport {
  trigger: string;
  startedAt: string;
  finishedAt?: string;
  outcome: string;
  sourceImageId?: string;
  regions: RegionReport[];
  error?: string;
}

interface ScheduleStatus {
  name: string;
  sourceRegion: string;
  image: { imageId: string } | { owners: string[]; filters: { Name: string; Values: string[] }[] };
  destinationRegions: string[];
  cron?: string;
  everyMs?: number;
  keep: number;
  running: boolean;
  nextRunAt?: string;
  lastRun?: RunReport;
}

function everyText(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's']];
  let left = ms;
  let out = '';
  for (const [size, unit] of units) {
    const n = Math.floor(left / size);
    if (n) out += `${n}${unit}`;
    left -= n * size;
  }
  return out || `${ms}ms`;
}

const sourceText = (s: ScheduleStatus) => ('imageId' in s.image
  ? s.image.imageId
  : `newest of ${s.image.owners.join(', ')}${s.image.filters.map((f) => `; ${f.Name} = ${f.Values.join(' or ')}`).join('')}`);

const timingText = (s: ScheduleStatus) => [s.cron && `cron ${s.cron} (UTC)`, s.everyMs && `every ${everyText(s.everyMs)}`].filter(Boolean).join(', ');

function lastRunText(r?: RunReport): string {
  if (!r) return 'not run yet';
  const copies = r.regions.map((x) => `${x.region} ${x.outcome}${x.imageId ? ` ${x.imageId}` : ''}${x.error ? ` (${x.error})` : ''}`).join('; ');
  return `${r.outcome} (${r.trigger}, started ${dateText(r.startedAt)}${r.finishedAt ? `, finished ${dateText(r.finishedAt)}` : ''})`
    + `${r.sourceImageId ? ` from ${r.sourceImageId}` : ''}${copies ? ` — ${copies}` : ''}${r.error ? ` — ${r.error}` : ''}`;
}

const COLUMNS: Column<ScheduleStatus>[] = [
  { key: 'name', label: 'Schedule', value: (s) => s.name },
  { key: 'source', label: 'Source', value: (s) => `${s.sourceRegion}: ${sourceText(s)}` },
  { key: 'destinations', label: 'Destination regions', value: (s) => s.destinationRegions.join(', ') },
  { key: 'timing', label: 'Runs', value: timingText },
  { key: 'keep', label: 'Copies kept', value: (s) => s.keep },
  { key: 'state', label: 'State', value: (s) => (s.running ? 'running' : 'idle') },
  { key: 'next', label: 'Next run', value: (s) => dateText(s.nextRunAt), sortValue: (s) => s.nextRunAt },
  { key: 'last', label: 'Last run', value: (s) => lastRunText(s.lastRun), sortValue: (s) => s.lastRun?.startedAt },
];

export function CopySchedules(props: { account: string }) {
  const list = useLoad(async () => {
    try {
      return (await view<{ schedules: ScheduleStatus[] }>('copy-schedules')).schedules;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new Error('Copy schedules are not available on this server.');
      throw err;
    }
  }, [props.account]);
  return (
    <section>
      <h1>Copy schedules</h1>
      <p>
        Scheduled copies are set by the server's operator (the <code>--copy-schedules</code> file); each acts as its
        account. These are the ones of account {props.account}, with their last run.
      </p>
      <DataTable caption={`Copy schedules of ${props.account}`} columns={COLUMNS} rows={list.data ?? []} rowKey={(s) => s.name}
        loading={list.loading} error={list.error} emptyText="No copy schedules act as this account." />
    </section>
  );
}
