// Migration 5 on a file the release at version 4 wrote through the Image Builder API: amiforge's
// own members of Image Builder records lose their `_` prefix, and the records read back through
// the domain's services as they did before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Caller } from '../../domain/context.ts';
import { listWorkflowExecutions, listWorkflowStepExecutions } from '../../domain/imagebuilder/builds/workflow-queries.ts';
import { LifecycleService } from '../../domain/imagebuilder/lifecycle/lifecycle-service.ts';
import type { LifecycleEc2 } from '../../domain/imagebuilder/lifecycle/lifecycle-ec2.ts';
import { imageToWire, pipelineToWire } from '../../domain/imagebuilder/resources/wire-mappers.ts';
import type { ImageDoc } from '../../domain/imagebuilder/builds/build-types.ts';
import type { PipelineDoc } from '../../domain/imagebuilder/pipelines/pipeline-document.ts';
import { schemaVersion } from './migrate.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { ibRecordsOwnMembers } from './migration-ib-records.ts';
import { SqliteMetadataStore } from './sqlite-store.ts';

const ROOT = join(import.meta.dirname, '../../..');
const ME: Caller = { account: '111111111111', region: 'us-east-1' };
const ARN = 'arn:aws:imagebuilder:us-east-1:111111111111';
const PIPELINE = `${ARN}:image-pipeline/golden-nightly`;
const OLDER = `${ARN}:image/golden/1.0.0/1`;
const NEWER = `${ARN}:image/golden/1.0.0/2`;
const SLOW = `${ARN}:image/slow/1.0.0/1`;
const PREVIEW = 'lce-7578970d-07eb-40a2-8ce6-4a69e55cb296';
const MANUAL = 'lce-10ab883b-9412-4c9b-b99c-a23f34f6d831';

/** Each row's document as the fixture holds it, by ARN. */
function fixtureDocs(db: DatabaseSync): Map<string, Record<string, unknown>> {
  return new Map((db.prepare('SELECT arn, doc FROM ib_records').all() as { arn: string; doc: string }[]).map((r) => [r.arn, JSON.parse(r.doc)]));
}

