// Helpers for the tests that drive QEMU's tools and guests: a raw disk image imported as a
// completed snapshot (all-zero blocks left out, as EBS does), a volume over it, and qemu-io runs.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { BLOCK_SIZE, type BlockStore } from '../../src/ports/block-store.ts';
import type { MetadataStore } from '../../src/ports/metadata-store.ts';
import type { SnapshotRecord } from '../../src/ports/snapshot-repository.ts';
import type { VolumeRecord } from '../../src/ports/volume-repository.ts';

export const REGION = 'us-east-1';
const OWNER = '111111111111';
const run = promisify(execFile);

/** Stores `file` as a completed snapshot of `sizeGiB` and returns it with its stored bytes. */
export async function importRawImage(store: MetadataStore, blocks: BlockStore, file: string, snapshotId: string, sizeGiB = 1): Promise<{ snapshot: SnapshotRecord; storedBytes: number }> {
  const now = new Date().toISOString();
  const snapshot: SnapshotRecord = {
    region: REGION, snapshotId, ownerId: OWNER, volumeSize: sizeGiB, state: 'completed', progress: 100,
    startTime: now, completionTime: now, volumeId: 'vol-ffffffff', encrypted: false, timeoutMinutes: 0,
    lastActivity: now, createVolumePermissions: [],
  };
  const entries: { index: number; hash: string }[] = [];
  const fh = await open(file, 'r');
  try {
    for (let index = 0; ; index++) {
      const buf = Buffer.alloc(BLOCK_SIZE);
      const { bytesRead } = await fh.read(buf, 0, BLOCK_SIZE, index * BLOCK_SIZE);
      if (bytesRead === 0) break;
      if (buf.every((b) => b === 0)) continue;
      const hash = createHash('sha256').update(buf).digest('hex');
      await blocks.put(REGION, hash, buf);
      entries.push({ index, hash });
    }
  } finally {
    await fh.close();
  }
  await blocks.sync(REGION, entries.map((e) => e.hash));
  snapshot.blockCount = entries.length;
  await store.snapshots.insert(snapshot);
  await store.snapshots.putBlocks(snapshotId, entries);
  return { snapshot, storedBytes: entries.length * BLOCK_SIZE };
}

/** A volume over `snapshotId` (or empty), as CreateVolume would store it. */
export async function makeVolume(store: MetadataStore, volumeId: string, sizeGiB: number, snapshotId?: string): Promise<VolumeRecord> {
  const vol: VolumeRecord = {
    region: REGION, volumeId, ownerId: OWNER, size: sizeGiB, volumeType: 'gp3', availabilityZone: 'us-east-1a',
    state: 'available', snapshotId, createTime: new Date().toISOString(), encrypted: false, attachments: [],
  };
  await store.volumes.insert(vol);
  return vol;
}

/** Runs qemu-io on an NBD export over a unix socket; rejects on a non-zero exit. */
export async function qemuIo(socket: string, exportName: string, commands: string[]): Promise<string> {
  const args = ['-f', 'raw', ...commands.flatMap((c) => ['-c', c]), `nbd+unix:///${exportName}?socket=${socket}`];
  const { stdout, stderr } = await run('qemu-io', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout + stderr;
}
