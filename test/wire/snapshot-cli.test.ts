// `amiforge snapshot upload|download` and `amiforge image import`, run as the real CLI
// (bin/amiforge, a child process) against a real server; results checked with the AWS SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EBSClient, ListChangedBlocksCommand, ListSnapshotBlocksCommand } from '@aws-sdk/client-ebs';
import { DescribeImagesCommand, DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ALICE, startServer, type RunningServer } from '../support/server.ts';
import { devCredentials, ec2Client } from '../support/clients.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/amiforge');
const BLOCK = 512 * 1024;
const MIB = 1024 * 1024;
const ACCOUNT = '123456789012';

let server: RunningServer;
let dir: string;
let ec2: EC2Client;
let ebs: EBSClient;

interface Run { code: number | null; stdout: string; stderr: string }

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: server.endpoint,
    AWS_ACCESS_KEY_ID: ACCOUNT,
    AWS_SECRET_ACCESS_KEY: 'dev-mode-any-secret',
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AMIFORGE_CACHE_DIR: join(dir, 'cache'),
    TMPDIR: join(dir, 'tmp'),
    ...extra,
  };
}

function amiforge(args: string[], extra: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(CLI, args, { env: cliEnv(extra), maxBuffer: 16 * MIB }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs the CLI and expects success; returns its stdout's one line (an id). */
async function ok(args: string[], extra: Record<string, string> = {}): Promise<{ id: string; stderr: string }> {
  const r = await amiforge(args, extra);
  assert.equal(r.code, 0, `amiforge ${args.join(' ')} failed: ${r.stderr}`);
  return { id: r.stdout.trim(), stderr: r.stderr };
}

async function sha256File(path: string): Promise<string> {
  const fh = await open(path, 'r');
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(8 * MIB);
  try {
    for (let pos = 0; ;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (!bytesRead) break;
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/** Byte-for-byte comparison in 8 MiB chunks (memcmp): for files too big to hash twice quickly. */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  const [ba, bb] = [Buffer.allocUnsafe(8 * MIB), Buffer.allocUnsafe(8 * MIB)];
  try {
    for (let pos = 0; ;) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, ba.length, pos), fb.read(bb, 0, bb.length, pos)]);
      if (ra.bytesRead !== rb.bytesRead) return false;
      if (!ra.bytesRead) return true;
      if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      pos += ra.bytesRead;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** Same size and content: SHA-256 compared, or (past 256 MiB, mostly holes) bytes compared. */
async function assertSameFile(actual: string, expected: string): Promise<void> {
  const size = statSync(expected).size;
  assert.equal(statSync(actual).size, size, 'file size');
  if (size > 256 * MIB) assert.ok(await sameBytes(actual, expected), `${actual} differs from ${expected}`);
  else assert.equal(await sha256File(actual), await sha256File(expected), `${actual} differs from ${expected}`);
}

/** A file of `size` bytes with `regions` written (offset, length) with random bytes; holes elsewhere. */
async function sparseFile(path: string, size: number, regions: [number, number][]): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.truncate(size);
    for (const [offset, length] of regions) await fh.write(randomBytes(length), 0, length, offset);
  } finally {
    await fh.close();
  }
}

async function listBlocks(snapshotId: string): Promise<number[]> {
  const out: number[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ebs.send(new ListSnapshotBlocksCommand({ SnapshotId: snapshotId, NextToken }));
    out.push(...(page.Blocks ?? []).map((b) => b.BlockIndex!));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

async function changedBlocks(first: string, second: string): Promise<number[]> {
  const out: number[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ebs.send(new ListChangedBlocksCommand({ FirstSnapshotId: first, SecondSnapshotId: second, NextToken }));
    out.push(...(page.ChangedBlocks ?? []).map((b) => b.BlockIndex!));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

async function snapshotState(snapshotId: string): Promise<string | undefined> {
  const out = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
  return out.Snapshots?.[0]?.State;
}

const sentOf = (stderr: string) => Number(/: (\d+) of \d+ blocks sent/.exec(stderr)?.[1] ?? NaN);

before(async () => {
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 'amiforge-snapcli-'));
  for (const d of ['cache', 'tmp']) mkdirSync(join(dir, d));
  ec2 = ec2Client(server.endpoint, devCredentials(ACCOUNT));
  ebs = new EBSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: devCredentials(ACCOUNT), maxAttempts: 1 });
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('snapshot upload and download', () => {
  const dense = () => join(dir, 'dense.raw');
  let denseSnapshot = '';

  test('a dense file (24 MiB and a partial block) comes back byte for byte', async () => {
    writeFileSync(dense(), randomBytes(24 * MIB + 123_457));
    const up = await ok(['snapshot', 'upload', dense(), '--description', 'dense test']);
    assert.match(up.id, /^snap-[0-9a-f]{17}$/);
    denseSnapshot = up.id;
    assert.equal(sentOf(up.stderr), 49, up.stderr); // 48 whole blocks and the partial one
    assert.equal(existsSync(`${dense()}.amiforge-upload.jsonl`), false, 'the journal is removed on success');
    assert.equal(await snapshotState(up.id), 'completed');
    assert.deepEqual(await listBlocks(up.id), Array.from({ length: 49 }, (_, i) => i));

    const out = join(dir, 'dense.out');
    await ok(['snapshot', 'download', up.id, out]);
    await assertSameFile(out, dense());

    const again = await amiforge(['snapshot', 'download', up.id, out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; remove it or pass --force/);
    await ok(['snapshot', 'download', up.id, out, '--force', '--concurrency', '3']);
    await assertSameFile(out, dense());
  });

  test('a 2 GiB sparse file: zero blocks are not sent and the download is sparse too', async () => {
    const src = join(dir, 'sparse.raw');
    const size = 2 * 1024 * MIB;
    // 5 MiB of data: aligned and unaligned regions, one across the 1 GiB mark, one at the very end.
    await sparseFile(src, size, [[0, MIB], [300 * MIB + 12_345, MIB], [1024 * MIB - BLOCK, MIB], [1536 * MIB, MIB], [size - MIB, MIB]]);
    const up = await ok(['snapshot', 'upload', src]);
    const blocks = await listBlocks(up.id);
    const expected = [0, 1, 600, 601, 602, 2047, 2048, 3072, 3073, 4094, 4095];
    assert.deepEqual(blocks, expected);
    assert.equal(sentOf(up.stderr), expected.length);
    const volume = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [up.id] }))).Snapshots![0].VolumeSize;
    assert.equal(volume, 2);

    const out = join(dir, 'sparse.out');
    await ok(['snapshot', 'download', up.id, out]);
    const st = statSync(out);
    assert.equal(st.size, size);
    assert.ok(st.blocks * 512 < 16 * MIB, `the download should be sparse: ${st.blocks * 512} bytes allocated`);
    await assertSameFile(out, src);
    rmSync(out);
    rmSync(src);
  });

  test('--parent sends only the changed blocks (zeroed ones included), with or without a cached manifest', async () => {
    assert.ok(denseSnapshot, 'needs the dense snapshot');
    const child = join(dir, 'child.raw');
    const data = readFileSync(dense());
    const changed = [3, 17, 40];
    for (const i of changed) randomBytes(1000).copy(data, i * BLOCK + 5000);
    data.fill(0, 10 * BLOCK, 11 * BLOCK); // a block of zeros over the parent's data must be written
    writeFileSync(child, data);
    const expected = [3, 10, 17, 40];

    const up = await ok(['snapshot', 'upload', child, '--parent', denseSnapshot]);
    assert.match(up.stderr, /cached block manifest/);
    assert.equal(sentOf(up.stderr), expected.length, up.stderr);
    assert.deepEqual(await changedBlocks(denseSnapshot, up.id), expected);
    const out = join(dir, 'child.out');
    await ok(['snapshot', 'download', up.id, out]);
    await assertSameFile(out, child);

    // No manifest (a fresh cache): the parent's checksums come from GetSnapshotBlock; same result.
    const fresh = await ok(['snapshot', 'upload', child, '--parent', denseSnapshot], { AMIFORGE_CACHE_DIR: join(dir, 'empty-cache') });
    assert.match(fresh.stderr, /GetSnapshotBlock/);
    assert.equal(sentOf(fresh.stderr), expected.length, fresh.stderr);
    assert.deepEqual(await changedBlocks(denseSnapshot, fresh.id), expected);

    // A child of the child: one more change, compared against the first child's manifest.
    data[45 * BLOCK] ^= 0xff;
    writeFileSync(child, data);
    const grandchild = await ok(['snapshot', 'upload', child, '--parent', up.id]);
    assert.deepEqual(await changedBlocks(up.id, grandchild.id), [45]);
    await ok(['snapshot', 'download', grandchild.id, out, '--force']);
    await assertSameFile(out, child);
  });
});

