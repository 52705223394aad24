// KMS: GenerateDataKey and Decrypt rates beside what this machine's AES-256-GCM allows.
//
// The reference ("machine limit") is the AES-256-GCM work one such call cannot avoid, done in a
// tight loop on one core with node:crypto: unwrapping the KMS key's 32-byte material under the
// root key, then sealing (GenerateDataKey) or opening (Decrypt) a 32-byte data key. amiforge's
// server is one Node.js process, so one core's figure is its ceiling. Then the same calls through
// KmsService in process (SQLite lookups, key policy, grants, the crypto) and over HTTP through a
// real server (SigV4-signed JSON 1.1 requests, keep-alive, every request logged as in normal use).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteMetadataStore } from '../src/adapters/sqlite/sqlite-store.ts';
import type { Caller } from '../src/domain/context.ts';
import { KeyVault } from '../src/domain/kms/key-vault.ts';
import { KmsService } from '../src/domain/kms/kms-service.ts';
import { systemClock } from '../src/ports/clock.ts';
import { BenchEc2Client, type CallResult } from './support/ec2-client.ts';
import { percentile, rate, runLoad, type LoadResult } from './support/load.ts';
import { cpuMsOf, startAmiforge } from './support/servers.ts';
import { fmtMs, fmtRate, renderTable, type Row } from './support/table.ts';

export const description = 'KMS: GenerateDataKey/Decrypt rate in process and over HTTP vs the AES-256-GCM work they need on one core';

const USAGE = `usage: npm run bench -- kms [--seconds 5] [--concurrency 16] [--no-server]
  --seconds N       duration of each measured phase (default 5)
  --concurrency C   requests in flight against the server (default 16)
  --no-server       skip the HTTP phases`;

interface Options { seconds: number; concurrency: number; server: boolean }

function options(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      'seconds': { type: 'string', default: '5' },
      'concurrency': { type: 'string', default: '16' },
      'no-server': { type: 'boolean', default: false },
      'help': { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  if (!(seconds > 0 && seconds <= 600)) throw new Error(`--seconds must be more than 0 and at most 600\n${USAGE}`);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new Error(`--concurrency: an integer 1 to 256\n${USAGE}`);
  return { seconds, concurrency, server: !values['no-server'] };
}

/** Calls `op` back to back for `seconds`; operations per second. */
async function loop(seconds: number, op: () => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await op();
  let n = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await op();
    n += 50;
  }
  return (n / (performance.now() - start)) * 1000;
}

/** The AES-256-GCM work of one GenerateDataKey (unwrap + seal) and one Decrypt (unwrap + open). */
async function machineLimit(seconds: number): Promise<{ seal: number; open: number; generate: number; decrypt: number }> {
  const root = randomBytes(32);
  const gcm = (key: Buffer, data: Buffer, aad: Buffer) => {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
    return { nonce, body: Buffer.concat([c.update(data), c.final()]), tag: c.getAuthTag() };
  };
  const ungcm = (key: Buffer, s: ReturnType<typeof gcm>, aad: Buffer) => {
    const d = createDecipheriv('aes-256-gcm', key, s.nonce).setAAD(aad);
    d.setAuthTag(s.tag);
    return Buffer.concat([d.update(s.body), d.final()]);
  };
  const aad = randomBytes(40);
  const wrappedMaterial = gcm(root, randomBytes(32), aad);
  const material = ungcm(root, wrappedMaterial, aad);
  const sealed = gcm(material, randomBytes(32), aad);
  const part = seconds / 4;
  const seal = await loop(part, () => gcm(material, randomBytes(32), aad));
  const open = await loop(part, () => ungcm(material, sealed, aad));
  const generate = await loop(part, () => gcm(ungcm(root, wrappedMaterial, aad), randomBytes(32), aad));
  const decrypt = await loop(part, () => ungcm(ungcm(root, wrappedMaterial, aad), sealed, aad));
  return { seal, open, generate, decrypt };
}

