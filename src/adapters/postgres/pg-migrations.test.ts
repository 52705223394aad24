// The PostgreSQL schema's own versions on a real server: a database left at version 3 (images
// stored as EC2 wire members) is brought to the image record in place, rows and reads intact;
// one at version 4 has its Image Builder records' `_`-prefixed members renamed by version 5.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startPostgres, type TestPostgres } from '../../../test/support/postgres.ts';
import { migrate } from './migrations.ts';
import { PgDatabase } from './pg-database.ts';
import { PG_MIGRATIONS } from './pg-migrations.ts';
import { PgMetadataStore } from './pg-store.ts';
import { renameIbMembers } from '../ib-record-renames.ts';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

const R = 'us-east-1';
const A = '111111111111';
const T = '2026-01-02T03:04:05.000Z';

test('a database at version 3 has its images converted to records by version 4', async () => {
  const url = await pg.createDatabase();
  const db = new PgDatabase(url);
  try {
    assert.deepEqual(await migrate(db, PG_MIGRATIONS.filter((m) => m.version < 4)), [1, 2, 3]);
    const web = {
      ImageId: 'ami-0000000000000001a', OwnerId: A, ImageOwnerAlias: 'amazon', Name: 'web', State: 'pending', CreationDate: T,
      StateReason: { Code: 'c', Message: 'm' }, ProductCodes: [{ ProductCodeId: 'p', ProductCodeType: 'marketplace' }],
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-0000000000000001a', VolumeSize: 8 } }, { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }],
    };
    await db.query(`INSERT INTO images (image_id, region, owner_id, owner_alias, name, is_public, doc, permissions)
      VALUES ($1, $2, $3, 'amazon', 'web', false, $4, '[]')`, [web.ImageId, R, A, JSON.stringify(web)]);
    const binnedImage = { ImageId: 'ami-0000000000000002b', OwnerId: A, Name: 'old', State: 'available', CreationDate: T,
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-0000000000000001a' } }] };
    const entry = { resourceType: 'EC2_IMAGE', account: A, region: R, resourceId: binnedImage.ImageId, enterTime: T, exitTime: '2099-01-01T00:00:00.000Z',
      tags: [{ Key: 'team', Value: 'web' }], image: { region: R, image: binnedImage, launchPermissions: [{ UserId: '222222222222' }] } };
    await db.query(`INSERT INTO recycle_bin (resource_id, resource_type, account, region, exit_time, doc)
      VALUES ($1, 'EC2_IMAGE', $2, $3, $4, $5)`, [binnedImage.ImageId, A, R, entry.exitTime, JSON.stringify(entry)]);
  } finally {
    await db.close();
  }

  const store = await PgMetadataStore.open(url);
  try {
    const record = await store.images.get(R, 'ami-0000000000000001a');
    assert.deepEqual(record?.image, {
      imageId: 'ami-0000000000000001a', ownerId: A, ownerAlias: 'amazon', name: 'web', state: 'pending', creationDate: T,
      stateReason: { code: 'c', message: 'm' }, productCodes: [{ productCodeId: 'p', productCodeType: 'marketplace' }],
      blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId: 'snap-0000000000000001a', volumeSize: 8 } }, { deviceName: '/dev/sdb', virtualName: 'ephemeral0' }],
    });
    assert.deepEqual((await store.images.inState('pending')).map((r) => r.image.imageId), ['ami-0000000000000001a']);
    const binned = await store.recycleBin.getBinned(A, R, 'EC2_IMAGE', 'ami-0000000000000002b');
    assert.ok(binned?.resourceType === 'EC2_IMAGE');
    assert.equal(binned.image.image.blockDeviceMappings?.[0].ebs?.snapshotId, 'snap-0000000000000001a');
    // Members that were never image members keep EC2's spelling: tags and launch permissions.
    assert.deepEqual(binned.tags, [{ Key: 'team', Value: 'web' }]);
    assert.deepEqual(binned.image.launchPermissions, [{ UserId: '222222222222' }]);
  } finally {
    await store.close();
    await pg.dropDatabase(url);
  }
});

test('a database at version 4 has its Image Builder records\' own members renamed by version 5', async () => {
  const url = await pg.createDatabase();
  const db = new PgDatabase(url);
  // The records the release at version 4 wrote (the SQLite fixture's rows, written through its API).
  const fixture = new DatabaseSync(':memory:');
  fixture.exec(readFileSync(join(import.meta.dirname, '../../../test/fixtures/sqlite-metadata-v4-imagebuilder.sql'), 'utf8'));
  const rows = fixture.prepare('SELECT * FROM ib_records ORDER BY created_at, rowid').all() as Record<string, string | number | null>[];
  fixture.close();
  try {
    assert.deepEqual(await migrate(db, PG_MIGRATIONS.filter((m) => m.version < 5)), [1, 2, 3, 4]);
    for (const r of rows) {
      await db.query(`INSERT INTO ib_records (arn, kind, account, region, name, version, build, parent, state, created_at, updated_at, doc)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [r.arn, r.kind, r.account, r.region, r.name, r.version, r.build, r.parent, r.state, r.created_at, r.updated_at, r.doc]);
    }
  } finally {
    await db.close();
  }

  const store = await PgMetadataStore.open(url);
  try {
    for (const r of rows) {
      const before = JSON.parse(String(r.doc)) as Record<string, unknown>;
      const after = (await store.imageBuilder.get(String(r.arn)))!.doc;
      const renamed = renameIbMembers(String(r.kind), before) ?? before;
      assert.deepEqual(after, renamed, `${r.kind} ${r.arn}`);
      assert.deepEqual(Object.keys(after).filter((k) => k.startsWith('_')), []);
    }
    const pipeline = (await store.imageBuilder.get('arn:aws:imagebuilder:us-east-1:111111111111:image-pipeline/golden-nightly'))!.doc;
    assert.equal((pipeline.lastBuild as { imageBuildVersionArn: string }).imageBuildVersionArn, 'arn:aws:imagebuilder:us-east-1:111111111111:image/golden/1.0.0/2');
    const slow = (await store.imageBuilder.get('arn:aws:imagebuilder:us-east-1:111111111111:image/slow/1.0.0/1'))!.doc;
    assert.equal((slow.buildResources as { instances: string[] }).instances.length, 1);
  } finally {
    await store.close();
    await pg.dropDatabase(url);
  }
});
