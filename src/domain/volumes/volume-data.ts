// Reading and writing a volume's bytes. Reads fall through from the volume's write buffer to its
// own blocks (with its journal pages laid over them), to its source snapshot's, then to zeros.
// Writes change whole 512 KiB blocks (partial writes read the block first) and wait in the
// volume's write buffer (DirtyBlocks) until a flush: the guest's (NBD FLUSH or FUA), a full
// buffer, a snapshot, a stop or a detach. This is what a hypervisor's block-device bridge calls.
//
// A flush writes each dirty block out once, in one of two ways:
// - whole: the block is stored in the block store (content-addressed, 512 KiB) and mapped;
// - journaled, when under 7/8 of its 4 KiB pages changed since it was last written out: only
//   those pages go to the volume's small-write journal in the metadata store, laid over the
//   mapped block when it is read. A guest that fsyncs after a few scattered 4 KiB writes would
//   otherwise store 512 KiB per 4 KiB. Encrypted volumes always store whole (sealed) blocks.
// `settle` folds the journal into whole blocks, so the block map alone holds the volume's bytes:
// before a snapshot (whose map is copied from the volume's), when a guest lets the volume go,
// and when a volume's journal passes JOURNAL_LIMIT.
//
// Crash safety: a flush stores its whole blocks, makes them durable, and only then maps them and
// writes the journal pages, in one transaction of the metadata store, before the flush is
// answered; so a crash loses at most the writes not yet flushed, and never leaves a reference to
// a block that is not there.
import { BLOCK_SIZE, type BlockStore } from '../../ports/block-store.ts';
import type { GuestDiskBlocks } from '../../ports/hypervisor.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { BlockEntry } from '../../ports/snapshot-repository.ts';
import type { JournalPage, VolumeRecord } from '../../ports/volume-repository.ts';
import type { Caller } from '../context.ts';
import type { LineageKeys } from '../encryption/lineage-keys.ts';
import { loadBlock, storeBlock, type Sealing } from '../encryption/sealed-blocks.ts';
import { DirtyBlocks, emptyWriteStats, PAGE_SIZE, type DirtyBlock, type WriteStats } from './dirty-blocks.ts';

const ZERO = Buffer.alloc(BLOCK_SIZE);

export interface VolumeDataDeps {
  store: MetadataStore;
  blocks: BlockStore;
  /** Unwraps encrypted volumes' data keys; without it, an encrypted volume cannot be read or written. */
  keys?: LineageKeys;
  /**
   * Dirty blocks a volume may hold in memory before a write makes it flush (512 KiB each: the
   * default 32 is 16 MiB per volume). 0 stores every write at once (no buffering: each write of
   * a few KiB stores a whole block, made durable at the next flush).
   */
  writeBufferBlocks?: number;
  /** Write no journal: every flush stores whole blocks. */
  noJournal?: boolean;
  /** A volume's journal is folded into whole blocks once it holds this many bytes (default JOURNAL_LIMIT). */
  journalLimit?: number;
}

export const DEFAULT_WRITE_BUFFER_BLOCKS = 32;
/**
 * A block is journaled when fewer pages than this changed (7/8 of the block): so a block stored
 * whole costs at most 8/7 (1.14) of what was written to it, and a journaled one exactly that.
 */
const JOURNAL_BELOW_PAGES = (BLOCK_SIZE / PAGE_SIZE) * 7 / 8;
/** A volume's journal is folded into whole blocks once it holds this many bytes. */
export const JOURNAL_LIMIT = 64 * 1024 * 1024;

/** A volume's write costs, how many of its blocks wait in memory and how many journal pages it has. */
export interface VolumeWriteStats extends WriteStats { dirtyBlocks: number; journalPages: number }

/** Counts what reads cost, so benchmarks can show how lazily a volume is read. */
export interface ReadStats { blocksRead: number; bytesRead: number }

export class VolumeData {
  private readonly deps: VolumeDataDeps;
  readonly stats: ReadStats = { blocksRead: 0, bytesRead: 0 };
  /** Every volume's writes since start: bytes written against bytes stored. */
  readonly writeStats: WriteStats = emptyWriteStats();
  readonly writeBufferBlocks: number;
  /** Per volume written to since start: its dirty blocks and what its writes cost. */
  private readonly buffers = new Map<string, { volume: VolumeRecord; dirty: DirtyBlocks }>();
  /** Read-modify-writes of one block run one after another, never interleaved. */
  private readonly blockLocks = new Map<string, Promise<void>>();
  /** Unbuffered volumes: blocks stored since the last flush, not yet known durable (BlockStore.put is not). */
  private readonly unsynced = new Map<string, Set<string>>();
  /**
   * Data keys of encrypted volumes in use, as a host holds an attached volume's key: unwrapped
   * by `unlock` (the caller's right checked then), wiped by `lock` when the volume is let go.
   */
  private readonly unlocked = new Map<string, Sealing>();
  constructor(deps: VolumeDataDeps) {
    this.deps = deps;
    this.writeBufferBlocks = deps.writeBufferBlocks ?? DEFAULT_WRITE_BUFFER_BLOCKS;
    if (!Number.isSafeInteger(this.writeBufferBlocks) || this.writeBufferBlocks < 0) throw new RangeError(`bad write buffer size ${deps.writeBufferBlocks}`);
  }

