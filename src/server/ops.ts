// Operational endpoints: health, version, and the test-suite reset and clock (only with --enable-reset).
import { readFileSync } from 'node:fs';
import { ec2Model } from '../protocol/ec2/model.ts';
import { implementedEc2Actions } from '../api/ec2/dispatcher.ts';
import { GC_GRACE_MS, type App } from './app.ts';
import { handleCopyScheduleOps } from './copy-schedules-ops.ts';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

/** The response for an operational path, or undefined when the path is an AWS API request. */
export async function handleOps(
  app: App, method: string, path: string, readBody: () => Promise<Buffer>,
): Promise<{ status: number; body: string } | undefined> {
  if (!path.startsWith('/_amiforge/')) return undefined;
  const copySchedules = await handleCopyScheduleOps(app, method, path);
  if (copySchedules) return copySchedules;
  switch (`${method} ${path}`) {
    case 'GET /_amiforge/health':
      return json(200, { status: 'ok' });
    case 'GET /_amiforge/version':
      return json(200, {
        name: 'amiforge', version: VERSION, node: process.version,
        apis: { ec2: ec2Model.metadata.apiVersion }, ec2Actions: implementedEc2Actions(),
        authMode: app.authenticator.mode,
      });
    case 'POST /_amiforge/reset':
      if (!app.config.enableReset) return json(403, { error: 'Reset is disabled; start the server with --enable-reset.' });
      await app.reset();
      return json(200, { status: 'reset' });
    case 'POST /_amiforge/clock':
      if (!app.config.enableReset) return json(403, { error: 'The test clock is disabled; start the server with --enable-reset.' });
      return advanceClock(app, await readBody());
    case 'POST /_amiforge/gc':
      return json(200, { regions: await app.maintenance.collectGarbage({ graceMs: GC_GRACE_MS }) });
    case 'GET /_amiforge/storage':
      return json(200, { regions: await app.maintenance.usage() });
    case 'GET /_amiforge/volume-reads':
      // Blocks read from the block store for volumes (guests' disks) since start: how lazy boots are.
      return json(200, { ...app.volumeData.stats });
    case 'GET /_amiforge/snapshot-copies':
      // Blocks snapshot copies (CopySnapshot, CopyImage) wrote since start: how incremental copies are.
      return json(200, { ...app.copier.stats });
    default:
      return json(404, { error: `No such endpoint: ${method} ${path}` });
  }
}

/**
 * Moves the server's clock forward by `advanceSeconds` (test suites: retention periods and unlock
 * delays end without waiting days), then runs the periodic work that depends on it at once.
 */
async function advanceClock(app: App, body: Buffer): Promise<{ status: number; body: string }> {
  let seconds: unknown;
  try {
    seconds = (JSON.parse(body.toString('utf8') || '{}') as { advanceSeconds?: unknown }).advanceSeconds;
  } catch {
    return json(400, { error: 'The body must be JSON: {"advanceSeconds": n}.' });
  }
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    return json(400, { error: 'advanceSeconds must be a number of seconds, 0 or more.' });
  }
  app.clock.advance(seconds);
  const purged = await app.ec2.recycleBin.purgeExpired();
  return json(200, { now: app.clock.now().toISOString(), offsetSeconds: app.clock.offsetSeconds, recycleBinPurged: purged });
}
