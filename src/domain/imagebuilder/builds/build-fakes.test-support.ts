// Stand-ins for the build's collaborators in unit tests: EC2 as a few maps (instances, images in
// each account and region, key pairs, groups), a guest access whose sessions record the scripts
// they ran, and a component runner whose outcome each test decides.
import { SqliteMetadataStore } from '../../../adapters/sqlite/sqlite-store.ts';
import type { GuestAccess, GuestSession } from '../../../ports/guest-session.ts';
import type { IbKind, IbRecord } from '../../../ports/imagebuilder-repository.ts';
import type { Caller } from '../../context.ts';
import type { ComponentRunner, PhaseOutcome } from '../components/executor.ts';
import type { BuildEc2, CopySpec, LaunchSpec } from './build-ec2.ts';
import { BuildService } from './build-service.ts';
import type { HygieneGate } from './build-types.ts';

export const ME: Caller = { account: '111111111111', region: 'us-east-1' };
export const PARENT = 'ami-0123456789abcdef0';

let counter = 0;
const id = (p: string) => `${p}-${(++counter).toString(16).padStart(17, '0')}`;

export interface FakeImage { account: string; region: string; imageId: string; name: string; kmsKeyId?: string; tags: Record<string, string>; launch: unknown[]; sharedSnapshotsWith: string[] }

export class FakeEc2 implements BuildEc2 {
  instances = new Map<string, { state: string; spec: LaunchSpec }>();
  images = new Map<string, FakeImage>();
  keyPairs = new Set<string>();
  groups = new Set<string>();
  failCopyTo?: string;
  calls: string[] = [];

  async createKeyPair(_c: Caller, name: string) { this.keyPairs.add(name); this.calls.push(`CreateKeyPair ${name}`); return { privateKey: 'PRIVATE KEY' }; }
  async deleteKeyPair(_c: Caller, name: string) { this.keyPairs.delete(name); this.calls.push(`DeleteKeyPair ${name}`); }
  async createSshGroup() { const g = id('sg'); this.groups.add(g); this.calls.push(`CreateSecurityGroup ${g}`); return g; }
  async deleteSecurityGroup(_c: Caller, g: string) { this.groups.delete(g); this.calls.push(`DeleteSecurityGroup ${g}`); }
  async runInstance(_c: Caller, spec: LaunchSpec) { const i = id('i'); this.instances.set(i, { state: 'running', spec }); this.calls.push(`RunInstances ${spec.imageId}`); return i; }
  async waitRunning() { return { publicIp: '127.100.0.9' }; }
  async stopInstance(_c: Caller, i: string) { this.instances.get(i)!.state = 'stopped'; this.calls.push(`StopInstances ${i}`); }
  async terminateInstance(_c: Caller, i: string) { const r = this.instances.get(i); if (r) r.state = 'terminated'; this.calls.push(`TerminateInstances ${i}`); }
  async createImage(c: Caller, _i: string, name: string, _d: string | undefined, tags: Record<string, string>) {
    const imageId = id('ami');
    this.images.set(imageId, { account: c.account, region: c.region, imageId, name, tags, launch: [], sharedSnapshotsWith: [] });
    this.calls.push(`CreateImage ${name}`);
    return imageId;
  }
  async copyImage(c: Caller, s: CopySpec) {
    if (this.failCopyTo === c.region) throw new Error(`CopyImage to ${c.region} failed`);
    const imageId = id('ami');
    this.images.set(imageId, { account: c.account, region: c.region, imageId, name: s.name, kmsKeyId: s.kmsKeyId, tags: s.tags, launch: [], sharedSnapshotsWith: [] });
    this.calls.push(`CopyImage ${c.account}/${c.region} ${s.name}`);
    return imageId;
  }
  async waitImageAvailable() {}
  async addLaunchPermissions(_c: Caller, imageId: string, add: unknown[]) { this.images.get(imageId)!.launch.push(...add); }
  async shareSnapshots(_c: Caller, imageId: string, account: string, share: boolean) {
    const img = this.images.get(imageId)!;
    img.sharedSnapshotsWith = share ? [...img.sharedSnapshotsWith, account] : img.sharedSnapshotsWith.filter((a) => a !== account);
  }
  async deregisterImage(_c: Caller, imageId: string) { this.images.delete(imageId); this.calls.push(`DeregisterImage ${imageId}`); }
  async imageExists(_c: Caller, imageId: string) { return this.images.has(imageId); }

  live(): string[] {
    return [...this.instances.entries()].filter(([, r]) => r.state !== 'terminated').map(([i]) => i);
  }
}

export class FakeGuest implements GuestAccess {
  scripts: string[] = [];
  opened: { instanceId: string; address?: string; privateKey?: string }[] = [];
  async open(t: { instanceId: string; address?: string; privateKey?: string }): Promise<GuestSession> {
    this.opened.push(t);
    return {
      description: `fake ${t.instanceId}`,
      run: async (script) => { this.scripts.push(script); return { exitCode: 0, stdout: 'clean-up done\n', stderr: '' }; },
      reboot: async () => {},
      close: async () => {},
    };
  }
}