  /** The hash behind a block of the volume, or undefined for a block never written (zeros). */
  async blockHash(vol: VolumeRecord, index: number): Promise<string | undefined> {
    const own = await this.deps.store.volumes.block(vol.volumeId, index);
    if (own) return own;
    return vol.snapshotId ? this.deps.store.snapshots.block(vol.snapshotId, index) : undefined;
  }

  /** Unwraps the volume's data key as `caller` (KMS checks its right to the key now) and keeps it. */
  async unlock(caller: Caller, vol: VolumeRecord): Promise<void> {
    if (!vol.encrypted || !vol.dataKey) return;
    if (!this.deps.keys) throw new Error(`volume ${vol.volumeId} is encrypted and no KMS is wired to read it`);
    const key = await this.deps.keys.open(caller, vol.dataKey);
    this.unlocked.get(vol.volumeId)?.key.fill(0);
    this.unlocked.set(vol.volumeId, { key, lineage: vol.dataKey.lineage });
  }

  /** Forgets (and wipes) the volume's data key. */
  lock(volumeId: string): void {
    this.unlocked.get(volumeId)?.key.fill(0);
    this.unlocked.delete(volumeId);
  }

  private async sealing(vol: VolumeRecord): Promise<Sealing | undefined> {
    if (!vol.encrypted) return undefined;
    // Not unlocked in this process (a restart): unwrapped as the volume's owner, as EC2 does for
    // a volume that stays attached.
    if (!this.unlocked.has(vol.volumeId)) await this.unlock({ account: vol.ownerId, region: vol.region }, vol);
    return this.unlocked.get(vol.volumeId);
  }

  /** The block's current bytes (do not change them: they may be the write buffer's). */
  async readBlock(vol: VolumeRecord, index: number): Promise<Buffer> {
    const dirty = this.buffers.get(vol.volumeId)?.dirty.blocks.get(index);
    if (dirty) return dirty;
    return this.storedBlock(vol, index);
  }

  /** The block as stored: its mapped block (or zeros) with its journal pages laid over it. */
  private async storedBlock(vol: VolumeRecord, index: number): Promise<Buffer> {
    // Pages first, then the block: a fold that lands in between maps a block that already holds
    // these pages, so laying them over it again changes nothing (the other order could miss them).
    const pages = (await this.journalOf(vol)).has(index) ? await this.deps.store.volumes.journalPages(vol.volumeId, index) : [];
    const hash = await this.blockHash(vol, index);
    let data: Buffer = ZERO;
    if (hash) {
      data = await loadBlock(this.deps.blocks, vol.region, index, hash, await this.sealing(vol));
      this.stats.blocksRead++;
      this.stats.bytesRead += data.length;
    }
    if (!pages.length) return data;
    const out = Buffer.from(data);
    for (const p of pages) p.data.copy(out, p.page * PAGE_SIZE);
    return out;
  }

  /** Which blocks of the volume have journal pages (loaded once per volume from the store). */
  private async journalOf(vol: VolumeRecord): Promise<Map<number, Set<number>>> {
    const { dirty } = this.bufferOf(vol);
    if (!dirty.journal) {
      const journal = new Map<number, Set<number>>();
      for (const { index, page } of await this.deps.store.volumes.journalIndex(vol.volumeId)) {
        let pages = journal.get(index);
        if (!pages) journal.set(index, (pages = new Set()));
        pages.add(page);
      }
      dirty.journal ??= journal;
    }
    return dirty.journal;
  }

  /**
   * Replaces a whole block. `data` is kept (buffered) until a flush writes it out: the caller
   * must not change it afterwards. `changed` is the byte range of the block the writer really
   * changed (what the guest wrote; the whole block when not given).
   */
  async writeBlock(vol: VolumeRecord, index: number, data: Buffer, changed = { offset: 0, length: BLOCK_SIZE }): Promise<void> {
    if (data.length !== BLOCK_SIZE) throw new Error(`a volume block is ${BLOCK_SIZE} bytes, not ${data.length}`);
    const { dirty } = this.bufferOf(vol);
    dirty.stats.bytesWritten += changed.length;
    this.writeStats.bytesWritten += changed.length;
    if (this.writeBufferBlocks === 0) return this.storeNow(vol, dirty, index, data);
    // A full buffer is flushed before it takes a new block (rewriting a dirty one needs no room).
    while (!dirty.blocks.has(index) && dirty.blocks.size >= this.writeBufferBlocks) await this.flush(vol);
    dirty.put(index, data, changed);
  }

