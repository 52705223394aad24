// The EC2 image API benchmark: RegisterImage and DescribeImages throughput and latency, and the
// server's resident memory, for amiforge and, as a reference on the same requests in the same
// run, moto_server. Both run as real processes on 127.0.0.1 and are driven over keep-alive HTTP
// with SigV4-signed EC2 Query requests. Figures are printed beside the aims; nothing fails.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { EC2Client, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { BenchEc2Client } from './support/ec2-client.ts';
import { percentile, rate, runLoad, type LoadResult } from './support/load.ts';
import { cpuMsOf, memoryOf, motoVersion, startAmiforge, startMoto, warmAmiforge, type BenchServer, type Memory } from './support/servers.ts';
import { startNullServer } from './support/null-server.ts';
import { fmtCount, fmtMB, fmtMs, fmtRate, renderTable, type Row } from './support/table.ts';

export const description = 'EC2 image API: RegisterImage/DescribeImages rate and latency, server memory; amiforge vs moto_server';

const USAGE = `usage: npm run bench -- api [--images N] [--concurrency C] [--no-moto]
  --images N       images amiforge holds at the end (default 100000; 1000 to 1000000);
                   the amiforge/moto comparison uses min(N, 1000)
  --concurrency C  RegisterImage requests in flight (default 32)
  --no-moto        measure amiforge alone`;

const AIMS = { idlePeakMB: 120, fullPeakMB: 400, filteredP99Ms: 20, registerShareOfCeiling: 0.5, describeP50ShareOfMoto: 0.01 };
const TEAMS = 5;
/** Bounds on each phase, so a slow or stuck server cannot hold the run for long. */
const LIMITS = { registerSeconds: 300, describeSeconds: 30, querySeconds: 30 };

const name = (i: number) => `bench-${String(i).padStart(6, '0')}`;
const madeUpSnapshotId = (i: number) => `snap-0${i.toString(16).padStart(16, '0')}`;

/**
 * A completed 8 GiB snapshot made through the EBS direct API (StartSnapshot, CompleteSnapshot),
 * for the images' root mappings: amiforge checks that a mapping's snapshot exists. A server
 * without that API gets a made-up id (moto does not check the mapping's snapshot).
 */
async function rootSnapshot(client: BenchEc2Client): Promise<{ id: string; made: boolean }> {
  const start = await client.rest('ebs', 'POST', '/snapshots', { 'content-type': 'application/json' },
    JSON.stringify({ VolumeSize: 8, Description: 'amiforge benchmark root volume', Timeout: 60 }));
  const id = start.status === 201 ? (JSON.parse(start.body) as { SnapshotId?: string }).SnapshotId : undefined;
  if (!id) return { id: madeUpSnapshotId(0xbe7c4), made: false };
  const done = await client.rest('ebs', 'POST', `/snapshots/completion/${id}`, { 'x-amz-changedblockscount': '0' });
  if (done.status !== 202) throw new Error(`CompleteSnapshot ${id}: HTTP ${done.status} ${done.body.slice(0, 300)}`);
  return { id, made: true };
}

/** A realistic RegisterImage: EBS root from a snapshot, x86_64, HVM, one tag. */
function registerParams(i: number, snapshotId: string): Record<string, string | number> {
  return {
    'Name': name(i),
    'Description': `amiforge benchmark image ${i}`,
    'Architecture': 'x86_64',
    'VirtualizationType': 'hvm',
    'EnaSupport': 'true',
    'RootDeviceName': '/dev/xvda',
    'BlockDeviceMapping.1.DeviceName': '/dev/xvda',
    'BlockDeviceMapping.1.Ebs.SnapshotId': snapshotId,
    'BlockDeviceMapping.1.Ebs.VolumeSize': 8,
    'BlockDeviceMapping.1.Ebs.VolumeType': 'gp3',
    'TagSpecification.1.ResourceType': 'image',
    'TagSpecification.1.Tag.1.Key': 'team',
    'TagSpecification.1.Tag.1.Value': `t${i % TEAMS}`,
  };
}

const count = (body: string, needle: string) => body.split(needle).length - 1;

interface Options { images: number; concurrency: number; moto: boolean }

