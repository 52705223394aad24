// The BlockStore contract: every adapter (filesystem now, S3-compatible later) registers this
// suite from its own test file. The suite only talks to the port; anything that needs to reach
// behind it (damaging a stored block) goes through hooks the adapter's test supplies.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BLOCK_SIZE, BlockCorruptError, BlockHashMismatchError, BlockMissingError, type BlockStore, type StoredBlockInfo,
} from '../../src/ports/block-store.ts';

export interface BlockStoreFixture {
  store: BlockStore;
  /** Removes everything the fixture created. */
  cleanup(): Promise<void>;
  /** Damages the stored copy of a block (same length, different bytes) behind the store's back. */
  corrupt(domain: string, hash: string): Promise<void>;
}

const D1 = 'us-east-1';
const D2 = 'eu-west-2';

export interface Block {
  hash: string;
  data: Buffer;
}

export function block(size = BLOCK_SIZE): Block {
  const data = randomBytes(size);
  return { hash: createHash('sha256').update(data).digest('hex'), data };
}

async function collect(it: AsyncIterable<StoredBlockInfo>): Promise<StoredBlockInfo[]> {
  const out: StoredBlockInfo[] = [];
  for await (const info of it) out.push(info);
  return out;
}

const byHash = (a: { hash: string }, b: { hash: string }) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);

/** Asserts the rejection is a BlockMissingError naming this block. */
async function assertMissing(p: Promise<unknown>, domain: string, hash: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof BlockMissingError, `expected BlockMissingError, got ${String(err)}`);
    assert.equal(err.domain, domain);
    assert.equal(err.hash, hash);
    return true;
  });
}

