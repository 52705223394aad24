// The scale benchmark: amiforge on several nodes sharing PostgreSQL and an S3-compatible object
// store (Ceph's RADOS Gateway), each figure beside its reference measured in the same run:
//  1. RegisterImage and DescribeImages throughput with 1, 2 and 3 nodes on PostgreSQL beside one
//     node on SQLite, with each node's and the database's CPU (on a 2-core machine the scaling
//     shows in CPU per request, not only in requests per second), and the database's own limit:
//     the same repository calls made in process, without HTTP, signing or the domain.
//  2. Snapshot upload and download MB/s through amiforge (EBS direct API) to the gateway, beside
//     the gateway's own rate for 512 KiB objects with a plain S3 client.
//  3. How long another node takes to finish a cross-region CopyImage whose node was SIGKILLed,
//     beside the same copy uninterrupted and the lease period.
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { CopyImageCommand, DescribeImagesCommand, EC2Client, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { CompleteSnapshotCommand, EBSClient, GetSnapshotBlockCommand, ListSnapshotBlocksCommand, PutSnapshotBlockCommand, StartSnapshotCommand } from '@aws-sdk/client-ebs';
import { createHash } from 'node:crypto';
import { parseBenchArgs } from './support/args.ts';
import { measureGatewayThroughput } from './support/object-store-reference.ts';
import { startClusterStores, type ClusterStores } from './support/cluster-stores.ts';
import { BenchEc2Client } from './support/ec2-client.ts';
import { percentile, rate, runLoad, type LoadResult } from './support/load.ts';
import { cpuMsOf, startAmiforge, type BenchServer } from './support/servers.ts';
import { fmtMs, fmtRate, renderTable, type Row } from './support/table.ts';
import { PgMetadataStore } from '../src/adapters/postgres/pg-store.ts';
import type { ImageRecord } from '../src/ports/metadata-store.ts';

export const description = 'several nodes on PostgreSQL and the RADOS Gateway: API throughput per node count, snapshot MB/s, takeover after a node dies';

const USAGE = `usage: npm run bench -- scale [--images N] [--concurrency C] [--blocks B] [--lease-seconds S]
  --images N         RegisterImage requests per configuration (default 2000)
  --concurrency C    requests in flight (default 32)
  --blocks B         512 KiB blocks uploaded and downloaded (default 256: 128 MiB)
  --lease-seconds S  the nodes' lease period for the takeover measurement (default 5)`;

const BLOCK = 512 * 1024;
const ACCOUNT = { accessKeyId: '111111111111', secretAccessKey: 'x' };

interface Cluster { nodes: BenchServer[]; stop(): Promise<void> }

async function startNodes(stores: ClusterStores, n: number, o: { database?: string; prefix: string; leaseSeconds?: number }): Promise<Cluster> {
  const nodes: BenchServer[] = [];
  for (let i = 0; i < n; i++) {
    const serveArgs = ['--catalog', stores.emptyCatalog, ...(o.database ? [
      '--database', o.database, '--blocks', `s3://${stores.bucket}/${o.prefix}`,
      '--kms-root-key-file', stores.kmsRootKeyFile, '--node-id', `${o.prefix}-${i + 1}`,
      '--public-address-range', `127.${110 + i}.0.0/16`,
      ...(o.leaseSeconds ? ['--lease-seconds', String(o.leaseSeconds)] : []),
    ] : [])];
    nodes.push(await startAmiforge({ serveArgs, env: stores.env }));
  }
  return { nodes, stop: async () => { await Promise.all(nodes.map((s) => s.stop().catch(() => {}))); } };
}

function registerParams(i: number, snapshotId: string): Record<string, string | number> {
  return {
    'Name': `scale-${String(i).padStart(6, '0')}`, 'Architecture': 'x86_64', 'VirtualizationType': 'hvm',
    'RootDeviceName': '/dev/xvda', 'BlockDeviceMapping.1.DeviceName': '/dev/xvda',
    'BlockDeviceMapping.1.Ebs.SnapshotId': snapshotId, 'BlockDeviceMapping.1.Ebs.VolumeSize': 8,
    'TagSpecification.1.ResourceType': 'image', 'TagSpecification.1.Tag.1.Key': 'team', 'TagSpecification.1.Tag.1.Value': `t${i % 5}`,
  };
}

async function emptySnapshot(client: BenchEc2Client): Promise<string> {
  const start = await client.rest('ebs', 'POST', '/snapshots', { 'content-type': 'application/json' }, JSON.stringify({ VolumeSize: 8, Timeout: 60 }));
  const id = (JSON.parse(start.body) as { SnapshotId?: string }).SnapshotId;
  if (!id) throw new Error(`StartSnapshot: HTTP ${start.status} ${start.body.slice(0, 300)}`);
  const done = await client.rest('ebs', 'POST', `/snapshots/completion/${id}`, { 'x-amz-changedblockscount': '0' });
  if (done.status !== 202) throw new Error(`CompleteSnapshot: HTTP ${done.status} ${done.body.slice(0, 300)}`);
  return id;
}

interface ApiFigures { register: LoadResult; describe: LoadResult; nodeCpu: number[]; dbCpu?: number }

function cpuShare(before: number[], after: number[], wallMs: number): number[] {
  return after.map((a, i) => (a - before[i]!) / wallMs * 100);
}

function sumCpu(pids: number[]): number {
  let total = 0;
  for (const pid of pids) { try { total += cpuMsOf(pid); } catch { /* a backend that ended */ } }
  return total;
}

/** RegisterImage then DescribeImages (one owner's page of 50, by tag) spread round-robin over the nodes. */
async function apiRun(cluster: Cluster, o: { images: number; concurrency: number; dbPids?: () => number[] }): Promise<ApiFigures> {
  const clients = cluster.nodes.map((s) => new BenchEc2Client({ endpoint: s.endpoint, ...ACCOUNT, maxSockets: o.concurrency }));
  try {
    const snapshotId = await emptySnapshot(clients[0]!);
    const measure = async (load: () => Promise<LoadResult>) => {
      const pids = cluster.nodes.map((s) => s.pid);
      const before = pids.map(cpuMsOf);
      const dbBefore = o.dbPids ? sumCpu(o.dbPids()) : 0;
      const r = await load();
      const nodeCpu = cpuShare(before, pids.map(cpuMsOf), r.wallMs);
      const dbCpu = o.dbPids ? (sumCpu(o.dbPids()) - dbBefore) / r.wallMs * 100 : undefined;
      if (r.errors) throw new Error(`load failed: ${r.errors} errors, first: ${r.firstError}`);
      return { r, nodeCpu, dbCpu };
    };
    const reg = await measure(() => runLoad({
      count: o.images, concurrency: o.concurrency, maxSeconds: 300,
      send: (i) => clients[i % clients.length]!.call('RegisterImage', registerParams(i, snapshotId)),
    }));
    const desc = await measure(() => runLoad({
      count: Math.max(500, o.images / 2), concurrency: o.concurrency, maxSeconds: 120,
      send: (i) => clients[i % clients.length]!.call('DescribeImages', {
        'Owner.1': 'self', 'Filter.1.Name': 'tag:team', 'Filter.1.Value.1': `t${i % 5}`, 'MaxResults': 50,
      }),
    }));
    return { register: reg.r, describe: desc.r, nodeCpu: reg.nodeCpu.map((c, i) => (c + desc.nodeCpu[i]!) / 2), dbCpu: reg.dbCpu };
  } finally {
    for (const c of clients) c.close();
  }
}

/** The database's own limit: the same repository calls, in process, at the same concurrency. */
async function databaseLimit(url: string, o: { images: number; concurrency: number }): Promise<{ insertPerS: number; scanPerS: number }> {
  const store = await PgMetadataStore.open(url);
  try {
    const record = (i: number): ImageRecord => ({
      region: 'us-east-1', launchPermissions: [],
      image: {
        imageId: `ami-0${i.toString(16).padStart(16, '0')}`, ownerId: '111111111111', name: `direct-${i}`, state: 'available',
        creationDate: new Date().toISOString(), architecture: 'x86_64', rootDeviceName: '/dev/xvda',
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 8 } }],
      },
    });
    const timed = async (count: number, fn: (i: number) => Promise<void>) => {
      let next = 0;
      const started = performance.now();
      await Promise.all(Array.from({ length: o.concurrency }, async () => { while (next < count) await fn(next++); }));
      return count / ((performance.now() - started) / 1000);
    };
    const insertPerS = await timed(o.images, (i) => store.images.insert(record(i), { account: '111111111111', tags: [{ Key: 'team', Value: `t${i % 5}` }] }));
    const scanPerS = await timed(Math.max(500, o.images / 2), async (i) => {
      let n = 0;
      for await (const _ of store.images.scan({
        region: 'us-east-1', visibleTo: { account: '111111111111' }, ownerIds: ['111111111111'],
        tagFilters: [{ key: 'team', values: [`t${i % 5}`] }], expectedCount: 51,
      })) if (++n > 50) break;
    });
    return { insertPerS, scanPerS };
  } finally {
    await store.close();
  }
}

