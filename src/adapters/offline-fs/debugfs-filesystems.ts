// OfflineFilesystems through debugfs: the disk reaches it over FUSE when the machine allows
// (reads on demand: cost follows the files read), else as a sparse copy of its stored ranges.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DiskBytes, OfflineFilesystem, OfflineFilesystems } from '../../ports/offline-filesystem.ts';
import { Debugfs } from './debugfs.ts';
import { exportOverFuse, fuseAvailable } from './fuse-export.ts';
import { sparseCopy } from './sparse-copy.ts';

export interface DebugfsFilesystemsOptions {
  /** `auto` (default): FUSE when available, else a sparse copy. */
  method?: 'auto' | 'fuse' | 'sparse-copy';
  /** Where temporary files go (default: the system's temporary directory). */
  tempDir?: string;
}

export function debugfsFilesystems(opts: DebugfsFilesystemsOptions = {}): OfflineFilesystems {
  let fuse: Promise<boolean> | undefined;
  return {
    async open(disk: DiskBytes, offset: number): Promise<OfflineFilesystem> {
      const workDir = await mkdtemp(join(opts.tempDir ?? tmpdir(), 'amiforge-scan-'));
      try {
        const method = opts.method ?? 'auto';
        let useFuse = method === 'fuse' || (method === 'auto' && await (fuse ??= fuseAvailable()));
        let image = '';
        let release = async () => {};
        if (useFuse) {
          try {
            const exported = await exportOverFuse(disk, workDir);
            image = exported.path;
            release = () => exported.close();
          } catch (err) {
            if (method === 'fuse') throw err;
            // The device is there but mounting is not allowed (no root, no fusermount3): the
            // sparse copy from now on.
            fuse = Promise.resolve(false);
            useFuse = false;
          }
        }
        if (!useFuse) image = await sparseCopy(disk, workDir);
        const reader = new Debugfs(image, offset, workDir);
        return {
          method: useFuse ? 'fuse' : 'sparse-copy',
          listDirs: (paths) => reader.listDirs(paths),
          readFiles: (paths) => reader.readFiles(paths),
          async close() {
            await release();
            await rm(workDir, { recursive: true, force: true });
          },
        };
      } catch (err) {
        await rm(workDir, { recursive: true, force: true }).catch(() => {});
        throw err;
      }
    },
  };
}
