// The S3 block store: one object per block at <prefix>/<domain>/<hh>/<hash> in one bucket, on
// AWS S3 or any S3-compatible server (Ceph's RADOS Gateway, MinIO). The domain (one per region)
// is a key prefix, so a region's bytes can be listed, counted and destroyed on their own; the
// two-hex-digit fan-out mirrors the filesystem layout and spreads keys over the server's index
// shards (RGW and S3 both partition by key prefix).
//
// S3 gives what the port asks for without help: a PUT is atomic (readers see the old object or
// the whole new one) and durable once acknowledged, so there are no temp objects, `sync` is a
// no-op and `cleanTemp` has nothing to clean (we never start multipart uploads: blocks are at
// most 512 KiB).
//
// put sends a HEAD first: a block already stored costs one small request instead of a 512 KiB
// upload. One stored over a minute ago is PUT again anyway, which refreshes its LastModified so
// garbage collection's grace period (it goes by `modified`) covers the reuse, exactly as the
// filesystem adapter's utimes does. Measured against a conditional PUT (If-None-Match: *) on the
// RADOS Gateway, new blocks cost the same either way and stored ones far less (docs/s3-block-store.md).
// Two nodes putting the same block at once both PUT the same bytes: harmless, it is content-addressed.
//
// Every failure other than "no such key" (after the SDK's retries with backoff) surfaces as
// BlockStoreUnavailableError, which the API turns into a retryable 503.
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { readFile } from 'node:fs/promises';
import {
  type BucketLocationConstraint, CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand,
  HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  BlockCorruptError, BlockHashMismatchError, BlockMissingError, BlockStoreUnavailableError, type BlockStore,
  type StoredBlockInfo,
  BLOCK_HASH_RE, checkBlockDomain, checkBlockHash,
} from '../../ports/block-store.ts';

/** A re-put block older than this is written again so its LastModified is fresh (see above). */
const REFRESH_AFTER_MS = 60_000;
/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slashes; '' for the bucket's root. */
  prefix: string;
}

/** Parses `s3://BUCKET[/PREFIX]`; throws a message naming the expected form otherwise. */
export function parseBlocksLocation(location: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(location);
  // Bucket names: 3-63 lower-case letters, digits, dots and hyphens (S3's rules, which RGW follows).
  if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(m[1])) {
    throw new Error(`invalid blocks location ${JSON.stringify(location)}: expected s3://BUCKET[/PREFIX]`);
  }
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '.' || part === '..' || (prefix !== '' && part === ''))) {
    throw new Error(`invalid blocks location ${JSON.stringify(location)}: the prefix must not hold empty, . or .. parts`);
  }
  return { bucket: m[1], prefix };
}

export interface S3BlockStoreOptions extends S3Location {
  /** An S3-compatible server's URL; else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; else AWS S3. */
  endpoint?: string;
  /** Else AWS_REGION / AWS_DEFAULT_REGION; else us-east-1 (S3-compatible servers accept any). */
  region?: string;
  /** Else the SDK's default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Defaults to true when an endpoint is given (S3-compatible servers rarely have wildcard DNS). */
  forcePathStyle?: boolean;
  /** Attempts per request, the first included (default 5): retries back off exponentially with jitter. */
  maxAttempts?: number;
  /** Sockets per host (default 64), so many 512 KiB blocks in flight are not queued by the client. */
  maxSockets?: number;
  /** A block put again is rewritten (its LastModified refreshed) if older than this; default 60000. */
  refreshAfterMs?: number;
  /** Milliseconds to establish a connection (default 5000) and for a whole request (default 60000). */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export function createS3BlockStore(options: S3BlockStoreOptions): S3BlockStore {
  return new S3BlockStore(options);
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/**
 * An object's body in one buffer, hashed as it arrives. The SDK's own collector zero-fills a new
 * array and copies every chunk into it after the last one came; here the chunks are copied once
 * into a buffer of the announced length (not zero-filled: every byte is written or the block is
 * cut to what came) and hashed while the next ones are still on the wire.
 */
async function collectHashed(body: AsyncIterable<Uint8Array>, length: number | undefined): Promise<{ bytes: Buffer; digest: string }> {
  const hasher = createHash('sha256');
  if (length === undefined || length < 0) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) { chunks.push(chunk); hasher.update(chunk); }
    return { bytes: Buffer.concat(chunks), digest: hasher.digest('hex') };
  }
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for await (const chunk of body) {
    // A body longer than announced cannot be the block: its hash is wrong however it ends.
    if (at + chunk.byteLength > length) { hasher.update(chunk); at += chunk.byteLength; continue; }
    out.set(chunk, at);
    at += chunk.byteLength;
    hasher.update(chunk);
  }
  return { bytes: at === length ? out : out.subarray(0, Math.min(at, length)), digest: hasher.digest('hex') };
}