describe('strict SigV4 verification', () => {
  test('an upload and a download signed with real keys pass the server\'s signature checks (payload hash included)', async () => {
    const strict = await startServer({ accounts: [ALICE] });
    try {
      const src = join(dir, 'strict.raw');
      writeFileSync(src, randomBytes(3 * BLOCK + 17));
      const env = { AWS_ENDPOINT_URL: strict.endpoint, AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey };
      const up = await ok(['snapshot', 'upload', src], env);
      const out = join(dir, 'strict.out');
      await ok(['snapshot', 'download', up.id, out], env);
      await assertSameFile(out, src);
      const wrong = await amiforge(['snapshot', 'upload', src, '--no-resume'], { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /SignatureDoesNotMatch|InvalidSignature|AccessDenied|UnrecognizedClient/, wrong.stderr);
    } finally {
      await strict.stop();
    }
  });
});

describe('resuming an interrupted upload', () => {
  test('stopped after 10 blocks, a rerun continues the same snapshot', async () => {
    const src = join(dir, 'resume.raw');
    writeFileSync(src, randomBytes(40 * BLOCK));
    const journal = `${src}.amiforge-upload.jsonl`;
    const first = await amiforge(['snapshot', 'upload', src, '--concurrency', '4'], { AMIFORGE_TEST_STOP_AFTER_BLOCKS: '10' });
    assert.equal(first.code, 130, first.stderr);
    assert.equal(first.stdout, '');
    assert.match(first.stderr, /run the same upload again to resume snapshot snap-/);
    assert.equal(first.stderr.trim().split('\n').length, 1, first.stderr);
    const header = JSON.parse(readFileSync(journal, 'utf8').split('\n')[0]) as { snapshotId: string };
    assert.equal(await snapshotState(header.snapshotId), 'pending');
    const journaled = readFileSync(journal, 'utf8').trim().split('\n').length - 1;
    assert.ok(journaled >= 10 && journaled < 40, `journaled ${journaled} blocks`);

    const second = await ok(['snapshot', 'upload', src]);
    assert.equal(second.id, header.snapshotId, 'the same snapshot is continued');
    assert.match(second.stderr, /resuming snapshot/);
    assert.equal(sentOf(second.stderr), 40 - journaled);
    assert.equal(existsSync(journal), false);
    const out = join(dir, 'resume.out');
    await ok(['snapshot', 'download', second.id, out]);
    await assertSameFile(out, src);
  });

  test('killed (SIGKILL) mid-upload, a rerun completes the same snapshot', async () => {
    const src = join(dir, 'killed.raw');
    writeFileSync(src, randomBytes(128 * BLOCK));
    const journal = `${src}.amiforge-upload.jsonl`;
    const child = spawn(CLI, ['snapshot', 'upload', src, '--concurrency', '1'], { env: cliEnv(), stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const lines = existsSync(journal) ? readFileSync(journal, 'utf8').split('\n').length : 0;
      if (lines > 6) break;
      assert.ok(Date.now() < deadline && child.exitCode === null, 'the upload ended before it could be killed');
      await new Promise((r) => setTimeout(r, 2));
    }
    // bin/amiforge execs node, so this is the uploader itself.
    child.kill('SIGKILL');
    await exited;
    const header = JSON.parse(readFileSync(journal, 'utf8').split('\n')[0]) as { snapshotId: string };
    const second = await ok(['snapshot', 'upload', src]);
    assert.equal(second.id, header.snapshotId);
    assert.ok(sentOf(second.stderr) < 128, second.stderr);
    const out = join(dir, 'killed.out');
    await ok(['snapshot', 'download', second.id, out]);
    await assertSameFile(out, src);
  });

  test('--no-resume starts a new snapshot', async () => {
    const src = join(dir, 'noresume.raw');
    writeFileSync(src, randomBytes(8 * BLOCK));
    const first = await amiforge(['snapshot', 'upload', src, '--concurrency', '1'], { AMIFORGE_TEST_STOP_AFTER_BLOCKS: '2' });
    assert.equal(first.code, 130);
    const header = JSON.parse(readFileSync(`${src}.amiforge-upload.jsonl`, 'utf8').split('\n')[0]) as { snapshotId: string };
    const second = await ok(['snapshot', 'upload', src, '--no-resume']);
    assert.notEqual(second.id, header.snapshotId);
    assert.equal(sentOf(second.stderr), 8);
  });
});

describe('image import', () => {
  test('registers an HVM, ENA image whose root snapshot downloads back identical', async () => {
    const src = join(dir, 'root.raw');
    await sparseFile(src, 64 * MIB, [[0, 2 * MIB], [40 * MIB + 7, 300_000]]);
    const r = await ok(['image', 'import', src, '--name', 'imported-root', '--description', 'from the CLI']);
    assert.match(r.id, /^ami-[0-9a-f]{17}$/);
    const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [r.id] }))).Images![0];
    assert.equal(image.Name, 'imported-root');
    assert.equal(image.Description, 'from the CLI');
    assert.equal(image.Architecture, 'x86_64');
    assert.equal(image.VirtualizationType, 'hvm');
    assert.equal(image.EnaSupport, true);
    assert.equal(image.RootDeviceName, '/dev/xvda');
    const root = image.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/xvda')!;
    const snapshotId = root.Ebs!.SnapshotId!;
    assert.match(r.stderr, new RegExp(`root snapshot ${snapshotId}`));
    const out = join(dir, 'root.out');
    await ok(['snapshot', 'download', snapshotId, out]);
    await assertSameFile(out, src);
  });

  test('--architecture arm64 and a missing --name', async () => {
    const src = join(dir, 'arm.raw');
    writeFileSync(src, randomBytes(BLOCK));
    const r = await ok(['image', 'import', src, '--name', 'arm-image', '--architecture', 'arm64']);
    const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [r.id] }))).Images![0];
    assert.equal(image.Architecture, 'arm64');
    const missing = await amiforge(['image', 'import', src]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /--name/);
  });
});

