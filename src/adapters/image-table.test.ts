// The console's image table on both stores: the same seeded images give the same pages, in the
// same order, whatever the sort; scopes and filters select the same images; the lineage lookup
// finds the images made from one. PostgreSQL runs on a throwaway cluster (scripts/postgres.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedImages } from '../../test/support/image-seed.ts';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.ts';
import type { ImageTableQuery, ImageTableSort } from '../ports/image-table.ts';
import { sortValueOf } from '../ports/image-table.ts';
import type { ImageRecord, MetadataStore } from '../ports/metadata-store.ts';
import { PgMetadataStore } from './postgres/pg-store.ts';
import { SqliteMetadataStore } from './sqlite/sqlite-store.ts';

const REGION = 'us-east-1';
const A = '111111111111';
const B = '222222222222';
const COUNT = 80;

let pg: TestPostgres;
let dir: string;
const stores: { name: string; store: MetadataStore }[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'amiforge-image-table-'));
  pg = await startPostgres();
  stores.push({ name: 'sqlite', store: new SqliteMetadataStore(join(dir, 'metadata.sqlite')) });
  stores.push({ name: 'postgres', store: await PgMetadataStore.open(await pg.createDatabase()) });
  for (const { store } of stores) {
    await seedImages(store, { region: REGION, owner: A, count: COUNT, publicEvery: 4, sharedWith: { account: B, every: 5 }, deprecatedEvery: 3, prefix: 'a' });
    await seedImages(store, { region: REGION, owner: B, count: 10, prefix: 'b' });
  }
});

after(async () => {
  for (const { store } of stores) await store.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const base = (account: string, over: Partial<ImageTableQuery>): ImageTableQuery =>
  ({ region: REGION, visibleTo: { account }, scope: 'visible', sort: 'imageId', descending: false, limit: 1000, ...over });

/** Every page of `query`, `size` at a time, by the keyset cursor. */
async function walk(store: MetadataStore, query: ImageTableQuery, size: number): Promise<ImageRecord[]> {
  const out: ImageRecord[] = [];
  let after: ImageTableQuery['after'];
  for (;;) {
    const { records } = await store.images.table({ ...query, limit: size, after });
    out.push(...records);
    if (records.length < size) return out;
    const last = records[records.length - 1]!;
    after = { value: sortValueOf(last, query.sort), imageId: last.image.imageId };
  }
}

describe('image table', () => {
  for (const sort of ['name', 'creationDate', 'architecture', 'owner', 'state', 'imageId'] as ImageTableSort[]) {
    for (const descending of [false, true]) {
      test(`pages by ${sort} ${descending ? 'desc' : 'asc'} are the whole sorted list in both stores`, async () => {
        const pages = [];
        for (const { store } of stores) {
          const q = base(B, { sort, descending });
          const all = (await store.images.table(q)).records;
          const expected = [...all].sort((x, y) => {
            const [a, b] = [sortValueOf(x, sort), sortValueOf(y, sort)];
            const c = a < b ? -1 : a > b ? 1 : x.image.imageId < y.image.imageId ? -1 : 1;
            return descending ? -c : c;
          }).map((r) => r.image.imageId);
          const walked = (await walk(store, q, 7)).map((r) => r.image.imageId);
          assert.deepEqual(walked, expected);
          pages.push(walked);
        }
        assert.deepEqual(pages[0], pages[1], 'SQLite and PostgreSQL agree');
      });
    }
  }

  test('scopes and filters select the same images in both stores, and the count agrees', async () => {
    const cases: Partial<ImageTableQuery>[] = [
      { scope: 'own' }, { scope: 'shared' }, { scope: 'public' }, { scope: 'visible', isPublic: false },
      { scope: 'visible', architecture: 'arm64' }, { scope: 'visible', platform: 'Windows' }, { scope: 'visible', platform: 'linux' },
      { scope: 'visible', nameContains: 'image-0' }, { scope: 'visible', namePattern: 'b-*' }, { scope: 'visible', tag: { key: 'team', value: 't1' } },
      { scope: 'visible', tag: { key: 'team' } }, { scope: 'visible', ownerId: A }, { scope: 'visible', state: { is: 'disabled' } },
      { scope: 'visible', deprecatedBy: new Date().toISOString() }, { scope: 'public', hideOthersDeprecatedBy: new Date().toISOString() },
    ];
    for (const c of cases) {
      const results = [];
      for (const { store } of stores) {
        const page = await store.images.table(base(B, c));
        assert.equal(page.total, page.records.length, JSON.stringify(c));
        results.push(page.records.map((r) => r.image.imageId));
      }
      assert.deepEqual(results[0], results[1], JSON.stringify(c));
    }
    const [sqlite] = stores;
    const shared = (await sqlite!.store.images.table(base(B, { scope: 'shared' }))).records;
    assert.ok(shared.length > 0 && shared.every((r) => r.image.ownerId === A && r.launchPermissions.some((p) => p.UserId === B) && !r.launchPermissions.some((p) => p.Group === 'all')));
    const now = new Date().toISOString();
    const deprecated = (await sqlite!.store.images.table(base(B, { scope: 'visible', deprecatedBy: now }))).records;
    assert.ok(deprecated.length > 0 && deprecated.every((r) => r.image.deprecationTime! <= now));
    const publicLive = (await sqlite!.store.images.table(base(B, { scope: 'public', hideOthersDeprecatedBy: now }))).records;
    const publicAll = (await sqlite!.store.images.table(base(B, { scope: 'public' }))).records;
    assert.ok(publicLive.length < publicAll.length && publicLive.every((r) => r.image.deprecationTime === undefined));
    const own = await sqlite!.store.images.table(base(B, { scope: 'own' }));
    assert.equal(own.total, 10);
  });

  test('images shared with an organization or OU are shared with its member accounts only', async () => {
    const ORG = 'arn:aws:organizations::111111111111:organization/o-abc';
    const OU = 'arn:aws:organizations::111111111111:ou/o-abc/ou-1';
    const C = '333333333333';
    for (const { store } of stores) {
      const [first, second] = (await store.images.table(base(A, { scope: 'own', isPublic: false, limit: 2 }))).records;
      await store.images.update({ ...first!, launchPermissions: [{ OrganizationArn: ORG }] });
      await store.images.update({ ...second!, launchPermissions: [{ OrganizationalUnitArn: OU }] });
      const shared = async (visibleTo: ImageTableQuery['visibleTo']) =>
        (await store.images.table({ ...base(C, { scope: 'shared' }), visibleTo })).records.map((r) => r.image.imageId);
      assert.deepEqual(await shared({ account: C }), []);
      assert.deepEqual(await shared({ account: C, organizationArn: ORG }), [first!.image.imageId]);
      assert.deepEqual((await shared({ account: C, organizationArn: ORG, organizationalUnitArns: [OU] })).sort(), [first!.image.imageId, second!.image.imageId].sort());
    }
  });

  test('images made from an image are found in either store', async () => {
    for (const { store } of stores) {
      const source = (await store.images.table(base(A, { scope: 'own', limit: 1 }))).records[0]!;
      const copy: ImageRecord = { region: 'us-west-2', launchPermissions: [], image: { ...source.image, imageId: 'ami-0c0c0c0c0c0c0c0c0', sourceImageId: source.image.imageId, sourceImageRegion: REGION } };
      await store.images.insert(copy);
      assert.deepEqual((await store.images.derivedFrom(source.image.imageId)).map((r) => `${r.region}/${r.image.imageId}`), ['us-west-2/ami-0c0c0c0c0c0c0c0c0']);
    }
  });
});