const statusOf = (err: unknown): number | undefined =>
  (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const codeOf = (err: unknown): string | undefined => (err as { name?: string; Code?: string })?.Code ?? (err as Error)?.name;
const isNotFound = (err: unknown): boolean =>
  codeOf(err) === 'NoSuchKey' || codeOf(err) === 'NotFound' || (statusOf(err) === 404 && codeOf(err) !== 'NoSuchBucket');

export class S3BlockStore implements BlockStore {
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint: string | undefined;
  readonly client: S3Client;
  /** Puts in progress by domain/hash: concurrent puts of one block in this process share one upload. */
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly refreshAfterMs: number;

  constructor(options: S3BlockStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    // Read here rather than left to the SDK: path-style addressing depends on whether there is one.
    this.endpoint = options.endpoint || process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
    this.refreshAfterMs = options.refreshAfterMs ?? REFRESH_AFTER_MS;
    const maxSockets = options.maxSockets ?? 64;
    this.client = new S3Client({
      region: options.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
      endpoint: this.endpoint,
      forcePathStyle: options.forcePathStyle ?? this.endpoint !== undefined,
      credentials: options.credentials,
      // Standard mode: exponential backoff with jitter on throttling (SlowDown, 503), 5xx and
      // network errors; each attempt spends from a retry quota, so an outage fails fast instead
      // of multiplying the load.
      retryMode: 'standard',
      maxAttempts: options.maxAttempts ?? 5,
      // Checksums only where the API requires them: S3-compatible servers differ in which of the
      // newer flexible-checksum headers they accept. Integrity does not depend on them: put sends
      // Content-MD5 and get checks every block's SHA-256.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
        connectionTimeout: options.connectionTimeoutMs ?? 5000,
        requestTimeout: options.requestTimeoutMs ?? 60_000,
      },
    });
    this.useContentMd5ForDeleteObjects();
  }

  /**
   * DeleteObjects must carry a checksum of its body. The SDK sends a CRC32 header, which AWS S3
   * accepts but several S3-compatible servers do not: they want the Content-MD5 that S3 always
   * took. Every server accepts Content-MD5, so it is sent instead. Runs in the build step after
   * the SDK's checksum middleware (lower priority runs later), before signing.
   */
  private useContentMd5ForDeleteObjects(): void {
    this.client.middlewareStack.add((next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === 'DeleteObjectsCommand' && request.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
        for (const name of Object.keys(request.headers)) {
          if (/^x-amz-(sdk-)?checksum-/i.test(name)) delete request.headers[name];
        }
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    }, { step: 'build', priority: 'low', name: 'amiforgeDeleteObjectsContentMd5' });
  }

  /** `s3://bucket/prefix at endpoint`, for messages. */
  get description(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}${this.endpoint ? ` at ${this.endpoint}` : ''}`;
  }

  private domainPrefix(domain: string): string {
    checkBlockDomain(domain);
    return this.prefix ? `${this.prefix}/${domain}/` : `${domain}/`;
  }

  private key(domain: string, hash: string): string {
    checkBlockHash(hash);
    return `${this.domainPrefix(domain)}${hash.slice(0, 2)}/${hash}`;
  }

  /** Anything but a missing key, once the SDK has given up retrying, as BlockStoreUnavailableError. */
  private unavailable(err: unknown, what: string): Error {
    if (err instanceof BlockStoreUnavailableError) return err;
    if (codeOf(err) === 'NoSuchBucket') return this.noSuchBucket(err);
    const status = statusOf(err);
    const detail = err instanceof S3ServiceException ? `${err.name}${status ? ` (HTTP ${status})` : ''}: ${err.message}`
      : err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err);
    return new BlockStoreUnavailableError(`block store ${this.description} failed to ${what}: ${detail}`, { cause: err });
  }

  private noSuchBucket(err: unknown): BlockStoreUnavailableError {
    return new BlockStoreUnavailableError(
      `block store ${this.description}: the bucket ${this.bucket} does not exist. Create it (for example ` +
      `\`aws s3 mb s3://${this.bucket}\` with the same endpoint and credentials) or point --blocks at an existing bucket`,
      { cause: err });
  }

  /** Fails with a clear BlockStoreUnavailableError if the bucket is absent or unreachable. */
  async checkBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      // HEAD answers carry no body, so a missing bucket is only a 404.
      throw statusOf(err) === 404 ? this.noSuchBucket(err) : this.unavailable(err, 'reach the bucket');
    }
  }

  /**
   * Creates the bucket if it is absent. For tests and the cluster script: in production the
   * bucket (with its lifecycle and access policies) is the operator's to create, and a typo in
   * --blocks must not quietly start an empty store.
   */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      if (statusOf(err) !== 404) throw this.unavailable(err, 'reach the bucket');
    }
    try {
      // AWS S3 wants the region named outside us-east-1; S3-compatible servers have their own
      // placement names (RGW's zone groups), so they get the default.
      const region = await this.client.config.region();
      const placement = this.endpoint === undefined && region !== 'us-east-1' ? { LocationConstraint: region as BucketLocationConstraint } : undefined;
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket, CreateBucketConfiguration: placement }));
    } catch (err) {
      const code = codeOf(err);
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw this.unavailable(err, 'create the bucket');
    }
  }

  async put(domain: string, hash: string, data: Buffer): Promise<void> {
    const key = this.key(domain, hash);
    if (sha256(data) !== hash) throw new BlockHashMismatchError(domain, hash);
    const pending = this.inflight.get(key);
    if (pending) return pending; // same hash, so same bytes
    // The port lets the caller reuse `data` once put resolves; the upload finishes before that.
    const p = this.store(key, data).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async store(key: string, data: Buffer): Promise<void> {
    // Already there, whole and recent: nothing to send. Otherwise PUT it, which for a block
    // stored long ago refreshes its LastModified for garbage collection's grace period (and
    // heals a short object).
    const existing = await this.head(key);
    if (existing && existing.size === data.length && Date.now() - existing.modified.getTime() < this.refreshAfterMs) return;
    try {
      await this.client.send(new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: data,
        ContentLength: data.length,
        ContentType: 'application/octet-stream',
        // The server rejects a body damaged on the way (BadDigest) rather than storing it.
        ContentMD5: createHash('md5').update(data).digest('base64'),
      }));
    } catch (err) {
      throw this.unavailable(err, `store ${key}`);
    }
  }

  private async head(key: string): Promise<{ size: number; modified: Date } | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: r.ContentLength ?? -1, modified: r.LastModified ?? new Date(0) };
    } catch (err) {
      // A HEAD answer has no body, so a missing bucket looks like a missing key here; checkBucket
      // at startup is what tells them apart.
      if (isNotFound(err)) return undefined;
      throw this.unavailable(err, `look up ${key}`);
    }
  }

  /** Reads the file and puts its bytes: an object store has nothing to share with a local file. */
  async adoptFile(domain: string, hash: string, path: string): Promise<void> {
    this.key(domain, hash); // malformed names fail before the file is read
    await this.put(domain, hash, await readFile(path));
  }

  async get(domain: string, hash: string): Promise<Buffer> {
    const key = this.key(domain, hash);
    let read: { bytes: Buffer; digest: string };
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      read = await collectHashed(r.Body as unknown as AsyncIterable<Uint8Array>, r.ContentLength);
    } catch (err) {
      if (isNotFound(err)) throw new BlockMissingError(domain, hash);
      throw this.unavailable(err, `read ${key}`);
    }
    if (read.digest !== hash) throw new BlockCorruptError(domain, hash);
    return read.bytes;
  }

  async has(domain: string, hash: string): Promise<boolean> {
    return (await this.head(this.key(domain, hash))) !== undefined;
  }

  /** Checks the names only: an acknowledged PUT is already durable, so there is nothing to flush. */
  async sync(domain: string, hashes: Iterable<string>): Promise<void> {
    for (const hash of hashes) this.key(domain, hash);
  }

  async delete(domain: string, hash: string): Promise<void> {
    const key = this.key(domain, hash);
    try {
      // S3 answers 204 for an absent key too.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (!isNotFound(err)) throw this.unavailable(err, `delete ${key}`);
    }
  }

  /** Every object under the domain's prefix, a page (up to 1000) at a time. */
  private async *objects(domain: string): AsyncIterable<{ Key?: string; Size?: number; LastModified?: Date }> {
    const prefix = this.domainPrefix(domain);
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      } catch (err) {
        throw this.unavailable(err, `list ${prefix}`);
      }
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async *list(domain: string): AsyncIterable<StoredBlockInfo> {
    const prefix = this.domainPrefix(domain);
    for await (const o of this.objects(domain)) {
      // Only <hh>/<hash> under the domain: anything else someone put in the bucket is not a block.
      const rest = o.Key?.slice(prefix.length) ?? '';
      const hash = rest.slice(3);
      if (!BLOCK_HASH_RE.test(hash) || rest !== `${hash.slice(0, 2)}/${hash}`) continue;
      yield { hash, size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) };
    }
  }

  /** No temp objects exist (PUTs are atomic, no multipart uploads are started): nothing to clean. */
  async cleanTemp(domain: string, _olderThan: Date): Promise<number> {
    checkBlockDomain(domain);
    return 0;
  }

  /** Deletes every object under the domain's prefix, 1000 keys per DeleteObjects request. */
  async destroyDomain(domain: string): Promise<void> {
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      const keys = batch;
      batch = [];
      let r;
      try {
        r = await this.client.send(new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }));
      } catch (err) {
        throw this.unavailable(err, `delete ${keys.length} objects of ${domain}`);
      }
      const failed = (r.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) {
        throw new BlockStoreUnavailableError(
          `block store ${this.description} failed to delete ${failed.length} objects of ${domain}: ${failed[0].Code} ${failed[0].Message ?? ''}`.trim());
      }
    };
    // Keys are collected page by page and deleted as each batch fills; deleting while listing is
    // safe because ListObjectsV2 continues after the last key it returned.
    for await (const o of this.objects(domain)) {
      if (o.Key) batch.push(o.Key);
      if (batch.length === DELETE_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
  }

  /** Closes the keep-alive sockets (else an idle process lingers until the server drops them). */
  close(): void {
    this.client.destroy();
  }
}
