// Lifecycle executions against the real Image Builder store (SQLite) and an in-memory EC2: what an
// execution does to Image Builder images and their AMIs, previews, cancelling, resuming after a
// restart, and the daily schedule on the service clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMetadataStore } from '../../../adapters/sqlite/sqlite-store.ts';
import { AdvanceableClock } from '../../../ports/clock.ts';
import type { CreateLifecyclePolicyRequest, Image, StartResourceStateUpdateRequest } from '../../../protocol/imagebuilder/types.generated.ts';
import type { Caller } from '../../context.ts';
import { asGeneric, executionRecord, resourceRecord } from './execution-records.ts';
import type { AmiFactsWithDate, LifecycleEc2 } from './lifecycle-ec2.ts';
import { LifecycleService } from './lifecycle-service.ts';

const ACCOUNT = '111111111111';
const CALLER: Caller = { account: ACCOUNT, region: 'us-east-1' };
const DAY = 86_400_000;

class FakeEc2 implements LifecycleEc2 {
  amis = new Map<string, AmiFactsWithDate>();
  snapshots = new Set<string>();
  calls: string[] = [];
  /** While set, deregistering waits for it. */
  gate?: Promise<void>;
  add(id: string, createdAt: string, tags: Record<string, string> = {}): void {
    this.amis.set(id, {
      imageId: id, region: 'us-east-1', accountId: ACCOUNT, state: 'available', deprecated: false, public: false, sharedAccounts: [],
      tags, liveInstances: [], snapshotIds: [`snap-${id}`], createdAt,
    });
    this.snapshots.add(`snap-${id}`);
  }
  async liveInstances() { return new Map<string, string[]>(); }
  async facts(_region: string, id: string) { const f = this.amis.get(id); return f && structuredClone(f); }
  async tagged(_account: string, _region: string, tagMap: Record<string, string>) {
    return [...this.amis.values()].filter((a) => Object.entries(tagMap).some(([k, v]) => a.tags[k] === v)).map((a) => structuredClone(a));
  }
  async deprecate(_c: Caller, id: string) { this.calls.push(`deprecate ${id}`); this.amis.get(id)!.deprecated = true; }
  async disable(_c: Caller, id: string) { this.calls.push(`disable ${id}`); this.amis.get(id)!.state = 'disabled'; }
  async restore(_c: Caller, id: string) {
    this.calls.push(`restore ${id}`);
    const ami = this.amis.get(id)!;
    Object.assign(ami, { state: 'available', deprecated: false });
  }
  async deregister(_c: Caller, id: string, withSnapshots: boolean) {
    this.calls.push(`deregister ${id}`);
    await this.gate;
    const ami = this.amis.get(id)!;
    this.amis.delete(id);
    if (!withSnapshots) return [];
    for (const s of ami.snapshotIds) this.snapshots.delete(s);
    return ami.snapshotIds.map((snapshotId) => ({ snapshotId, returnCode: 'success' }));
  }
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-lifecycle-'));
  const store = new SqliteMetadataStore(join(dir, 'metadata.sqlite'));
  const clock = new AdvanceableClock();
  const ec2 = new FakeEc2();
  const service = () => new LifecycleService({ repo: store.imageBuilder, ec2, clock });
  const cleanup = async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); };
  return { store, clock, ec2, service, cleanup, repo: store.imageBuilder };
}

/** An Image Builder image record as the builds area writes it, with one output AMI. */
async function ibImage(repo: SqliteMetadataStore['imageBuilder'], ec2: FakeEc2, n: number, createdAt: string, recipeVersion = '1.0.0'): Promise<string> {
  const arn = `arn:aws:imagebuilder:us-east-1:${ACCOUNT}:image/web/${recipeVersion}/${n}`;
  const amiId = `ami-${String(n).padStart(17, '0')}`;
  ec2.add(amiId, createdAt);
  const doc: Image = {
    arn, name: 'web', version: recipeVersion, type: 'AMI', state: { status: 'AVAILABLE' }, dateCreated: createdAt,
    imageRecipe: { name: 'web', version: recipeVersion }, outputResources: { amis: [{ region: 'us-east-1', image: amiId, accountId: ACCOUNT }] },
  };
  await repo.insert({ arn, kind: 'image', account: ACCOUNT, region: 'us-east-1', name: 'web', version: recipeVersion, build: n, state: 'AVAILABLE', doc: doc as Record<string, unknown>, createdAt, updatedAt: createdAt });
  return arn;
}

