// SQLite's versioned migrations: a file made by the release before versions existed upgrades in
// place and keeps its rows; a newer file is refused, by the store and by `amiforge serve`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { SchemaTooNewError } from '../schema-version.ts';
import { migrateSqlite, schemaVersion } from './migrate.ts';
import { SQLITE_MIGRATIONS } from './migrations.ts';
import { imageDocsToRecords } from './migration-image-records.ts';
import { SqliteMetadataStore } from './sqlite-store.ts';

const ROOT = join(import.meta.dirname, '../../..');
const LATEST = Math.max(...SQLITE_MIGRATIONS.map((m) => m.version));
const R = 'us-east-1';
const A = '111111111111';
const B = '222222222222';
const T = '2026-01-02T03:04:05.000Z';

function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-migrate-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A metadata file as the previous release left it, from the committed SQL fixture. */
function previousReleaseFile(dir: string): string {
  const file = join(dir, 'metadata.sqlite');
  const db = new DatabaseSync(file);
  db.exec(readFileSync(join(ROOT, 'test/fixtures/sqlite-metadata-v0.sql'), 'utf8'));
  assert.equal(schemaVersion(db), 0);
  db.close();
  return file;
}

function setVersion(file: string, version: number): void {
  const db = new DatabaseSync(file);
  db.exec(`PRAGMA user_version = ${version}`);
  db.close();
}

test('a new file is created at the newest version', async () => {
  using tmp = tempDir();
  const store = new SqliteMetadataStore(join(tmp.dir, 'metadata.sqlite'));
  await store.close();
  const db = new DatabaseSync(join(tmp.dir, 'metadata.sqlite'));
  assert.equal(schemaVersion(db), LATEST);
  db.close();
});

test('a file made by the previous release upgrades in place and keeps its rows', async () => {
  using tmp = tempDir();
  const file = previousReleaseFile(tmp.dir);
  const store = new SqliteMetadataStore(file);
  try {
    assert.equal(await store.images.count(), 3);
    const web = await store.images.get(R, 'ami-0000000000000001a');
    assert.ok(web);
    // Every member of the wire document the release stored, under the record's name.
    assert.deepEqual(web.image, {
      imageId: 'ami-0000000000000001a', ownerId: A, name: 'web-server-1', state: 'available', creationDate: T, description: 'a web server',
      architecture: 'x86_64', imageType: 'machine', rootDeviceType: 'ebs', rootDeviceName: '/dev/xvda', virtualizationType: 'hvm', hypervisor: 'xen',
      enaSupport: true, sriovNetSupport: 'simple', bootMode: 'uefi-preferred', imdsSupport: 'v2.0', platformDetails: 'Linux/UNIX', usageOperation: 'RunInstances',
      blockDeviceMappings: [
        { deviceName: '/dev/xvda', ebs: { snapshotId: 'snap-0000000000000001a', volumeSize: 8, volumeType: 'gp3', deleteOnTermination: true, encrypted: false } },
        { deviceName: '/dev/sdb', virtualName: 'ephemeral0' },
      ],
      deprecationTime: '2027-01-01T00:00:00.000Z', deregistrationProtection: 'enabled-with-cooldown', lastLaunchedTime: T,
    });
    assert.equal((await store.images.get(R, 'ami-0000000000000002b'))?.image.ownerAlias, 'amazon');
    assert.deepEqual((await store.images.get('eu-west-1', 'ami-0000000000000003c'))?.image.sourceImageId, 'ami-0000000000000001a');
    assert.deepEqual(web.launchPermissions, [{ UserId: B }]);
    const byToken = await store.images.findByClientToken(R, A, 'tok-1');
    assert.equal(byToken?.image.imageId, 'ami-0000000000000001a');
    assert.deepEqual(byToken?.clientToken, { token: 'tok-1', requestDigest: 'digest-1' });
    // Reads that go through the indexed columns and side tables.
    const sharedWithB: string[] = [];
    for await (const r of store.images.scan({ region: R, visibleTo: { account: B } })) sharedWithB.push(r.image.imageId);
    assert.deepEqual(sharedWithB, ['ami-0000000000000001a', 'ami-0000000000000002b']);
    const amazon: string[] = [];
    for await (const r of store.images.scan({ region: R, visibleTo: { account: B }, ownerAliases: ['amazon'], namePatterns: ['al2023-*'] })) amazon.push(r.image.imageId);
    assert.deepEqual(amazon, ['ami-0000000000000002b']);
    assert.deepEqual((await store.images.inState('pending')).map((r) => r.image.imageId), ['ami-0000000000000003c']);
    assert.deepEqual((await store.tags.forResources(A, R, ['ami-0000000000000001a'])).get('ami-0000000000000001a'), [{ Key: 'Name', Value: 'web' }]);
    assert.deepEqual(await store.snapshots.imagesUsing(R, 'snap-0000000000000001a'), ['ami-0000000000000001a']);
    assert.equal(await store.snapshots.countBlocks('snap-0000000000000001a'), 2);
    assert.equal((await store.snapshots.get(R, 'snap-0000000000000001a'))?.description, 'root of ami-0000000000000001a');
    // The image in the Recycle Bin was converted too, and still holds its snapshot.
    const binned = await store.recycleBin.getBinned(A, R, 'EC2_IMAGE', 'ami-0000000000000004d');
    assert.equal(binned?.resourceType === 'EC2_IMAGE' && binned.image.image.blockDeviceMappings?.[0].ebs?.snapshotId, 'snap-0000000000000001a');
    await store.images.delete(R, 'ami-0000000000000001a');
    assert.deepEqual(await store.snapshots.deleteUnlessInUse(R, 'snap-0000000000000001a', { binnedImagesToo: true }),
      { deleted: false, inUseBy: 'ami-0000000000000004d' });
    await store.recycleBin.restore(binned!);
    assert.equal((await store.images.get(R, 'ami-0000000000000004d'))?.image.name, 'retired');
    // And it still writes: the name stays unique per owner.
    await assert.rejects(store.images.insert({ ...web, image: { ...web.image, imageId: 'ami-0000000000000005e', name: 'retired' }, clientToken: undefined }),
      { code: 'InvalidAMIName.Duplicate' });
  } finally {
    await store.close();
  }
  const db = new DatabaseSync(file);
  assert.equal(schemaVersion(db), LATEST);
  // Version 4's node column, on a table version 1 found already there.
  assert.ok((db.prepare('PRAGMA table_info(instances)').all() as { name: string }[]).some((c) => c.name === 'node_id'));
  db.close();
});

