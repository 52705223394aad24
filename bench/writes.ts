// Bytes stored per byte written: what a guest's writes to a volume cost the store, with the
// volume write buffer and small-write journal (`--volume-write-buffer 32`, the default) and
// without them (`0`: every write stores its whole 512 KiB block, as before the buffer). Stored
// bytes are whole blocks (512 KiB each) plus journal pages (4 KiB each). 1.0 = each written byte
// stored once.
//
//   1. A real guest: amiforge-minimal-linux under `amiforge serve --hypervisor qemu`, user data
//      running busybox dd on its ext4 root (so the guest's page cache, ext4's journal and its
//      flushes are all in the figures): a sequential 16 MiB file (one fsync), a 1 MiB "database"
//      file rewritten with 1024 random 4 KiB writes and a sync every 256, and 64 random 4 KiB
//      writes over a 4 MiB file with an fsync after each. Bytes from GET /_amiforge/volume-writes
//      between the guest's phase markers on its console.
//   2. The same server code in process (NbdServer over volumeExport over VolumeData on a
//      filesystem block store), driven by an NBD client as a guest's disk driver would: exact
//      request patterns, no guest noise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes, randomInt } from 'node:crypto';
import {
  DescribeImagesCommand, DescribeInstancesCommand, EC2Client, GetConsoleOutputCommand, RunInstancesCommand, TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { FsBlockStore } from '../src/adapters/fs/fs-block-store.ts';
import { NbdServer } from '../src/adapters/qemu/nbd-server.ts';
import { volumeExport } from '../src/adapters/qemu/volume-export.ts';
import { SqliteMetadataStore } from '../src/adapters/sqlite/sqlite-store.ts';
import { VolumeData } from '../src/domain/volumes/volume-data.ts';
import { NbdClient } from '../test/support/nbd-client.ts';
import { makeVolume } from '../test/support/qemu.ts';
import { startAmiforge, type BenchServer } from './support/servers.ts';
import { fmtMB, renderTable, type Row } from './support/table.ts';

export const description = 'Bytes stored per byte a guest writes to a volume, with and without the volume write buffer: a real QEMU guest (sequential file, 4 KiB random writes with fsync) and an NBD client in process';

const USAGE = `usage: npm run bench -- writes [--only guest|nbd]
  --only guest   only the real guest (needs QEMU and the base image: bash scripts/install-qemu.sh && bash scripts/build-base-image.sh)
  --only nbd     only the in-process NBD client workloads`;

const KiB = 1024;
const MiB = 1024 * KiB;
const BLOCK = 512 * KiB;
const MODES = [{ name: 'before (no buffer)', blocks: 0 }, { name: 'after (32-block buffer, journal)', blocks: 32 }] as const;
const LIMIT_MS = 600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Cost { written: number; stored: number }
type Results = Map<string, Cost[]>; // workload -> one cost per mode

const ratio = (c: Cost) => (c.written ? (c.stored / c.written).toFixed(2) : '-');

function table(results: Results, notes: Record<string, string>): string {
  const rows: Row[] = [...results].map(([workload, costs]) => [
    workload, fmtMB(costs[0].written), fmtMB(costs[0].stored), ratio(costs[0]),
    fmtMB(costs[1].written), fmtMB(costs[1].stored), ratio(costs[1]), notes[workload] ?? '',
  ]);
  return renderTable(['workload', 'wrote MB', 'stored MB', 'before', 'wrote MB', 'stored MB', 'after', 'why'], rows);
}

// ---- 1. a real guest ---------------------------------------------------------------------------

const GUEST_SCRIPT = `#!/bin/sh
# Each phase ends with a sync (its writes made durable) and a marker the host reads the counters at.
phase() { sync; echo "writes-bench: $1"; sleep 3; }
phase start
dd if=/dev/urandom of=/seq.bin bs=64k count=256 conv=fsync 2>/dev/null
phase sequential
dd if=/dev/urandom of=/hot.bin bs=64k count=16 conv=fsync 2>/dev/null
phase hot-setup
i=0
while [ $i -lt 1024 ]; do
  dd if=/dev/urandom of=/hot.bin bs=4k count=1 seek=$((RANDOM % 256)) conv=notrunc 2>/dev/null
  i=$((i + 1))
  [ $((i % 256)) -eq 0 ] && sync
done
phase hot
dd if=/dev/urandom of=/spread.bin bs=64k count=64 conv=fsync 2>/dev/null
phase spread-setup
i=0
while [ $i -lt 64 ]; do
  dd if=/dev/urandom of=/spread.bin bs=4k count=1 seek=$((RANDOM % 1024)) conv=notrunc,fsync 2>/dev/null
  i=$((i + 1))
done
phase spread
`;
const GUEST_PHASES: [string, string][] = [
  ['sequential', 'a 16 MiB file, dd bs=64k conv=fsync'],
  ['hot', '1024 random 4 KiB writes in a 1 MiB file, sync every 256'],
  ['spread', '64 random 4 KiB writes over 4 MiB, fsync after each'],
];

interface WriteCounters { bytesWritten: number; bytesStored: number }

async function counters(server: BenchServer): Promise<WriteCounters> {
  const res = await fetch(`${server.endpoint}/_amiforge/volume-writes`);
  return (await res.json()) as WriteCounters;
}

async function guestRun(bufferBlocks: number): Promise<Map<string, Cost>> {
  const server = await startAmiforge({ serveArgs: ['--hypervisor', 'qemu', '--volume-write-buffer', String(bufferBlocks)] });
  const ec2 = new EC2Client({
    endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: '111111111111', secretAccessKey: 'x' }, maxAttempts: 1,
  });
  try {
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['amiforge-minimal-linux'] }] }));
    if (!Images[0]) throw new Error('amiforge-minimal-linux is not in the catalogue: is the base image built?');
    const { Instances = [] } = await ec2.send(new RunInstancesCommand({
      ImageId: Images[0].ImageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, UserData: Buffer.from(GUEST_SCRIPT).toString('base64'),
    }));
    const id = Instances[0].InstanceId!;
    const at = new Map<string, WriteCounters>();
    const deadline = Date.now() + LIMIT_MS;
    while (!at.has('spread')) {
      if (Date.now() > deadline) throw new Error(`the guest did not finish its writes within ${LIMIT_MS / 1000} s`);
      const { Output } = await ec2.send(new GetConsoleOutputCommand({ InstanceId: id, Latest: true }));
      const text = Output ? Buffer.from(Output, 'base64').toString('utf8') : '';
      for (const [, phase] of text.matchAll(/writes-bench: (\S+)/g)) if (!at.has(phase)) at.set(phase, await counters(server));
      if (/user-data done \(exit [1-9]/.test(text)) throw new Error(`the guest's script failed:\n${text.slice(-2000)}`);
      await sleep(200);
    }
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    for (let i = 0; i < 300; i++) {
      const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      if (Reservations[0]?.Instances?.[0]?.State?.Name === 'terminated') break;
      await sleep(200);
    }
    const order = ['start', 'sequential', 'hot-setup', 'hot', 'spread-setup', 'spread'];
    const out = new Map<string, Cost>();
    for (const [phase] of GUEST_PHASES) {
      const prev = at.get(order[order.indexOf(phase) - 1])!;
      const now = at.get(phase)!;
      out.set(phase, { written: now.bytesWritten - prev.bytesWritten, stored: now.bytesStored - prev.bytesStored });
    }
    return out;
  } finally {
    ec2.destroy();
    await server.stop();
  }
}