  /** Unbuffered: the block is stored and mapped now, made durable at the next flush. */
  private async storeNow(vol: VolumeRecord, dirty: DirtyBlocks, index: number, data: Buffer): Promise<void> {
    const { hash, checksum } = await storeBlock(this.deps.blocks, vol.region, index, data, await this.sealing(vol));
    this.countStored(dirty, data.length);
    let pending = this.unsynced.get(vol.volumeId);
    if (!pending) this.unsynced.set(vol.volumeId, (pending = new Set()));
    pending.add(hash);
    // The whole block replaces any journal pages an earlier (buffered) process left for it.
    await this.deps.store.volumes.commitWrites(vol.volumeId, { blocks: [checksum ? { index, hash, checksum } : { index, hash }], pages: [] });
    (await this.journalOf(vol)).delete(index);
  }

  private bufferOf(vol: VolumeRecord): { volume: VolumeRecord; dirty: DirtyBlocks } {
    let b = this.buffers.get(vol.volumeId);
    if (!b) this.buffers.set(vol.volumeId, (b = { volume: vol, dirty: new DirtyBlocks() }));
    return b;
  }

  private countStored(dirty: DirtyBlocks, bytes: number): void {
    for (const s of [dirty.stats, this.writeStats]) {
      s.blocksStored++;
      s.bytesStored += bytes;
    }
  }

  private countJournaled(dirty: DirtyBlocks, bytes: number): void {
    for (const s of [dirty.stats, this.writeStats]) {
      s.bytesJournaled += bytes;
      s.bytesStored += bytes;
    }
  }

  /**
   * Makes every write to the volume completed before this call durable (a disk's cache flush, as
   * a guest asks through NBD_CMD_FLUSH): each dirty block is written out once, whole or as its
   * changed pages.
   */
  async flush(vol: VolumeRecord): Promise<void> {
    const b = this.buffers.get(vol.volumeId);
    if (b) await b.dirty.serially(() => this.writeBack(vol, b.dirty, false));
  }

  /**
   * A flush that also folds the volume's journal into whole blocks: afterwards its block map
   * alone holds every write completed before the call (what a snapshot copies).
   */
  async settle(vol: VolumeRecord): Promise<void> {
    const { dirty } = this.bufferOf(vol);
    await dirty.serially(() => this.writeBack(vol, dirty, true));
  }

  /** Flushes every volume with writes in memory (at shutdown). */
  async flushAll(): Promise<void> {
    for (const { volume } of [...this.buffers.values()]) await this.flush(volume);
  }

  /** Drops a deleted volume's buffer and statistics: nothing of it is stored any more. */
  forget(volumeId: string): void {
    this.buffers.delete(volumeId);
    this.unsynced.delete(volumeId);
  }

  /** The volume's write costs since start (zeros for a volume not written to). */
  volumeWriteStats(volumeId: string): VolumeWriteStats {
    const b = this.buffers.get(volumeId);
    return { ...(b?.dirty.stats ?? emptyWriteStats()), dirtyBlocks: b?.dirty.blocks.size ?? 0, journalPages: b?.dirty.journalPages() ?? 0 };
  }

  /** Every volume written to since start, with its write costs. */
  writeStatsByVolume(): Record<string, VolumeWriteStats> {
    const all = [...this.buffers.keys()].map((id): [string, VolumeWriteStats] => [id, this.volumeWriteStats(id)]);
    return Object.fromEntries(all.filter(([, s]) => s.bytesWritten || s.bytesStored || s.journalPages));
  }

