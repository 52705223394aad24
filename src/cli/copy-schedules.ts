// `amiforge copy-schedules list` and `amiforge copy-schedules run NAME`: a running server's
// scheduled copies, through its operational endpoints (/_amiforge/copy-schedules).
import { Command } from 'commander';
import { callOperational as call, endpointOption } from './operational-api.ts';

interface RunSummary {
  trigger: string;
  startedAt: string;
  finishedAt?: string;
  outcome: string;
  sourceImageId?: string;
  error?: string;
  regions: { region: string; outcome: string; imageId?: string; error?: string; deregistered?: string[]; keptInUse?: string[] }[];
}
interface Status {
  name: string;
  account: string;
  sourceRegion: string;
  destinationRegions: string[];
  cron?: string;
  everyMs?: number;
  keep: number;
  running: boolean;
  nextRunAt?: string;
  lastRun?: RunSummary;
}

async function list(endpoint: string): Promise<Status[]> {
  const { status, body } = await call(endpoint, 'GET', '/_amiforge/copy-schedules');
  if (status !== 200) throw new Error(`${endpoint} answered ${status}: ${body.error ?? 'no copy-schedules endpoint (an older amiforge?)'}`);
  return body.schedules as Status[];
}

export function describeRun(r: RunSummary): string {
  const lines = [`${r.outcome} (${r.trigger} run, ${r.startedAt} to ${r.finishedAt ?? '...'})${r.sourceImageId ? ` source ${r.sourceImageId}` : ''}${r.error ? `: ${r.error}` : ''}`];
  for (const g of r.regions) {
    const pruned = g.deregistered?.length ? `; deregistered ${g.deregistered.join(', ')}` : '';
    const inUse = g.keptInUse?.length ? `; kept (in use) ${g.keptInUse.join(', ')}` : '';
    lines.push(`  ${g.region}: ${g.outcome}${g.imageId ? ` ${g.imageId}` : ''}${g.error ? ` (${g.error})` : ''}${pruned}${inUse}`);
  }
  return lines.join('\n');
}

const fail = (message: string): never => {
  console.error(`amiforge copy-schedules: ${message}`);
  process.exit(2);
};

export function copySchedulesCommand(): Command {
  const cmd = new Command('copy-schedules').description('Scheduled image copies of a running server (amiforge serve --copy-schedules FILE).');

  cmd.command('list')
    .description('Each schedule with its last run (outcome, copies made and deregistered) and its next run.')
    .addOption(endpointOption())
    .option('--json', 'print the list as JSON')
    .action(async (o: { endpointUrl: string; json?: boolean }) => {
      const schedules = await list(o.endpointUrl).catch((err: Error) => fail(err.message));
      if (o.json) return console.log(JSON.stringify(schedules, null, 2));
      if (!schedules.length) return console.log('no copy schedules (start the server with --copy-schedules FILE)');
      for (const s of schedules) {
        const when = [s.cron && `cron "${s.cron}"`, s.everyMs !== undefined && `every ${s.everyMs / 1000}s`].filter(Boolean).join(' or ');
        console.log(`${s.name}: ${s.account} ${s.sourceRegion} -> ${s.destinationRegions.join(', ')}, keep ${s.keep}, ${when}`);
        console.log(`  ${s.running ? 'running now' : `next run ${s.nextRunAt ?? 'none'}`}`);
        console.log(s.lastRun ? `  last run: ${describeRun(s.lastRun).replace(/\n/g, '\n  ')}` : '  never run');
      }
    });

  cmd.command('run')
    .description('Run a schedule now and wait for its result (exit status 1 if it failed).')
    .argument('<name>', 'the schedule\'s name')
    .addOption(endpointOption())
    .option('--no-wait', 'return once the run has started')
    .option('--json', 'print the run\'s report as JSON')
    .action(async (name: string, o: { endpointUrl: string; wait: boolean; json?: boolean }) => {
      const before = (await list(o.endpointUrl).catch((err: Error) => fail(err.message))).find((s) => s.name === name);
      const { status, body } = await call(o.endpointUrl, 'POST', `/_amiforge/copy-schedules/${encodeURIComponent(name)}/run`).catch((err: Error) => fail(err.message));
      if (status !== 202) fail(body.error ?? `the server answered ${status}`);
      if (!body.started) console.error(`${name}: a run is already under way; waiting for it`);
      if (!o.wait) return;
      for (;;) {
        await new Promise((r) => setTimeout(r, 500));
        const now = (await list(o.endpointUrl).catch((err: Error) => fail(err.message))).find((s) => s.name === name);
        if (!now) fail(`the schedule ${name} is gone (server restarted with another file?)`);
        const finished = now!.lastRun && now!.lastRun.startedAt !== before?.lastRun?.startedAt && !now!.running;
        if (!finished) continue;
        const run = now!.lastRun!;
        console.log(o.json ? JSON.stringify(run, null, 2) : `${name}: ${describeRun(run)}`);
        process.exitCode = run.outcome === 'failed' ? 1 : 0;
        return;
      }
    });
  return cmd;
}
