// A snapshot's bytes as a disk to read, block by block on demand, opened (decrypted) with the
// lineage's data key when the snapshot is encrypted. It counts what it loads from the block
// store: a scan's cost.
import { BLOCK_SIZE, type BlockStore } from '../../../ports/block-store.ts';
import type { DiskBytes } from '../../../ports/offline-filesystem.ts';
import type { SnapshotRecord, SnapshotRepository } from '../../../ports/snapshot-repository.ts';
import { loadBlock, type Sealing } from '../../encryption/sealed-blocks.ts';

const ZERO = Buffer.alloc(BLOCK_SIZE);
/** Blocks kept in memory (least recently used goes first): a reader's small reads of one block load it once. */
const CACHE_BLOCKS = 64;
const LIST_PAGE = 1000;

export interface SnapshotDisk extends DiskBytes {
  readonly stats: { blocksRead: number; bytesRead: number };
}

export function snapshotDisk(snapshots: SnapshotRepository, blocks: BlockStore, s: SnapshotRecord, sealing: Sealing | undefined): SnapshotDisk {
  const stats = { blocksRead: 0, bytesRead: 0 };
  const cache = new Map<number, Promise<Buffer>>();
  const block = (index: number): Promise<Buffer> => {
    const hit = cache.get(index);
    if (hit) {
      cache.delete(index);
      cache.set(index, hit);
      return hit;
    }
    const loading = (async () => {
      const hash = await snapshots.block(s.snapshotId, index);
      if (!hash) return ZERO;
      const data = await loadBlock(blocks, s.region, index, hash, sealing);
      stats.blocksRead++;
      stats.bytesRead += data.length;
      return data;
    })();
    loading.catch(() => cache.delete(index));
    cache.set(index, loading);
    if (cache.size > CACHE_BLOCKS) cache.delete(cache.keys().next().value!);
    return loading;
  };
  const size = s.volumeSize * 1024 ** 3;
  return {
    size,
    stats,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) throw new RangeError(`range ${offset}+${length} is outside the disk`);
      const out = Buffer.alloc(length);
      for (let done = 0; done < length;) {
        const pos = offset + done;
        const within = pos % BLOCK_SIZE;
        const n = Math.min(BLOCK_SIZE - within, length - done);
        (await block(Math.floor(pos / BLOCK_SIZE))).copy(out, done, within, within + n);
        done += n;
      }
      return out;
    },
    async *storedRanges() {
      for (let from = 0; ;) {
        const page = await snapshots.blocks(s.snapshotId, from, LIST_PAGE);
        for (const e of page) yield { offset: e.index * BLOCK_SIZE, length: BLOCK_SIZE };
        if (page.length < LIST_PAGE) return;
        from = page[page.length - 1].index + 1;
      }
    },
  };
}
