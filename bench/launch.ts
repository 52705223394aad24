// Real boots under `amiforge serve --hypervisor qemu` (KVM when it works, else TCG), driven with
// @aws-sdk/client-ec2, one guest at a time:
//
//   1. Debian 12 (HVM: SeaBIOS → GRUB on the volume → its kernel) beside amiforge-minimal-linux
//      (paravirtual: its registered kernel), each with an 8 GiB and a 64 GiB root (RunInstances
//      BlockDeviceMappings VolumeSize): RunInstances → the first console line, → `ssh -i key
//      admin@PublicIpAddress true` logs in (a security group allows 22; the minimal image has no
//      SSH server), → cloud-init finished (Debian's "Cloud-init v. ... finished" line; the
//      minimal image's "user-data done"); the bytes the boot read from the block store (GET
//      /_amiforge/volume-reads) beside the disk's allocated size; amiforge's memory per guest
//      (server VmRSS delta) beside QEMU's (VmRSS of the guest's process, which amiforge does not
//      hold). Aims: the time does not grow with the volume size (a volume is copy-on-write over
//      the snapshot and read lazily); the bytes read are a fraction of the disk.
//   2. The reference: the same Debian disk booted by plain qemu-system-x86_64 with the options
//      amiforge gave its guest, from a local file (a qcow2 overlay of the root's size over the
//      image's raw disk) and the same metadata: the physical limit for the boot under this CPU.
//   3. With --four: four minimal guests at once (one RunInstances, MaxCount 4), amiforge's memory
//      per running guest.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AuthorizeSecurityGroupIngressCommand, CreateKeyPairCommand, CreateSecurityGroupCommand, DescribeImagesCommand, DescribeInstancesCommand,
  EC2Client, RunInstancesCommand, type DescribeImagesCommandInput, type Image, type Instance,
} from '@aws-sdk/client-ec2';
import { parseBenchArgs } from './support/args.ts';
import { consoleText, loadAverage, qemuProcesses, sleep, sshLogsIn, terminate, until, volumeReads, type QemuProcess } from './support/guests.ts';
import { bootReference, type ReferenceBoot } from './support/plain-qemu.ts';
import { memoryOf, ownPublicAddressRange, startAmiforge, type BenchServer } from './support/servers.ts';
import { fmtMB, renderTable, type Row } from './support/table.ts';
import { writePrivateKey } from '../test/support/qemu.ts';

export const description = 'Real boots under QEMU: Debian 12 (HVM, GRUB) and the minimal image (PV) with 8 and 64 GiB roots → first console line, ssh login, cloud-init done; bytes read, memory per guest; plain QEMU as reference';

const USAGE = `usage: npm run bench -- launch [--runs N] [--sizes 8,64] [--images debian,minimal] [--no-reference] [--four]
  --runs N          launches per image and root size (default 1; a Debian boot is 25-60 s under TCG)
  --sizes LIST      root volume sizes in GiB (default 8,64)
  --images LIST     debian, minimal or both (default debian,minimal)
  --no-reference    skip the plain-QEMU boot of the Debian disk (at the first of --sizes)
  --four            also boot four minimal guests at once and report amiforge's memory per guest
Guests run one at a time. Needs QEMU and the images:
  bash scripts/install-qemu.sh && bash scripts/build-base-image.sh && bash scripts/build-debian-image.sh`;

const LIMIT_MS = 600_000;
const ROOT = new URL('../', import.meta.url).pathname;
const MARKER = 'launch-bench: user data done';
const DEBIAN_OWNER = '136693071363';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmtS = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? 'n/a' : (ms / 1000).toFixed(1));
const fmtMiB = (b: number) => (Number.isNaN(b) ? '-' : `${(b / 2 ** 20).toFixed(0)}`);

interface Kind {
  key: 'debian' | 'minimal';
  label: string;
  image: Image;
  /** The console line that ends the boot. */
  done: RegExp;
  ssh: boolean;
  /** The image's raw disk on this machine: its allocated bytes are what a full read would cost. */
  rawDisk: string;
}

interface Boot {
  firstLineMs: number;
  sshMs: number;
  doneMs: number;
  read: number;
  serverDelta: number;
  qemu?: QemuProcess;
  instance: Instance;
}

const allocated = (file: string) => statSync(file).blocks * 512;

