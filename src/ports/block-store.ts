// The block store port: immutable 512 KiB blocks addressed by the SHA-256 of their stored bytes,
// kept per storage domain (one per region, so a region's loss does not touch another's copies).
// Adapters: filesystem (src/adapters/fs) and S3-compatible (src/adapters/s3); every adapter passes the
// contract suite in test/contracts/block-store.contract.ts.

export const BLOCK_SIZE = 512 * 1024;

/**
 * Names every adapter accepts. A domain is region-like (lower-case letters, digits, inner
 * hyphens: never a separator or a dot, so it is safe as a directory or key prefix); a hash is
 * 64 lower-case hex digits. Anything else is a caller's bug, refused before any I/O.
 */
export const BLOCK_DOMAIN_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const BLOCK_HASH_RE = /^[0-9a-f]{64}$/;

export function checkBlockDomain(domain: string): void {
  if (typeof domain !== 'string' || !BLOCK_DOMAIN_RE.test(domain)) {
    throw new Error(`invalid block store domain ${JSON.stringify(domain)}`);
  }
}

export function checkBlockHash(hash: string): void {
  if (typeof hash !== 'string' || !BLOCK_HASH_RE.test(hash)) {
    throw new Error(`invalid block hash ${JSON.stringify(hash)} (expected 64 lower-case hex digits)`);
  }
}

/** A block's stored bytes no longer hash to its address: never return them. */
export class BlockCorruptError extends Error {
  readonly domain: string;
  readonly hash: string;
  constructor(domain: string, hash: string) {
    super(`block ${hash} in ${domain} is corrupt (its bytes no longer match their SHA-256)`);
    this.domain = domain;
    this.hash = hash;
  }
}

/** put was handed bytes that do not hash to the address given: nothing was stored. */
export class BlockHashMismatchError extends Error {
  readonly domain: string;
  readonly hash: string;
  constructor(domain: string, hash: string) {
    super(`block store put: data does not hash to ${hash}`);
    this.domain = domain;
    this.hash = hash;
  }
}

/** A referenced block is absent from the store. */
export class BlockMissingError extends Error {
  readonly domain: string;
  readonly hash: string;
  constructor(domain: string, hash: string) {
    super(`block ${hash} is missing from ${domain}`);
    this.domain = domain;
    this.hash = hash;
  }
}

/**
 * The store could not be reached or kept failing after the adapter's own retries (an object
 * store's 5xx or throttling, a refused connection, a missing bucket). Nothing is known to have
 * changed; the request may be retried later. The API answers a retryable 503, never a stack trace.
 */
export class BlockStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BlockStoreUnavailableError';
  }
}

export interface StoredBlockInfo {
  hash: string;
  size: number;
  /** When the block was last written; garbage collection spares recent blocks (see gc). */
  modified: Date;
}

export interface BlockStore {
  /**
   * Stores `data` under `hash` (lower-case hex SHA-256 of `data`, checked by the adapter before
   * anything is stored: BlockHashMismatchError otherwise, so callers need not hash it themselves).
   * Idempotent: storing an existing block is a cheap no-op. Atomic: a reader sees the whole
   * block or none. Not necessarily durable until `sync` has covered it. Once put resolves the
   * caller may reuse `data`'s memory (the HTTP server recycles request bodies): an adapter must
   * not keep a reference to it.
   */
  put(domain: string, hash: string, data: Buffer): Promise<void>;
  /**
   * Optional: stores the block whose bytes are the file at `path`, as put would (the same
   * guarantees: the bytes are checked against `hash` first, BlockHashMismatchError otherwise;
   * idempotent; atomic; durable once `sync` has covered it), but without copying where the
   * adapter can share the file (the filesystem adapter hard-links it). For large prebuilt block
   * sets loaded into many domains (the catalogue's built disks). The caller promises never to
   * change the file in place afterwards (replace it by rename); get would report it corrupt.
   */
  adoptFile?(domain: string, hash: string, path: string): Promise<void>;
  /** The block's bytes, verified against `hash`; BlockMissingError / BlockCorruptError otherwise. */
  get(domain: string, hash: string): Promise<Buffer>;
  has(domain: string, hash: string): Promise<boolean>;
  /** Makes the given blocks durable (survive power loss); called before a snapshot completes. */
  sync(domain: string, hashes: Iterable<string>): Promise<void>;
  /** Removes a block; removing an absent block is not an error. */
  delete(domain: string, hash: string): Promise<void>;
  /** Every block in the domain, in no particular order. */
  list(domain: string): AsyncIterable<StoredBlockInfo>;
  /**
   * Removes leftovers of writes cut short by a crash, older than `olderThan`; returns how many.
   * Adapters that keep no such state return 0.
   */
  cleanTemp(domain: string, olderThan: Date): Promise<number>;
  /** Removes a whole storage domain (used when a region's store is destroyed in tests). */
  destroyDomain(domain: string): Promise<void>;
}
