// Runs snapshot copies in the background. A copy moves only the blocks its destination region
// lacks (blocks are content-addressed, so the check is a lookup), then maps them all. Copies are
// recorded before they start, so a restart resumes any that were cut short.
import type { BlockStore } from '../../ports/block-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { SnapshotRecord } from '../../ports/snapshot-repository.ts';
import type { SnapshotCopier } from './snapshot-service.ts';

const BATCH = 1024;
const PARALLEL = 8;

export interface CopierDeps {
  store: MetadataStore;
  blocks: BlockStore;
  clock: Clock;
  onError: (snapshotId: string, err: unknown) => void;
}

export class BackgroundSnapshotCopier implements SnapshotCopier {
  private readonly deps: CopierDeps;
  private readonly running = new Map<string, Promise<void>>();
  constructor(deps: CopierDeps) {
    this.deps = deps;
  }

  start(record: SnapshotRecord): void {
    if (this.running.has(record.snapshotId)) return;
    const job = this.copy(record)
      .catch(async (err) => {
        this.deps.onError(record.snapshotId, err);
        const current = await this.deps.store.snapshots.get(record.region, record.snapshotId);
        if (current?.state === 'pending') {
          current.state = 'error';
          current.stateMessage = `The copy failed: ${(err as Error).message}`;
          await this.deps.store.snapshots.update(current);
        }
      })
      .finally(() => this.running.delete(record.snapshotId));
    this.running.set(record.snapshotId, job);
  }

  /** Restarts every copy left pending by a previous process. */
  async resumeAll(): Promise<number> {
    const pending = (await this.deps.store.snapshots.inState('pending')).filter((s) => s.copySource);
    for (const s of pending) this.start(s);
    return pending.length;
  }

  /** Resolves when no copy is running (shutdown and tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running.values()]);
  }

  private async copy(dest: SnapshotRecord): Promise<void> {
    const { store, blocks } = this.deps;
    const src = dest.copySource!;
    const source = await store.snapshots.get(src.region, src.snapshotId);
    if (!source || source.state !== 'completed') throw new Error(`source snapshot ${src.snapshotId} is no longer available`);
    const expected = await store.snapshots.countBlocks(src.snapshotId);
    const total = expected || 1;
    const moved: string[] = [];
    let from = 0;
    let done = 0;
    for (;;) {
      const entries = await store.snapshots.blocks(src.snapshotId, from, BATCH);
      if (!entries.length) break;
      const unique = [...new Set(entries.map((e) => e.hash))];
      for (let i = 0; i < unique.length; i += PARALLEL) {
        await Promise.all(unique.slice(i, i + PARALLEL).map(async (hash) => {
          if (src.region === dest.region || (await blocks.has(dest.region, hash))) return;
          await blocks.put(dest.region, hash, await blocks.get(src.region, hash));
          moved.push(hash);
        }));
      }
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
      await store.snapshots.update(dest);
    }
    // A completed source's map never changes, so fewer entries than counted means the source was
    // deleted mid-copy: fail the copy rather than complete it with part of the blocks.
    if (done !== expected) throw new Error(`source snapshot ${src.snapshotId} was deleted during the copy`);
    await blocks.sync(dest.region, moved);
    dest.state = 'completed';
    dest.progress = 100;
    dest.blockCount = await store.snapshots.countBlocks(dest.snapshotId);
    dest.completionTime = this.deps.clock.now().toISOString();
    delete dest.copySource;
    dest.copiedFrom = src;
    await store.snapshots.update(dest);
  }
}