/** A runner answering each phase with `decide(phase)`; phases it saw are kept. */
export function fakeRunner(decide: (phase: string, signal?: AbortSignal) => Promise<PhaseOutcome> | PhaseOutcome = () => ({ ok: true, steps: [] })) {
  const phases: string[] = [];
  const run: ComponentRunner = async (phase, components, _s, opts) => {
    phases.push(`${phase}:${components.map((c) => c.name).join(',')}`);
    opts.onLog?.(`running ${phase}`);
    return decide(phase, opts.signal);
  };
  return { run, phases };
}

export const step = (phase: string, status: 'COMPLETED' | 'FAILED', output: string) => ({
  component: 'hello', phase, step: 'Say', action: 'ExecuteBash', status, startTime: '', endTime: '', attempts: 1, output, log: output,
});

export function world(o: { runner?: ReturnType<typeof fakeRunner>; hygiene?: HygieneGate } = {}) {
  const store = new SqliteMetadataStore(':memory:');
  const ec2 = new FakeEc2();
  const guest = new FakeGuest();
  const runner = o.runner ?? fakeRunner();
  const service = new BuildService({
    records: store.imageBuilder, ec2, clock: { now: () => new Date('2026-03-04T05:06:07.890Z') }, ids: { next: id },
    runComponents: runner.run, guestAccess: guest, hygiene: o.hygiene,
  });
  const put = async (kind: IbKind, arn: string, doc: Record<string, unknown>, extra: Partial<IbRecord> = {}) => {
    const now = new Date().toISOString();
    await store.imageBuilder.insert({ arn, kind, account: ME.account, region: ME.region, name: String(doc.name), doc: { arn, ...doc }, createdAt: now, updatedAt: now, ...extra });
    return arn;
  };
  return { store, ec2, guest, runner, service, put, records: store.imageBuilder };
}

export const ARNS = {
  component: `arn:aws:imagebuilder:us-east-1:${ME.account}:component/hello/1.0.0/1`,
  scanComponent: `arn:aws:imagebuilder:us-east-1:${ME.account}:component/amiforge-hygiene-scan-linux/1.0.0/1`,
  recipe: `arn:aws:imagebuilder:us-east-1:${ME.account}:image-recipe/golden/1.2.3`,
  infra: `arn:aws:imagebuilder:us-east-1:${ME.account}:infrastructure-configuration/small`,
  dist: `arn:aws:imagebuilder:us-east-1:${ME.account}:distribution-configuration/two-regions`,
};

/** Seeds a component, a recipe, an infrastructure and a distribution configuration. */
export async function seed(w: ReturnType<typeof world>, o: { recipe?: Record<string, unknown>; infra?: Record<string, unknown>; dist?: Record<string, unknown>[] | null } = {}) {
  await w.put('component', ARNS.component, { name: 'hello', version: '1.0.0/1', data: 'phases: []' }, { version: '1.0.0', build: 1 });
  await w.put('component', ARNS.scanComponent, { name: 'amiforge-hygiene-scan-linux', version: '1.0.0/1', data: 'phases: []' }, { version: '1.0.0', build: 1 });
  await w.put('image-recipe', ARNS.recipe, { name: 'golden', version: '1.2.3', parentImage: PARENT, components: [{ componentArn: ARNS.component }], ...o.recipe }, { version: '1.2.3' });
  await w.put('infrastructure-configuration', ARNS.infra, { name: 'small', instanceTypes: ['t3.micro'], resourceTags: { team: 'platform' }, ...o.infra });
  if (o.dist !== null) {
    await w.put('distribution-configuration', ARNS.dist, {
      name: 'two-regions', timeoutMinutes: 60,
      distributions: o.dist ?? [
        { region: 'us-east-1', amiDistributionConfiguration: { name: 'golden-{{ imagebuilder:buildDate }}', amiTags: { stage: 'prod' } } },
        { region: 'us-west-2', amiDistributionConfiguration: { name: 'golden-{{imagebuilder:buildVersion}}', kmsKeyId: 'arn:aws:kms:us-west-2:111111111111:key/k1' } },
      ],
    });
  }
}

export async function build(w: ReturnType<typeof world>, extra: Record<string, unknown> = {}) {
  const { imageBuildVersionArn } = await w.service.startBuild(ME, { imageRecipeArn: ARNS.recipe, infrastructureConfigurationArn: ARNS.infra, distributionConfigurationArn: ARNS.dist, ...extra });
  await w.service.idle();
  return { arn: imageBuildVersionArn, image: await w.service.get(ME, imageBuildVersionArn) };
}

/** The steps of each workflow of a build, as `TYPE name STATUS`. */
export async function stepsOf(w: ReturnType<typeof world>, arn: string): Promise<string[]> {
  const out: string[] = [];
  for (const wf of (await w.service.listWorkflowExecutions(ME, arn, {})).workflowExecutions!) {
    if (wf.status === 'SKIPPED') out.push(`${wf.type} SKIPPED`);
    for (const s of (await w.service.listWorkflowStepExecutions(ME, wf.workflowExecutionId!, {})).steps!) out.push(`${wf.type} ${s.name} ${s.status}`);
  }
  return out;
}
