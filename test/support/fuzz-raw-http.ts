// What the fuzz tests in test/fault share: a seeded PRNG (so that every request is generated
// from (seed, index) alone and a failure reproduces), sending raw bytes over TCP (so that
// anything can be sent, not only what a client would), digests of the store's tables (to show
// that nothing changed), and, for the rest-json services, signing a raw request, judging its
// answer and the whole run with its checks.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { TestContext } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from './sdk.ts';
import type { RunningServer } from './server.ts';

// ---------------------------------------------------------------------------------------------
// What a run is: its seed and size (from the environment), and its accounts.

/** FUZZ_SEED, or a random seed (the tests print it, so that a failure reproduces). */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
/** How many requests to send: FUZZ_COUNT, or the test's own default. */
export const fuzzCount = (fallback: number): number => Number(process.env.FUZZ_COUNT ?? fallback);

export const MAIN = '123456789012'; // dev mode's default account: non-numeric access keys act as it
export const SECOND = '222222222222';
export const THIRD = '333333333333'; // the rest-json fuzzers sign every request that could change something as THIRD

// ---------------------------------------------------------------------------------------------
// A small seeded PRNG: a Weyl sequence through MurmurHash3's 32-bit finalizer.

export type Rng = () => number;

export function rngFor(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}
/** The generator of request `index` of a run seeded with `seed`. */
export const requestRng = (seed: number, index: number): Rng => rngFor((seed ^ Math.imul(index + 1, 0x27d4eb2d)) >>> 0);
export const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
export const pick = <T>(r: Rng, items: readonly T[]): T => items[Math.floor(r() * items.length)];
export const chance = (r: Rng, p: number): boolean => r() < p;

// ---------------------------------------------------------------------------------------------
// Sending.

export interface RawRequest {
  head: string; // latin1
  body: Buffer;
}

export interface RawAnswer { bytes: Buffer; timedOut: boolean; error?: string }

/** Writes the request to a fresh connection and gathers everything the server answers until it closes. */
export function sendRaw(port: number, req: RawRequest, timeoutMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (extra: Partial<RawAnswer> = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), timedOut: false, ...extra });
    };
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(Buffer.concat([Buffer.from(req.head, 'latin1'), req.body]));
    });
    const timer = setTimeout(() => finish({ timedOut: true }), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    // The server may answer and close before reading a large body; what it answered counts.
    socket.on('error', (e: NodeJS.ErrnoException) => finish({ error: e.code }));
  });
}

// ---------------------------------------------------------------------------------------------
// The store.

/**
 * The node's own bookkeeping, which changes on its own clock whatever the requests: its heartbeat
 * and the renewals of the leases it holds.
 */
const NODE_BOOKKEEPING = new Set(['nodes', 'work_leases']);

/**
 * A digest and row count of every table in the server's database, leaving out the rows that
 * `except.account` owns in `except.tables` (those the fuzz may change) and the node's bookkeeping.
 */
