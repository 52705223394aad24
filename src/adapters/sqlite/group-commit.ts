// Group commit: the writes that reach the store in one turn of the event loop share one SQLite
// transaction. Committing is most of a small write's cost (the WAL frames of every page it
// touched, written at each COMMIT); concurrent RegisterImage calls touch the same index pages,
// so one commit for the batch writes each page once.
//
// Durability is unchanged: each write's promise settles only after the COMMIT that holds it
// returned, so a request is answered only once its write is in the WAL (it survives kill -9, as
// a single-write transaction did). Each write runs inside its own savepoint, so one that throws
// (a duplicate name, a missing snapshot) is rolled back alone and the others still commit.
import type { DatabaseSync } from 'node:sqlite';

interface Pending {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

export class GroupCommit {
  private readonly db: DatabaseSync;
  /** Runs one function in a transaction of its own (the store's tx). */
  private readonly tx: <T>(fn: () => T) => T;
  private queue: Pending[] = [];

  constructor(db: DatabaseSync, tx: <T>(fn: () => T) => T) {
    this.db = db;
    this.tx = tx;
  }

  /** Runs `fn` (synchronous writes) in the next group transaction; settles once it committed. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      // After the I/O callbacks of this turn: the other requests read in it join the batch.
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  /** Commits whatever is queued now (the store calls it before closing). */
  flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    if (batch.length === 1) {
      const [one] = batch;
      let outcome: Outcome;
      try {
        outcome = { ok: true, value: this.tx(one.fn) };
      } catch (err) {
        outcome = { ok: false, err };
      }
      settle(one, outcome);
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = this.commitTogether(batch);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => settle(p, outcomes[i]));
  }

  private commitTogether(batch: Pending[]): Outcome[] {
    const savepoint = this.db.prepare('SAVEPOINT grouped_write');
    const release = this.db.prepare('RELEASE grouped_write');
    const rollbackTo = this.db.prepare('ROLLBACK TO grouped_write');
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const outcomes = batch.map((p): Outcome => {
        savepoint.run();
        try {
          const value = p.fn();
          release.run();
          return { ok: true, value };
        } catch (err) {
          // Undoes this write alone. Should SQLite have ended the whole transaction, this throws
          // and the batch is rolled back and failed as one.
          rollbackTo.run();
          release.run();
          return { ok: false, err };
        }
      });
      this.db.exec('COMMIT');
      return outcomes;
    } catch (err) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }
}

function settle(p: Pending, outcome: Outcome): void {
  if (outcome.ok) p.resolve(outcome.value);
  else p.reject(outcome.err);
}
