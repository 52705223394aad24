// A Packer build against a fresh `amiforge serve --hypervisor qemu`: Debian's `packer` (1.6.6,
// amazon-ebs built in) runs examples/packer/debian-golden.pkr.hcl (Debian 12 source AMI, temporary
// key pair and security group, SSH as admin, a shell provisioner, a copy to us-west-2, a share,
// tags). Its wall time is split into phases by the timestamps of its `-machine-readable` ui lines
// (1 s resolution): launch, SSH ready, provision, stop, CreateImage, copy to the second region.
//
// The reference, in the same run and on the same server: the same steps made directly with the
// SDK, polled every 200 ms (Packer's waiters poll every AWS_POLL_DELAY_SECONDS, 2 s here):
// RunInstances → ssh login, the provisioner's command over ssh, StopInstances → stopped,
// CreateImage → available, CopyImage → available in us-west-2. What Packer adds is the difference.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AuthorizeSecurityGroupIngressCommand, CopyImageCommand, CreateImageCommand, CreateKeyPairCommand, CreateSecurityGroupCommand,
  DescribeImagesCommand, DescribeInstancesCommand, EC2Client, RunInstancesCommand, StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { parseBenchArgs } from './support/args.ts';
import { loadAverage, sshLogsIn, terminate, until } from './support/guests.ts';
import { ownPublicAddressRange, startAmiforge } from './support/servers.ts';
import { renderTable, type Row } from './support/table.ts';
import { buildDebianImage, writePrivateKey } from '../test/support/qemu.ts';

export const description = 'A Packer amazon-ebs build of a golden Debian image (examples/packer) against amiforge, wall time by phase, beside the same steps made directly with the SDK';

const USAGE = `usage: npm run bench -- packer [--runs N] [--no-reference]
  --runs N          packer builds (default 1; one is 3-6 minutes under TCG), each on a fresh server
  --no-reference    skip the same steps made directly with the SDK
Needs packer (Debian's package), QEMU and the Debian image: bash scripts/build-debian-image.sh`;

const ROOT = new URL('../', import.meta.url).pathname;
const TEMPLATE = join(ROOT, 'examples/packer/debian-golden.pkr.hcl');
const BUILDER = '111111111111';
const LIMIT_MS = 900_000;

/** Phases, each starting at the first ui line matching its pattern and ending where the next starts. */
const PHASES: { name: string; start: RegExp }[] = [
  { name: 'setup: AMI lookup, key pair, security group', start: /^$/ },
  { name: 'launch: RunInstances → running', start: /Launching a source AWS instance/ },
  { name: 'SSH ready', start: /Waiting for SSH to become available/ },
  { name: 'provision', start: /Connected to SSH!/ },
  { name: 'stop', start: /Stopping the source instance/ },
  { name: 'CreateImage → available', start: /Creating AMI .* from instance/ },
  { name: 'copy to us-west-2 → available', start: /Copying\/Encrypting AMI/ },
  { name: 'share, tags', start: /Modifying attributes on AMI/ },
  { name: 'clean-up: terminate, group, key', start: /Terminating the source AWS instance/ },
];

interface UiLine { at: number; text: string }

/** `packer build -machine-readable`; resolves with its ui lines (Packer's own timestamps, ms). */
function packerBuild(endpoint: string, home: string): Promise<{ lines: UiLine[]; startedAt: number; endedAt: number }> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const child = spawn('packer', ['build', '-machine-readable', '-var', `endpoint=${endpoint}`, TEMPLATE], {
      cwd: home,
      env: {
        ...process.env, HOME: home,
        AWS_ACCESS_KEY_ID: BUILDER, AWS_SECRET_ACCESS_KEY: 'dev-mode-any-secret', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        // As the CI test: Packer's waiters poll every 15 s by default.
        AWS_POLL_DELAY_SECONDS: '2', AWS_MAX_ATTEMPTS: '900',
        CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1', PACKER_CACHE_DIR: join(home, 'cache'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const endedAt = Date.now();
      if (code !== 0) return reject(new Error(`packer build exited ${code}:\n${out.slice(-4000)}`));
      const lines = out.split('\n').map((l) => l.split(',')).filter((f) => f[2] === 'ui')
        .map((f) => ({ at: Number(f[0]) * 1000, text: f.slice(4).join(',').replace(/%!\(PACKER_COMMA\)/g, ',') }));
      resolve({ lines, startedAt, endedAt });
    });
  });
}

/** Phase durations (ms) from the ui lines; a phase whose line never came is absent. */
function phases(lines: UiLine[], startedAt: number, endedAt: number): { name: string; ms: number }[] {
  const starts = PHASES.map((p, i) => ({ name: p.name, at: i === 0 ? startedAt : lines.find((l) => p.start.test(l.text))?.at }))
    .filter((p): p is { name: string; at: number } => p.at !== undefined)
    .sort((a, b) => a.at - b.at);
  return starts.map((p, i) => ({ name: p.name, ms: (starts[i + 1]?.at ?? endedAt) - p.at }));
}

