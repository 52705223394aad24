// ServerMetrics on its own: labels a client cannot grow without bound, KMS operations counted
// from KMS requests, and gauges read once per scrape window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerMetrics } from './metrics.ts';
import type { GaugeReadings } from './metrics-readings.ts';

const line = (text: string, series: string) => text.split('\n').find((l) => l.startsWith(`${series} `));

test('an unknown action is counted as `unknown`, not under the name the client sent', async () => {
  const m = new ServerMetrics();
  m.observeRequest({ service: 'ec2', action: 'DescribeNothing', errorCode: 'InvalidAction', status: 400, latencyMs: 1 });
  m.observeRequest({ action: undefined, status: 401, latencyMs: 1 });
  const { body } = await m.render();
  assert.ok(line(body, 'amiforge_requests_total{service="ec2",action="unknown",status="400"}'));
  assert.ok(line(body, 'amiforge_requests_total{service="none",action="unknown",status="401"}'));
  assert.ok(!body.includes('DescribeNothing'));
});

test('past 1,000 distinct service/action pairs, new ones count as other/other', async () => {
  const m = new ServerMetrics();
  for (let i = 0; i < 1005; i++) m.observeRequest({ service: `svc${i}`, action: 'Act', status: 200, latencyMs: 2 });
  const { body } = await m.render();
  assert.ok(line(body, 'amiforge_requests_total{service="svc999",action="Act",status="200"}'));
  assert.ok(!body.includes('svc1000'));
  assert.equal(line(body, 'amiforge_requests_total{service="other",action="other",status="200"}'), 'amiforge_requests_total{service="other",action="other",status="200"} 5');
});

test('KMS requests count as KMS operations from the API; EBS encryption\'s are counted apart', async () => {
  const m = new ServerMetrics();
  m.observeRequest({ service: 'kms', action: 'Encrypt', status: 200, latencyMs: 3 });
  m.kmsOperation('GenerateDataKey', 'ebs');
  const { body } = await m.render();
  assert.ok(line(body, 'amiforge_kms_operations_total{operation="Encrypt",source="api"}'));
  assert.ok(line(body, 'amiforge_kms_operations_total{operation="GenerateDataKey",source="ebs"}'));
});

test('the gauges come from one reading per scrape window, and a failed reading is tried again', async () => {
  const m = new ServerMetrics();
  let reads = 0;
  let fail = true;
  m.readGaugesFrom(async () => {
    reads++;
    if (fail) throw new Error('store unavailable');
    return {
      storage: [{ region: 'us-east-1', storedBytes: 1024, billedBytes: 2048 }],
      instances: [{ region: 'us-east-1', state: 'running', count: 2 }],
      jobs: [{ kind: 'snapshot-copy', state: 'queued', count: 1 }],
    } satisfies GaugeReadings;
  });
  await assert.rejects(m.render(), /store unavailable/);
  fail = false;
  const first = (await m.render()).body;
  const second = (await m.render()).body;
  assert.equal(reads, 2, 'the failed reading, then one for both scrapes');
  for (const body of [first, second]) {
    assert.ok(line(body, 'amiforge_snapshot_stored_bytes{region="us-east-1"}')?.endsWith(' 1024'));
    assert.ok(line(body, 'amiforge_snapshot_billed_bytes{region="us-east-1"}')?.endsWith(' 2048'));
    assert.ok(line(body, 'amiforge_instances{region="us-east-1",state="running"}')?.endsWith(' 2'));
    assert.ok(line(body, 'amiforge_jobs{kind="snapshot-copy",state="queued"}')?.endsWith(' 1'));
  }
});
