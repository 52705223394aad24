// A volume's write buffer: the blocks written since its last flush, kept in memory with the 4 KiB
// pages each write changed, and written out once per flush (VolumeData decides how: the whole
// block, or only its changed pages into the volume's small-write journal). An older version of a
// block replaced within one flush interval is never stored.
//
// Flushes of one volume run one after another, each writing out what was dirty when it began: a
// write that lands while a flush runs stays dirty (its block is left for the next flush unless
// the flush wrote exactly that version), so flushes never store an older version over a newer
// one and every write completed before a flush was asked for is covered by it.

/** Journal pages: 4 KiB, 128 to a 512 KiB block. */
export const PAGE_SIZE = 4096;

/** What a volume's writes cost. */
export interface WriteStats {
  /** Bytes the volume's writers changed (a guest's writes, not whole blocks). */
  bytesWritten: number;
  /** Bytes stored for them: whole blocks (512 KiB each, plaintext) and journal pages. */
  bytesStored: number;
  /** Whole blocks handed to the block store. */
  blocksStored: number;
  /** Bytes of 4 KiB pages written to the small-write journal. */
  bytesJournaled: number;
  /** Flushes that stored or synced something. */
  flushes: number;
}

export const emptyWriteStats = (): WriteStats => ({ bytesWritten: 0, bytesStored: 0, blocksStored: 0, bytesJournaled: 0, flushes: 0 });

export interface DirtyBlock { index: number; data: Buffer; pages: Set<number> }

export class DirtyBlocks {
  /** Block index -> its newest bytes (never changed in place: writers hand over fresh buffers). */
  readonly blocks = new Map<number, Buffer>();
  /** Block index -> the pages changed since the block was last written out. */
  private readonly pages = new Map<number, Set<number>>();
  readonly stats: WriteStats = emptyWriteStats();
  /** Block index -> the pages the volume's journal holds (loaded from the store on first use). */
  journal?: Map<number, Set<number>>;
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` after every flush asked for before it (one flush of the volume at a time). */
  serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.then(() => {}, () => {});
    return run;
  }

  /** Records a write: the block's new bytes and the byte range of it that changed. */
  put(index: number, data: Buffer, changed: { offset: number; length: number }): void {
    this.blocks.set(index, data);
    let pages = this.pages.get(index);
    if (!pages) this.pages.set(index, (pages = new Set()));
    const last = Math.floor((changed.offset + Math.max(changed.length, 1) - 1) / PAGE_SIZE);
    for (let p = Math.floor(changed.offset / PAGE_SIZE); p <= last; p++) pages.add(p);
  }

  /** The dirty blocks now, in index order (what a flush starting now writes out). */
  snapshot(): DirtyBlock[] {
    return [...this.blocks].sort((a, b) => a[0] - b[0]).map(([index, data]) => ({ index, data, pages: new Set(this.pages.get(index)) }));
  }

  /** The flush wrote `data` out for `index`: clean, unless a newer write replaced it meanwhile. */
  written(index: number, data: Buffer): void {
    if (this.blocks.get(index) !== data) return;
    this.blocks.delete(index);
    this.pages.delete(index);
  }

  /** Pages the journal holds, over every block. */
  journalPages(): number {
    let n = 0;
    for (const pages of this.journal?.values() ?? []) n += pages.size;
    return n;
  }
}
