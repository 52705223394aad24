// Reading and writing a volume's bytes. Reads fall through from the volume's own blocks to its
// source snapshot's, then to zeros; writes store whole 512 KiB blocks (partial writes read the
// block first). This is what a hypervisor's block-device bridge calls.
import { BLOCK_SIZE, type BlockStore } from '../../ports/block-store.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { VolumeRecord } from '../../ports/volume-repository.ts';
import type { Caller } from '../context.ts';
import type { LineageKeys } from '../encryption/lineage-keys.ts';
import { loadBlock, storeBlock, type Sealing } from '../encryption/sealed-blocks.ts';

const ZERO = Buffer.alloc(BLOCK_SIZE);

export interface VolumeDataDeps {
  store: MetadataStore;
  blocks: BlockStore;
  /** Unwraps encrypted volumes' data keys; without it, an encrypted volume cannot be read or written. */
  keys?: LineageKeys;
}

/** Counts what reads cost, so benchmarks can show how lazily a volume is read. */
export interface ReadStats { blocksRead: number; bytesRead: number }

export class VolumeData {
  private readonly deps: VolumeDataDeps;
  readonly stats: ReadStats = { blocksRead: 0, bytesRead: 0 };
  /** Read-modify-writes of one block run one after another, never interleaved. */
  private readonly blockLocks = new Map<string, Promise<void>>();
  /** Per volume: blocks stored since its last flush, not yet known durable (BlockStore.put is not). */
  private readonly unsynced = new Map<string, Set<string>>();
  /**
   * Data keys of encrypted volumes in use, as a host holds an attached volume's key: unwrapped
   * by `unlock` (the caller's right checked then), wiped by `lock` when the volume is let go.
   */
  private readonly unlocked = new Map<string, Sealing>();
  constructor(deps: VolumeDataDeps) {
    this.deps = deps;
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

  async readBlock(vol: VolumeRecord, index: number): Promise<Buffer> {
    const hash = await this.blockHash(vol, index);
    if (!hash) return ZERO;
    const data = await loadBlock(this.deps.blocks, vol.region, index, hash, await this.sealing(vol));
    this.stats.blocksRead++;
    this.stats.bytesRead += data.length;
    return data;
  }

  async writeBlock(vol: VolumeRecord, index: number, data: Buffer): Promise<void> {
    if (data.length !== BLOCK_SIZE) throw new Error(`a volume block is ${BLOCK_SIZE} bytes, not ${data.length}`);
    const { hash, checksum } = await storeBlock(this.deps.blocks, vol.region, index, data, await this.sealing(vol));
    let pending = this.unsynced.get(vol.volumeId);
    if (!pending) this.unsynced.set(vol.volumeId, (pending = new Set()));
    pending.add(hash);
    await this.deps.store.volumes.putBlock(vol.volumeId, index, hash, checksum);
  }

  /**
   * Makes the blocks written to the volume since its last flush durable (a disk's cache flush,
   * as a guest asks through NBD_CMD_FLUSH). Writes that finish while it runs wait for the next.
   */
  async flush(vol: VolumeRecord): Promise<void> {
    const pending = this.unsynced.get(vol.volumeId);
    if (!pending?.size) return;
    this.unsynced.delete(vol.volumeId);
    try {
      await this.deps.blocks.sync(vol.region, pending);
    } catch (err) {
      // Still not durable: the next flush tries them again.
      const now = this.unsynced.get(vol.volumeId);
      if (now) for (const h of pending) now.add(h);
      else this.unsynced.set(vol.volumeId, pending);
      throw err;
    }
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
        await this.writeBlock(vol, index, block);
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
