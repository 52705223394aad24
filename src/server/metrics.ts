// GET /metrics in Prometheus' text format (docs/operators.md): requests and their latency, KMS
// operations, and gauges read from the stores when scraped (bytes stored and billed, instances,
// jobs). One registry per App, never prom-client's global one: a test process runs several apps.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GaugeReadings } from './metrics-readings.ts';

/** 1 ms to 10 s: a DescribeImages answers in milliseconds, a 512 KiB block upload or a CreateImage in seconds. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Gauges read from the stores are reused for this long: scrapes from several Prometheus servers cost one reading. */
const READINGS_TTL_MS = 10_000;
/**
 * Distinct service/action label pairs kept; later new ones count as `other`. An action's name
 * comes from the request, so without a bound anyone could grow the registry without limit.
 */
const MAX_ACTION_LABELS = 1000;

/** What the HTTP server logs of each request. */
export interface RequestRecord {
  service?: string;
  action?: string;
  status: number;
  errorCode?: string;
  latencyMs: number;
}

export type KmsOperationSource = 'api' | 'ebs';

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'service' | 'action' | 'status'>;
  private readonly latency: Histogram<'service' | 'action'>;
  private readonly kms: Counter<'operation' | 'source'>;
  private readonly actionLabels = new Set<string>();
  private readGauges?: () => Promise<GaugeReadings>;
  private cached?: { at: number; readings: Promise<GaugeReadings> };

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: 'amiforge_requests_total', help: 'HTTP requests answered, by service, action and HTTP status.', labelNames: ['service', 'action', 'status'], registers });
    this.latency = new Histogram({
      name: 'amiforge_request_duration_seconds', help: 'Time from a request\'s arrival to its answer, by service and action.',
      labelNames: ['service', 'action'], buckets: LATENCY_BUCKETS_SECONDS, registers,
    });
    this.kms = new Counter({
      name: 'amiforge_kms_operations_total',
      help: 'KMS operations: through the KMS API (source "api"), and those EBS encryption makes for callers (source "ebs").',
      labelNames: ['operation', 'source'], registers,
    });
    const gauge = <L extends string>(name: string, help: string, labelNames: L[], set: (g: Gauge<L>, r: GaugeReadings) => void) => {
      const self = this;
      return new Gauge<L>({
        name, help, labelNames, registers,
        async collect() {
          const readings = await self.readings();
          this.reset();
          if (readings) set(this, readings);
        },
      });
    };
    gauge('amiforge_snapshot_stored_bytes', 'Distinct bytes stored for a region\'s snapshots, live and in the Recycle Bin (amiforge storage report\'s "stored").', ['region'],
      (g, r) => r.storage.forEach((s) => g.set({ region: s.region }, s.storedBytes)));
    gauge('amiforge_snapshot_billed_bytes', 'Bytes a region\'s accounts are billed for their snapshots, summed (amiforge storage report\'s "billed").', ['region'],
      (g, r) => r.storage.forEach((s) => g.set({ region: s.region }, s.billedBytes)));
    gauge('amiforge_instances', 'Instances not terminated, by region and state, across the nodes sharing the store.', ['region', 'state'],
      (g, r) => r.instances.forEach((i) => g.set({ region: i.region, state: i.state }, i.count)));
    gauge('amiforge_jobs', 'Background work recorded in the store: queued (waiting for a node) and running, by kind.', ['kind', 'state'],
      (g, r) => r.jobs.forEach((j) => g.set({ kind: j.kind, state: j.state }, j.count)));
  }

  /** Where the scrape-time gauges come from (set once the app's services exist). */
  readGaugesFrom(read: () => Promise<GaugeReadings>): void {
    this.readGauges = read;
  }

  observeRequest(r: RequestRecord): void {
    // An unknown action is whatever the client sent: not a label.
    const named = r.action && r.errorCode !== 'InvalidAction' ? r.action : 'unknown';
    const { service, action } = this.bounded(r.service ?? 'none', named);
    this.requests.inc({ service, action, status: String(r.status) });
    this.latency.observe({ service, action }, r.latencyMs / 1000);
    if (service === 'kms' && action !== 'unknown' && action !== 'other') this.kmsOperation(action, 'api');
  }

  kmsOperation(operation: string, source: KmsOperationSource): void {
    this.kms.inc({ operation, source });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private bounded(service: string, action: string): { service: string; action: string } {
    const key = `${service}\0${action}`;
    if (this.actionLabels.has(key)) return { service, action };
    if (this.actionLabels.size >= MAX_ACTION_LABELS) return { service: 'other', action: 'other' };
    this.actionLabels.add(key);
    return { service, action };
  }

  /** The stores' readings, read at most once per READINGS_TTL_MS; a failed reading is not kept. */
  private async readings(): Promise<GaugeReadings | undefined> {
    if (!this.readGauges) return undefined;
    const now = Date.now();
    if (!this.cached || now - this.cached.at > READINGS_TTL_MS) {
      const readings = this.readGauges();
      this.cached = { at: now, readings };
      readings.catch(() => { if (this.cached?.readings === readings) this.cached = undefined; });
    }
    return this.cached.readings;
  }
}
