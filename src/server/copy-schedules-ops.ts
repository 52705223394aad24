// Operational endpoints of scheduled copies: GET /_amiforge/copy-schedules lists each schedule
// with its last and next run; POST /_amiforge/copy-schedules/NAME/run starts a run now (202; a
// run already under way is not started twice) — `amiforge copy-schedules run NAME` uses both.
import type { App } from './app.ts';

const PREFIX = '/_amiforge/copy-schedules';
const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

export async function handleCopyScheduleOps(app: App, method: string, path: string): Promise<{ status: number; body: string } | undefined> {
  if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) return undefined;
  const scheduler = app.copySchedules;
  if (method === 'GET' && path === PREFIX) {
    // Runs other nodes made are in the shared state, not in this node's memory.
    await scheduler?.refresh();
    return json(200, { schedules: scheduler?.status() ?? [] });
  }
  const m = /^\/_amiforge\/copy-schedules\/([^/]+)\/run$/.exec(path);
  if (method === 'POST' && m) {
    const name = decodeURIComponent(m[1]);
    const known = scheduler?.names() ?? [];
    if (!known.includes(name)) {
      return json(404, { error: `No copy schedule named "${name}"${known.length ? ` (configured: ${known.join(', ')})` : '; start the server with --copy-schedules FILE'}.` });
    }
    const triggered = (await scheduler!.trigger(name, 'manual'))!;
    const status = triggered.started ? 'started' : triggered.elsewhere ? 'already running on another node' : 'already running';
    return json(202, { schedule: name, started: triggered.started, status });
  }
  return json(404, { error: `No such endpoint: ${method} ${path}` });
}