function options(args: string[]): Options | undefined {
  const { values } = parseArgs({
    args,
    options: {
      'images': { type: 'string', default: '100000' },
      'concurrency': { type: 'string', default: '32' },
      'no-moto': { type: 'boolean', default: false },
      'help': { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const images = Number(values.images);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(images) || images < 1000 || images > 1_000_000) throw new Error(`--images must be 1000 to 1000000\n${USAGE}`);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new Error(`--concurrency must be 1 to 256\n${USAGE}`);
  return { images, concurrency, moto: !values['no-moto'] };
}

/** Registers images [from, to) and checks each answer carries an image id. */
async function register(client: BenchEc2Client, snapshotId: string, from: number, to: number, concurrency: number): Promise<LoadResult> {
  return runLoad({
    count: to - from, concurrency, maxSeconds: LIMITS.registerSeconds,
    send: (i) => client.call('RegisterImage', registerParams(from + i, snapshotId)),
    check: (i, r) => {
      if (!r.body.includes('<imageId>ami-')) throw new Error(`RegisterImage ${from + i}: no image id in ${r.body.slice(0, 300)}`);
    },
  });
}

/** The same request `count` times, checking each answer lists `expect` images. */
async function repeat(client: BenchEc2Client, o: {
  count: number; concurrency: number; maxSeconds: number; expect: (i: number) => number;
  params: (i: number) => Record<string, string | number>;
  /** Given each checked answer's body. */
  keep?: (body: string) => void;
}): Promise<LoadResult> {
  return runLoad({
    count: o.count, concurrency: o.concurrency, maxSeconds: o.maxSeconds,
    send: (i) => client.call('DescribeImages', o.params(i)),
    check: (i, r) => {
      const got = count(r.body, '<imageId>');
      if (got !== o.expect(i)) throw new Error(`DescribeImages ${JSON.stringify(o.params(i))}: ${got} images, expected ${o.expect(i)}`);
      o.keep?.(r.body);
    },
  });
}

/**
 * Warms each server's code paths in another region, so us-east-1 holds exactly the measured
 * images. Returns one of its RegisterImage answers (the ceiling's server answers the same bytes).
 */
async function warmUp(server: BenchServer): Promise<string> {
  const west = new BenchEc2Client({ endpoint: server.endpoint, region: 'us-west-2', maxSockets: 8 });
  try {
    const snap = (await rootSnapshot(west)).id;
    let answer = '';
    const r = await runLoad({
      count: 200, concurrency: 8, maxSeconds: 20, send: (i) => west.call('RegisterImage', registerParams(900_000 + i, snap)),
      check: (_i, res) => { answer = res.body; },
    });
    if (r.errors) throw new Error(`${server.name} warm-up RegisterImage failed: ${r.firstError}`);
    await runLoad({ count: 20, concurrency: 2, maxSeconds: 10, send: () => west.call('DescribeImages', { 'Owner.1': 'self' }) });
    await runLoad({ count: 50, concurrency: 2, maxSeconds: 10, send: () => west.call('DescribeImages', { 'Owner.1': 'self', 'MaxResults': 10 }) });
    return answer;
  } finally {
    west.close();
  }
}

/** Client CPU per RegisterImage call, without the network: this client's signing vs the AWS SDK's send. */
async function clientCost(): Promise<{ rawUs: number; sdkUs: number }> {
  const n = 2000;
  const raw = new BenchEc2Client({ endpoint: 'http://127.0.0.1:1' });
  const snap = madeUpSnapshotId(1);
  for (let i = 0; i < 200; i++) await raw.sign('RegisterImage', registerParams(i, snap));
  let t = performance.now();
  for (let i = 0; i < n; i++) await raw.sign('RegisterImage', registerParams(i, snap));
  const rawUs = ((performance.now() - t) / n) * 1000;
  raw.close();

  const canned = new TextEncoder().encode('<?xml version="1.0" encoding="UTF-8"?>\n<RegisterImageResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><imageId>ami-0123456789abcdef0</imageId></RegisterImageResponse>');
  const sdk = new EC2Client({
    endpoint: 'http://127.0.0.1:1', region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: '123456789012', secretAccessKey: 'bench-secret' },
    requestHandler: { handle: async () => ({ response: { statusCode: 200, headers: { 'content-type': 'text/xml' }, body: canned } }) } as never,
  });
  const input = (i: number) => new RegisterImageCommand({
    Name: name(i), Description: `amiforge benchmark image ${i}`, Architecture: 'x86_64', VirtualizationType: 'hvm', EnaSupport: true,
    RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap, VolumeSize: 8, VolumeType: 'gp3' } }],
    TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'team', Value: `t${i % TEAMS}` }] }],
  });
  for (let i = 0; i < 200; i++) await sdk.send(input(i));
  t = performance.now();
  for (let i = 0; i < n; i++) await sdk.send(input(i));
  const sdkUs = ((performance.now() - t) / n) * 1000;
  sdk.destroy();
  return { rawUs, sdkUs };
}