export function tableDigests(dataDir: string, except?: { account: string; tables: string[] }): Record<string, string> {
  const db = new DatabaseSync(join(dataDir, 'metadata.sqlite'), { readOnly: true });
  const out: Record<string, string> = {};
  try {
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]) {
      if (NODE_BOOKKEEPING.has(name)) continue;
      const where = except?.tables.includes(name) ? ` WHERE account <> '${except.account}'` : '';
      const rows = (db.prepare(`SELECT * FROM "${name}"${where}`).all() as unknown[]).map((row) => JSON.stringify(row)).sort();
      out[name] = `${createHash('sha256').update(rows.join('\n')).digest('hex')} (${rows.length} rows)`;
    }
  } finally {
    db.close();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rest-json services (rbin, Image Builder).

/** A fuzzed rest-json request: its bytes, the account that signed it, and how to name it in a failure. */
export interface RestJsonRequest extends RawRequest {
  account: string;
  label: string;
}

export interface Verdict { status?: number; problem?: string }

/**
 * The head of a request to `path`, signed by `account` with the SDK's own signer. The signature
 * covers path '/' whatever `path` is: dev mode checks the Authorization header's shape, not the
 * signature, and garbled paths are what is fuzzed.
 */
export async function signedHead(options: {
  port: number; service: string; account: string; method: string; path: string; headers: Record<string, string>; body: Buffer;
}): Promise<string> {
  const { port, service, account, method, path, headers, body } = options;
  const signer = new SignatureV4({ service, region: 'us-east-1', credentials: { accessKeyId: account, secretAccessKey: 'fuzz' }, sha256: NodeSha256 });
  const signed = await signer.sign({ method, protocol: 'http:', hostname: '127.0.0.1', port, path: '/', query: {}, headers, body });
  const lines = Object.entries(signed.headers).map(([k, v]) => `${k}: ${v}`);
  lines.push(`content-length: ${body.length}`, 'connection: close');
  return `${method} ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

export const STACK_TRACE = /\bat [\w$.<>]+ \(|\.ts:\d+|\.js:\d+|node:internal|file:\/\/|\/src\/|Error: /;

/**
 * A rest-json answer must be below 500, carry a request id, hold no stack trace, and (for an
 * error) be the service's JSON error envelope; `leak` names what a 2xx body must not show.
 */
export function judgeRestJson(answer: RawAnswer, service: { envelope: string; leak: (text: string) => string | undefined }): Verdict {
  if (answer.timedOut) return { problem: 'no answer in time' };
  const raw = answer.bytes.toString('utf8');
  const split = raw.indexOf('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1]);
  if (split < 0 || !status) return { problem: `no HTTP answer: ${JSON.stringify(raw.slice(0, 200))}` };
  const head = raw.slice(0, split).toLowerCase();
  const text = raw.slice(split + 4);
  if (status >= 500) return { status, problem: `HTTP ${status}: ${text.slice(0, 300)}` };
  // The HTTP layer itself refuses what it cannot parse (400 with no body); anything that reached amiforge has a request id.
  if (!/x-amzn-requestid: [0-9a-f-]{36}/.test(head) && !(status === 400 && text === '')) return { status, problem: 'no x-amzn-requestid' };
  if (STACK_TRACE.test(text)) return { status, problem: `a stack trace or path: ${text.slice(0, 300)}` };
  if (status >= 400 && text) {
    let parsed: { __type?: unknown; message?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      if (/content-type: text\/xml/.test(head)) return { status }; // refused before the service was known (EC2's envelope)
      return { status, problem: `not JSON: ${text.slice(0, 200)}` };
    }
    if (typeof parsed.__type !== 'string' || typeof parsed.message !== 'string') return { status, problem: `not ${service.envelope} error envelope: ${text.slice(0, 200)}` };
  }
  if (status < 300) {
    const leaked = service.leak(text);
    if (leaked) return { status, problem: leaked };
  }
  return { status };
}

/** Generates, sends and judges requests 0..count-1, `concurrency` at a time. */
async function fuzzRequests(options: {
  count: number; concurrency: number; port: number; timeoutMs: number;
  generate: (index: number) => Promise<RestJsonRequest>; judge: (req: RestJsonRequest, answer: RawAnswer) => Verdict;
}): Promise<{ failures: string[]; statuses: Map<number, number> }> {
  const { count, concurrency, port, timeoutMs, generate, judge } = options;
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const req = await generate(next++);
      const verdict = judge(req, await sendRaw(port, req, timeoutMs));
      if (verdict.status) statuses.set(verdict.status, (statuses.get(verdict.status) ?? 0) + 1);
      if (verdict.problem) failures.push(`${req.label}: ${verdict.problem}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { failures, statuses };
}

const REST_JSON_CONCURRENCY = 8;
const REST_JSON_TIMEOUT_MS = 15_000;

/**
 * A whole rest-json fuzz run: every answer judged good, some request succeeded, the server up
 * with no error in its log, and what the store and the API show of the accounts the fuzz must
 * not change exactly as before (`storeChanged` and `apiChanged` say what changed, if it did).
 */
export async function fuzzRestJsonService(t: TestContext, options: {
  server: RunningServer; seed: number; count: number;
  generate: (index: number) => Promise<RestJsonRequest>; judge: (req: RestJsonRequest, answer: RawAnswer) => Verdict;
  apiState: () => Promise<unknown>; storeState: () => Record<string, string>; storeChanged: string; apiChanged: string;
}): Promise<void> {
  const { server, seed, apiState, storeState } = options;
  t.diagnostic(`seed ${seed} (reproduce with FUZZ_SEED=${seed})`);
  const apiBefore = await apiState();
  const storeBefore = storeState();
  const { failures, statuses } = await fuzzRequests({ ...options, concurrency: REST_JSON_CONCURRENCY, port: server.port, timeoutMs: REST_JSON_TIMEOUT_MS });
  t.diagnostic(`statuses: ${statusSummary(statuses)}`);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers (FUZZ_SEED=${seed})`);
  // Some requests must get through to the service's success paths, or the fuzz proves little.
  assert.ok([...statuses].some(([s, n]) => s < 300 && n > 0), 'no request succeeded');

  assert.equal(server.process.exitCode, null, 'the server process exited');
  const errors = server.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
  assert.deepEqual(errors.slice(0, 5), [], `${errors.length} error-level log entries`);
  assert.deepEqual(storeState(), storeBefore, options.storeChanged);
  assert.deepEqual(await apiState(), apiBefore, options.apiChanged);
}

/** `200×12 400×30 …`, by status. */
export const statusSummary = (statuses: Map<number, number>): string =>
  [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