const policy = (over: Partial<CreateLifecyclePolicyRequest> = {}): CreateLifecyclePolicyRequest => ({
  name: 'keep-two', executionRole: 'EC2ImageBuilderLifecycleExecutionPolicy', resourceType: 'AMI_IMAGE', clientToken: 't',
  policyDetails: [{ action: { type: 'DELETE', includeResources: { amis: true, snapshots: true } }, filter: { type: 'COUNT', value: 2 } }],
  resourceSelection: { recipes: [{ name: 'web', semanticVersion: '1.x.x' }] },
  ...over,
});

test('an execution deletes the images beyond the newest N of each recipe version, with their AMIs and snapshots', async (t) => {
  const { repo, ec2, service, cleanup } = setup();
  t.after(cleanup);
  const now = Date.now();
  const arns = [];
  for (let n = 1; n <= 4; n++) arns.push(await ibImage(repo, ec2, n, new Date(now - (10 - n) * DAY).toISOString()));
  const other = await ibImage(repo, ec2, 5, new Date(now - 20 * DAY).toISOString(), '2.0.0');
  const lifecycle = service();
  const policyArn = await lifecycle.create(CALLER, policy());
  const { lifecycleExecutionId } = await lifecycle.startNow(CALLER, policyArn, false);
  await lifecycle.runner.idle();

  const exec = await lifecycle.getExecution(CALLER, lifecycleExecutionId);
  assert.equal(exec.state?.status, 'SUCCESS');
  assert.equal(exec.resourcesImpactedSummary?.hasImpactedResources, true);
  const top = await lifecycle.listResources(CALLER, lifecycleExecutionId);
  assert.deepEqual(top.resources.map((r) => [r.resourceId, r.action?.name, r.state?.status]), [[arns[1], 'DELETE', 'SUCCESS'], [arns[0], 'DELETE', 'SUCCESS']]);
  const amis = await lifecycle.listResources(CALLER, lifecycleExecutionId, arns[0]);
  assert.deepEqual(amis.resources.map((r) => [r.resourceId, r.state?.status, r.snapshots?.map((s) => [s.snapshotId, s.state?.status])]),
    [['ami-00000000000000001', 'SUCCESS', [['snap-ami-00000000000000001', 'SUCCESS']]]]);
  assert.equal(await repo.get(arns[0]), undefined);
  assert.ok(await repo.get(arns[2]));
  assert.ok(await repo.get(other), 'version 2.0.0 has one image: kept');
  assert.deepEqual([...ec2.amis.keys()].sort(), ['ami-00000000000000003', 'ami-00000000000000004', 'ami-00000000000000005']);
  assert.ok(!ec2.snapshots.has('snap-ami-00000000000000001'));
  assert.ok((await lifecycle.get(CALLER, policyArn)).dateLastRun instanceof Date);
});

test('deprecating marks the Image Builder image DEPRECATED and deprecates its AMI', async (t) => {
  const { repo, ec2, service, cleanup } = setup();
  t.after(cleanup);
  const arn = await ibImage(repo, ec2, 1, new Date(Date.now() - 30 * DAY).toISOString());
  const lifecycle = service();
  const policyArn = await lifecycle.create(CALLER, policy({
    policyDetails: [{ action: { type: 'DEPRECATE', includeResources: { amis: true } }, filter: { type: 'AGE', value: 7, unit: 'DAYS' } }],
  }));
  const { lifecycleExecutionId } = await lifecycle.startNow(CALLER, policyArn, false);
  await lifecycle.runner.idle();
  const image = (await repo.get(arn))!.doc as Image;
  assert.equal(image.state?.status, 'DEPRECATED');
  assert.equal(image.lifecycleExecutionId, lifecycleExecutionId);
  assert.deepEqual(ec2.calls, ['deprecate ami-00000000000000001']);
});

test('a preview lists what would happen and changes nothing', async (t) => {
  const { repo, ec2, service, cleanup } = setup();
  t.after(cleanup);
  for (let n = 1; n <= 3; n++) await ibImage(repo, ec2, n, new Date(Date.now() - (10 - n) * DAY).toISOString());
  const lifecycle = service();
  const policyArn = await lifecycle.create(CALLER, policy({ status: 'DISABLED' }));
  await assert.rejects(lifecycle.startNow(CALLER, policyArn, false), /DISABLED/);
  const { lifecycleExecutionId } = await lifecycle.startNow(CALLER, policyArn, true);
  await lifecycle.runner.idle();
  const exec = await lifecycle.getExecution(CALLER, lifecycleExecutionId);
  assert.equal(exec.state?.status, 'SUCCESS');
  assert.match(exec.state?.reason ?? '', /Preview/);
  const top = await lifecycle.listResources(CALLER, lifecycleExecutionId);
  assert.deepEqual(top.resources.map((r) => [r.action?.name, r.state?.status]), [['DELETE', 'SKIPPED']]);
  assert.match(top.resources[0].state?.reason ?? '', /would DELETE/);
  assert.deepEqual(ec2.calls, []);
  assert.equal(ec2.amis.size, 3);
  assert.equal((await lifecycle.get(CALLER, policyArn)).dateLastRun, undefined, 'a preview is not a run');
});

