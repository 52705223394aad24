// FsBlockStore: the BlockStore contract in a temp directory, plus what only the filesystem
// adapter promises (layout, crash leftovers, healing a block emptied by a power loss).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockMissingError } from '../../ports/block-store.ts';
import { block, blockStoreContract } from '../../../test/contracts/block-store.contract.ts';
import { FsBlockStore, TEMP_PREFIX } from './fs-block-store.ts';

const D = 'us-east-1';

/**
 * A store root nested three levels inside a fresh temp directory, so that even a broken domain
 * check (`..`, `../..`) stays inside that directory instead of reaching the shared temp dir.
 */
async function tempRoot(): Promise<{ base: string; root: string }> {
  const base = await mkdtemp(join(tmpdir(), 'amiforge-blocks-'));
  const root = join(base, 'a', 'b', 'root');
  await mkdir(root, { recursive: true });
  return { base, root };
}

blockStoreContract('FsBlockStore', async () => {
  const { base, root } = await tempRoot();
  return {
    store: new FsBlockStore({ root }),
    cleanup: () => rm(base, { recursive: true, force: true }),
    async corrupt(domain, hash) {
      const path = join(root, domain, hash.slice(0, 2), hash);
      const bytes = await readFile(path);
      bytes[bytes.length >> 1] ^= 0x01;
      await writeFile(path, bytes);
    },
  };
});

