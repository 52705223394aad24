// Runs snapshot copies in the background. A copy moves only the blocks its destination region
// lacks (blocks are content-addressed, so the check is a lookup), then maps them all. Copies are
// recorded before they start, so a restart resumes any that were cut short. With several nodes on
// one store each copy runs under a work lease (snapshot-copy:REGION:ID): one node copies it, and
// when that node dies another claims the copy once the lease expires and runs it again from the
// start: blocks are content-addressed and the map entries are upserts, so what the dead node
// wrote is overwritten with the same values, and the copy completes only once, at the end.
import type { BlockStore } from '../../ports/block-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { LineageKeys } from '../encryption/lineage-keys.ts';
import { loadBlock, storeBlock, type Sealing } from '../encryption/sealed-blocks.ts';
import type { SnapshotCopier } from './snapshot-service.ts';
import { LeaseLostError, type LeaseKeeper } from '../cluster/lease-keeper.ts';

const BATCH = 1024;
const PARALLEL = 8;

export interface CopierDeps {
  store: MetadataStore;
  blocks: BlockStore;
  clock: Clock;
  /** Unwraps data keys as the copy's owner (copies that encrypt or re-encrypt re-seal every block). */
  keys: LineageKeys;
  onError: (snapshotId: string, err: unknown) => void;
  /** This node's work leases (several nodes on one store); absent: every copy is this process's. */
  leases?: LeaseKeeper;
  /** Test hook (AMIFORGE_TEST_COPY_PACE): map entries per batch and a pause after each, so a copy can be cut short. */
  pace?: { batch: number; pauseMs: number };
}

/** The lease under which one node runs a copy. */
export const copyLease = (region: string, snapshotId: string) => `snapshot-copy:${region}:${snapshotId}`;

/** Hears copies that settled (completed or failed), e.g. to settle the images made of them. */
export type CopyCompletionListener = (region: string, snapshotIds: string[]) => Promise<void>;

export class BackgroundSnapshotCopier implements SnapshotCopier {
  private readonly deps: CopierDeps;
  private readonly running = new Map<string, Promise<void>>();
  private readonly listeners: CopyCompletionListener[] = [];
  /** Blocks written to a destination region since start (a copy skips those it already holds). */
  readonly stats = { blocksMoved: 0 };
  constructor(deps: CopierDeps) {
    this.deps = deps;
  }

  /** Called after each copy completes or fails (CopyImage's images settle then). */
  onCompleted(listener: CopyCompletionListener): void {
    this.listeners.push(listener);
  }

  start(record: SnapshotRecord): void {
    if (this.running.has(record.snapshotId)) return;
    const lease = copyLease(record.region, record.snapshotId);
    const job = (async () => {
      const lost = this.deps.leases ? await this.deps.leases.acquire(lease) : undefined;
      if (this.deps.leases && !lost) return; // another node is copying it
      // Checked before each write: a node that paused past its lease must not write over the new holder's work.
      const guard = () => {
        lost?.throwIfAborted();
        if (this.deps.leases && !this.deps.leases.holds(lease)) throw new LeaseLostError(lease, 'not renewed in time');
      };
      try {
        await this.run(record, guard);
      } finally {
        await this.deps.leases?.release(lease);
      }
    })()
      .catch((err) => this.deps.onError(record.snapshotId, err))
      .finally(() => this.running.delete(record.snapshotId));
    this.running.set(record.snapshotId, job);
  }

  private async run(record: SnapshotRecord, guard: () => void): Promise<void> {
    try {
      await this.copy(record, guard);
    } catch (err) {
      // The lease went to another node: that node finishes (or fails) the copy, not this one.
      if (err instanceof LeaseLostError) return;
      this.deps.onError(record.snapshotId, err);
      const current = await this.deps.store.snapshots.get(record.region, record.snapshotId);
      if (current?.state === 'pending') {
        current.state = 'error';
        current.stateMessage = `The copy failed: ${(err as Error).message}`;
        await this.deps.store.snapshots.update(current, { ifState: 'pending' });
      }
    }
    for (const l of this.listeners) await l(record.region, [record.snapshotId]);
  }

  /**
   * Starts every pending copy no node is running: at start-up those a previous process left,
   * and then periodically those of nodes that died (their leases expired). A copy just
   * requested on another node may be claimed here first: it is copied once all the same.
   */
  async resumeAll(): Promise<number> {
    const pending = (await this.deps.store.snapshots.inState('pending'))
      .filter((s) => s.copySource && !this.running.has(s.snapshotId));
    for (const s of pending) this.start(s);
    return pending.length;
  }

