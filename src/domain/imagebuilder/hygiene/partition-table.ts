// Finding the root filesystem on a disk: the partitions an MBR or a GPT lists, or the whole disk
// when it holds a filesystem itself (the minimal image's root disk has no partition table). The
// root is the largest partition that holds an ext2/3/4 filesystem (its superblock's magic).

export interface Partition {
  /** Bytes from the disk's start. */
  offset: number;
  /** Bytes. */
  size: number;
  /** `mbr:0x83`, `gpt:GUID` or `none` (the whole disk). */
  type: string;
}

interface Reader {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

const SECTOR = 512;
const GPT_PROTECTIVE = 0xee;
const MBR_EXTENDED = new Set([0x05, 0x0f, 0x85]);
const EXT_MAGIC_AT = 1024 + 0x38;
const EXT_MAGIC = 0xef53;

/** A GPT entry's type GUID in its usual text form (the first three fields are little-endian). */
function guid(b: Buffer): string {
  const hex = (x: Buffer) => x.toString('hex');
  const le = (x: Buffer) => hex(Buffer.from(x).reverse());
  return `${le(b.subarray(0, 4))}-${le(b.subarray(4, 6))}-${le(b.subarray(6, 8))}-${hex(b.subarray(8, 10))}-${hex(b.subarray(10, 16))}`.toUpperCase();
}

/** The partitions the disk's table lists (primary MBR entries, or GPT's); empty when there is none. */
export async function listPartitions(disk: Reader): Promise<Partition[]> {
  const mbr = await disk.read(0, SECTOR);
  if (mbr.readUInt16LE(510) !== 0xaa55) return [];
  const entries = [0, 1, 2, 3].map((i) => mbr.subarray(446 + i * 16, 462 + i * 16));
  if (entries.some((e) => e[4] === GPT_PROTECTIVE)) return gptPartitions(disk);
  const parts: Partition[] = [];
  for (const e of entries) {
    const type = e[4];
    const start = e.readUInt32LE(8);
    const sectors = e.readUInt32LE(12);
    if (!type || !sectors || MBR_EXTENDED.has(type)) continue;
    parts.push({ offset: start * SECTOR, size: sectors * SECTOR, type: `mbr:0x${type.toString(16).padStart(2, '0')}` });
  }
  // A boot sector of a bare filesystem also ends in 55 AA; entries past the disk mean it is no table.
  return parts.every((p) => p.offset + p.size <= disk.size) ? parts : [];
}

async function gptPartitions(disk: Reader): Promise<Partition[]> {
  const header = await disk.read(SECTOR, SECTOR);
  if (header.subarray(0, 8).toString('latin1') !== 'EFI PART') return [];
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = Math.min(header.readUInt32LE(80), 1024);
  const entrySize = header.readUInt32LE(84);
  if (entrySize < 128 || entrySize > 4096) return [];
  const table = await disk.read(entriesLba * SECTOR, count * entrySize);
  const parts: Partition[] = [];
  for (let i = 0; i < count; i++) {
    const e = table.subarray(i * entrySize, (i + 1) * entrySize);
    const type = guid(e.subarray(0, 16));
    if (/^0+(-0+)*$/.test(type)) continue;
    const first = Number(e.readBigUInt64LE(32));
    const last = Number(e.readBigUInt64LE(40));
    parts.push({ offset: first * SECTOR, size: (last - first + 1) * SECTOR, type: `gpt:${type}` });
  }
  return parts;
}

async function holdsExt(disk: Reader, offset: number, size: number): Promise<boolean> {
  if (size < EXT_MAGIC_AT + 2 || offset + EXT_MAGIC_AT + 2 > disk.size) return false;
  return (await disk.read(offset + EXT_MAGIC_AT, 2)).readUInt16LE(0) === EXT_MAGIC;
}

/** The root filesystem's partition, or undefined when no ext2/3/4 filesystem is found. */
export async function findRootPartition(disk: Reader): Promise<Partition | undefined> {
  const parts = await listPartitions(disk);
  if (!parts.length) return (await holdsExt(disk, 0, disk.size)) ? { offset: 0, size: disk.size, type: 'none' } : undefined;
  const candidates: Partition[] = [];
  for (const p of parts) if (await holdsExt(disk, p.offset, p.size)) candidates.push(p);
  return candidates.sort((a, b) => b.size - a.size)[0];
}
