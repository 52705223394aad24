// The Systems Manager parameter repository on both metadata stores (SQLite, and PostgreSQL on a
// throwaway cluster): insert, compare-and-swap by revision, prefix listing (with `_`, which SQL's
// LIKE would read as a wildcard), per account and region, reset.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.ts';
import type { MetadataStore } from '../ports/metadata-store.ts';
import type { ParameterRecord } from '../ports/ssm-parameter-repository.ts';
import { PgMetadataStore } from './postgres/pg-store.ts';
import { SqliteMetadataStore } from './sqlite/sqlite-store.ts';

const record = (account: string, name: string, value = 'v'): ParameterRecord => ({
  account, region: 'us-east-1', name, tags: [],
  versions: [{ version: 1, type: 'String', value, dataType: 'text', tier: 'Standard', lastModifiedDate: '2026-01-01T00:00:00.000Z', lastModifiedUser: 'u', labels: [] }],
});

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

const stores: [string, () => Promise<{ store: MetadataStore; cleanup(): Promise<void> }>][] = [
  ['sqlite', async () => {
    const store = new SqliteMetadataStore(':memory:');
    return { store, cleanup: () => store.close() };
  }],
  ['postgres', async () => {
    const url = await pg.createDatabase();
    const store = await PgMetadataStore.open(url);
    return { store, cleanup: async () => { await store.close(); await pg.dropDatabase(url); } };
  }],
];

for (const [name, make] of stores) {
  describe(`SsmParameterRepository: ${name}`, () => {
    test('insert once, replace only at the stored revision, list by prefix, delete, reset', async () => {
      const { store, cleanup } = await make();
      try {
        const p = store.ssmParameters;
        assert.equal(await p.save(record('111111111111', '/a/b_c')), true);
        assert.equal(await p.save(record('111111111111', '/a/b_c')), false, 'a second insert of the name loses');
        const stored = (await p.get('111111111111', 'us-east-1', '/a/b_c'))!;
        assert.deepEqual(stored.record, record('111111111111', '/a/b_c'));
        const changed = { ...stored.record, tags: [{ Key: 'k', Value: 'v' }] };
        assert.equal(await p.save(changed, stored.revision), true);
        assert.equal(await p.save(changed, stored.revision), false, 'a write at an old revision loses');
        assert.deepEqual((await p.get('111111111111', 'us-east-1', '/a/b_c'))!.record.tags, [{ Key: 'k', Value: 'v' }]);
        await p.save(record('111111111111', '/a/bxc'));
        await p.save(record('111111111111', '/a/b_d'));
        await p.save(record('222222222222', '/a/b_e'));
        assert.deepEqual((await p.list('111111111111', 'us-east-1', '/a/b_')).map((r) => r.name), ['/a/b_c', '/a/b_d']);
        assert.deepEqual((await p.list('111111111111', 'eu-west-1', '')), []);
        assert.equal(await p.get('222222222222', 'us-east-1', '/a/b_c'), undefined);
        assert.equal(await p.delete('111111111111', 'us-east-1', '/a/b_c'), true);
        assert.equal(await p.delete('111111111111', 'us-east-1', '/a/b_c'), false);
        await store.reset();
        assert.deepEqual(await p.list('222222222222', 'us-east-1', ''), []);
      } finally {
        await cleanup();
      }
    });
  });
}
