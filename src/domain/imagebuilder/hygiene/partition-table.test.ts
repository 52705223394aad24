import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRootPartition, listPartitions } from './partition-table.ts';

const MIB = 1024 * 1024;
const reader = (buf: Buffer) => ({ size: buf.length, read: async (o: number, l: number) => buf.subarray(o, o + l) });
/** Marks an ext superblock (its magic) `offset` bytes into the disk. */
const ext = (buf: Buffer, offset: number) => buf.writeUInt16LE(0xef53, offset + 1024 + 0x38);

function mbr(disk: Buffer, entries: { type: number; start: number; sectors: number }[]): void {
  entries.forEach((e, i) => {
    const at = 446 + i * 16;
    disk[at + 4] = e.type;
    disk.writeUInt32LE(e.start, at + 8);
    disk.writeUInt32LE(e.sectors, at + 12);
  });
  disk.writeUInt16LE(0xaa55, 510);
}

test('MBR: the largest partition holding ext4 is the root (an EFI partition is passed over)', async () => {
  const disk = Buffer.alloc(8 * MIB);
  mbr(disk, [{ type: 0xef, start: 2048, sectors: 2048 }, { type: 0x83, start: 4096, sectors: 8192 }]);
  ext(disk, 4096 * 512);
  assert.equal((await listPartitions(reader(disk))).length, 2);
  assert.deepEqual(await findRootPartition(reader(disk)), { offset: 4096 * 512, size: 8192 * 512, type: 'mbr:0x83' });
});

test('no partition table: the whole disk, when it holds a filesystem', async () => {
  const disk = Buffer.alloc(2 * MIB);
  assert.equal(await findRootPartition(reader(disk)), undefined);
  ext(disk, 0);
  assert.deepEqual(await findRootPartition(reader(disk)), { offset: 0, size: 2 * MIB, type: 'none' });
});

test('GPT (as sfdisk writes it): the Linux filesystem partition', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpt-'));
  try {
    const file = join(dir, 'disk.raw');
    writeFileSync(file, Buffer.alloc(8 * MIB));
    execFileSync('sfdisk', ['--quiet', file], {
      input: 'label: gpt\nstart=2048, size=2048, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\nstart=4096, size=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n',
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    const disk = readFileSync(file);
    ext(disk, 4096 * 512);
    const parts = await listPartitions(reader(disk));
    assert.deepEqual(parts.map((p) => p.type), ['gpt:C12A7328-F81F-11D2-BA4B-00A0C93EC93B', 'gpt:0FC63DAF-8483-4772-8E79-3D69D8477DE4']);
    assert.equal((await findRootPartition(reader(disk)))?.offset, 4096 * 512);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