const qemuImg = spawnSync('qemu-img', ['--version']).status === 0;

describe('other image formats', () => {
  test('a qcow2 image is converted, uploaded and downloads as its raw content', { skip: !qemuImg && 'qemu-img is not installed' }, async () => {
    const raw = join(dir, 'q.raw');
    await sparseFile(raw, 48 * MIB, [[0, MIB], [20 * MIB + 999, 2 * MIB], [48 * MIB - 4096, 4096]]);
    const qcow = join(dir, 'q.qcow2');
    const conv = spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow]);
    assert.equal(conv.status, 0, String(conv.stderr));
    assert.equal(readFileSync(qcow).subarray(0, 4).toString('latin1'), 'QFI\xfb');
    const up = await ok(['snapshot', 'upload', qcow]);
    assert.match(up.stderr, /converting qcow2 image to raw/);
    assert.deepEqual(readdirSync(join(dir, 'tmp')).filter((n) => n.startsWith('amiforge-convert-')), [], 'the raw copy is removed');
    const out = join(dir, 'q.out');
    await ok(['snapshot', 'download', up.id, out]);
    await assertSameFile(out, raw);
  });

  test('without qemu-img, a qcow2 upload says what to install', async () => {
    const qcow = join(dir, 'fake.qcow2');
    writeFileSync(qcow, Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(1020)]));
    // node itself, not bin/amiforge (a shell script that needs PATH), with no qemu-img on PATH.
    const r = await new Promise<Run>((resolve) => {
      execFile(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'snapshot', 'upload', qcow], { env: cliEnv({ PATH: '/nonexistent' }) },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /needs qemu-img, which is not installed; install it/);
  });
});

