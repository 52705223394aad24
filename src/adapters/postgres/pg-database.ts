// PostgreSQL access for the repositories: a connection pool (node-postgres), typed queries, and
// transactions that retry when PostgreSQL aborts one to keep concurrent writers serialisable.
// Several amiforge processes share one database, so the rules SQLite kept by having one writer
// (in-use checks, client tokens, Recycle Bin moves) rest here on row locks, unique constraints
// and SERIALIZABLE transactions, retried on serialization failures and deadlocks.
import pg from 'pg';
import { StoreUnavailableError } from '../../ports/metadata-store.ts';

/** Anything that runs a statement: the pool (one statement, autocommit) or a transaction's client. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001' /* serialization_failure */, '40P01' /* deadlock_detected */]);
/** SQLSTATE classes that mean the database is unreachable or going away, not that the statement is wrong. */
const UNAVAILABLE_CLASSES = ['08' /* connection exception */, '57' /* operator intervention: shutdown */, '53' /* insufficient resources */];
const MAX_TX_ATTEMPTS = 10;

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True for unique_violation: the repositories turn it into the domain's duplicate errors. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  return sqlState(err) === '23505' && (!constraint || (err as { constraint?: string }).constraint === constraint);
}

/** Connection-level failures become StoreUnavailableError (a retryable 503 at the API). */
function classify(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const state = sqlState(err);
  const sysCode = (err as { code?: unknown } | null)?.code;
  const message = (err as Error)?.message ?? String(err);
  const lost = (state && UNAVAILABLE_CLASSES.includes(state.slice(0, 2)))
    || (typeof sysCode === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(sysCode))
    || /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
  return lost ? new StoreUnavailableError(`the metadata database is unavailable: ${message}`, { cause: err }) : err;
}

export interface PgDatabaseOptions {
  /** Connections in this process's pool. */
  maxConnections?: number;
  /** How long a request waits for a free connection or a new one before it fails as unavailable. */
  connectTimeoutMs?: number;
}

export class PgDatabase implements Queryable {
  readonly pool: pg.Pool;

  constructor(url: string, options: PgDatabaseOptions = {}) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 16,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose server went away emits 'error' on the pool; without a listener that
    // would crash the process. The next checkout simply opens a new connection.
    this.pool.on('error', () => {});
  }

  async query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query(sql, params)).rows as R[];
    } catch (err) {
      throw classify(err);
    }
  }

  /**
   * Runs `fn` in one transaction and commits it. Serialization failures and deadlocks run `fn`
   * again from the start (so `fn` must have no effects outside the transaction); other errors
   * roll back and propagate.
   */
  async tx<T>(fn: (q: Queryable) => Promise<T>, isolation: Isolation = 'read committed'): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw classify(err);
      }
      let broken: unknown;
      // A checked-out client whose connection drops between statements (the server stopped while
      // `fn` awaits something else) emits 'error' with no query to fail: unheard, that event would
      // end the process. Heard, it marks the client broken; the next statement fails as unavailable.
      const onError = (err: Error) => { broken = err; };
      client.on('error', onError);
      const q: Queryable = {
        async query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
          return (await client.query(sql, params)).rows as R[];
        },
      };
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
        const result = await fn(q);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => { broken = e; });
        if (RETRYABLE.has(sqlState(err) ?? '') && attempt < MAX_TX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
          continue;
        }
        throw classify(err);
      } finally {
        // A connection that failed mid-transaction is not given back to the pool.
        client.off('error', onError);
        client.release(broken instanceof Error ? broken : undefined);
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