async function guestPart(): Promise<void> {
  const runs: Map<string, Cost>[] = [];
  for (const mode of MODES) runs.push(await guestRun(mode.blocks));
  const results: Results = new Map(GUEST_PHASES.map(([phase, what]) => [`${phase}: ${what}`, runs.map((r) => r.get(phase)!)]));
  console.log('\n1. A real guest (amiforge-minimal-linux under QEMU, ext4 root): bytes the guest wrote over NBD and bytes stored for them\n');
  console.log(table(results, {}));
}

// ---- 2. the same server code, an NBD client in process ---------------------------------------

interface Workload { name: string; why: string; run(nbd: NbdClient): Promise<void> }

/** `count` 4 KiB writes at random pages of the `span` bytes from `at`, a flush after every `flushEvery`. */
function randomPages(count: number, where: { at: number; span: number; flushEvery: number }, why: string): Workload {
  const { at, span, flushEvery } = where;
  return {
    name: `${count} random 4 KiB writes in ${span / MiB} MiB, flush every ${flushEvery}`,
    why,
    async run(nbd) {
      const page = randomBytes(4 * KiB);
      for (let i = 1; i <= count; i++) {
        await nbd.write(at + randomInt(0, span / (4 * KiB)) * 4 * KiB, page);
        if (i % flushEvery === 0) await nbd.flush();
      }
    },
  };
}

