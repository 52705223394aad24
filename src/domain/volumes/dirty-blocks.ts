// A volume's write buffer: the blocks written since its last flush, kept in memory and stored
// once per flush, so a guest that writes 4 KiB at a time into a 512 KiB block stores that block
// once per flush interval rather than once per write (and an older version replaced within the
// interval is never stored at all).
//
// Flushes of one volume run one after another, each storing what was dirty when it began: a
// write that lands while a flush runs stays dirty (its block is left for the next flush unless
// the flush stored exactly that version), so flushes never store an older version over a newer
// one and every write completed before a flush was asked for is covered by it.

/** What a volume's writes cost the block store. */
export interface WriteStats {
  /** Bytes the volume's writers changed (a guest's writes, not whole blocks). */
  bytesWritten: number;
  /** Blocks handed to the block store, and their bytes (plaintext, 512 KiB each). */
  blocksStored: number;
  bytesStored: number;
  /** Flushes that stored or synced something. */
  flushes: number;
}

export const emptyWriteStats = (): WriteStats => ({ bytesWritten: 0, blocksStored: 0, bytesStored: 0, flushes: 0 });

export class DirtyBlocks {
  /** Block index -> its newest bytes (never changed in place: writers hand over fresh buffers). */
  readonly blocks = new Map<number, Buffer>();
  readonly stats: WriteStats = emptyWriteStats();
  private tail: Promise<void> = Promise.resolve();

  /** Runs `fn` after every flush asked for before it (one flush of the volume at a time). */
  serially(fn: () => Promise<void>): Promise<void> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  /** The dirty blocks now, in index order (what a flush starting now stores). */
  snapshot(): [number, Buffer][] {
    return [...this.blocks].sort((a, b) => a[0] - b[0]);
  }

  /** The flush stored `data` for `index`: clean, unless a newer write replaced it meanwhile. */
  stored(index: number, data: Buffer): void {
    if (this.blocks.get(index) === data) this.blocks.delete(index);
  }
}
