// Leases on named pieces of background work, kept in the metadata store so that several amiforge
// nodes on one database agree on who does what: a lease is held by one node until it expires,
// and its holder renews it while it works. A node that dies stops renewing; once its leases
// expire another node takes the work over. Times are the caller's (`now`), so a test clock and
// the nodes' own clocks decide, never the database's.

export interface WorkLease {
  name: string;
  holder: string;
  expiresAt: Date;
}

export interface WorkLeaseRepository {
  /**
   * Takes the lease when nobody holds it, when its holder let it expire, or renews it when
   * `holder` already holds it; false when another holder's lease is still running. One atomic
   * statement: two nodes acquiring at once never both get true.
   */
  acquire(name: string, holder: string, ttlMs: number, now: Date): Promise<boolean>;
  /** Extends the leases `holder` still holds among `names`; answers those it extended. */
  renew(names: string[], holder: string, ttlMs: number, now: Date): Promise<string[]>;
  /** Gives the lease up (work finished); nothing when another holder has it by now. */
  release(name: string, holder: string): Promise<void>;
  /** Leases as recorded, expired ones included (callers compare expiresAt), of one holder or all. */
  held(holder?: string): Promise<WorkLease[]>;
}