const WORKLOADS: Workload[] = [
  {
    name: 'sequential 64 MiB in 128 KiB writes, one flush',
    why: 'a file written out by the page cache',
    async run(nbd) {
      const chunk = randomBytes(128 * KiB);
      for (let at = 0; at < 64 * MiB; at += chunk.length) await nbd.write(at, chunk);
      await nbd.flush();
    },
  },
  randomPages(4096, { at: 256 * MiB, span: 1 * MiB, flushEvery: 256 }, 'a hot file rewritten between fsyncs'),
  randomPages(2048, { at: 512 * MiB, span: 64 * MiB, flushEvery: 16 }, 'sparse: each flush dirties ~16 blocks for 64 KiB'),
];

const SETTLE = 'then settle: the journal folded into whole blocks';

async function nbdRun(bufferBlocks: number): Promise<Map<string, Cost>> {
  const dir = mkdtempSync(join(tmpdir(), 'amiforge-bench-writes-'));
  const store = new SqliteMetadataStore(join(dir, 'metadata.sqlite'));
  const blocks = new FsBlockStore({ root: join(dir, 'blocks') });
  try {
    const vol = await makeVolume(store, 'vol-0bec4000000000001', 1);
    const data = new VolumeData({ store, blocks, writeBufferBlocks: bufferBlocks });
    const server = new NbdServer({ export: volumeExport(data, vol), name: 'disk' });
    await server.listen(join(dir, 'd.nbd'));
    const nbd = await NbdClient.connect(join(dir, 'd.nbd'));
    const out = new Map<string, Cost>();
    for (const w of WORKLOADS) {
      const before = server.allStats();
      await w.run(nbd);
      const after = server.allStats();
      out.set(w.name, { written: after.bytesWritten - before.bytesWritten, stored: after.bytesStored - before.bytesStored });
    }
    await nbd.close();
    await server.close();
    // What the journal defers: folding it into whole blocks, as before a snapshot or at a stop.
    const before = data.volumeWriteStats(vol.volumeId);
    await data.settle(vol);
    out.set(SETTLE, { written: 0, stored: data.volumeWriteStats(vol.volumeId).bytesStored - before.bytesStored });
    return out;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function nbdPart(): Promise<void> {
  const runs: Map<string, Cost>[] = [];
  for (const mode of MODES) runs.push(await nbdRun(mode.blocks));
  const results: Results = new Map([...WORKLOADS.map((w) => w.name), SETTLE].map((name) => [name, runs.map((r) => r.get(name)!)]));
  console.log('\n2. The same server code in process (NbdServer → volumeExport → VolumeData, filesystem block store), an NBD client\n');
  console.log(table(results, { ...Object.fromEntries(WORKLOADS.map((w) => [w.name, w.why])), [SETTLE]: 'once, before a snapshot or at a stop' }));
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { only: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) return console.log(USAGE);
  if (values.only && values.only !== 'guest' && values.only !== 'nbd') throw new Error(USAGE);
  console.log('bytes stored per byte written (1.00 = each byte the guest wrote stored once; aim ≤ 1.2 at steady state)');
  console.log(`before: --volume-write-buffer 0 (every write stores its whole ${BLOCK / KiB} KiB block); after: the default, 32 blocks (16 MiB) per volume,`);
  console.log('each dirty block written out once per guest flush: whole, or its changed 4 KiB pages into the journal when under 7/8 of it changed');
  if (values.only !== 'nbd') await guestPart();
  if (values.only !== 'guest') await nbdPart();
}