async function buildImages(): Promise<void> {
  const exec = promisify(execFile);
  for (const script of ['build-base-image.sh', 'build-debian-image.sh']) {
    console.log(`building the image if needed (scripts/${script})...`);
    await exec('bash', [join(ROOT, 'scripts', script)], { maxBuffer: 64 * 1024 * 1024 });
  }
}

/** One launch, watched until its boot ends; the instance is still running on return. */
async function boot(ec2: EC2Client, server: BenchServer, kind: Kind, sizeGiB: number, access: { keyName: string; key: string; groupId: string }): Promise<Boot> {
  await sleep(1000);
  const idle = memoryOf(server.pid).rss;
  const before = await volumeReads(server.endpoint);
  const t0 = performance.now();
  const { Instances = [] } = await ec2.send(new RunInstancesCommand({
    ImageId: kind.image.ImageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1,
    UserData: Buffer.from(`#!/bin/sh\necho "${MARKER}"\n`).toString('base64'),
    KeyName: access.keyName, SecurityGroupIds: [access.groupId],
    BlockDeviceMappings: [{ DeviceName: kind.image.RootDeviceName, Ebs: { VolumeSize: sizeGiB } }],
  }));
  const id = Instances[0].InstanceId!;
  const elapsed = () => performance.now() - t0;
  let firstLineMs: number | undefined;
  let doneMs: number | undefined;
  let sshMs = NaN;
  const consoleWatch = until(`${id}: ${kind.done}`, async () => {
    const text = await consoleText(ec2, id);
    const now = elapsed();
    if (text.trim() && firstLineMs === undefined) firstLineMs = now;
    if (kind.done.test(text)) return (doneMs = now);
    return undefined;
  }, { limitMs: LIMIT_MS, everyMs: 100 });
  const sshWatch = (async () => {
    if (!kind.ssh) return;
    const address = await until(`${id}: a public address`, async () => {
      const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
      return i.State?.Name === 'running' && i.PublicIpAddress ? i.PublicIpAddress : undefined;
    }, { limitMs: LIMIT_MS, everyMs: 200 });
    await until(`${id}: ssh admin@${address}`, async () => ((await sshLogsIn(access.key, 'admin', address)) ? true : undefined), { limitMs: LIMIT_MS, everyMs: 1000 });
    sshMs = elapsed();
  })();
  await Promise.all([consoleWatch, sshWatch]);
  const read = (await volumeReads(server.endpoint)) - before;
  const serverDelta = memoryOf(server.pid).rss - idle;
  const [qemu] = qemuProcesses(server.pid);
  const instance = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
  return { firstLineMs: firstLineMs!, sshMs, doneMs: doneMs!, read, serverDelta, qemu, instance };
}

/** The metadata amiforge serves the instance (guest-spec.ts), for the reference's own responder. */
function referenceMetadata(i: Instance, publicKey: string, argv: string[]): { metadata: Record<string, string>; dynamic: Record<string, string> } {
  const mac = /mac=([0-9a-f:]{17})/.exec(argv.join(' '))?.[1] ?? '52:54:00:12:34:56';
  const hostname = i.PrivateDnsName ?? 'ip-172-31-0-10.ec2.internal';
  const nic = `network/interfaces/macs/${mac}/`;
  const region = i.Placement!.AvailabilityZone!.slice(0, -1);
  const metadata: Record<string, string> = {
    'ami-id': i.ImageId!, 'ami-launch-index': '0', 'instance-id': i.InstanceId!, 'instance-type': i.InstanceType!,
    'local-ipv4': i.PrivateIpAddress!, 'local-hostname': hostname, 'hostname': hostname,
    'placement/availability-zone': i.Placement!.AvailabilityZone!, 'placement/region': region,
    'public-keys/': `0=${i.KeyName}`, 'public-keys/0/openssh-key': publicKey, 'mac': mac,
    [`${nic}device-number`]: '0', [`${nic}local-hostname`]: hostname, [`${nic}local-ipv4s`]: i.PrivateIpAddress!, [`${nic}mac`]: mac,
    'services/domain': 'amazonaws.com', 'services/partition': 'aws',
  };
  const document = {
    accountId: '111111111111', architecture: 'x86_64', availabilityZone: i.Placement!.AvailabilityZone, imageId: i.ImageId,
    instanceId: i.InstanceId, instanceType: i.InstanceType, privateIp: i.PrivateIpAddress, region, version: '2017-09-30',
  };
  return { metadata, dynamic: { 'instance-identity/document': JSON.stringify(document, null, 2) } };
}

