// Operational endpoints: health, version, and, only with --enable-reset, the test suites' reset
// and clock (POST /_amiforge/clock/advance/SECONDS).
import { readFileSync } from 'node:fs';
import { ec2Model } from '../protocol/ec2/model.ts';
import { implementedEc2Actions } from '../api/ec2/dispatcher.ts';
import { GC_GRACE_MS, type App } from './app.ts';
import { handleCopyScheduleOps } from './copy-schedules-ops.ts';
import { handleLifecycleOps } from './lifecycle-ops.ts';
import { healthReport } from './health.ts';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

const json = (status: number, body: unknown) => ({ status, body: JSON.stringify(body) });

/** The response for an operational path, or undefined when the path is an AWS API request. */
export async function handleOps(app: App, method: string, path: string): Promise<{ status: number; body: string } | undefined> {
  if (!path.startsWith('/_amiforge/')) return undefined;
  const advance = /^\/_amiforge\/clock\/advance\/(\d{1,10})$/.exec(path);
  if (method === 'POST' && advance) {
    // Test suites only: moves the domain's clock forward (e.g. past a 24-hour cooldown).
    if (!app.config.enableReset) return json(403, { error: 'The clock can be moved only with --enable-reset.' });
    app.clock.advance(Number(advance[1]) * 1000);
    // What the new time ends at once: Recycle Bin entries past their retention are deleted.
    const recycleBinPurged = await app.ec2.recycleBin.purgeExpired();
    return json(200, { now: app.clock.now().toISOString(), recycleBinPurged });
  }
  const copySchedules = await handleCopyScheduleOps(app, method, path);
  if (copySchedules) return copySchedules;
  const lifecycle = await handleLifecycleOps(app, method, path);
  if (lifecycle) return lifecycle;
  switch (`${method} ${path}`) {
    case 'GET /_amiforge/nodes':
      // The live nodes sharing this store: where each is reached, its heartbeat, the instances
      // whose guests it runs, and the work leases it holds (docs/cluster.md).
      return json(200, { nodeId: app.config.nodeId, leaseMs: app.config.leaseMs, nodes: await app.cluster.nodes() });
    case 'GET /_amiforge/health': {
      const health = await healthReport(app);
      return json(health.status, health.body);
    }
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
    case 'POST /_amiforge/gc':
      return json(200, { regions: await app.maintenance.collectGarbage({ graceMs: GC_GRACE_MS }) });
    case 'GET /_amiforge/storage':
      return json(200, { regions: await app.maintenance.usage() });
    case 'GET /_amiforge/volume-reads':
      // Blocks read from the block store for volumes (guests' disks) since start: how lazy boots are.
      return json(200, { ...app.volumeData.stats });
    case 'GET /_amiforge/volume-writes': {
      // Bytes guests wrote to volumes against bytes stored for them since start (1.0: each
      // written byte stored once), in total and per volume.
      const w = app.volumeData.writeStats;
      return json(200, {
        ...w, storedPerWritten: w.bytesWritten ? w.bytesStored / w.bytesWritten : null,
        writeBufferBlocks: app.volumeData.writeBufferBlocks, volumes: app.volumeData.writeStatsByVolume(),
      });
    }
    case 'GET /_amiforge/snapshot-copies':
      // Blocks snapshot copies (CopySnapshot, CopyImage) wrote since start: how incremental copies are.
      return json(200, { ...app.copier.stats });
    default:
      return json(404, { error: `No such endpoint: ${method} ${path}` });
  }
}
