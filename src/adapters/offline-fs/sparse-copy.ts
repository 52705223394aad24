// The fallback when FUSE is not available: the disk written to a sparse temporary file, only its
// stored ranges (the rest stays holes), so the copy costs what the snapshot stores, not the
// disk's size.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskBytes } from '../../ports/offline-filesystem.ts';

const CHUNK = 4 * 1024 * 1024;

export async function sparseCopy(disk: DiskBytes, workDir: string): Promise<string> {
  const path = join(workDir, 'disk.raw');
  const file = await open(path, 'w', 0o600);
  try {
    await file.truncate(disk.size);
    for await (const { offset, length } of disk.storedRanges()) {
      for (let done = 0; done < length; done += CHUNK) {
        const n = Math.min(CHUNK, length - done);
        await file.write(await disk.read(offset + done, n), 0, n, offset + done);
      }
    }
  } finally {
    await file.close();
  }
  return path;
}