test('a version 4 file\'s Image Builder records upgrade in place and read back as before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-ib-migrate-'));
  try {
    const file = join(dir, 'metadata.sqlite');
    const raw = new DatabaseSync(file);
    raw.exec(readFileSync(join(ROOT, 'test/fixtures/sqlite-metadata-v4-imagebuilder.sql'), 'utf8'));
    assert.equal(schemaVersion(raw), 4);
    const before = fixtureDocs(raw);
    raw.close();

    const store = new SqliteMetadataStore(file);
    try {
      const repo = store.imageBuilder;
      const all = await Promise.all([...before.keys()].map((arn) => repo.get(arn)));
      assert.equal(all.length, 42);
      for (const r of all) assert.deepEqual(Object.keys(r!.doc).filter((k) => k.startsWith('_')), [], `${r!.kind} ${r!.arn} keeps no _ member`);

      // The pipeline: its schedule's anchor and its last build, under their own names; the wire unchanged.
      const pipeline = (await repo.get(PIPELINE))!.doc as PipelineDoc;
      const old = before.get(PIPELINE)!;
      assert.equal(pipeline.scheduleAnchor, old._scheduleAnchor);
      assert.deepEqual(pipeline.lastBuild, old._lastBuild);
      assert.equal(pipeline.lastBuild?.imageBuildVersionArn, NEWER);
      const { _scheduleAnchor, _lastBuild, ...oldWire } = old;
      assert.deepEqual(pipelineToWire(pipeline), oldWire);

      // The build the server was killed in keeps what it made (a restart cleans it up from there).
      const slow = (await repo.get(SLOW))!.doc as ImageDoc;
      assert.deepEqual(slow.buildResources, before.get(SLOW)!._resources);
      assert.deepEqual(slow.buildResources?.instances.length, 1);
      const { _resources, ...slowWire } = before.get(SLOW)!;
      assert.deepEqual(imageToWire(slow), slowWire);
      assert.deepEqual(imageToWire((await repo.get(OLDER))!.doc as ImageDoc), before.get(OLDER), 'a finished build had nothing private');

      // Workflow steps still come back in the order they ran (their sequence), with their logs in outputs.
      const workflows = (await listWorkflowExecutions(repo, ME, NEWER, {})).workflowExecutions!;
      assert.deepEqual(workflows.map((w) => w.type), ['BUILD', 'TEST', 'DISTRIBUTION']);
      const build = await listWorkflowStepExecutions(repo, ME, workflows[0].workflowExecutionId!, {});
      assert.deepEqual(build.steps!.map((s) => s.name).slice(0, 2), ['LaunchBuildInstance', 'ApplyBuildComponents']);
      assert.ok(build.steps!.every((s) => s.status === 'COMPLETED'));
      const steps = await repo.list({ kind: 'workflow-step-execution', parent: workflows[0].workflowExecutionId! });
      for (const s of steps) {
        const was = before.get(s.arn)!;
        assert.equal(s.doc.sequence, was._seq);
        assert.deepEqual(s.doc.logLines, was._log);
      }

      // The lifecycle preview: the image, and its AMI under it (the AMI's parent image is what the list selects by).
      const lifecycle = new LifecycleService({ repo, ec2: {} as LifecycleEc2, clock: { now: () => new Date('2026-12-08T00:00:00Z') } });
      assert.equal((await lifecycle.getExecution(ME, PREVIEW)).state?.status, 'SUCCESS');
      const top = await lifecycle.listResources(ME, PREVIEW);
      assert.deepEqual(top.resources.map((r) => [r.resourceId, r.action?.name, r.state?.status]), [[OLDER, 'DELETE', 'SKIPPED']]);
      const amis = await lifecycle.listResources(ME, PREVIEW, OLDER);
      assert.deepEqual(amis.resources.map((r) => r.resourceId), [(before.get(OLDER)!.outputResources as { amis: { image: string }[] }).amis[0].image]);
      assert.ok(!('resourceKind' in amis.resources[0]) && !('plannedAction' in amis.resources[0]));
      const ami = (await repo.get(`${PREVIEW}/000000`))!.doc;
      assert.deepEqual([ami.parentImageArn, ami.resourceKind, ami.plannedAction, ami.withSnapshots], [OLDER, 'ami', 'DELETE', true]);
      const image = (await repo.get(`${PREVIEW}/000001`))!.doc;
      assert.deepEqual([image.resourceKind, image.plannedAction, image.includeAmis], ['image', 'DELETE', true]);
      assert.deepEqual([(await repo.get(PREVIEW))!.doc.preview, (await repo.get(PREVIEW))!.doc.planned], [true, true]);

      // The manual state update still waits for its time.
      const manual = await repo.get(MANUAL);
      assert.deepEqual(manual!.doc.manualUpdate, { action: 'DEPRECATE', includeResources: {}, updateAt: '2099-01-01T00:00:00.000Z' });
      assert.equal((await lifecycle.getExecution(ME, MANUAL)).state?.status, 'PENDING');
    } finally {
      await store.close();
    }
    const db = new DatabaseSync(file);
    assert.equal(schemaVersion(db), SQLITE_MIGRATIONS.at(-1)!.version, 'migrated to the latest version');
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migration 5 renames the members of images\' scans and package lists too, and leaves renamed documents alone', () => {
  const db = new DatabaseSync(':memory:');
  db.exec('CREATE TABLE ib_records (arn TEXT PRIMARY KEY, kind TEXT NOT NULL, doc TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO ib_records VALUES (?, ?, ?)');
  const scan = { scannedAt: '2026-01-01T00:00:00.000Z', report: { findings: [] } };
  insert.run('a', 'image', JSON.stringify({ arn: 'a', _hygiene: scan, _packages: [{ name: 'bash' }], tags: {} }));
  insert.run('b', 'image', JSON.stringify({ arn: 'b', hygieneScan: scan }));
  insert.run('c', 'component', JSON.stringify({ arn: 'c', _future: 1 }));
  ibRecordsOwnMembers(db);
  const docs = db.prepare('SELECT doc FROM ib_records ORDER BY arn').all().map((r) => JSON.parse(String(r.doc)));
  assert.deepEqual(docs, [
    { arn: 'a', hygieneScan: scan, installedPackages: [{ name: 'bash' }], tags: {} },
    { arn: 'b', hygieneScan: scan },
    { arn: 'c', _future: 1 },
  ]);
  db.close();
});
