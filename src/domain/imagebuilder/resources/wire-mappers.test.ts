// The wire mappers: amiforge's own members of a record never reach the API, Image Builder's do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IbKind, IbRecord } from '../../../ports/imagebuilder-repository.ts';
import { recordToWire } from './wire-mappers.ts';

const record = (kind: IbKind, doc: Record<string, unknown>): IbRecord =>
  ({ arn: 'x', kind, account: '111111111111', region: 'us-east-1', name: 'x', doc, createdAt: '', updatedAt: '' });

test('each kind\'s own members are dropped, Image Builder\'s kept', () => {
  const cases: [IbKind, Record<string, unknown>, Record<string, unknown>][] = [
    ['image', { arn: 'i', version: '1.0.0/1', state: { status: 'BUILDING' } },
      { buildResources: { instances: ['i-1'], images: [] }, hygieneScan: { scannedAt: 't', report: {} }, installedPackages: [] }],
    ['image-pipeline', { arn: 'p', status: 'ENABLED', dateNextRun: '2026-01-02T00:00:00.000Z', consecutiveFailures: 1 },
      { scheduleAnchor: '2026-01-01T00:00:00.000Z', lastBuild: { imageBuildVersionArn: 'i', buildType: 'SCHEDULED', dependencies: {} } }],
    ['workflow-step-execution', { stepExecutionId: 's', name: 'LaunchBuildInstance', outputs: '{"log":"a"}', timeoutSeconds: 7200 },
      { sequence: 3, logLines: ['a'] }],
    ['lifecycle-execution', { lifecycleExecutionId: 'lce-1', state: { status: 'PENDING' } },
      { preview: true, planned: true, manualUpdate: { action: 'DEPRECATE' } }],
    ['lifecycle-execution-resource', { resourceId: 'ami-1', action: { name: 'DELETE' }, region: 'us-east-1' },
      { parentImageArn: 'i', resourceKind: 'ami', plannedAction: 'DELETE', withSnapshots: true, includeAmis: true }],
    ['component', { arn: 'c', name: 'c', version: '1.0.0', data: 'd', state: { status: 'ACTIVE' }, owner: '1', dateCreated: 't', tags: {} }, {}],
    ['image-recipe', { arn: 'r', name: 'r', version: '1.0.0', components: [{ componentArn: 'c' }], amiTags: { a: 'b' } }, {}],
    ['infrastructure-configuration', { arn: 'n', name: 'n', instanceTypes: ['t3.micro'], placement: { tenancy: 'default' } }, {}],
    ['distribution-configuration', { arn: 'd', name: 'd', distributions: [{ region: 'us-east-1' }], timeoutMinutes: 360 }, {}],
    ['workflow-execution', { workflowExecutionId: 'wf-1', type: 'BUILD', status: 'RUNNING', totalStepCount: 0 }, {}],
  ];
  for (const [kind, wire, own] of cases) {
    assert.deepEqual(recordToWire(record(kind, { ...wire, ...own })), wire, kind);
  }
});

test('lifecycle dates stored as strings go out as Dates', () => {
  const policy = recordToWire(record('lifecycle-policy', { arn: 'l', name: 'l', status: 'ENABLED', dateCreated: '2026-01-01T00:00:00.000Z' }));
  assert.deepEqual(policy, { arn: 'l', name: 'l', status: 'ENABLED', dateCreated: new Date('2026-01-01T00:00:00.000Z') });
  const exec = recordToWire(record('lifecycle-execution', { lifecycleExecutionId: 'lce-1', startTime: '2026-01-01T00:00:00.000Z' }));
  assert.deepEqual(exec, { lifecycleExecutionId: 'lce-1', startTime: new Date('2026-01-01T00:00:00.000Z') });
});

test('a ClientToken record has no wire shape', () => {
  assert.throws(() => recordToWire(record('client-token', {})));
});