/** A fresh store in its own temp directory, removed after `fn`. */
async function withFs(fn: (store: FsBlockStore, root: string) => Promise<void>): Promise<void> {
  const { base, root } = await tempRoot();
  try {
    await fn(new FsBlockStore({ root }), root);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

async function collectHashes(store: FsBlockStore, domain: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(domain)) out.push(info.hash);
  return out.sort();
}

test('layout: <root>/<domain>/<first two hex digits>/<hash>, holding exactly the block bytes', () => withFs(async (store, root) => {
  const b = block(5000);
  await store.put(D, b.hash, b.data);
  assert.deepEqual(await readdir(root), [D]);
  const fanout = await readdir(join(root, D));
  assert.equal(fanout.length, 256);
  assert.ok(fanout.every((d) => /^[0-9a-f]{2}$/.test(d)));
  const dir = join(root, D, b.hash.slice(0, 2));
  assert.deepEqual(await readdir(dir), [b.hash], 'the block only, no temp file left behind');
  assert.ok((await readFile(join(dir, b.hash))).equals(b.data));
}));

test('a temp file left by a crash is not listed, and cleanTemp removes it once old enough', () => withFs(async (store, root) => {
  const b = block(100);
  await store.put(D, b.hash, b.data);
  const dir = join(root, D, b.hash.slice(0, 2));
  const leftover = join(dir, `${TEMP_PREFIX}deadbeef0000-7`);
  await writeFile(leftover, b.data.subarray(0, 40)); // a put interrupted mid-write
  const past = new Date(Date.now() - 3600_000);
  await utimes(leftover, past, past);

  assert.deepEqual(await collectHashes(store, D), [b.hash]);
  // Too recent for the cutoff (it might belong to a put in flight): kept.
  assert.equal(await store.cleanTemp(D, new Date(past.getTime() - 60_000)), 0);
  assert.deepEqual((await readdir(dir)).sort(), [TEMP_PREFIX + 'deadbeef0000-7', b.hash].sort());
  // Older than the cutoff: removed, and only it.
  assert.equal(await store.cleanTemp(D, new Date()), 1);
  assert.deepEqual(await readdir(dir), [b.hash]);
  assert.ok((await store.get(D, b.hash)).equals(b.data));
  assert.equal(await store.cleanTemp('eu-west-1', new Date()), 0); // domain never written
}));

test('put rewrites a block a power loss left empty or short, rather than trusting it', () => withFs(async (store, root) => {
  const b = block();
  await store.put(D, b.hash, b.data);
  const path = join(root, D, b.hash.slice(0, 2), b.hash);
  for (const damaged of [Buffer.alloc(0), b.data.subarray(0, 4096)]) {
    await writeFile(path, damaged);
    await store.put(D, b.hash, b.data);
    assert.ok((await store.get(D, b.hash)).equals(b.data));
  }
}));

test('put of an existing block refreshes its modification time (garbage collection grace)', () => withFs(async (store, root) => {
  const b = block(1000);
  await store.put(D, b.hash, b.data);
  const path = join(root, D, b.hash.slice(0, 2), b.hash);
  const old = new Date(Date.now() - 86_400_000);
  await utimes(path, old, old);
  await store.put(D, b.hash, b.data);
  assert.ok((await stat(path)).mtimeMs > Date.now() - 60_000);
}));

test('sync of an absent block rejects with BlockMissingError', () => withFs(async (store) => {
  const present = block(10);
  const absent = block(10);
  await store.put(D, present.hash, present.data);
  await assert.rejects(store.sync(D, [present.hash, absent.hash]), BlockMissingError);
}));

test('escaping domain names never touch anything outside the domain', () => withFs(async (store, root) => {
  const b = block(10);
  await store.put(D, b.hash, b.data);
  const sentinels = [join(root, 'sentinel'), join(root, '..', 'sentinel'), join(root, '..', '..', 'sentinel')];
  for (const path of sentinels) await writeFile(path, 'keep');
  for (const d of ['..', '../..', '.', '', '../b', '../root', 'x/..', '../sentinel']) {
    await assert.rejects(store.destroyDomain(d), `destroyDomain ${JSON.stringify(d)}`);
    await assert.rejects(store.cleanTemp(d, new Date()), `cleanTemp ${JSON.stringify(d)}`);
  }
  for (const path of sentinels) assert.equal(await readFile(path, 'utf8'), 'keep', path);
  assert.ok((await store.get(D, b.hash)).equals(b.data));
}));

test('put survives its domain directory being removed behind its back', () => withFs(async (store, root) => {
  const a = block(10);
  const b = block(20);
  await store.put(D, a.hash, a.data);
  await rm(join(root, D), { recursive: true });
  await store.put(D, b.hash, b.data);
  assert.ok((await store.get(D, b.hash)).equals(b.data));
  assert.deepEqual(await collectHashes(store, D), [b.hash]);
}));

test('adoptFile hard-links a file on the same filesystem: one inode for the file and every domain', () => withFs(async (store, root) => {
  const b = block();
  const file = join(root, '..', 'prebuilt-block');
  await writeFile(file, b.data);
  await store.adoptFile(D, b.hash, file);
  await store.adoptFile('eu-west-1', b.hash, file);
  const ino = (await stat(file)).ino;
  assert.equal((await stat(join(root, D, b.hash.slice(0, 2), b.hash))).ino, ino);
  assert.equal((await stat(join(root, 'eu-west-1', b.hash.slice(0, 2), b.hash))).ino, ino);
  assert.equal((await stat(file)).nlink, 3);
}));

// /dev/shm is another filesystem on most Linux machines: the copy fallback, once per block.
const shm = '/dev/shm';
const otherFs = await stat(shm).then(async (s) => s.dev !== (await stat(tmpdir())).dev, () => false);
test('adoptFile across filesystems copies once, then links the other domains to that copy', { skip: !otherFs && 'no second filesystem (/dev/shm) here' }, () => withFs(async (store, root) => {
  const b = block();
  const dir = await mkdtemp(join(shm, 'amiforge-adopt-'));
  try {
    const file = join(dir, 'block');
    await writeFile(file, b.data);
    await store.adoptFile(D, b.hash, file);
    await store.adoptFile('eu-west-1', b.hash, file);
    const first = await stat(join(root, D, b.hash.slice(0, 2), b.hash));
    assert.notEqual(first.dev, (await stat(file)).dev);
    assert.equal((await stat(join(root, 'eu-west-1', b.hash.slice(0, 2), b.hash))).ino, first.ino);
    assert.ok((await store.get('eu-west-1', b.hash)).equals(b.data));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}));
