// An Image Builder build's wall time, phase by phase, beside the same work done directly through
// the EC2 API in the same run against the same server: key pair and group, RunInstances from the
// parent and wait, the component's command (over SSH on QEMU), stop, CreateImage and wait,
// terminate, a test instance from the new AMI with the test command, CopyImage to a second region
// and wait. The overhead % is the build's (workflow, records, sessions, polling) over the direct
// path. Runs on the simulator by default (no commands run in guests: what it measures is the
// orchestration); `--hypervisor qemu` builds on Debian 12 with real SSH sessions.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import {
  AuthorizeSecurityGroupIngressCommand, CopyImageCommand, CreateImageCommand as Ec2CreateImageCommand, CreateKeyPairCommand,
  CreateSecurityGroupCommand, DeleteKeyPairCommand, DeleteSecurityGroupCommand, DescribeImagesCommand, DescribeInstancesCommand,
  EC2Client, RunInstancesCommand, StopInstancesCommand, TerminateInstancesCommand, type Instance,
} from '@aws-sdk/client-ec2';
import {
  CreateComponentCommand, CreateDistributionConfigurationCommand, CreateImageCommand, CreateImageRecipeCommand,
  CreateInfrastructureConfigurationCommand, GetImageCommand, ImagebuilderClient, ListWorkflowExecutionsCommand,
  ListWorkflowStepExecutionsCommand,
} from '@aws-sdk/client-imagebuilder';
import { until } from './support/guests.ts';
import { ownPublicAddressRange, startAmiforge } from './support/servers.ts';
import { renderTable, type Row } from './support/table.ts';
import { buildDebianImage, writePrivateKey } from '../test/support/qemu.ts';

export const description = 'An Image Builder build split by phase beside the same steps through the EC2 API; the pipeline\'s overhead %';

const USAGE = `usage: npm run bench -- pipeline [--hypervisor sim|qemu] [--runs N]
  --hypervisor H   sim (default: orchestration only, no guest commands) or qemu (Debian 12, SSH)
  --runs N         builds and direct runs, alternated (default 1); the table shows medians`;

const exec = promisify(execFile);
const CREDENTIALS = { accessKeyId: '111111111111', secretAccessKey: 'dev-mode-any-secret' };
const DEBIAN_OWNER = '136693071363';
const BUILD_COMMAND = 'echo "built by the pipeline bench" > /etc/bench-release';
const TEST_COMMAND = 'grep -q "pipeline bench" /etc/bench-release';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmtS = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '-' : (ms / 1000).toFixed(2));

/** The phases both paths go through, and the build's workflow steps that make each one. */
const PHASES: { label: string; steps: string[] }[] = [
  { label: 'launch the build instance', steps: ['LaunchBuildInstance'] },
  { label: 'build and validate (guest commands)', steps: ['ApplyBuildComponents'] },
  { label: 'clean-up before imaging', steps: ['RunSanitizeScript'] },
  { label: 'stop, CreateImage, available', steps: ['CreateOutputAMI'] },
  { label: 'terminate the build instance', steps: ['TerminateBuildInstance'] },
  { label: 'launch the test instance', steps: ['LaunchTestInstance'] },
  { label: 'test (guest commands)', steps: ['RunTestSuite'] },
  { label: 'terminate the test instance', steps: ['TerminateTestInstance'] },
  { label: 'distribute: CopyImage to us-west-2', steps: ['DistributeImage'] },
];

type Timings = Map<string, number>;

interface Context {
  endpoint: string;
  qemu: boolean;
  parentImage: string;
  pollMs: number;
  home: string;
}

// --- the pipeline ------------------------------------------------------------------------------