const ec2 = (s: BenchServer, region = 'us-east-1') => new EC2Client({ endpoint: s.endpoint, region, credentials: ACCOUNT, maxAttempts: 1 });
const ebs = (s: BenchServer) => new EBSClient({ endpoint: s.endpoint, region: 'us-east-1', credentials: ACCOUNT, maxAttempts: 1 });

async function parallel(count: number, width: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: width }, async () => { while (next < count) await fn(next++); }));
  return performance.now() - started;
}

/** Uploads `blocks` random blocks through one node, downloads them through another; MB/s each way. */
async function blockRun(up: BenchServer, down: BenchServer, blocks: number): Promise<{ upMBs: number; downMBs: number; snapshotId: string }> {
  const data = Array.from({ length: blocks }, () => randomBytes(BLOCK));
  const upClient = ebs(up);
  const downClient = ebs(down);
  const { SnapshotId } = await upClient.send(new StartSnapshotCommand({ VolumeSize: Math.ceil((blocks * BLOCK) / 2 ** 30) || 1, Timeout: 60 }));
  const upMs = await parallel(blocks, 16, async (i) => {
    await upClient.send(new PutSnapshotBlockCommand({
      SnapshotId, BlockIndex: i, BlockData: data[i], DataLength: BLOCK,
      Checksum: createHash('sha256').update(data[i]!).digest('base64'), ChecksumAlgorithm: 'SHA256',
    }));
  });
  await upClient.send(new CompleteSnapshotCommand({ SnapshotId, ChangedBlocksCount: blocks }));
  const tokens: { BlockIndex?: number; BlockToken?: string }[] = [];
  let NextToken: string | undefined;
  do {
    const page = await downClient.send(new ListSnapshotBlocksCommand({ SnapshotId, NextToken }));
    tokens.push(...(page.Blocks ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  const downMs = await parallel(tokens.length, 16, async (i) => {
    const r = await downClient.send(new GetSnapshotBlockCommand({ SnapshotId, BlockIndex: tokens[i]!.BlockIndex, BlockToken: tokens[i]!.BlockToken }));
    await r.BlockData!.transformToByteArray();
  });
  return { upMBs: (blocks * BLOCK) / 1e6 / (upMs / 1000), downMBs: (blocks * BLOCK) / 1e6 / (downMs / 1000), snapshotId: SnapshotId! };
}

async function waitAvailable(client: EC2Client, imageId: string, deadlineMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const r = await client.send(new DescribeImagesCommand({ ImageIds: [imageId] })).catch(() => undefined);
    const state = r?.Images?.[0]?.State;
    if (state === 'available') return performance.now() - started;
    if (state === 'failed') throw new Error(`image ${imageId} failed: ${JSON.stringify(r?.Images?.[0]?.StateReason)}`);
    if (performance.now() - started > deadlineMs) throw new Error(`image ${imageId} not available in ${deadlineMs / 1000} s (state ${state})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A cross-region CopyImage on node 1, SIGKILLed at once; node 2 finishes it. Beside an uninterrupted copy. */
async function takeoverRun(stores: ClusterStores, blocks: number, leaseSeconds: number): Promise<{ uninterruptedMs: number; takeoverMs: number }> {
  const cluster = await startNodes(stores, 2, { database: await stores.database(), prefix: 'takeover', leaseSeconds });
  try {
    const [one, two] = cluster.nodes as [BenchServer, BenchServer];
    const { snapshotId } = await blockRun(one, one, blocks);
    const register = async (name: string) => (await ec2(one).send(new RegisterImageCommand({
      Name: name, Architecture: 'x86_64', VirtualizationType: 'hvm', RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } }],
    }))).ImageId!;
    const copy = async (node: BenchServer, imageId: string, name: string) => (await ec2(node, 'us-west-2').send(new CopyImageCommand({
      SourceImageId: imageId, SourceRegion: 'us-east-1', Name: name,
    }))).ImageId!;
    const first = await register('takeover-source-a');
    const reference = await copy(two, first, 'uninterrupted');
    const uninterruptedMs = await waitAvailable(ec2(two, 'us-west-2'), reference, 600_000);
    const second = await register('takeover-source-b');
    const copied = await copy(one, second, 'taken-over');
    process.kill(one.pid, 'SIGKILL');
    const takeoverMs = await waitAvailable(ec2(two, 'us-west-2'), copied, 600_000);
    return { uninterruptedMs, takeoverMs };
  } finally {
    await cluster.stop();
  }
}

export async function run(args: string[]): Promise<void> {
  const v = parseBenchArgs(args, USAGE, {
    'images': { type: 'string', default: '2000' }, 'concurrency': { type: 'string', default: '32' },
    'blocks': { type: 'string', default: '256' }, 'lease-seconds': { type: 'string', default: '5' },
    'help': { type: 'boolean', default: false },
  });
  if (!v) return;
  const images = Number(v.images);
  const concurrency = Number(v.concurrency);
  const blocks = Number(v.blocks);
  const leaseSeconds = Number(v['lease-seconds']);
  console.log(`scale: ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${images} RegisterImage, ${concurrency} in flight\n`);
  const stores = await startClusterStores();
  try {
    const rows: Row[] = [];
    const configs: { label: string; nodes: number; pg: boolean }[] = [
      { label: '1 node, SQLite (reference)', nodes: 1, pg: false },
      { label: '1 node, PostgreSQL', nodes: 1, pg: true },
      { label: '2 nodes, PostgreSQL', nodes: 2, pg: true },
      { label: '3 nodes, PostgreSQL', nodes: 3, pg: true },
    ];
    for (const c of configs) {
      const cluster = await startNodes(stores, c.nodes, { database: c.pg ? await stores.database() : undefined, prefix: `api${c.nodes}` });
      try {
        const f = await apiRun(cluster, { images, concurrency, dbPids: c.pg ? () => stores.postgresPids() : undefined });
        rows.push([c.label, fmtRate(rate(f.register)), fmtMs(percentile(f.register.latenciesMs, 99)), fmtRate(rate(f.describe)),
          fmtMs(percentile(f.describe.latenciesMs, 99)), f.nodeCpu.map((x) => x.toFixed(0)).join(' / '), f.dbCpu === undefined ? '-' : f.dbCpu.toFixed(0)]);
      } finally {
        await cluster.stop();
      }
    }
    const limit = await databaseLimit(await stores.database(), { images, concurrency });
    rows.push(['PostgreSQL alone (same repository calls, in process)', fmtRate(limit.insertPerS), '-', fmtRate(limit.scanPerS), '-', '-', '-']);
    console.log(renderTable(['API', 'RegisterImage/s', 'p99 ms', 'DescribeImages/s', 'p99 ms', 'node CPU %', 'PostgreSQL CPU %'], rows));

    const pair = await startNodes(stores, 2, { database: await stores.database(), prefix: 'blocks' });
    try {
      const through = await blockRun(pair.nodes[0]!, pair.nodes[1]!, blocks);
      const gateway = await measureGatewayThroughput(stores.s3, { objects: blocks, parallel: 16 });
      console.log(`\n${renderTable(['snapshot data, 512 KiB blocks, 16 in flight', 'upload MB/s', 'download MB/s'], [
        ['amiforge (EBS direct; up through node 1, down through node 2)', through.upMBs.toFixed(1), through.downMBs.toFixed(1)],
        ['the gateway alone (plain S3 client)', gateway.putMBps.toFixed(1), gateway.getMBps.toFixed(1)],
        ['amiforge / gateway (aim >= 60%)', `${((through.upMBs / gateway.putMBps) * 100).toFixed(0)}%`, `${((through.downMBs / gateway.getMBps) * 100).toFixed(0)}%`],
      ])}`);
    } finally {
      await pair.stop();
    }

    const t = await takeoverRun(stores, blocks, leaseSeconds);
    console.log(`\n${renderTable(['cross-region CopyImage of a ' + (blocks * BLOCK) / 2 ** 20 + ' MiB snapshot', 'seconds'], [
      ['uninterrupted, request to available', (t.uninterruptedMs / 1000).toFixed(1)],
      ['its node SIGKILLed at once: another node makes it available', (t.takeoverMs / 1000).toFixed(1)],
      [`aim: within the lease (${leaseSeconds} s) plus the copy's work`, (leaseSeconds + t.uninterruptedMs / 1000).toFixed(1)],
    ])}`);
  } finally {
    await stores.stop();
  }
}