async function fourAtOnce(ec2: EC2Client, server: BenchServer, kind: Kind): Promise<void> {
  await sleep(2000);
  const idle = memoryOf(server.pid).rss;
  const t0 = performance.now();
  const { Instances = [] } = await ec2.send(new RunInstancesCommand({
    ImageId: kind.image.ImageId, InstanceType: 't3.micro', MinCount: 4, MaxCount: 4,
    UserData: Buffer.from(`#!/bin/sh\necho "${MARKER}"\n`).toString('base64'),
  }));
  const ids = Instances.map((i) => i.InstanceId!);
  const done = await Promise.all(ids.map((id) => until(`${id}: user data`, async () => (kind.done.test(await consoleText(ec2, id)) ? performance.now() - t0 : undefined), { limitMs: LIMIT_MS, everyMs: 200 })));
  const busy = memoryOf(server.pid).rss;
  const guests = qemuProcesses(server.pid);
  console.log('\n3. Four minimal guests at once (one RunInstances, MaxCount 4)\n');
  console.log(renderTable(['measure', 'value', 'aim'], [
    ['all four ran their user data (s)', fmtS(Math.max(...done)), '-'],
    ['amiforge VmRSS idle → 4 running (MB)', `${fmtMB(idle)} → ${fmtMB(busy)}`, '-'],
    ['amiforge memory per running guest (MB)', fmtMB((busy - idle) / ids.length), '< 20'],
    ['QEMU VmRSS per guest (MiB, each)', guests.map((g) => fmtMiB(g.rss)).join(' / '), 'not amiforge\'s'],
  ]));
  await terminate(ec2, ids);
}

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, USAGE, {
    runs: { type: 'string', default: '1' }, sizes: { type: 'string', default: '8,64' }, images: { type: 'string', default: 'debian,minimal' },
    'no-reference': { type: 'boolean', default: false }, four: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
  });
  if (!values) return;
  const runs = Number(values.runs);
  const sizes = values.sizes.split(',').map(Number);
  const wanted = values.images.split(',');
  if (!(runs >= 1) || sizes.some((s) => !(s >= 1)) || wanted.some((w) => w !== 'debian' && w !== 'minimal')) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  await buildImages();
  const loadBefore = loadAverage();
  const server = await startAmiforge({ serveArgs: ['--hypervisor', 'qemu', '--log-level', 'warn', '--public-address-range', ownPublicAddressRange()] });
  const ec2 = new EC2Client({
    endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: '111111111111', secretAccessKey: 'x' }, maxAttempts: 1,
  });
  const home = mkdtempSync(join(tmpdir(), 'amiforge-bench-launch-'));
  try {
    const first = async (input: DescribeImagesCommandInput, what: string) => {
      const { Images = [] } = await ec2.send(new DescribeImagesCommand(input));
      const sorted = Images.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''));
      if (!sorted[0]) throw new Error(`${what} is not in the catalogue: is it built?`);
      return sorted[0];
    };
    const kinds: Kind[] = [];
    if (wanted.includes('debian')) {
      kinds.push({
        key: 'debian', label: 'Debian 12 (HVM, GRUB, BIOS)', ssh: true, done: /Cloud-init v\. \S+ finished/,
        image: await first({ Owners: [DEBIAN_OWNER], Filters: [{ Name: 'name', Values: ['debian-12-amd64-*'] }] }, 'Debian 12'),
        rawDisk: join(ROOT, '.amiforge-build/debian-12/disk.raw'),
      });
    }
    if (wanted.includes('minimal')) {
      kinds.push({
        key: 'minimal', label: 'amiforge-minimal-linux (PV)', ssh: false, done: /user-data done/,
        image: await first({ Filters: [{ Name: 'name', Values: ['amiforge-minimal-linux'] }] }, 'amiforge-minimal-linux'),
        rawDisk: join(ROOT, '.amiforge-build/base-image/rootfs.raw'),
      });
    }
    const { KeyMaterial } = await ec2.send(new CreateKeyPairCommand({ KeyName: 'bench', KeyType: 'ed25519' }));
    const key = writePrivateKey(home, 'bench.pem', KeyMaterial!);
    const publicKey = (await promisify(execFile)('ssh-keygen', ['-y', '-f', key])).stdout.trim();
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'bench-ssh', Description: 'ssh for the launch bench' }));
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    const access = { keyName: 'bench', key, groupId: GroupId! };

    const rows: Row[] = [];
    let debianGuest: { argv: string[]; instance: Instance; sizeGiB: number } | undefined;
    const doneBySize = new Map<string, number[]>();
    for (const kind of kinds) {
      rows.push({ section: `${kind.label}: disk ${fmtMiB(allocated(kind.rawDisk))} MiB allocated` });
      for (const sizeGiB of sizes) {
        const boots: Boot[] = [];
        for (let i = 0; i < runs; i++) {
          const b = await boot(ec2, server, kind, sizeGiB, access);
          if (kind.key === 'debian' && b.qemu && !debianGuest) debianGuest = { argv: b.qemu.argv, instance: b.instance, sizeGiB };
          await terminate(ec2, [b.instance.InstanceId!]);
          boots.push(b);
          console.log(`  ${kind.key} ${sizeGiB} GiB run ${i + 1}: first line ${fmtS(b.firstLineMs)} s, ssh ${fmtS(b.sshMs)} s, done ${fmtS(b.doneMs)} s (load ${loadAverage()})`);
        }
        const m = (f: (b: Boot) => number) => median(boots.map(f));
        doneBySize.set(`${kind.key}/${sizeGiB}`, boots.map((b) => b.doneMs));
        rows.push([
          `  ${sizeGiB} GiB root`, fmtS(m((b) => b.firstLineMs)), kind.ssh ? fmtS(m((b) => b.sshMs)) : 'n/a', fmtS(m((b) => b.doneMs)),
          fmtMiB(m((b) => b.read)), `${((m((b) => b.read) / allocated(kind.rawDisk)) * 100).toFixed(0)}%`,
          fmtMiB(m((b) => b.serverDelta)), fmtMiB(m((b) => b.qemu?.rss ?? NaN)),
        ]);
      }
    }

    let reference: ReferenceBoot | undefined;
    if (debianGuest && !values['no-reference']) {
      console.log('  the reference: plain qemu-system-x86_64 on the same Debian disk...');
      const debian = kinds.find((k) => k.key === 'debian')!;
      reference = await bootReference({
        argv: debianGuest.argv, rawDisk: debian.rawDisk, sizeGiB: debianGuest.sizeGiB,
        ...referenceMetadata(debianGuest.instance, publicKey, debianGuest.argv),
        userData: Buffer.from(`#!/bin/sh\necho "${MARKER}"\n`), key, user: 'admin', done: debian.done, limitMs: LIMIT_MS,
      });
      rows.push({ section: 'reference: plain qemu-system-x86_64, same options and disk (a local qcow2 overlay over the raw file), timed from QEMU\'s start' });
      rows.push([`  ${debianGuest.sizeGiB} GiB root`, fmtS(reference.firstLineMs), fmtS(reference.sshMs), fmtS(reference.doneMs), '-', '-', '-', fmtMiB(reference.qemuRss)]);
    }

    console.log(`\n1. RunInstances → console and ssh, one guest at a time, median of ${runs} (s; MiB)`);
    console.log(`   load average before: ${loadBefore}; after: ${loadAverage()} (2 cores; other guests on the machine slow these)\n`);
    console.log(renderTable(['image / root', 'first line', 'ssh login', 'boot done', 'MiB read', 'of disk', 'amiforge +RSS', 'QEMU RSS'], rows));
    console.log('\n   boot done: Debian\'s "Cloud-init v. ... finished" line, the minimal image\'s "user-data done"; ssh: `ssh -i key admin@PublicIpAddress true`');
    for (const kind of kinds) {
      if (sizes.length < 2) break;
      const [small, large] = [median(doneBySize.get(`${kind.key}/${sizes[0]}`)!), median(doneBySize.get(`${kind.key}/${sizes.at(-1)}`)!)];
      console.log(`   ${kind.key}: ${sizes.at(-1)} GiB / ${sizes[0]} GiB boot time ${(large / small).toFixed(2)}x (aim: ~1x, independent of the volume size)`);
    }
    if (reference) {
      const own = median(doneBySize.get(`debian/${debianGuest!.sizeGiB}`)!);
      console.log(`   debian: amiforge ${fmtS(own)} s vs plain QEMU ${fmtS(reference.doneMs)} s to cloud-init finished (${own >= reference.doneMs ? '+' : ''}${fmtS(own - reference.doneMs)} s for amiforge: RunInstances, NBD, IMDS; noise when negative)`);
    }

    if (values.four) {
      const minimal = kinds.find((k) => k.key === 'minimal');
      if (minimal) await fourAtOnce(ec2, server, minimal);
    }
  } finally {
    ec2.destroy();
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