  /** Resolves when no copy is running (shutdown and tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running.values()]);
  }

  private async copy(dest: SnapshotRecord, guard: () => void): Promise<void> {
    const { store } = this.deps;
    const src = dest.copySource!;
    const source = await store.snapshots.get(src.region, src.snapshotId);
    if (!source || source.state !== 'completed') throw new Error(`source snapshot ${src.snapshotId} is no longer available`);
    // A copy in another lineage (encrypting, or under another key or data key) re-seals every
    // block: read with the source's data key (or as plaintext), write with the copy's.
    const reseal = source.dataKey?.lineage !== dest.dataKey?.lineage;
    const owner = (region: string) => ({ account: dest.ownerId, region });
    let from_: Sealing | undefined;
    let to: Sealing | undefined;
    if (reseal && source.dataKey) from_ = { key: await this.deps.keys.open(owner(src.region), source.dataKey), lineage: source.dataKey.lineage };
    if (reseal && dest.dataKey) to = { key: await this.deps.keys.open(owner(dest.region), dest.dataKey), lineage: dest.dataKey.lineage };
    try {
      await this.copyBlocks(dest, reseal ? { from: from_, to } : undefined, guard);
    } finally {
      from_?.key.fill(0);
      to?.key.fill(0);
    }
  }

  private async copyBlocks(dest: SnapshotRecord, reseal: { from?: Sealing; to?: Sealing } | undefined, guard: () => void): Promise<void> {
    const { store, blocks } = this.deps;
    const src = dest.copySource!;
    const expected = await store.snapshots.countBlocks(src.snapshotId);
    const total = expected || 1;
    const moved: string[] = [];
    let from = 0;
    let done = 0;
    for (;;) {
      let entries = await store.snapshots.blocks(src.snapshotId, from, this.deps.pace?.batch ?? BATCH);
      if (!entries.length) break;
      if (reseal) {
        const out: typeof entries = [];
        for (let i = 0; i < entries.length; i += PARALLEL) {
          out.push(...await Promise.all(entries.slice(i, i + PARALLEL).map(async (e) => {
            const plain = await loadBlock(blocks, src.region, e.index, e.hash, reseal.from);
            const stored = await storeBlock(blocks, dest.region, e.index, plain, reseal.to, e.checksum ?? e.hash);
            moved.push(stored.hash);
            this.stats.blocksMoved++;
            return { index: e.index, ...stored };
          })));
        }
        entries = out;
      }
      const unique = [...new Set(entries.map((e) => e.hash))];
      for (let i = 0; i < unique.length; i += PARALLEL) {
        await Promise.all(unique.slice(i, i + PARALLEL).map(async (hash) => {
          if (reseal || src.region === dest.region || (await blocks.has(dest.region, hash))) return;
          await blocks.put(dest.region, hash, await blocks.get(src.region, hash));
          moved.push(hash);
          this.stats.blocksMoved++;
        }));
      }
      guard();
      await store.snapshots.putBlocks(dest.snapshotId, entries);
      // DeleteSnapshot may remove the copy while it runs: stop, and drop the entries this batch
      // mapped after the deletion (they would be left behind, mapped to no snapshot).
      if (!(await store.snapshots.get(dest.region, dest.snapshotId))) {
        await store.snapshots.delete(dest.region, dest.snapshotId);
        return;
      }
      done += entries.length;
      from = entries[entries.length - 1].index + 1;
      dest.progress = Math.min(99, Math.floor((done / total) * 100));
      guard();
      await store.snapshots.update(dest, { ifState: 'pending' });
      if (this.deps.pace) await new Promise((r) => setTimeout(r, this.deps.pace!.pauseMs));
    }
    // A completed source's map never changes, so fewer entries than counted means the source was
    // deleted mid-copy: fail the copy rather than complete it with part of the blocks.
    if (done !== expected) throw new Error(`source snapshot ${src.snapshotId} was deleted during the copy`);
    await blocks.sync(dest.region, moved);
    guard();
    dest.state = 'completed';
    dest.progress = 100;
    dest.blockCount = await store.snapshots.countBlocks(dest.snapshotId);
    dest.completionTime = this.deps.clock.now().toISOString();
    delete dest.copySource;
    dest.copiedFrom = src;
    await store.snapshots.update(dest, { ifState: 'pending' });
  }
}