/** The build's steps made directly, timed one by one. */
async function reference(endpoint: string, home: string): Promise<Record<string, number>> {
  const ec2 = new EC2Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: BUILDER, secretAccessKey: 'x' }, maxAttempts: 1 });
  const west = new EC2Client({ endpoint, region: 'us-west-2', credentials: { accessKeyId: BUILDER, secretAccessKey: 'x' }, maxAttempts: 1 });
  const t: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (name: string) => { t[name] = performance.now() - t0; t0 = performance.now(); };
  const available = (client: EC2Client, imageId: string) => until(`${imageId} available`, async () => {
    const { Images: [img] = [] } = await client.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    if (img?.State === 'failed') throw new Error(`${imageId} failed`);
    return img?.State === 'available' ? img : undefined;
  }, { limitMs: LIMIT_MS, everyMs: 200 });
  try {
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['136693071363'], Filters: [{ Name: 'name', Values: ['debian-12-amd64-*'] }] }));
    const { KeyMaterial } = await ec2.send(new CreateKeyPairCommand({ KeyName: 'reference', KeyType: 'ed25519' }));
    const key = writePrivateKey(home, 'reference.pem', KeyMaterial!);
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'reference', Description: 'ssh' }));
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    lap('setup: AMI lookup, key pair, security group');
    const { Instances = [] } = await ec2.send(new RunInstancesCommand({
      ImageId: Images[0].ImageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'reference', SecurityGroupIds: [GroupId!],
    }));
    const id = Instances[0].InstanceId!;
    const address = await until('running', async () => {
      const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
      return i.State?.Name === 'running' && i.PublicIpAddress ? i.PublicIpAddress : undefined;
    }, { limitMs: LIMIT_MS, everyMs: 200 });
    lap('launch: RunInstances → running');
    await until('ssh', async () => ((await sshLogsIn(key, 'admin', address)) ? true : undefined), { limitMs: LIMIT_MS, everyMs: 1000 });
    lap('SSH ready');
    await promisify(execFile)('ssh', ['-i', key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      `admin@${address}`, 'echo "provisioned on $(hostname)" | sudo tee /etc/golden-release && sudo rm -f /home/admin/.bash_history'], { timeout: 60_000 });
    lap('provision');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await until('stopped', async () => {
      const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
      return i.State?.Name === 'stopped' ? true : undefined;
    }, { limitMs: LIMIT_MS, everyMs: 200 });
    lap('stop');
    const { ImageId } = await ec2.send(new CreateImageCommand({ InstanceId: id, Name: 'reference-golden' }));
    await available(ec2, ImageId!);
    lap('CreateImage → available');
    const copy = await west.send(new CopyImageCommand({ SourceImageId: ImageId, SourceRegion: 'us-east-1', Name: 'reference-golden' }));
    await available(west, copy.ImageId!);
    lap('copy to us-west-2 → available');
    await terminate(ec2, [id]);
    return t;
  } finally {
    ec2.destroy();
    west.destroy();
  }
}

const fmtS = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));

export async function run(args: string[]): Promise<void> {
  const values = parseBenchArgs(args, USAGE, {
    runs: { type: 'string', default: '1' }, 'no-reference': { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
  });
  if (!values) return;
  const runs = Number(values.runs);
  if (!(runs >= 1)) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  console.log('building the Debian image if needed (scripts/build-debian-image.sh)...');
  await buildDebianImage();
  const loadBefore = loadAverage();
  const builds: { name: string; ms: number }[][] = [];
  const totals: number[] = [];
  let ref: Record<string, number> | undefined;
  for (let i = 0; i < runs; i++) {
    const server = await startAmiforge({ serveArgs: ['--hypervisor', 'qemu', '--log-level', 'warn', '--public-address-range', ownPublicAddressRange()] });
    const home = mkdtempSync(join(tmpdir(), 'amiforge-bench-packer-'));
    try {
      const { lines, startedAt, endedAt } = await packerBuild(server.endpoint, home);
      builds.push(phases(lines, startedAt, endedAt));
      totals.push(endedAt - startedAt);
      console.log(`  packer build ${i + 1}: ${fmtS(endedAt - startedAt)} s (load ${loadAverage()})`);
      if (i === 0 && !values['no-reference']) {
        ref = await reference(server.endpoint, home);
        console.log(`  reference: ${fmtS(Object.values(ref).reduce((a, b) => a + b, 0))} s (load ${loadAverage()})`);
      }
    } finally {
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    }
  }
  const rows: Row[] = PHASES.map((p) => {
    const each = builds.map((b) => b.find((x) => x.name === p.name)?.ms);
    return [p.name, ...each.map(fmtS), ...(values['no-reference'] ? [] : [p.name in (ref ?? {}) ? fmtS(ref![p.name]) : '-'])];
  });
  rows.push(['total (wall)', ...totals.map(fmtS), ...(values['no-reference'] ? [] : [fmtS(Object.values(ref ?? {}).reduce((a, b) => a + b, 0))])]);
  console.log(`\nPacker amazon-ebs build of examples/packer/debian-golden.pkr.hcl, by phase (s; Packer's ui timestamps, 1 s resolution)`);
  console.log(`load average before: ${loadBefore}; after: ${loadAverage()} (2 cores)\n`);
  console.log(renderTable(['phase', ...builds.map((_, i) => `build ${i + 1}`), ...(values['no-reference'] ? [] : ['same steps via SDK'])], rows));
}
