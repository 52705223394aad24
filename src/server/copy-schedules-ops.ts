// Operational endpoints of scheduled copies: GET /_amiforge/copy-schedules lists each schedule
// with its last and next run; POST /_amiforge/copy-schedules/NAME/run starts a run now (202; a
// run already under way is not started twice) — `amiforge copy-schedules run NAME` uses both.
import type { App } from './app.ts';

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

export async function listCopySchedules(app: App): Promise<{ status: number; body: string }> {
  // Runs other nodes made are in the shared state, not in this node's memory.
  await app.copySchedules?.refresh();
  return json(200, { schedules: app.copySchedules?.status() ?? [] });
}

export async function runCopySchedule(app: App, encodedName: string): Promise<{ status: number; body: string }> {
  const scheduler = app.copySchedules;
  const name = decodeURIComponent(encodedName);
  const known = scheduler?.names() ?? [];
  if (!known.includes(name)) {
    return json(404, { error: `No copy schedule named "${name}"${known.length ? ` (configured: ${known.join(', ')})` : '; start the server with --copy-schedules FILE'}.` });
  }
  const triggered = (await scheduler!.trigger(name, 'manual'))!;
  const status = triggered.started ? 'started' : triggered.elsewhere ? 'already running on another node' : 'already running';
  return json(202, { schedule: name, started: triggered.started, status });
}