test('cancelling lets the resource under way finish, skips the rest and rolls nothing back', async (t) => {
  const { repo, ec2, service, cleanup } = setup();
  t.after(cleanup);
  for (let n = 1; n <= 4; n++) await ibImage(repo, ec2, n, new Date(Date.now() - (10 - n) * DAY).toISOString());
  let release!: () => void;
  ec2.gate = new Promise((r) => { release = r; });
  const lifecycle = service();
  const policyArn = await lifecycle.create(CALLER, policy({ policyDetails: [{ action: { type: 'DELETE', includeResources: { amis: true } }, filter: { type: 'COUNT', value: 1 } }] }));
  const { lifecycleExecutionId: id } = await lifecycle.startNow(CALLER, policyArn, false);
  while (!ec2.calls.length) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(await lifecycle.startNow(CALLER, policyArn, false), { lifecycleExecutionId: id, started: false }, 'one execution per policy at a time');
  await lifecycle.cancel(CALLER, id);
  assert.equal((await lifecycle.getExecution(CALLER, id)).state?.status, 'CANCELLING');
  release();
  await lifecycle.runner.idle();
  assert.equal((await lifecycle.getExecution(CALLER, id)).state?.status, 'CANCELLED');
  const statuses = [];
  for (const r of (await lifecycle.listResources(CALLER, id)).resources) {
    statuses.push(r.state?.status, ...(await lifecycle.listResources(CALLER, id, r.resourceId)).resources.map((a) => a.state?.status));
  }
  assert.deepEqual(statuses, ['SUCCESS', 'SUCCESS', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED']);
  assert.deepEqual(ec2.calls, ['deregister ami-00000000000000003']);
  await assert.rejects(lifecycle.cancel(CALLER, id), /CANCELLED/);
});

test('a restart resumes an unfinished execution where it stopped', async (t) => {
  const { repo, ec2, clock, service, cleanup } = setup();
  t.after(cleanup);
  const a1 = await ibImage(repo, ec2, 1, new Date(Date.now() - 9 * DAY).toISOString());
  const a2 = await ibImage(repo, ec2, 2, new Date(Date.now() - 8 * DAY).toISOString());
  await ibImage(repo, ec2, 3, new Date(Date.now() - 7 * DAY).toISOString());
  const before = service();
  const policyArn = await before.create(CALLER, policy({ policyDetails: [{ action: { type: 'DELETE', includeResources: { amis: true } }, filter: { type: 'COUNT', value: 1 } }] }));
  // As a server killed mid-execution leaves it: planned, the first AMI done, the rest not.
  const exec = executionRecord({ account: ACCOUNT, region: 'us-east-1', policyArn, now: clock.now(), preview: false });
  exec.doc.planned = true;
  await repo.insert(asGeneric(exec));
  const planned = [
    { resourceId: 'ami-00000000000000002', region: 'us-east-1', accountId: ACCOUNT, action: { name: 'DELETE' as const }, state: { status: 'SUCCESS' as const }, parentImageArn: a2, resourceKind: 'ami' as const, plannedAction: 'DELETE' as const },
    { resourceId: a2, region: 'us-east-1', accountId: ACCOUNT, action: { name: 'DELETE' as const }, state: { status: 'IN_PROGRESS' as const }, resourceKind: 'image' as const, plannedAction: 'DELETE' as const, includeAmis: true },
    { resourceId: 'ami-00000000000000001', region: 'us-east-1', accountId: ACCOUNT, action: { name: 'DELETE' as const }, state: { status: 'IN_PROGRESS' as const }, parentImageArn: a1, resourceKind: 'ami' as const, plannedAction: 'DELETE' as const },
    { resourceId: a1, region: 'us-east-1', accountId: ACCOUNT, action: { name: 'DELETE' as const }, state: { status: 'IN_PROGRESS' as const }, resourceKind: 'image' as const, plannedAction: 'DELETE' as const, includeAmis: true },
  ];
  ec2.amis.delete('ami-00000000000000002');
  for (const [i, doc] of planned.entries()) await repo.insert(asGeneric(resourceRecord(exec, i, doc, clock.now())));
  // A second unfinished one that had not finished planning: planned again from scratch.
  const unplanned = executionRecord({ account: ACCOUNT, region: 'us-east-1', policyArn: 'arn:aws:imagebuilder:us-east-1:111111111111:lifecycle-policy/gone', now: clock.now(), preview: false });
  await repo.insert(asGeneric(unplanned));

  const after = service();
  await after.start();
  await after.runner.idle();
  after.scheduler.close();
  assert.equal((await after.getExecution(CALLER, exec.arn)).state?.status, 'SUCCESS');
  assert.equal(await repo.get(a1), undefined);
  assert.equal(await repo.get(a2), undefined);
  assert.deepEqual(ec2.calls, ['deregister ami-00000000000000001'], 'the AMI done before the stop is not touched again');
  const failed = await after.getExecution(CALLER, unplanned.arn);
  assert.equal(failed.state?.status, 'FAILED');
  assert.match(failed.state?.reason ?? '', /policy was deleted/);
});

test('the daily schedule runs an enabled policy a day after its creation, on the service clock', async (t) => {
  const { repo, ec2, clock, service, cleanup } = setup();
  t.after(cleanup);
  for (let n = 1; n <= 3; n++) await ibImage(repo, ec2, n, new Date(Date.now() - (10 - n) * DAY).toISOString());
  const lifecycle = service();
  const enabled = await lifecycle.create(CALLER, policy());
  const disabled = await lifecycle.create(CALLER, policy({ name: 'off', status: 'DISABLED' }));
  await lifecycle.start();
  t.after(() => lifecycle.close());
  await lifecycle.scheduler.check();
  assert.equal((await lifecycle.listExecutions(CALLER, enabled)).lifecycleExecutions.length, 0, 'not due before a day has passed');
  clock.advance(DAY + 60_000);
  await lifecycle.scheduler.check();
  await lifecycle.runner.idle();
  const runs = (await lifecycle.listExecutions(CALLER, enabled)).lifecycleExecutions;
  assert.equal(runs.length, 1);
  assert.equal(runs[0].state?.status, 'SUCCESS');
  assert.equal((await lifecycle.listExecutions(CALLER, disabled)).lifecycleExecutions.length, 0);
  assert.equal(ec2.amis.size, 2);
  await lifecycle.scheduler.check();
  await lifecycle.runner.idle();
  assert.equal((await lifecycle.listExecutions(CALLER, enabled)).lifecycleExecutions.length, 1, 'the next run is a day after this one');
});

test('policy validation answers InvalidRequestException', async (t) => {
  const { service, cleanup } = setup();
  t.after(cleanup);
  const lifecycle = service();
  const bad: [Partial<CreateLifecyclePolicyRequest>, RegExp][] = [
    [{ resourceType: 'CONTAINER_IMAGE' }, /CONTAINER_IMAGE is not supported/],
    [{ resourceSelection: {} }, /needs recipes or a tagMap/],
    [{ resourceSelection: { recipes: [{ name: 'web', semanticVersion: '1.0.0' }], tagMap: { a: 'b' } } }, /not both/],
    [{ resourceSelection: { recipes: [{ name: 'web', semanticVersion: 'x.1.0' }] } }, /not a semantic version/],
    [{ policyDetails: [{ action: { type: 'DELETE' }, filter: { type: 'AGE', value: 3 } }] }, /needs a unit/],
    [{ policyDetails: [{ action: { type: 'DELETE' }, filter: { type: 'COUNT', value: 3, retainAtLeast: 2 } }] }, /retainAtLeast applies to AGE/],
    [{ policyDetails: [{ action: { type: 'DEPRECATE', includeResources: { snapshots: true } }, filter: { type: 'COUNT', value: 3 } }] }, /only a DELETE rule/],
    [{ policyDetails: [{ action: { type: 'DELETE' }, filter: { type: 'COUNT', value: 3 } }, { action: { type: 'DELETE' }, filter: { type: 'COUNT', value: 5 } }] }, /at most one rule per action/],
  ];
  for (const [over, message] of bad) {
    await assert.rejects(lifecycle.create(CALLER, policy(over)), (err: { code?: string; message: string }) => err.code === 'InvalidRequestException' && message.test(err.message));
  }
  await lifecycle.create(CALLER, policy());
  await assert.rejects(lifecycle.create(CALLER, policy({ name: 'KEEP-TWO' })), { code: 'ResourceAlreadyExistsException' });
  await assert.rejects(lifecycle.get({ ...CALLER, account: '222222222222' }, 'arn:aws:imagebuilder:us-east-1:111111111111:lifecycle-policy/keep-two'), { code: 'ResourceNotFoundException' });
});


test('a manual state update deprecates one image and brings it back to AVAILABLE, each as an execution', async (t) => {
  const { repo, ec2, service, cleanup } = setup();
  t.after(cleanup);
  const arn = await ibImage(repo, ec2, 1, new Date(Date.now() - DAY).toISOString());
  const lifecycle = service();
  const update = (status: 'AVAILABLE' | 'DEPRECATED' | 'DISABLED' | 'DELETED', over: Partial<StartResourceStateUpdateRequest> = {}) =>
    lifecycle.startResourceStateUpdate(CALLER, { resourceArn: arn, state: { status }, includeResources: { amis: true }, clientToken: status, ...over });
  const first = await update('DEPRECATED');
  await lifecycle.runner.idle();
  assert.equal(((await repo.get(arn))!.doc as Image).state?.status, 'DEPRECATED');
  const back = await update('AVAILABLE');
  await lifecycle.runner.idle();
  const image = (await repo.get(arn))!.doc as Image;
  assert.equal(image.state?.status, 'AVAILABLE');
  assert.equal(image.deprecationTime, undefined);
  assert.deepEqual(ec2.calls, ['deprecate ami-00000000000000001', 'restore ami-00000000000000001']);
  const listed = await lifecycle.listExecutions(CALLER, arn);
  assert.deepEqual(listed.lifecycleExecutions.map((e) => [e.lifecycleExecutionId, e.state?.status, e.lifecyclePolicyArn]), [[back, 'SUCCESS', undefined], [first, 'SUCCESS', undefined]]);
  const amis = await lifecycle.listResources(CALLER, back, arn);
  assert.deepEqual(amis.resources.map((r) => [r.resourceId, r.action?.name, r.state?.status]), [['ami-00000000000000001', 'AVAILABLE', 'SUCCESS']]);

  await assert.rejects(update('DELETED', { includeResources: {} }), { code: 'InvalidRequestException' });
  await assert.rejects(update('DISABLED', { includeResources: { amis: true, snapshots: true } }), { code: 'InvalidRequestException' });
  await assert.rejects(lifecycle.startResourceStateUpdate({ ...CALLER, account: '222222222222' }, { resourceArn: arn, state: { status: 'DISABLED' }, clientToken: 'x' }), { code: 'ResourceNotFoundException' });
  await repo.update(arn, (r) => ({ ...r, state: 'BUILDING' }));
  await assert.rejects(update('DISABLED'), { code: 'ResourceInUseException' });
});

test('a state update with updateAt waits PENDING until the service clock reaches it', async (t) => {
  const { repo, ec2, clock, service, cleanup } = setup();
  t.after(cleanup);
  const arn = await ibImage(repo, ec2, 1, new Date(Date.now() - DAY).toISOString());
  const lifecycle = service();
  await lifecycle.start();
  t.after(() => lifecycle.close());
  const id = await lifecycle.startResourceStateUpdate(CALLER, {
    resourceArn: arn, state: { status: 'DELETED' }, includeResources: { amis: true, snapshots: true }, clientToken: 'later',
    updateAt: new Date(clock.now().getTime() + 2 * DAY),
  });
  await lifecycle.scheduler.check();
  await lifecycle.runner.idle();
  assert.equal((await lifecycle.getExecution(CALLER, id)).state?.status, 'PENDING');
  assert.ok(await repo.get(arn));
  clock.advance(2 * DAY + 1000);
  await lifecycle.scheduler.check();
  await lifecycle.runner.idle();
  assert.equal((await lifecycle.getExecution(CALLER, id)).state?.status, 'SUCCESS');
  assert.equal(await repo.get(arn), undefined);
  assert.equal(ec2.amis.size, 0);
  assert.equal(ec2.snapshots.size, 0);
});

test('two requests to run a policy at the same moment start one execution', async (t) => {
  const { repo, ec2, service, cleanup } = setup();
  t.after(cleanup);
  for (let n = 1; n <= 3; n++) await ibImage(repo, ec2, n, new Date(Date.now() - (10 - n) * DAY).toISOString());
  const lifecycle = service();
  const arn = await lifecycle.create(CALLER, policy());
  const [a, b] = await Promise.all([lifecycle.startNow(CALLER, arn, false), lifecycle.startNow(CALLER, arn, false)]);
  await lifecycle.runner.idle();
  assert.equal(a.lifecycleExecutionId, b.lifecycleExecutionId);
  assert.deepEqual([a.started, b.started].sort(), [false, true]);
  assert.equal((await lifecycle.listExecutions(CALLER, arn)).lifecycleExecutions.length, 1);
});
