// Every operational endpoint, in one table: how it is matched, who may call it, and what it
// answers. Only health and version are open to anyone; every other route, and any path under
// /_amiforge/ that matches none, needs an operator in strict mode (operator-gate.ts), so an
// endpoint added here is closed unless it says otherwise. The tests walk this table.
import { ec2Model } from '../protocol/ec2/model.ts';
import { implementedEc2Actions } from '../api/ec2/dispatcher.ts';
import { GC_GRACE_MS, type App } from './app.ts';
import { listCopySchedules, runCopySchedule } from './copy-schedules-ops.ts';
import { startLifecyclePolicy } from './lifecycle-ops.ts';
import { healthReport } from './health.ts';
import { VERSION } from './version.ts';

export interface OpsAnswer {
  status: number;
  body: string;
  contentType?: string;
}

export interface OpsRoute {
  method: 'GET' | 'POST';
  /** The path with its variable parts in capitals (NAME, ARN, SECONDS): the route's name in logs and metrics. */
  template: string;
  /** Open to anyone in every mode; absent: operators only in strict mode. */
  open?: true;
  /** Only with --enable-reset (test suites); refused otherwise, after the operator check. */
  testOnly?: true;
  handle(app: App, params: string[]): Promise<OpsAnswer>;
}

const json = (status: number, body: unknown): OpsAnswer => ({ status, body: JSON.stringify(body) });

export const OPS_ROUTES: readonly OpsRoute[] = [
  {
    method: 'GET', template: '/_amiforge/health', open: true,
    handle: async (app) => {
      const health = await healthReport(app);
      return json(health.status, health.body);
    },
  },
  {
    // Open, so it names no account and no resource: what is running and how to talk to it.
    method: 'GET', template: '/_amiforge/version', open: true,
    handle: async (app) => json(200, {
      name: 'amiforge', version: VERSION, node: process.version,
      apis: { ec2: ec2Model.metadata.apiVersion }, ec2Actions: implementedEc2Actions(),
      authMode: app.authenticator.mode,
    }),
  },
  {
    // The live nodes sharing this store: where each is reached, its heartbeat, the instances
    // whose guests it runs, and the work leases it holds (docs/cluster.md).
    method: 'GET', template: '/_amiforge/nodes',
    handle: async (app) => json(200, { nodeId: app.config.nodeId, leaseMs: app.config.leaseMs, nodes: await app.cluster.nodes() }),
  },
  {
    method: 'POST', template: '/_amiforge/reset', testOnly: true,
    handle: async (app) => {
      await app.reset();
      return json(200, { status: 'reset' });
    },
  },
  {
    // Moves the domain's clock forward (past a 24-hour cooldown, a retention period).
    method: 'POST', template: '/_amiforge/clock/advance/SECONDS', testOnly: true,
    handle: async (app, [seconds]) => {
      if (!/^\d{1,10}$/.test(seconds)) return json(400, { error: 'SECONDS must be a whole number of seconds.' });
      app.clock.advance(Number(seconds) * 1000);
      // What the new time ends at once: Recycle Bin entries past their retention are deleted.
      const recycleBinPurged = await app.ec2.recycleBin.purgeExpired();
      return json(200, { now: app.clock.now().toISOString(), recycleBinPurged });
    },
  },
  {
    method: 'POST', template: '/_amiforge/gc',
    handle: async (app) => json(200, { regions: await app.maintenance.collectGarbage({ graceMs: GC_GRACE_MS }) }),
  },
  {
    method: 'GET', template: '/_amiforge/storage',
    handle: async (app) => json(200, { regions: await app.maintenance.usage() }),
  },
  {
    // Blocks read from the block store for volumes (guests' disks) since start: how lazy boots are.
    method: 'GET', template: '/_amiforge/volume-reads',
    handle: async (app) => json(200, { ...app.volumeData.stats }),
  },
  {
    // Bytes guests wrote to volumes against bytes stored for them since start (1.0: each
    // written byte stored once), in total and per volume.
    method: 'GET', template: '/_amiforge/volume-writes',
    handle: async (app) => {
      const w = app.volumeData.writeStats;
      return json(200, {
        ...w, storedPerWritten: w.bytesWritten ? w.bytesStored / w.bytesWritten : null,
        writeBufferBlocks: app.volumeData.writeBufferBlocks, volumes: app.volumeData.writeStatsByVolume(),
      });
    },
  },
  {
    // Blocks snapshot copies (CopySnapshot, CopyImage) wrote since start: how incremental copies are.
    method: 'GET', template: '/_amiforge/snapshot-copies',
    handle: async (app) => json(200, { ...app.copier.stats }),
  },
  { method: 'GET', template: '/_amiforge/copy-schedules', handle: (app) => listCopySchedules(app) },
  { method: 'POST', template: '/_amiforge/copy-schedules/NAME/run', handle: (app, [name]) => runCopySchedule(app, name) },
  { method: 'POST', template: '/_amiforge/lifecycle-policies/ARN/run', handle: (app, [arn]) => startLifecyclePolicy(app, arn, false) },
  { method: 'POST', template: '/_amiforge/lifecycle-policies/ARN/preview', handle: (app, [arn]) => startLifecyclePolicy(app, arn, true) },
  {
    // Prometheus' text format (docs/operators.md).
    method: 'GET', template: '/metrics',
    handle: async (app) => {
      try {
        const { contentType, body } = await app.metrics.render();
        return { status: 200, body, contentType };
      } catch (err) {
        // The gauges read the stores: when they fail the scrape fails (Prometheus' `up` says so), in words.
        return json(503, { error: `The metrics could not be read from the stores: ${(err as Error).message}` });
      }
    },
  },
];

/** A capital-letter segment of a template matches one path segment. */
const patterns = new Map(OPS_ROUTES.map((r) => [r, new RegExp(`^${r.template.replace(/\/[A-Z]+(?=\/|$)/g, '/([^/]+)')}$`)]));

/** Whether a request path is an operational one: the table's, or anything under /_amiforge/. */
export const isOpsPath = (path: string): boolean => path.startsWith('/_amiforge/') || OPS_ROUTES.some((r) => patterns.get(r)!.test(path));

export function findOpsRoute(method: string, path: string): { route: OpsRoute; params: string[] } | undefined {
  for (const route of OPS_ROUTES) {
    const m = route.method === method ? patterns.get(route)!.exec(path) : null;
    if (m) return { route, params: m.slice(1) };
  }
  return undefined;
}