async function inProcess(seconds: number): Promise<{ generate: number; decrypt: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-bench-kms-'));
  const store = new SqliteMetadataStore(join(dir, 'metadata.sqlite'));
  try {
    const kms = new KmsService({ keys: store.keys, clock: systemClock, vault: new KeyVault(randomBytes(32)) });
    const caller: Caller = { account: '123456789012', region: 'us-east-1' };
    const key = (await kms.keys.create(caller, {})).KeyMetadata!.Arn!;
    const context = { 'aws:ebs:id': 'vol-0123456789abcdef0' };
    const blob = (await kms.crypto.generateDataKey(caller, { KeyId: key, KeySpec: 'AES_256', EncryptionContext: context })).CiphertextBlob;
    const generate = await loop(seconds / 2, () => kms.crypto.generateDataKey(caller, { KeyId: key, KeySpec: 'AES_256', EncryptionContext: context }));
    const decrypt = await loop(seconds / 2, () => kms.crypto.decrypt(caller, { CiphertextBlob: blob, EncryptionContext: context }));
    return { generate, decrypt };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface HttpPhase { load: LoadResult; serverCpuMsPerCall: number }

async function overHttp(o: Options): Promise<{ generate: HttpPhase; decrypt: HttpPhase }> {
  const server = await startAmiforge();
  const client = new BenchEc2Client({ endpoint: server.endpoint, maxSockets: o.concurrency });
  const call = (op: string, body: unknown): Promise<CallResult> => client.rest('kms', 'POST', '/', {
    'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${op}`,
  }, JSON.stringify(body));
  try {
    const created = await call('CreateKey', { Description: 'bench' });
    if (created.status !== 200) throw new Error(`CreateKey: HTTP ${created.status} ${created.body.slice(0, 300)}`);
    const keyId = (JSON.parse(created.body) as { KeyMetadata: { Arn: string } }).KeyMetadata.Arn;
    const context = { 'aws:ebs:id': 'vol-0123456789abcdef0' };
    const blobs: string[] = [];
    const measured = async (load: () => Promise<LoadResult>): Promise<HttpPhase> => {
      const cpu = cpuMsOf(server.pid);
      const r = await load();
      return { load: r, serverCpuMsPerCall: (cpuMsOf(server.pid) - cpu) / r.done };
    };
    const generate = await measured(() => runLoad({
      count: 1e9, concurrency: o.concurrency, maxSeconds: o.seconds / 2,
      send: () => call('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
      check: (_i, r) => { if (blobs.length < 1000) blobs.push((JSON.parse(r.body) as { CiphertextBlob: string }).CiphertextBlob); },
    }));
    if (!blobs.length) throw new Error(`GenerateDataKey failed: ${generate.load.firstError}`);
    const decrypt = await measured(() => runLoad({
      count: 1e9, concurrency: o.concurrency, maxSeconds: o.seconds / 2,
      send: (i) => call('Decrypt', { CiphertextBlob: blobs[i % blobs.length], EncryptionContext: context }),
    }));
    return { generate, decrypt };
  } finally {
    client.close();
    await server.stop();
  }
}

export async function run(args: string[]): Promise<void> {
  const o = options(args);
  if (!o) {
    console.log(USAGE);
    return;
  }
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores; node ${process.version}; ${o.seconds} s per phase\n`);
  const limit = await machineLimit(o.seconds);
  const local = await inProcess(o.seconds);
  const remote = o.server ? await overHttp(o) : undefined;
  const pct = (x: number, of: number) => `${((x / of) * 100).toFixed(1)}%`;
  const cpuRate = (msPerCall: number) => fmtRate(1000 / msPerCall);
  const rows: Row[] = [
    { section: 'machine limit (node:crypto AES-256-GCM, one core, 32-byte messages)' },
    ['seal one data key', 'loop', fmtRate(limit.seal), '-', '-', '-', '-'],
    ['open one data key', 'loop', fmtRate(limit.open), '-', '-', '-', '-'],
    ['GenerateDataKey work: unwrap key + seal', 'loop', fmtRate(limit.generate), '-', '-', '-', '100%'],
    ['Decrypt work: unwrap key + open', 'loop', fmtRate(limit.decrypt), '-', '-', '-', '100%'],
    { section: 'amiforge in process (KmsService on SQLite: lookups, key policy, grants, crypto)' },
    ['GenerateDataKey', 'sequential', fmtRate(local.generate), '-', '-', '-', pct(local.generate, limit.generate)],
    ['Decrypt', 'sequential', fmtRate(local.decrypt), '-', '-', '-', pct(local.decrypt, limit.decrypt)],
  ];
  if (remote) {
    const line = (name: string, { load: r, serverCpuMsPerCall }: HttpPhase, of: number): Row => [
      name, `HTTP x${o.concurrency}`, fmtRate(rate(r)), fmtMs(percentile(r.latenciesMs, 50)), fmtMs(percentile(r.latenciesMs, 99)),
      cpuRate(serverCpuMsPerCall), pct(rate(r), of),
    ];
    rows.push({ section: 'amiforge server (SigV4 JSON 1.1 over keep-alive HTTP on 127.0.0.1, client in this process)' });
    rows.push(line('GenerateDataKey', remote.generate, limit.generate), line('Decrypt', remote.decrypt, limit.decrypt));
    for (const [name, r] of [['GenerateDataKey', remote.generate.load], ['Decrypt', remote.decrypt.load]] as const) {
      if (r.errors) console.log(`${name}: ${r.errors} errors, first: ${r.firstError}`);
    }
  }
  console.log(renderTable(['operation', 'how', 'per second', 'p50 ms', 'p99 ms', 'server CPU-bound/s', 'of limit'], rows));
  console.log('\nserver CPU-bound/s: 1 / (server CPU time per call), what the server process could answer on one core of its own;'
    + '\nclient and server share this machine\'s cores, so the measured HTTP rate is lower when cores are few.');
}
