// Starts a real amiforge server process for wire tests and stops it afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { serverStores, wireStores, type ServerStores } from './wire-stores.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

export interface TestAccount {
  id: string; accessKeyId: string; secretAccessKey: string; organization?: { arn: string; organizationalUnits?: string[] }; users?: TestUser[];
  /** The account's key may call the operator endpoints (/_amiforge/*, /metrics). */
  operator?: boolean;
}

/** An IAM-style user of a test account: its own keys, limited by its identity policies. */
export interface TestUser { name: string; accessKeyId: string; secretAccessKey: string; policies: unknown[]; operator?: boolean }

export interface RunningServer {
  endpoint: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  /** Log lines the server printed (JSON objects). */
  logs: Record<string, unknown>[];
  /** What the server wrote to stderr so far (a crash's message). */
  stderr(): string;
  /** The server's operator token (--operator-token-file): strict-mode servers open /_amiforge/* and /metrics to it. */
  operatorToken: string;
  /** fetch() of an operator endpoint (`/_amiforge/gc`), with the operator token. */
  ops(path: string, init?: RequestInit): Promise<Response>;
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** SIGKILL, no clean shutdown: for crash-recovery tests. The data dir is kept. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** Strict mode with these accounts; dev mode when absent. */
  accounts?: TestAccount[];
  dataDir?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
}

/** Two accounts with keys, used by the strict-mode tests. */
export const ALICE: TestAccount = { id: '111111111111', accessKeyId: 'AKIAALICE00000000001', secretAccessKey: 'alice-secret-key-0000000000000000000000' };
export const BOB: TestAccount = { id: '222222222222', accessKeyId: 'AKIABOB0000000000002', secretAccessKey: 'bob-secret-key-00000000000000000000000' };
/** An account whose key is an operator's: every strict-mode test server has it, beside the test's own accounts. */
export const OPERATOR: TestAccount = {
  id: '909090909090', accessKeyId: 'AKIAOPERATOR00000009', secretAccessKey: 'operator-secret-key-000000000000000000', operator: true,
};
/** The environment under which the amiforge CLI signs its operator requests with OPERATOR's key. */
export const OPERATOR_ENV = { ...process.env, AWS_ACCESS_KEY_ID: OPERATOR.accessKeyId, AWS_SECRET_ACCESS_KEY: OPERATOR.secretAccessKey, AWS_REGION: 'us-east-1' };

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'amiforge-test-'));
  const args = [join(ROOT, 'src/cli/main.ts'), 'serve', '--port', '0', '--data-dir', dataDir, '--enable-reset', '--log-level', 'info'];
  // Every test server has an operator token, so the tests' resets and clock moves work in strict mode.
  const operatorToken = randomBytes(24).toString('hex');
  const tokenFile = join(dataDir, 'operator-token');
  // A data directory the test names may not exist yet: the server would make it, but the token goes first.
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(tokenFile, `${operatorToken}\n`, { mode: 0o600 });
  args.push('--operator-token-file', tokenFile);
  if (options.accounts) {
    const file = join(dataDir, 'accounts.json');
    const accounts = options.accounts.some((a) => a.id === OPERATOR.id) ? options.accounts : [...options.accounts, OPERATOR];
    writeFileSync(file, JSON.stringify({
      accounts: accounts.map((a) => ({
        id: a.id, organization: a.organization,
        accessKeys: [{ accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey, ...(a.operator ? { operator: true } : {}) }],
        users: a.users?.map((u) => ({
          name: u.name, policies: u.policies, ...(u.operator ? { operator: true } : {}),
          accessKeys: [{ accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey }],
        })),
      })),
    }));
    args.push('--accounts', file);
  }
  args.push(...(options.extraArgs ?? []));
  // A server restarted on a kept data directory (crash tests) gets the stores it had.
  // A test that chooses its own stores keeps them.
  const ownStores = args.includes('--database') || args.includes('--blocks');
  const stores = wireStores() === 'postgres-s3' && !ownStores ? await storesFor(dataDir) : undefined;
  if (stores) args.push(...stores.args);
  // Test files run two at a time: each server gives its instances' public addresses from a
  // loopback block of its own, or two QEMU suites would both forward 127.100.0.1:22.
  if (!args.includes('--public-address-range')) {
    args.push('--public-address-range', `127.${101 + Math.floor(Math.random() * 150)}.${16 * Math.floor(Math.random() * 16)}.0/20`);
  }
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...stores?.env, ...options.env } });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'amiforge listening') {
          clearTimeout(timer);
          resolve(Number(entry.port));
        }
      } catch {
        logs.push({ raw: line });
      }
    });
    child.once('exit', (code) => reject(new Error(`amiforge exited with ${code} before listening: ${stderr}`)));
    // Generous: a loaded 2-core machine can take many seconds; a server that never answers is
    // killed so the test file does not hang on it.
    // (Cleared once listening: a test file running longer than this must keep its server.)
    // On PostgreSQL and S3 the catalogue's disks may have to be uploaded first (about 90 s on
    // the one-OSD test gateway: docs/postgres-metadata-store.md).
    const limitS = stores ? 300 : 60;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`amiforge did not start in ${limitS} s: ${stderr}`));
    }, limitS * 1000).unref();
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ops = (path: string, init: RequestInit = {}) =>
    fetch(`${endpoint}${path}`, { ...init, headers: { ...init.headers as Record<string, string>, authorization: `Bearer ${operatorToken}` } });
  return {
    endpoint, port, dataDir, process: child, logs, stderr: () => stderr, operatorToken, ops,
    async reset() {
      const res = await ops('/_amiforge/reset', { method: 'POST' });
      if (res.status !== 200) throw new Error(`reset failed: ${res.status}`);
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      if (!options.dataDir) {
        rmSync(dataDir, { recursive: true, force: true });
        await stores?.release();
        storesByDataDir.delete(dataDir);
      }
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The database and bucket of each data directory started here on PostgreSQL and S3. */
const storesByDataDir = new Map<string, ServerStores>();

async function storesFor(dataDir: string): Promise<ServerStores> {
  let stores = storesByDataDir.get(dataDir);
  if (!stores) {
    stores = await serverStores();
    storesByDataDir.set(dataDir, stores);
  }
  return stores;
}
