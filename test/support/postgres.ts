// A throwaway PostgreSQL cluster per test file (scripts/postgres.sh: initdb into a temporary
// directory, a free port, stopped at the end), and a fresh database in it per store under test.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const SCRIPT = new URL('../../scripts/postgres.sh', import.meta.url).pathname;

export interface TestPostgres {
  /** The cluster's maintenance database URL. */
  url: string;
  /** The cluster's data directory (postmaster.pid: the server's process id, for benches). */
  dataDir: string;
  /** A new, empty database; its URL. */
  createDatabase(): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  /** Stops the cluster (immediate shutdown) without removing it; `start` brings it back on the same port. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  stop(): Promise<void>;
  /** As stop, synchronously: for a process 'exit' handler. */
  stopSync(): void;
}

let seq = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-pg-'));
  const url = (await run('bash', [SCRIPT, 'start', dir])).stdout.trim();
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try { return await fn(c); } finally { await c.end(); }
  };
  return {
    url,
    dataDir: join(dir, 'data'),
    async createDatabase() {
      const name = `t${process.pid}_${++seq}_${Date.now().toString(36)}`;
      await admin((c) => c.query(`CREATE DATABASE ${name}`));
      return url.replace(/\/[^/]*$/, `/${name}`);
    },
    async dropDatabase(dbUrl) {
      const name = dbUrl.slice(dbUrl.lastIndexOf('/') + 1);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
    async stopServer() { await run('bash', [SCRIPT, 'pause', dir]); },
    async startServer() { await run('bash', [SCRIPT, 'resume', dir]); },
    async stop() { await run('bash', [SCRIPT, 'stop', dir]); },
    stopSync() { execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore' }); },
  };
}