  /**
   * Writes out the blocks dirty now: whole blocks stored and synced first, then, in one
   * transaction, mapped (their journal pages dropped) with the journal pages of the others.
   * `fold`: every block is stored whole, the journal's too.
   */
  private async writeBack(vol: VolumeRecord, dirty: DirtyBlocks, foldAsked: boolean): Promise<void> {
    let fold = foldAsked;
    const entries = dirty.snapshot();
    const journal = await this.journalOf(vol);
    fold ||= dirty.journalPages() * PAGE_SIZE >= (this.deps.journalLimit ?? JOURNAL_LIMIT);
    if (fold) {
      for (const index of [...journal.keys()].filter((i) => !dirty.blocks.has(i))) {
        entries.push({ index, data: await this.storedBlock(vol, index), pages: new Set() });
      }
    }
    const pending = this.unsynced.get(vol.volumeId);
    if (!entries.length && !pending?.size) return;
    const sealing = entries.length ? await this.sealing(vol) : undefined;
    const whole: (DirtyBlock & BlockEntry)[] = [];
    const pages: JournalPage[] = [];
    const journalNow = !fold && !sealing && !this.deps.noJournal;
    for (const e of entries) {
      if (journalNow && e.pages.size < JOURNAL_BELOW_PAGES) {
        for (const page of e.pages) pages.push({ index: e.index, page, data: Buffer.from(e.data.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) });
        this.countJournaled(dirty, e.pages.size * PAGE_SIZE);
      } else {
        whole.push({ ...e, ...(await storeBlock(this.deps.blocks, vol.region, e.index, e.data, sealing)) });
        this.countStored(dirty, e.data.length);
      }
    }
    this.unsynced.delete(vol.volumeId);
    try {
      await this.deps.blocks.sync(vol.region, [...(pending ?? []), ...whole.map((s) => s.hash)]);
    } catch (err) {
      // Still not durable: the next flush tries them again (the dirty blocks stay dirty).
      if (pending) this.unsynced.set(vol.volumeId, new Set([...pending, ...(this.unsynced.get(vol.volumeId) ?? [])]));
      throw err;
    }
    if (entries.length) {
      // Deleted meanwhile (its rows are gone): mapping the blocks now would leave rows of no volume.
      if (!(await this.deps.store.volumes.get(vol.region, vol.volumeId))) return this.forget(vol.volumeId);
      await this.deps.store.volumes.commitWrites(vol.volumeId, {
        blocks: whole.map(({ index, hash, checksum }) => (checksum ? { index, hash, checksum } : { index, hash })), pages,
      });
      for (const w of whole) journal.delete(w.index);
      for (const p of pages) {
        let held = journal.get(p.index);
        if (!held) journal.set(p.index, (held = new Set()));
        held.add(p.page);
      }
      for (const e of entries) dirty.written(e.index, e.data);
    }
    for (const s of [dirty.stats, this.writeStats]) s.flushes++;
  }

  /** The volume's whole-block access, as a guest disk (an NBD export) reads and writes it. */
  blockAccess(vol: VolumeRecord): GuestDiskBlocks {
    return {
      blockSize: BLOCK_SIZE,
      readBlock: (index) => this.readBlock(vol, index),
      writeBlock: (index, block, changed) => this.writeBlock(vol, index, block, changed),
      flush: () => this.flush(vol),
      writeStats: () => ({ ...this.volumeWriteStats(vol.volumeId) }),
    };
  }

  private check(vol: VolumeRecord, offset: number, length: number): void {
    const size = vol.size * 1024 ** 3;
    if (offset < 0 || length < 0 || offset + length > size) {
      throw new RangeError(`range ${offset}+${length} is outside the ${vol.size} GiB volume ${vol.volumeId}`);
    }
  }

  async read(vol: VolumeRecord, offset: number, length: number): Promise<Buffer> {
    this.check(vol, offset, length);
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / BLOCK_SIZE);
      const within = pos % BLOCK_SIZE;
      const n = Math.min(BLOCK_SIZE - within, length - done);
      (await this.readBlock(vol, index)).copy(out, done, within, within + n);
      done += n;
    }
    return out;
  }

  async write(vol: VolumeRecord, offset: number, data: Buffer): Promise<void> {
    this.check(vol, offset, data.length);
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const index = Math.floor(pos / BLOCK_SIZE);
      const within = pos % BLOCK_SIZE;
      const n = Math.min(BLOCK_SIZE - within, data.length - done);
      const start = done;
      await this.locked(`${vol.volumeId}/${index}`, async () => {
        const block = n === BLOCK_SIZE ? Buffer.from(data.subarray(start, start + n)) : Buffer.from(await this.readBlock(vol, index));
        if (n !== BLOCK_SIZE) data.copy(block, within, start, start + n);
        await this.writeBlock(vol, index, block, { offset: within, length: n });
      });
      done += n;
    }
  }

  private async locked(key: string, fn: () => Promise<void>): Promise<void> {
    const prior = this.blockLocks.get(key) ?? Promise.resolve();
    const next = prior.then(fn, fn);
    const tail = next.catch(() => {});
    this.blockLocks.set(key, tail);
    try {
      await next;
    } finally {
      if (this.blockLocks.get(key) === tail) this.blockLocks.delete(key);
    }
  }
}