describe('errors are one line saying what to do', () => {
  const oneLine = (r: Run) => {
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  };

  test('missing file, unreachable endpoint, unknown snapshot, file too large for --size', async () => {
    const missing = await amiforge(['snapshot', 'upload', join(dir, 'nope.raw')]);
    oneLine(missing);
    assert.match(missing.stderr, /does not exist; check the path/);

    const small = join(dir, 'small.raw');
    writeFileSync(small, randomBytes(BLOCK));
    const refused = await amiforge(['snapshot', 'upload', small, '--endpoint-url', 'http://127.0.0.1:9']);
    oneLine(refused);
    assert.match(refused.stderr, /cannot connect to http:\/\/127\.0\.0\.1:9 .*is the server running/);

    const unknown = await amiforge(['snapshot', 'download', 'snap-0123456789abcdef0', join(dir, 'x.out')]);
    oneLine(unknown);
    assert.match(unknown.stderr, /ResourceNotFoundException/);
    assert.equal(existsSync(join(dir, 'x.out')), false);

    const big = join(dir, 'big.raw');
    await sparseFile(big, 1024 * MIB + 1, [[0, 10]]);
    const tooBig = await amiforge(['snapshot', 'upload', big, '--size', '1']);
    oneLine(tooBig);
    assert.match(tooBig.stderr, /give a size of at least 2 GiB/);

    const badOption = await amiforge(['snapshot', 'upload', small, '--concurrency', 'lots']);
    assert.notEqual(badOption.code, 0);
    assert.match(badOption.stderr, /--concurrency must be a whole number/);
  });
});
