// The hygiene scan's cost against the disk's size: the same planted ext4 filesystem (64 MiB, in
// an MBR partition) inside an 8 GiB and a 64 GiB disk, stored as a snapshot (its non-zero blocks
// only) and scanned in process by HygieneScanner, over FUSE (reads on demand) and as a sparse
// copy (the fallback: copies the stored blocks). The aim: time and bytes read follow the files
// read, not the disk's size.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debugfsFilesystems } from '../../src/adapters/offline-fs/debugfs-filesystems.ts';
import { FsBlockStore } from '../../src/adapters/fs/fs-block-store.ts';
import { SqliteMetadataStore } from '../../src/adapters/sqlite/sqlite-store.ts';
import { HygieneScanner } from '../../src/domain/imagebuilder/hygiene/hygiene-scanner.ts';
import type { ImageRecord } from '../../src/ports/metadata-store.ts';
import { makeDisk, makeExt4, makeTree } from '../../test/support/planted-disk.ts';

const GiB = 1024 ** 3;
const BLOCK = 512 * 1024;
const REGION = 'us-east-1';
const OWNER = '123456789012';

export interface ScanFigure {
  diskGiB: number;
  method: string;
  /** Blocks stored for the snapshot (its non-zero 512 KiB blocks), in bytes. */
  storedBytes: number;
  bytesRead: number;
  filesRead: number;
  findings: number;
  durationMs: number;
}

/** Stores the disk file's non-zero blocks as a completed snapshot; returns its stored bytes. */
async function storeSnapshot(store: SqliteMetadataStore, blocks: FsBlockStore, disk: string, snapshotId: string, sizeGiB: number): Promise<number> {
  const now = new Date().toISOString();
  await store.snapshots.insert({
    region: REGION, snapshotId, ownerId: OWNER, volumeSize: sizeGiB, state: 'completed', progress: 100, startTime: now,
    completionTime: now, volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 60, lastActivity: now, createVolumePermissions: [],
  });
  const fh = await open(disk, 'r');
  let stored = 0;
  try {
    const buf = Buffer.alloc(BLOCK);
    // Only the first GiB can hold data (the filesystem sits 1 MiB in); the rest is holes.
    for (let index = 0; index < GiB / BLOCK; index++) {
      const { bytesRead } = await fh.read(buf, 0, BLOCK, index * BLOCK);
      if (!bytesRead || !buf.some((b) => b !== 0)) continue;
      const hash = createHash('sha256').update(buf).digest('hex');
      await blocks.put(REGION, hash, buf);
      await store.snapshots.putBlock(snapshotId, index, hash);
      stored += BLOCK;
    }
  } finally {
    await fh.close();
  }
  return stored;
}

export async function scanFigures(): Promise<ScanFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-hygiene-'));
  const store = new SqliteMetadataStore(join(dir, 'metadata.sqlite'));
  const blocks = new FsBlockStore({ root: join(dir, 'blocks') });
  try {
    makeTree(join(dir, 'tree'), true);
    makeExt4(join(dir, 'tree'), join(dir, 'fs.ext4'));
    const figures: ScanFigure[] = [];
    for (const diskGiB of [8, 64]) {
      const disk = join(dir, `disk-${diskGiB}.raw`);
      await makeDisk(join(dir, 'fs.ext4'), disk, diskGiB * GiB, 'mbr');
      const snapshotId = `snap-0bench${String(diskGiB).padStart(11, '0')}`;
      const storedBytes = await storeSnapshot(store, blocks, disk, snapshotId, diskGiB);
      rmSync(disk);
      const image = {
        region: REGION, launchPermissions: [],
        image: { imageId: 'ami-0bench', state: 'available', rootDeviceName: '/dev/xvda', blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { snapshotId } }] },
      } as unknown as ImageRecord;
      for (const method of ['fuse', 'sparse-copy'] as const) {
        const scanner = new HygieneScanner({
          store, blocks, images: { findVisible: async () => image }, filesystems: debugfsFilesystems({ method, tempDir: dir }),
        });
        const r = await scanner.scan({ account: OWNER, region: REGION }, 'ami-0bench');
        figures.push({ diskGiB, method: r.method ?? method, storedBytes, bytesRead: r.bytesRead, filesRead: r.filesRead, findings: r.findings.length, durationMs: r.durationMs });
      }
    }
    return figures;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
