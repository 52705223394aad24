// A volume as an NBD export: the thin mapping from NbdExport onto VolumeData. Reads fetch only
// the blocks the guest touches; writes land in the volume's own blocks; a flush syncs the blocks
// written since the last one.
import type { VolumeData } from '../../domain/volumes/volume-data.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import type { NbdExport } from './nbd-server.ts';

export function volumeExport(data: VolumeData, vol: VolumeRecord): NbdExport {
  return {
    size: vol.size * 1024 ** 3,
    read: (offset, length) => data.read(vol, offset, length),
    write: (offset, bytes) => data.write(vol, offset, bytes),
    flush: () => data.flush(vol),
  };
}

