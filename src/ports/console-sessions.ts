// Web console sessions, kept in the metadata store so that any node sharing the store accepts
// them. Only a hash of the session id is stored: a copy of the database signs nobody in.

export interface ConsoleSessionRecord {
  /** SHA-256 (hex) of the session id the browser holds in its cookie. */
  idHash: string;
  /** The account signed in (dev mode), or the account of `accessKeyId` when it was signed in. */
  account: string;
  /** Strict mode: the access key signed in with; its principal is looked up again on every request. */
  accessKeyId?: string;
  /** The token every non-GET request must echo in `x-csrf-token`. */
  csrfToken: string;
  /** ISO times. */
  createdAt: string;
  expiresAt: string;
}

export interface ConsoleSessionStore {
  create(session: ConsoleSessionRecord): Promise<void>;
  get(idHash: string): Promise<ConsoleSessionRecord | undefined>;
  /** Sign-out; false when there was no such session. */
  delete(idHash: string): Promise<boolean>;
  /** Removes sessions expired at `now`; how many. */
  deleteExpired(now: Date): Promise<number>;
}