type Measured = LoadResult & { serverCpuMs: number; clientCpuMs: number };

/**
 * The ceiling: this client's rate for the same requests against a server that only reads them
 * and answers amiforge's own answer bytes (bench/support/null-server.ts), one server per answer.
 */
async function measureCeiling(o: { registerAnswer: string; describeAnswer: string; images: number; concurrency: number; snapshotId: string }): Promise<{ register: Measured; describe: Measured }> {
  const against = async (answer: string, load: (client: BenchEc2Client) => Promise<LoadResult>): Promise<Measured> => {
    const server = await startNullServer(answer);
    const client = new BenchEc2Client({ endpoint: server.endpoint, maxSockets: o.concurrency });
    try {
      const r = await onServer(server, () => load(client));
      assertClean('null server', r);
      return r;
    } finally {
      client.close();
      await server.stop();
    }
  };
  return {
    register: await against(o.registerAnswer, (c) => register(c, o.snapshotId, 0, o.images, o.concurrency)),
    describe: await against(o.describeAnswer, (c) => repeat(c, {
      count: 300, concurrency: 4, maxSeconds: LIMITS.describeSeconds, expect: () => o.images, params: () => ({ 'Owner.1': 'self' }),
    })),
  };
}

/**
 * Runs a load and adds the CPU time per request of the server and of this client (signing,
 * HTTP): unlike latency, barely moved by other work on the machine.
 */
async function onServer(server: BenchServer, load: () => Promise<LoadResult>): Promise<Measured> {
  const before = cpuMsOf(server.pid);
  const client = process.cpuUsage();
  const r = await load();
  const used = process.cpuUsage(client);
  return { ...r, serverCpuMs: (cpuMsOf(server.pid) - before) / r.done, clientCpuMs: (used.user + used.system) / 1000 / r.done };
}

const cpu = (r: Measured | undefined) => (r ? fmtMs(r.serverCpuMs) : '-');
const clientCpu = (r: Measured | undefined) => (r ? fmtMs(r.clientCpuMs) : '-');
const latency = (r: LoadResult | undefined) => (r ? `${fmtMs(percentile(r.latenciesMs, 50))} / ${fmtMs(percentile(r.latenciesMs, 99))}` : '-');
const rateOf = (r: LoadResult | undefined) => (r ? fmtRate(rate(r)) : '-');
const met = (ok: boolean) => (ok ? 'yes' : 'NO');
const share = (part: number, whole: number) => `${((part / whole) * 100).toFixed(part / whole < 0.1 ? 1 : 0)}%`;
const p50 = (r: LoadResult) => percentile(r.latenciesMs, 50);

function assertClean(what: string, r: LoadResult): void {
  if (r.errors) throw new Error(`${what}: ${r.errors} of ${r.done} requests failed; first: ${r.firstError}`);
  if (r.timedOut) console.log(`  (${what}: stopped by the time limit after ${fmtCount(r.done)} requests)`);
}

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