export function blockStoreContract(name: string, make: () => Promise<BlockStoreFixture>): void {
  /** Runs `fn` against a fresh fixture, cleaning up whatever happens. */
  const withStore = (fn: (f: BlockStoreFixture) => Promise<void>) => async () => {
    const fixture = await make();
    try {
      await fn(fixture);
    } finally {
      await fixture.cleanup();
    }
  };

  describe(`BlockStore contract: ${name}`, () => {
    test('put then get returns the same bytes, for a full 512 KiB block and short blocks', withStore(async ({ store }) => {
      for (const b of [block(BLOCK_SIZE), block(1), block(4097), block(BLOCK_SIZE - 1)]) {
        await store.put(D1, b.hash, b.data);
        const got = await store.get(D1, b.hash);
        assert.equal(got.length, b.data.length);
        assert.ok(got.equals(b.data), `bytes of a ${b.data.length}-byte block`);
      }
    }));

    test('put is idempotent: a second put of the same block is fine and stores one copy', withStore(async ({ store }) => {
      const b = block();
      await store.put(D1, b.hash, b.data);
      await store.put(D1, b.hash, Buffer.from(b.data)); // equal bytes, different buffer
      assert.ok((await store.get(D1, b.hash)).equals(b.data));
      const listed = await collect(store.list(D1));
      assert.deepEqual(listed.map((i) => i.hash), [b.hash]);
    }));

    test('get verifies: a corrupted block rejects with BlockCorruptError, never wrong bytes', withStore(async ({ store, corrupt }) => {
      const b = block();
      const other = block(1000);
      await store.put(D1, b.hash, b.data);
      await store.put(D1, other.hash, other.data);
      await corrupt(D1, b.hash);
      await assert.rejects(store.get(D1, b.hash), (err: unknown) => {
        assert.ok(err instanceof BlockCorruptError, `expected BlockCorruptError, got ${String(err)}`);
        assert.equal(err.domain, D1);
        assert.equal(err.hash, b.hash);
        return true;
      });
      // A second read is no luckier, and the neighbour is untouched.
      await assert.rejects(store.get(D1, b.hash), BlockCorruptError);
      assert.ok((await store.get(D1, other.hash)).equals(other.data));
    }));

    test('get of an absent block rejects with BlockMissingError', withStore(async ({ store }) => {
      const present = block(100);
      const absent = block(100);
      await store.put(D1, present.hash, present.data);
      await assertMissing(store.get(D1, absent.hash), D1, absent.hash);
      await assertMissing(store.get(D2, present.hash), D2, present.hash); // domain never written
    }));

    test('has reports presence', withStore(async ({ store }) => {
      const b = block(2048);
      assert.equal(await store.has(D1, b.hash), false);
      await store.put(D1, b.hash, b.data);
      assert.equal(await store.has(D1, b.hash), true);
      assert.equal(await store.has(D2, b.hash), false);
      await store.delete(D1, b.hash);
      assert.equal(await store.has(D1, b.hash), false);
    }));

    test('delete removes a block; deleting an absent block is not an error', withStore(async ({ store }) => {
      const a = block();
      const b = block(300);
      await store.put(D1, a.hash, a.data);
      await store.put(D1, b.hash, b.data);
      await store.delete(D1, a.hash);
      await assertMissing(store.get(D1, a.hash), D1, a.hash);
      assert.ok((await store.get(D1, b.hash)).equals(b.data));
      await store.delete(D1, a.hash); // already gone
      await store.delete(D2, a.hash); // domain never written
      assert.deepEqual((await collect(store.list(D1))).map((i) => i.hash), [b.hash]);
      // A deleted block can be stored again.
      await store.put(D1, a.hash, a.data);
      assert.ok((await store.get(D1, a.hash)).equals(a.data));
    }));

    test('list yields exactly the blocks put, with their sizes and write times', withStore(async ({ store }) => {
      assert.deepEqual(await collect(store.list(D1)), []); // domain never written
      const before = Date.now();
      const blocks = [block(), block(1), block(777), ...Array.from({ length: 20 }, () => block(4096))];
      await Promise.all(blocks.map((b) => store.put(D1, b.hash, b.data)));
      const after = Date.now();
      const listed = (await collect(store.list(D1))).sort(byHash);
      assert.deepEqual(listed.map((i) => ({ hash: i.hash, size: i.size })),
        blocks.map((b) => ({ hash: b.hash, size: b.data.length })).sort(byHash));
      for (const info of listed) {
        assert.ok(info.modified instanceof Date);
        // Object stores keep whole seconds; allow for that and a little clock skew.
        assert.ok(info.modified.getTime() >= before - 2000 && info.modified.getTime() <= after + 2000,
          `modified ${info.modified.toISOString()} outside the put window`);
      }
    }));

    test('domains are isolated; destroyDomain removes one domain only', withStore(async ({ store }) => {
      const shared = block();
      const only1 = block(10);
      const only2 = block(20);
      await store.put(D1, shared.hash, shared.data);
      await store.put(D2, shared.hash, shared.data);
      await store.put(D1, only1.hash, only1.data);
      await store.put(D2, only2.hash, only2.data);
      assert.equal(await store.has(D1, only2.hash), false);
      assert.equal(await store.has(D2, only1.hash), false);

      await store.delete(D1, shared.hash);
      assert.ok((await store.get(D2, shared.hash)).equals(shared.data), 'delete in one domain left the other');
      await store.put(D1, shared.hash, shared.data);

      await store.destroyDomain(D1);
      await assertMissing(store.get(D1, shared.hash), D1, shared.hash);
      await assertMissing(store.get(D1, only1.hash), D1, only1.hash);
      assert.deepEqual(await collect(store.list(D1)), []);
      assert.ok((await store.get(D2, shared.hash)).equals(shared.data));
      assert.ok((await store.get(D2, only2.hash)).equals(only2.data));
      assert.deepEqual((await collect(store.list(D2))).map((i) => i.hash).sort(), [shared.hash, only2.hash].sort());

      await store.destroyDomain(D1); // already gone
      await store.destroyDomain('ap-south-1'); // never existed
      // A destroyed domain can be written again.
      await store.put(D1, only1.hash, only1.data);
      assert.ok((await store.get(D1, only1.hash)).equals(only1.data));
    }));

    test('concurrent puts of the same block end with one valid block', withStore(async ({ store }) => {
      const b = block();
      await Promise.all(Array.from({ length: 32 }, () => store.put(D1, b.hash, Buffer.from(b.data))));
      assert.ok((await store.get(D1, b.hash)).equals(b.data));
      const listed = await collect(store.list(D1));
      assert.deepEqual(listed.map((i) => ({ hash: i.hash, size: i.size })), [{ hash: b.hash, size: BLOCK_SIZE }]);
      // Reads racing more writes of the same block see whole blocks only.
      const reads: Promise<Buffer>[] = [];
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 16; i++) {
        writes.push(store.put(D1, b.hash, b.data));
        reads.push(store.get(D1, b.hash));
      }
      await Promise.all(writes);
      for (const got of await Promise.all(reads)) assert.ok(got.equals(b.data));
    }));

    test('sync resolves for present blocks', withStore(async ({ store }) => {
      const blocks = Array.from({ length: 10 }, (_, i) => block(i === 0 ? BLOCK_SIZE : 1000 + i));
      for (const b of blocks) await store.put(D1, b.hash, b.data);
      await store.sync(D1, blocks.map((b) => b.hash));
      await store.sync(D1, [blocks[0].hash, blocks[0].hash]); // duplicates are fine
      await store.sync(D1, new Set([blocks[1].hash]).values()); // any iterable
      await store.sync(D1, []);
      for (const b of blocks) assert.ok((await store.get(D1, b.hash)).equals(b.data));
    }));

    test('put with a hash that does not match the data is rejected and stores nothing', withStore(async ({ store }) => {
      const b = block();
      const wrong = block(16).hash;
      await assert.rejects(store.put(D1, wrong, b.data));
      await assert.rejects(store.put(D1, b.hash, b.data.subarray(1)));
      await assert.rejects(store.put(D1, b.hash.toUpperCase(), b.data)); // addresses are lower-case hex
      assert.equal(await store.has(D1, wrong), false);
      assert.equal(await store.has(D1, b.hash), false);
      await assertMissing(store.get(D1, wrong), D1, wrong);
      assert.deepEqual(await collect(store.list(D1)), []);
    }));

    test('malformed hashes are rejected by every operation', withStore(async ({ store }) => {
      const b = block(64);
      await store.put(D1, b.hash, b.data);
      for (const bad of ['', '../' + b.hash.slice(3), b.hash.slice(0, 63), b.hash + '0', `${b.hash.slice(0, 62)}/x`]) {
        await assert.rejects(store.put(D1, bad, b.data), `put ${JSON.stringify(bad)}`);
        await assert.rejects(store.get(D1, bad), `get ${JSON.stringify(bad)}`);
        await assert.rejects(store.has(D1, bad), `has ${JSON.stringify(bad)}`);
        await assert.rejects(store.delete(D1, bad), `delete ${JSON.stringify(bad)}`);
        await assert.rejects(store.sync(D1, [bad]), `sync ${JSON.stringify(bad)}`);
      }
      assert.ok((await store.get(D1, b.hash)).equals(b.data));
    }));

    test('domain names that could escape (.., /, empty) are rejected by every operation', withStore(async ({ store }) => {
      const b = block(64);
      await store.put(D1, b.hash, b.data);
      const bad = ['', '.', '..', '../us-east-1', 'us-east-1/..', 'us-east-1/../eu-west-2', '/tmp', 'a/b', 'a\\b',
        'us-east-1\0', ' us-east-1', 'US-EAST-1', 'us-east-1.'];
      for (const d of bad) {
        const what = JSON.stringify(d);
        await assert.rejects(store.put(d, b.hash, b.data), `put ${what}`);
        await assert.rejects(store.get(d, b.hash), `get ${what}`);
        await assert.rejects(store.has(d, b.hash), `has ${what}`);
        await assert.rejects(store.delete(d, b.hash), `delete ${what}`);
        await assert.rejects(store.sync(d, [b.hash]), `sync ${what}`);
        await assert.rejects(collect(store.list(d)), `list ${what}`);
        await assert.rejects(store.destroyDomain(d), `destroyDomain ${what}`);
      }
      // Nothing was harmed on the way.
      assert.ok((await store.get(D1, b.hash)).equals(b.data));
      assert.deepEqual((await collect(store.list(D1))).map((i) => i.hash), [b.hash]);
    }));

    test('adoptFile (where the adapter has it): stores a file\'s bytes in many domains, checked, and independent of the file', withStore(async ({ store }) => {
      if (!store.adoptFile) return; // optional in the port: callers fall back to put
      const dir = await mkdtemp(join(tmpdir(), 'amiforge-adopt-'));
      try {
        const b = block();
        const file = join(dir, 'block');
        await writeFile(file, b.data);
        await store.adoptFile(D1, b.hash, file);
        await store.adoptFile(D2, b.hash, file);
        await store.adoptFile(D1, b.hash, file); // idempotent
        await store.sync(D1, [b.hash]);
        await store.sync(D2, [b.hash]);
        for (const d of [D1, D2]) {
          assert.ok((await store.get(d, b.hash)).equals(b.data), `bytes in ${d}`);
          assert.deepEqual((await collect(store.list(d))).map((i) => i.hash), [b.hash]);
        }
        // Deleting the block from one domain leaves the other and the adopted file whole.
        await store.delete(D1, b.hash);
        assert.equal(await store.has(D1, b.hash), false);
        assert.ok((await store.get(D2, b.hash)).equals(b.data));
        assert.ok((await readFile(file)).equals(b.data));
        // Removing the file leaves the stored block.
        await rm(file);
        assert.ok((await store.get(D2, b.hash)).equals(b.data));
        // A block already put is adopted as a no-op.
        const c = block(4097);
        await store.put(D1, c.hash, c.data);
        await writeFile(file, c.data);
        await store.adoptFile(D1, c.hash, file);
        assert.ok((await store.get(D1, c.hash)).equals(c.data));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }));

    test('adoptFile with a hash its file does not have is rejected and stores nothing', withStore(async ({ store }) => {
      if (!store.adoptFile) return;
      const dir = await mkdtemp(join(tmpdir(), 'amiforge-adopt-'));
      try {
        const b = block();
        const file = join(dir, 'block');
        await writeFile(file, b.data);
        const wrong = block(16).hash;
        await assert.rejects(store.adoptFile(D1, wrong, file), (err: unknown) => err instanceof BlockHashMismatchError);
        assert.equal(await store.has(D1, wrong), false);
        // A file changed after a first adoption is checked again, not trusted.
        await store.adoptFile(D1, b.hash, file);
        const other = block();
        await writeFile(join(dir, 'other'), other.data);
        await rm(file);
        await writeFile(file, other.data);
        await assert.rejects(store.adoptFile(D2, b.hash, file), (err: unknown) => err instanceof BlockHashMismatchError);
        assert.equal(await store.has(D2, b.hash), false);
        await assert.rejects(store.adoptFile(D1, b.hash, join(dir, 'absent')));
        assert.deepEqual((await collect(store.list(D1))).map((i) => i.hash), [b.hash]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }));
  });
}