async function pipelineRun(c: Context, n: number): Promise<{ total: number; phases: Timings }> {
  const ib = new ImagebuilderClient({ endpoint: c.endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  const name = `bench-${n}`;
  const doc = ['name: bench', 'schemaVersion: 1.0', 'phases:',
    '  - name: build', '    steps:', '      - name: Write', '        action: ExecuteBash', '        inputs:', '          commands:', `            - ${JSON.stringify(BUILD_COMMAND)}`,
    '  - name: test', '    steps:', '      - name: Check', '        action: ExecuteBash', '        inputs:', '          commands:', `            - ${JSON.stringify(TEST_COMMAND)}`].join('\n');
  const { componentBuildVersionArn } = await ib.send(new CreateComponentCommand({ name, semanticVersion: '1.0.0', platform: 'Linux', data: doc }));
  const { imageRecipeArn } = await ib.send(new CreateImageRecipeCommand({ name, semanticVersion: '1.0.0', parentImage: c.parentImage, components: [{ componentArn: componentBuildVersionArn! }] }));
  const { infrastructureConfigurationArn } = await ib.send(new CreateInfrastructureConfigurationCommand({ name, instanceProfileName: 'bench', instanceTypes: ['t3.micro'] }));
  const { distributionConfigurationArn } = await ib.send(new CreateDistributionConfigurationCommand({
    name, distributions: [
      { region: 'us-east-1', amiDistributionConfiguration: { name: `${name} {{ imagebuilder:buildDate }}` } },
      { region: 'us-west-2', amiDistributionConfiguration: { name: `${name} {{ imagebuilder:buildDate }}` } },
    ],
  }));
  const started = performance.now();
  const { imageBuildVersionArn } = await ib.send(new CreateImageCommand({ imageRecipeArn, infrastructureConfigurationArn, distributionConfigurationArn }));
  const image = await until('the build ends', async () => {
    const got = (await ib.send(new GetImageCommand({ imageBuildVersionArn }))).image!;
    return ['AVAILABLE', 'FAILED', 'CANCELLED'].includes(got.state!.status!) ? got : undefined;
  }, { limitMs: 3_600_000, everyMs: c.pollMs });
  const total = performance.now() - started;
  if (image.state!.status !== 'AVAILABLE') throw new Error(`the build ${imageBuildVersionArn} ended ${image.state!.status}: ${image.state!.reason}`);
  const byStep = new Map<string, number>();
  for (const wf of (await ib.send(new ListWorkflowExecutionsCommand({ imageBuildVersionArn }))).workflowExecutions ?? []) {
    for (const s of (await ib.send(new ListWorkflowStepExecutionsCommand({ workflowExecutionId: wf.workflowExecutionId! }))).steps ?? []) {
      byStep.set(s.name!, Date.parse(s.endTime!) - Date.parse(s.startTime!));
    }
  }
  const phases: Timings = new Map();
  for (const p of PHASES) phases.set(p.label, p.steps.reduce((sum, s) => sum + (byStep.get(s) ?? 0), 0));
  return { total, phases };
}

// --- the same work through the EC2 API -------------------------------------------------------------

async function ssh(key: string, address: string, command: string, limitMs: number): Promise<void> {
  await until(`ssh ${address}: ${command}`, async () => {
    for (const user of ['admin', 'ec2-user', 'ubuntu', 'root']) {
      try {
        await exec('ssh', ['-i', key, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
          '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR', `${user}@${address}`, `sudo bash -c ${JSON.stringify(command)}`], { timeout: 60_000 });
        return true;
      } catch {
        // the guest is still booting, or this is not its login user
      }
    }
    return undefined;
  }, { limitMs, everyMs: 1000 });
}

async function directRun(c: Context, n: number): Promise<{ total: number; phases: Timings }> {
  const east = new EC2Client({ endpoint: c.endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  const west = new EC2Client({ endpoint: c.endpoint, region: 'us-west-2', credentials: CREDENTIALS, maxAttempts: 1 });
  const phases: Timings = new Map();
  const timed = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const v = await fn();
    phases.set(label, (phases.get(label) ?? 0) + performance.now() - t0);
    return v;
  };
  const instance = async (id: string) => (await east.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0];
  const waitState = (id: string, state: string) => until(`${id} ${state}`, async () => {
    const i = await instance(id);
    return i.State?.Name === state ? i : undefined;
  }, { limitMs: 900_000, everyMs: c.pollMs });
  const waitImage = (client: EC2Client, id: string) => until(`${id} available`, async () => {
    const [img] = (await client.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images ?? [];
    if (img?.State === 'failed') throw new Error(`${id} failed`);
    return img?.State === 'available' ? img : undefined;
  }, { limitMs: 900_000, everyMs: c.pollMs });
  const launch = async (imageId: string, groupId: string, keyName: string): Promise<Instance> => {
    const { Instances } = await east.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: keyName, SecurityGroupIds: [groupId] }));
    return waitState(Instances![0].InstanceId!, 'running');
  };
  const terminate = async (id: string) => {
    await east.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitState(id, 'terminated');
  };

  const started = performance.now();
  const keyName = `direct-${n}`;
  const { groupId, key } = await timed('launch the build instance', async () => {
    const { KeyMaterial } = await east.send(new CreateKeyPairCommand({ KeyName: keyName, KeyType: 'ed25519' }));
    const { GroupId } = await east.send(new CreateSecurityGroupCommand({ GroupName: keyName, Description: 'bench ssh' }));
    await east.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    return { groupId: GroupId!, key: writePrivateKey(c.home, `${keyName}.pem`, KeyMaterial!) };
  });
  const build = await timed('launch the build instance', () => launch(c.parentImage, groupId, keyName));
  if (c.qemu) await timed('build and validate (guest commands)', () => ssh(key, build.PublicIpAddress!, BUILD_COMMAND, 900_000));
  const imageId = await timed('stop, CreateImage, available', async () => {
    await east.send(new StopInstancesCommand({ InstanceIds: [build.InstanceId!] }));
    await waitState(build.InstanceId!, 'stopped');
    const { ImageId } = await east.send(new Ec2CreateImageCommand({ InstanceId: build.InstanceId!, Name: `${keyName} ${Date.now()}` }));
    await waitImage(east, ImageId!);
    return ImageId!;
  });
  await timed('terminate the build instance', () => terminate(build.InstanceId!));
  const tester = await timed('launch the test instance', () => launch(imageId, groupId, keyName));
  if (c.qemu) await timed('test (guest commands)', () => ssh(key, tester.PublicIpAddress!, TEST_COMMAND, 900_000));
  await timed('terminate the test instance', () => terminate(tester.InstanceId!));
  await timed('distribute: CopyImage to us-west-2', async () => {
    const { ImageId } = await west.send(new CopyImageCommand({ SourceRegion: 'us-east-1', SourceImageId: imageId, Name: `${keyName} copy` }));
    await waitImage(west, ImageId!);
  });
  await east.send(new DeleteKeyPairCommand({ KeyName: keyName }));
  await east.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
  return { total: performance.now() - started, phases };
}

// --- the hygiene scan's figures (bench/support/hygiene-scan.ts) -----------------------------------

async function hygieneFigures(): Promise<void> {
  const file = new URL('./support/hygiene-scan.ts', import.meta.url);
  if (!existsSync(file)) return;
  const { scanFigures } = (await import(file.href)) as { scanFigures?: () => Promise<ScanFigure[]> };
  if (typeof scanFigures !== 'function') return;
  console.log('\nthe hygiene scan before sharing, of the same planted filesystem in disks of two sizes:\n');
  const figures = await scanFigures();
  console.log(renderTable(['disk, GiB', 'method', 'stored, MB', 'read, MB', 'files read', 'findings', 'time, s'], figures.map((f) => [
    String(f.diskGiB), f.method, (f.storedBytes / 1e6).toFixed(1), (f.bytesRead / 1e6).toFixed(1), String(f.filesRead), String(f.findings), fmtS(f.durationMs),
  ])));
}

/** What bench/support/hygiene-scan.ts reports per disk size and read method. */
interface ScanFigure { diskGiB: number; method: string; storedBytes: number; bytesRead: number; filesRead: number; findings: number; durationMs: number }

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { hypervisor: { type: 'string', default: 'sim' }, runs: { type: 'string', default: '1' }, help: { type: 'boolean' } } });
  if (values.help) return console.log(USAGE);
  const qemu = values.hypervisor === 'qemu';
  if (!qemu && values.hypervisor !== 'sim') throw new Error(`--hypervisor must be sim or qemu\n${USAGE}`);
  const runs = Number(values.runs);
  if (qemu) await buildDebianImage();
  const serveArgs = qemu
    ? ['--hypervisor', 'qemu', '--log-level', 'warn', '--public-address-range', ownPublicAddressRange()]
    : ['--sim-boot-ms', '300', '--log-level', 'warn'];
  const server = await startAmiforge({ serveArgs });
  const home = mkdtempSync(join(tmpdir(), 'amiforge-pipeline-bench-'));
  try {
    const east = new EC2Client({ endpoint: server.endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
    const filter = qemu ? { Owners: [DEBIAN_OWNER], Filters: [{ Name: 'name', Values: ['debian-12-amd64-*'] }] } : { Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-*-x86_64'] }] };
    const parentImage = (await east.send(new DescribeImagesCommand(filter))).Images![0].ImageId!;
    const c: Context = { endpoint: server.endpoint, qemu, parentImage, pollMs: qemu ? 500 : 50, home };
    console.log(`amiforge ${server.endpoint}, ${qemu ? 'QEMU, Debian 12 parent, SSH sessions' : 'simulated hypervisor (300 ms boots), no guest commands'}; ${runs} run(s) each\n`);
    // A first launch of the parent warms what any first launch pays (the guest disk's blocks, the
    // kernel's page cache), so neither path is charged for it.
    const warm = (await east.send(new RunInstancesCommand({ ImageId: parentImage, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }))).Instances![0].InstanceId!;
    await until('the warm-up instance runs', async () => ((await east.send(new DescribeInstancesCommand({ InstanceIds: [warm] }))).Reservations![0].Instances![0].State?.Name === 'running' ? true : undefined), { limitMs: 600_000, everyMs: 500 });
    await east.send(new TerminateInstancesCommand({ InstanceIds: [warm] }));
    await until('the warm-up instance ends', async () => ((await east.send(new DescribeInstancesCommand({ InstanceIds: [warm] }))).Reservations![0].Instances![0].State?.Name === 'terminated' ? true : undefined), { limitMs: 600_000, everyMs: 500 });
    const pipeline: { total: number; phases: Timings }[] = [];
    const direct: { total: number; phases: Timings }[] = [];
    for (let i = 0; i < runs; i++) {
      direct.push(await directRun(c, i));
      pipeline.push(await pipelineRun(c, i));
    }
    const rows: Row[] = PHASES.map((p) => [
      p.label, fmtS(median(pipeline.map((r) => r.phases.get(p.label) ?? 0))), fmtS(median(direct.map((r) => r.phases.get(p.label) ?? 0))),
    ]);
    const pTotal = median(pipeline.map((r) => r.total));
    const dTotal = median(direct.map((r) => r.total));
    const stepsSum = median(pipeline.map((r) => [...r.phases.values()].reduce((a, b) => a + b, 0)));
    rows.push(['between steps (API, records, polling)', fmtS(pTotal - stepsSum), '-']);
    rows.push({ section: '' });
    rows.push(['total wall time', fmtS(pTotal), fmtS(dTotal)]);
    console.log(renderTable(['phase', 'pipeline, s', 'EC2 API, s'], rows));
    console.log(`\npipeline overhead: ${(((pTotal - dTotal) / dTotal) * 100).toFixed(1)}% (aim: <= 10%)`);
    console.log('the pipeline also cleans the guest up before imaging, and opens its sessions once the first boot\'s cloud-init has finished;'
      + ' the direct path runs its command as soon as SSH lets it in');
    await hygieneFigures();
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