export async function run(args: string[]): Promise<void> {
  const o = options(args);
  if (!o) {
    console.log(USAGE);
    return;
  }
  const small = Math.min(1000, o.images);
  const moto = o.moto ? motoVersion() : undefined;
  console.log(`amiforge api benchmark: ${fmtCount(o.images)} images, RegisterImage concurrency ${o.concurrency}`);
  console.log(`machine: ${availableParallelism()} cores available (${cpus().length} CPUs, ${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, `
    + `load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} (other work on the machine slows both servers alike; server CPU per request is barely moved by it)`);
  console.log(`reference: ${moto ? `moto_server ${moto}` : o.moto ? 'moto_server not found on PATH; amiforge alone' : 'moto skipped (--no-moto)'}`);

  const cost = await clientCost();
  console.log(`client: EC2 Query requests signed with @smithy/signature-v4 over keep-alive node:http; `
    + `${cost.rawUs.toFixed(0)} µs of client CPU per RegisterImage to build and sign, `
    + `vs ${cost.sdkUs.toFixed(0)} µs per @aws-sdk/client-ec2 send (no network, canned reply)`);

  warmAmiforge();
  console.log('server: bin/amiforge serve, dev mode, info log to a pipe; Node\'s compile cache (bin/amiforge) warmed by a bin/amiforge --version first');

  const servers: BenchServer[] = [];
  const stopAll = () => Promise.all(servers.splice(0).map((s) => s.stop()));
  const onSignal = () => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    const af = await startAmiforge();
    servers.push(af);
    const mo = moto ? await startMoto() : undefined;
    if (mo) servers.push(mo);
    await new Promise((r) => setTimeout(r, 500));
    const idle = new Map<string, Memory>([[af.name, memoryOf(af.pid)]]);
    if (mo) idle.set(mo.name, memoryOf(mo.pid));
    log(`servers up: amiforge pid ${af.pid}${mo ? `, moto pid ${mo.pid}` : ''}; warming up (us-west-2)`);

    const afc = new BenchEc2Client({ endpoint: af.endpoint, maxSockets: o.concurrency });
    const moc = mo && new BenchEc2Client({ endpoint: mo.endpoint, maxSockets: o.concurrency });
    const registerAnswer = await warmUp(af);
    if (mo) await warmUp(mo);
    let describeAnswer = '';

    // 1. RegisterImage, the first 1,000 images on each server.
    const snapshots = new Map<string, string>();
    for (const [server, client] of [[af, afc], [mo, moc]] as const) {
      if (!server || !client) continue;
      const snap = await rootSnapshot(client);
      snapshots.set(server.name, snap.id);
      log(`${server.name}: root snapshot ${snap.id} (${snap.made ? 'made with the EBS direct API' : 'made-up id: no EBS direct API'})`);
    }
    const reg1k = new Map<string, Measured>();
    const desc1k = new Map<string, Measured>();
    const mem1k = new Map<string, Memory>();
    for (const [server, client] of [[af, afc], [mo, moc]] as const) {
      if (!server || !client) continue;
      log(`${server.name}: RegisterImage x ${fmtCount(small)}`);
      const r = await onServer(server, () => register(client, snapshots.get(server.name)!, 0, small, o.concurrency));
      assertClean(`${server.name} RegisterImage`, r);
      reg1k.set(server.name, r);
      // 2. DescribeImages(Owners=self) over those images.
      log(`${server.name}: DescribeImages Owners=self over ${fmtCount(small)} images`);
      const d = await onServer(server, () => repeat(client, {
        count: 300, concurrency: 4, maxSeconds: LIMITS.describeSeconds, expect: () => small, params: () => ({ 'Owner.1': 'self' }),
        keep: server === af ? (body) => { describeAnswer = body; } : undefined,
      }));
      assertClean(`${server.name} DescribeImages`, d);
      desc1k.set(server.name, d);
      mem1k.set(server.name, memoryOf(server.pid));
    }
    if (mo) {
      await mo.stop();
      servers.splice(servers.indexOf(mo), 1);
    }
    log(`null server: the same requests, answered with amiforge's answer bytes (${registerAnswer.length} and ${fmtCount(describeAnswer.length)})`);
    const ceiling = await measureCeiling({ registerAnswer, describeAnswer, images: small, concurrency: o.concurrency, snapshotId: snapshots.get('amiforge')! });

    // 3. amiforge alone, on to the full count.
    let regFull: Measured | undefined;
    const tail = { rate: NaN, cpuMs: NaN };
    if (o.images > small) {
      log(`amiforge: RegisterImage ${fmtCount(small)} -> ${fmtCount(o.images)}`);
      // The last tenth on its own too, to show whether registering slows as the store grows.
      const count = o.images - small;
      const tailFrom = Math.floor(count * 0.9);
      let tailStart = { at: NaN, cpuMs: NaN };
      let last = NaN;
      regFull = await onServer(af, () => runLoad({
        count, concurrency: o.concurrency, maxSeconds: LIMITS.registerSeconds,
        send: (i) => afc.call('RegisterImage', registerParams(small + i, snapshots.get('amiforge')!)),
        check: (i) => {
          last = performance.now();
          if (i === tailFrom) tailStart = { at: last, cpuMs: cpuMsOf(af.pid) };
        },
      }));
      assertClean('amiforge RegisterImage', regFull);
      const n = count - tailFrom;
      tail.rate = (n / (last - tailStart.at)) * 1000;
      tail.cpuMs = (cpuMsOf(af.pid) - tailStart.cpuMs) / n;
    }
    const held = small + (regFull?.done ?? 0);

    // 4. Queries over the full store, one at a time (pure latency).
    log(`amiforge: filtered and paginated DescribeImages over ${fmtCount(held)} images`);
    const groups = Math.floor(held / 10);
    const prefix = (i: number) => `bench-${String((i * 7919) % groups).padStart(5, '0')}?`;
    const byName = await onServer(af, () => repeat(afc, {
      count: 500, concurrency: 1, maxSeconds: LIMITS.querySeconds, expect: () => 10,
      params: (i) => ({ 'Owner.1': 'self', 'Filter.1.Name': 'name', 'Filter.1.Value.1': prefix(i) }),
    }));
    assertClean('name filter', byName);
    const byNameTag = await onServer(af, () => repeat(afc, {
      count: 500, concurrency: 1, maxSeconds: LIMITS.querySeconds, expect: () => 10 / TEAMS,
      params: (i) => ({
        'Owner.1': 'self', 'Filter.1.Name': 'name', 'Filter.1.Value.1': prefix(i + 250),
        'Filter.2.Name': 'tag:team', 'Filter.2.Value.1': `t${i % TEAMS}`,
      }),
    }));
    assertClean('name and tag filter', byNameTag);
    const firstPage = await onServer(af, () => repeat(afc, {
      count: 300, concurrency: 1, maxSeconds: LIMITS.querySeconds, expect: () => 100,
      params: () => ({ 'Owner.1': 'self', 'MaxResults': 100 }),
    }));
    assertClean('first page', firstPage);
    const first = await afc.call('DescribeImages', { 'Owner.1': 'self', 'MaxResults': 100 });
    const token = /<nextToken>([^<]+)<\/nextToken>/.exec(first.body)?.[1];
    if (!token) throw new Error('DescribeImages MaxResults=100 returned no nextToken');
    const secondPage = await onServer(af, () => repeat(afc, {
      count: 300, concurrency: 1, maxSeconds: LIMITS.querySeconds, expect: () => 100,
      params: () => ({ 'Owner.1': 'self', 'MaxResults': 100, 'NextToken': token }),
    }));
    assertClean('second page', secondPage);
    const now = memoryOf(af.pid);
    const memFull = { rss: now.rss, peak: Math.max(now.peak, mem1k.get('amiforge')!.peak) };
    afc.close();
    moc?.close();
    await stopAll();

    // The report.
    const am = (m: Map<string, Measured>) => m.get('amiforge');
    const mm = (m: Map<string, Measured>) => (mo ? m.get('moto') : undefined);
    const ratio = (m: Map<string, Measured>) => (mo ? `${(rate(m.get('amiforge')!) / rate(m.get('moto')!)).toFixed(1)}x` : '-');
    const idlePeak = idle.get('amiforge')!.peak;
    const p99Met = (r: LoadResult) => met(percentile(r.latenciesMs, 99) < AIMS.filteredP99Ms);
    const rows: Row[] = [
      { section: `RegisterImage, ${o.concurrency} in flight` },
      [`  first ${fmtCount(small)} images: rate (req/s)`, rateOf(am(reg1k)), rateOf(mm(reg1k)), rateOf(ceiling.register), '', ''],
      ['    p50 / p99 latency (ms)', latency(am(reg1k)), latency(mm(reg1k)), latency(ceiling.register), '', ''],
      ['    server CPU per request (ms)', cpu(am(reg1k)), cpu(mm(reg1k)), cpu(ceiling.register), '', ''],
      ['    client CPU per request (ms)', clientCpu(am(reg1k)), clientCpu(mm(reg1k)), clientCpu(ceiling.register), '', ''],
      ['    amiforge / moto rate', ratio(reg1k), '', '', '', ''],
      ['    amiforge / null server rate', share(rate(am(reg1k)!), rate(ceiling.register)), '', '',
        `>= ${AIMS.registerShareOfCeiling * 100}%`, met(rate(am(reg1k)!) >= AIMS.registerShareOfCeiling * rate(ceiling.register))],
      ...(regFull ? [
        [`  ${fmtCount(small)} -> ${fmtCount(held)} images: rate (req/s)`, rateOf(regFull), 'not run', '', '', ''],
        ['    p50 / p99 latency (ms)', latency(regFull), 'not run', '', '', ''],
        ['    server CPU per request (ms)', cpu(regFull), 'not run', '', '', ''],
        ['    client CPU per request (ms)', clientCpu(regFull), 'not run', '', '', ''],
        ['    last 10%: rate (req/s)', fmtRate(tail.rate), 'not run', '', '', ''],
        ['    last 10%: server CPU per request (ms)', fmtMs(tail.cpuMs), 'not run', '', '', ''],
      ] as Row[] : []),
      { section: `DescribeImages Owners=self over ${fmtCount(small)} images, 4 in flight` },
      ['  rate (req/s)', rateOf(am(desc1k)), rateOf(mm(desc1k)), rateOf(ceiling.describe), '', ''],
      ['    p50 / p99 latency (ms)', latency(am(desc1k)), latency(mm(desc1k)), latency(ceiling.describe), '', ''],
      ['    server CPU per request (ms)', cpu(am(desc1k)), cpu(mm(desc1k)), cpu(ceiling.describe), '', ''],
      ['    amiforge / moto rate', ratio(desc1k), '', '', '', ''],
      ['    amiforge p50 / moto p50', mo ? share(p50(am(desc1k)!), p50(mm(desc1k)!)) : '-', '', '',
        `<= ${AIMS.describeP50ShareOfMoto * 100}%`, mo ? met(p50(am(desc1k)!) <= AIMS.describeP50ShareOfMoto * p50(mm(desc1k)!)) : ''],
      { section: `DescribeImages over ${fmtCount(held)} images, one at a time (amiforge only)` },
      ['  Owners=self, name=bench-NNNNN? (10 match): p50 / p99 (ms)', latency(byName), 'not run', '', `p99 < ${AIMS.filteredP99Ms}`, p99Met(byName)],
      ['    server CPU per request (ms)', cpu(byName), 'not run', '', '', ''],
      ['  + tag:team=tN (2 match): p50 / p99 (ms)', latency(byNameTag), 'not run', '', `p99 < ${AIMS.filteredP99Ms}`, p99Met(byNameTag)],
      ['    server CPU per request (ms)', cpu(byNameTag), 'not run', '', '', ''],
      ['  Owners=self, MaxResults=100, first page: p50 / p99 (ms)', latency(firstPage), 'not run', '', '', ''],
      ['    server CPU per request (ms)', cpu(firstPage), 'not run', '', '', ''],
      ['  the same, second page (NextToken): p50 / p99 (ms)', latency(secondPage), 'not run', '', '', ''],
      ['    server CPU per request (ms)', cpu(secondPage), 'not run', '', '', ''],
      { section: 'Server memory, MB: peak (VmHWM) / current (VmRSS)' },
      ['  idle, just started', mem(idle.get('amiforge')), mem(idle.get('moto')), '', `peak < ${AIMS.idlePeakMB}`, met(idlePeak / 1e6 < AIMS.idlePeakMB)],
      [`  after the ${fmtCount(small)}-image phases`, mem(mem1k.get('amiforge')), mem(mem1k.get('moto')), '', '', ''],
      [`  holding ${fmtCount(held)} images`, mem(memFull), 'not run', '', `peak < ${AIMS.fullPeakMB}`, met(memFull.peak / 1e6 < AIMS.fullPeakMB)],
    ];
    console.log('');
    console.log(renderTable(['', 'amiforge', mo ? `moto ${moto}` : 'moto', 'null server', 'aim', 'met'], rows));
    console.log('(null server: a node:http server answering amiforge\'s answer bytes and doing nothing else, driven by the same client: the ceiling)');
    console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    if (held < 100_000) console.log(`\n(a quick run: the aims are for 100,000 images; this run held ${fmtCount(held)})`);
  } finally {
    process.removeListener('SIGINT', onSignal);
    await stopAll();
  }
}

function mem(m: Memory | undefined): string {
  return m ? `${fmtMB(m.peak)} / ${fmtMB(m.rss)}` : '-';
}