test('migration 3 renames nested members too, and leaves converted documents alone', () => {
  const db = new DatabaseSync(':memory:');
  db.exec(`CREATE TABLE images (image_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
    CREATE TABLE recycle_bin (resource_id TEXT PRIMARY KEY, resource_type TEXT NOT NULL, doc TEXT NOT NULL);`);
  const wire = { ImageId: 'ami-1', ImageOwnerAlias: 'amazon', StateReason: { Code: 'c', Message: 'm' }, ProductCodes: [{ ProductCodeId: 'p', ProductCodeType: 'marketplace' }] };
  const converted = { imageId: 'ami-2', name: 'already' };
  const insert = db.prepare('INSERT INTO images VALUES (?, ?)');
  insert.run('ami-1', JSON.stringify(wire));
  insert.run('ami-2', JSON.stringify(converted));
  db.prepare("INSERT INTO recycle_bin VALUES ('snap-1', 'EBS_SNAPSHOT', ?)").run(JSON.stringify({ snapshot: { SnapshotId: 'kept as it is' } }));
  imageDocsToRecords(db);
  const docs = db.prepare('SELECT doc FROM images ORDER BY image_id').all().map((r) => JSON.parse(String(r.doc)));
  assert.deepEqual(docs, [
    { imageId: 'ami-1', ownerAlias: 'amazon', stateReason: { code: 'c', message: 'm' }, productCodes: [{ productCodeId: 'p', productCodeType: 'marketplace' }] },
    converted,
  ]);
  assert.deepEqual(JSON.parse(String(db.prepare('SELECT doc FROM recycle_bin').get()!.doc)), { snapshot: { SnapshotId: 'kept as it is' } });
  db.close();
});

test('a file from before encrypted blocks gains the checksum columns', () => {
  const db = new DatabaseSync(':memory:');
  db.exec(`CREATE TABLE snapshot_blocks (snapshot_id TEXT NOT NULL, block_index INTEGER NOT NULL, hash TEXT NOT NULL, written INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, block_index)) WITHOUT ROWID;
    CREATE TABLE volume_blocks (volume_id TEXT NOT NULL, block_index INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (volume_id, block_index)) WITHOUT ROWID;
    INSERT INTO snapshot_blocks VALUES ('snap-1', 0, 'h', 1);`);
  migrateSqlite(db, SQLITE_MIGRATIONS);
  for (const table of ['snapshot_blocks', 'volume_blocks']) {
    const cols = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    assert.ok(cols.includes('checksum'), table);
  }
  assert.deepEqual({ ...db.prepare('SELECT hash, checksum FROM snapshot_blocks').get() }, { hash: 'h', checksum: null });
  db.close();
});

test('each version is applied once, in order; a failing one leaves the file at the version before it', () => {
  const db = new DatabaseSync(':memory:');
  const v1 = { version: 1, description: 'a table', up: 'CREATE TABLE things (id TEXT PRIMARY KEY)' };
  const v2 = { version: 2, description: 'a row', up: "INSERT INTO things VALUES ('a')" };
  const broken = { version: 3, description: 'half done', up: "INSERT INTO things VALUES ('b'); INSERT INTO nowhere VALUES (1)" };
  assert.deepEqual(migrateSqlite(db, [v2, v1]), [1, 2]);
  assert.deepEqual(migrateSqlite(db, [v1, v2]), []);
  assert.throws(() => migrateSqlite(db, [v1, v2, broken]), /no such table: nowhere/);
  assert.equal(schemaVersion(db), 2);
  assert.deepEqual(db.prepare('SELECT id FROM things').all().map((r) => r.id), ['a']);
  db.close();
});

test('a file newer than this release is refused with a clear message', () => {
  using tmp = tempDir();
  const file = previousReleaseFile(tmp.dir);
  setVersion(file, LATEST + 1);
  assert.throws(() => new SqliteMetadataStore(file), (err: Error) => err instanceof SchemaTooNewError
    && err.message.includes(`version ${LATEST + 1}, newer than this amiforge knows (${LATEST})`));
  // Refused without touching it.
  const db = new DatabaseSync(file);
  assert.equal(schemaVersion(db), LATEST + 1);
  db.close();
});

test('amiforge serve on a newer file says why and exits non-zero, without a stack trace', async () => {
  using tmp = tempDir();
  setVersion(previousReleaseFile(tmp.dir), LATEST + 1);
  const run = promisify(execFile)(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', '--data-dir', tmp.dir, '--log-level', 'silent']);
  const err = await run.then(() => assert.fail('serve started'), (e: { code: number; stderr: string }) => e);
  assert.notEqual(err.code, 0);
  assert.match(err.stderr, /schema is version \d+, newer than this amiforge knows/);
  assert.doesNotMatch(err.stderr, /\n\s+at /);
});
