// This node's work leases: taken through the store, renewed every third of their lifetime while
// the work goes on, given up when it ends. A lease the node cannot renew (the database is away,
// or another node took it over after a pause longer than the lease) is dropped here too, and its
// work told to stop: past its expiry another node may already be doing it.
import type { Clock } from '../../ports/clock.ts';
import type { WorkLeaseRepository } from '../../ports/work-leases.ts';

export interface LeaseLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface LeaseKeeperDeps {
  leases: WorkLeaseRepository;
  /** This node's id: the holder recorded on its leases. */
  holder: string;
  ttlMs: number;
  /** The system clock: leases are compared across nodes, never on a test's advanced clock. */
  clock: Clock;
  log: LeaseLog;
}

interface Held {
  /** Past this (by this node's clock) the lease may belong to another node. */
  deadline: number;
  lost: AbortController;
}

export class LeaseKeeper {
  private readonly deps: LeaseKeeperDeps;
  private readonly leases = new Map<string, Held>();
  private timer?: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private closed = false;

  constructor(deps: LeaseKeeperDeps) {
    this.deps = deps;
  }

  get holder(): string {
    return this.deps.holder;
  }

  get ttlMs(): number {
    return this.deps.ttlMs;
  }

  /**
   * Takes (or, when held, renews) the lease; its signal aborts when it is lost. Undefined when
   * another node holds it.
   */
  async acquire(name: string): Promise<AbortSignal | undefined> {
    if (this.closed) return undefined;
    const now = this.deps.clock.now().getTime();
    if (!(await this.deps.leases.acquire(name, this.deps.holder, this.deps.ttlMs, new Date(now)))) {
      // The store says another node has it: if this node thought otherwise, it is lost.
      this.lose(name, 'held by another node');
      return undefined;
    }
    const held = this.leases.get(name) ?? { deadline: 0, lost: new AbortController() };
    held.deadline = now + this.deps.ttlMs;
    this.leases.set(name, held);
    this.arm();
    return held.lost.signal;
  }

  /** Whether this node still holds the lease by its own reckoning (renewed in time). */
  holds(name: string): boolean {
    const held = this.leases.get(name);
    return !!held && this.deps.clock.now().getTime() < held.deadline;
  }

  /** Names of the leases this node holds. */
  names(): string[] {
    return [...this.leases.keys()];
  }

  /** The work is done: the lease is free for anyone at once. */
  async release(name: string): Promise<void> {
    if (!this.leases.delete(name)) return;
    await this.deps.leases.release(name, this.deps.holder);
  }

  /** Renews every held lease now (also what the timer does). */
  renewNow(): Promise<void> {
    this.renewing ??= this.renewAll().finally(() => { this.renewing = undefined; });
    return this.renewing;
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.renewNow(), Math.max(100, Math.floor(this.deps.ttlMs / 3)));
    this.timer.unref();
  }

  private async renewAll(): Promise<void> {
    const names = [...this.leases.keys()];
    if (!names.length) return;
    const now = this.deps.clock.now().getTime();
    let renewed: Set<string>;
    try {
      renewed = new Set(await this.deps.leases.renew(names, this.deps.holder, this.deps.ttlMs, new Date(now)));
    } catch (err) {
      // The store is away: keep the leases until their deadline (it may come back in time), then stop the work.
      for (const name of names) {
        if (this.leases.get(name)!.deadline <= this.deps.clock.now().getTime()) this.lose(name, `could not be renewed (${(err as Error).message})`);
      }
      return;
    }
    for (const name of names) {
      const held = this.leases.get(name);
      if (!held) continue; // released meanwhile
      if (renewed.has(name)) held.deadline = now + this.deps.ttlMs;
      else this.lose(name, 'taken over by another node');
    }
  }

  private lose(name: string, why: string): void {
    const held = this.leases.get(name);
    if (!held) return;
    this.leases.delete(name);
    this.deps.log.warn({ lease: name, node: this.deps.holder }, `work lease ${name} lost: ${why}; its work stops on this node`);
    held.lost.abort(new LeaseLostError(name, why));
  }

  /** Shutdown: stops renewing and frees every lease, so other nodes take the work over at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.renewing;
    const names = [...this.leases.keys()];
    for (const name of names) {
      const held = this.leases.get(name)!;
      this.leases.delete(name);
      held.lost.abort(new LeaseLostError(name, 'the node is shutting down'));
      await this.deps.leases.release(name, this.deps.holder).catch(() => {});
    }
  }
}

/** Work stopped because its lease is no longer this node's. */
export class LeaseLostError extends Error {
  readonly lease: string;
  constructor(lease: string, why: string) {
    super(`work lease ${lease} lost: ${why}`);
    this.lease = lease;
    this.name = 'LeaseLostError';
  }
}
