// Splits a raw disk into the block store's 512 KiB blocks, once, at build time:
//   node scripts/disk-blocks.ts DISK.raw OUT_DIR
// writes OUT_DIR/blocks/<sha256> (each non-zero block, read-only) and OUT_DIR/blocks.json
// ({ blockSize, size, blocks: [[index, sha256], ...] }). The catalogue loads a built disk from
// these into every region by hard link (BlockStore.adoptFile) instead of reading, hashing and
// writing the whole disk again per region at each server start. Files are written to a temp
// name, fsynced and renamed, so a reader never sees half a block or half a manifest.
import { createHash } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const BLOCK_SIZE = 512 * 1024;

async function writeDurably(path: string, data: Buffer | string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await chmod(tmp, mode);
  await rename(tmp, path);
}

async function main(): Promise<void> {
  const [disk, out] = process.argv.slice(2);
  if (!disk || !out) throw new Error('usage: node scripts/disk-blocks.ts DISK.raw OUT_DIR');
  const dir = join(out, 'blocks');
  await mkdir(dir, { recursive: true });
  const wanted = new Set<string>();
  const blocks: [number, string][] = [];
  const fh = await open(disk, 'r');
  const size = (await fh.stat()).size;
  const buf = Buffer.alloc(BLOCK_SIZE);
  const zero = Buffer.alloc(BLOCK_SIZE);
  const existing = new Set(await readdir(dir));
  try {
    for (let index = 0; index * BLOCK_SIZE < size; index++) {
      buf.fill(0);
      const { bytesRead } = await fh.read(buf, 0, BLOCK_SIZE, index * BLOCK_SIZE);
      if (bytesRead === 0) break;
      if (buf.equals(zero)) continue; // EBS does not store all-zero blocks
      const hash = createHash('sha256').update(buf).digest('hex');
      blocks.push([index, hash]);
      if (!wanted.has(hash) && !existing.has(hash)) await writeDurably(join(dir, hash), buf, 0o444);
      wanted.add(hash);
    }
  } finally {
    await fh.close();
  }
  const dirHandle = await open(dir, 'r');
  await dirHandle.sync();
  await dirHandle.close();
  await writeDurably(join(out, 'blocks.json'), `${JSON.stringify({ blockSize: BLOCK_SIZE, size, blocks })}\n`, 0o644);
  // Blocks of an earlier build that this disk no longer has: only once the new manifest is in
  // place (a server reading the old one meanwhile may still want them).
  for (const name of existing) if (!wanted.has(name)) await rm(join(dir, name), { force: true });
  console.error(`disk-blocks: ${blocks.length} non-zero blocks (${wanted.size} distinct) of ${size / BLOCK_SIZE} in ${out}`);
}

await main();
