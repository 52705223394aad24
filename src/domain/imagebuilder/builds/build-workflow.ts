// One build, run in the background after CreateImage (Image Builder's) answered: Image Builder's
// default build, test and distribution workflows, on EC2's own services as the image's account.
//
//   build:  launch the build instance from the parent image (a temporary key pair and a temporary
//           security group allowing TCP 22 beside the configuration's groups), open a guest
//           session, run the components' build phase then their validate phase, run the clean-up
//           (sanitize.ts), stop the instance, CreateImage and wait for it, terminate the instance;
//   test:   launch a test instance from the new AMI, run the components' test phase (the hygiene
//           component scans the AMI offline instead), terminate it;
//   distribute: per region of the distribution configuration, CopyImage (encrypted with the
//           region's KMS key, named with Image Builder's variables expanded) and wait, launch
//           permissions, tags, copies into target accounts; before any share outside the account,
//           the hygiene gate.
//
// Status moves PENDING → CREATING → BUILDING → TESTING → DISTRIBUTING → INTEGRATING → AVAILABLE.
// A failing step fails the build with its message in state.reason; then, and on cancel, every
// instance is terminated (the build instance is kept on failure only when the infrastructure
// configuration says terminateInstanceOnFailure = false), every AMI the build made is deregistered
// with its snapshots (nothing is left half-distributed), and the temporary key pair and group go.
import type { LaunchPermission } from '../../../protocol/ec2/types.generated.ts';
import type {
  Ami, DistributionConfiguration, ImageRecipe, InfrastructureConfiguration,
} from '../../../protocol/imagebuilder/types.generated.ts';
import type { GuestSession } from '../../../ports/guest-session.ts';
import type { Caller } from '../../context.ts';
import type { ComponentToRun, PhaseOutcome } from '../components/executor.ts';
import type { LaunchSpec } from './build-ec2.ts';
import {
  HYGIENE_COMPONENT, HYGIENE_OPT_OUT_TAG, type BuildResources, type BuildServiceDeps, type HygieneFinding, type ImageDoc,
} from './build-types.ts';
import { pause } from './pause.ts';
import { defaultAmiName, expandName, type NameContext } from './output-names.ts';
import { SANITIZE_SCRIPT, sanitizeSkipReason } from './sanitize.ts';
import { cloudInitWaitScript } from './cloud-init-waits.ts';
import { messageOf, StepSkipped, WorkflowExecution, type StepContext } from './workflow-records.ts';

export interface BuildInput {
  caller: Caller;
  imageArn: string;
  version: string;
  build: number;
  recipe: ImageRecipe;
  infra: InfrastructureConfiguration;
  dist?: DistributionConfiguration;
  components: ComponentToRun[];
  parentImageId: string;
  tests: { enabled: boolean; timeoutMinutes: number };
  buildDate: Date;
  signal: AbortSignal;
}

/** The instance type of a build when the infrastructure configuration names none. */
export const DEFAULT_INSTANCE_TYPE = 't3.medium';
const DEFAULT_GUEST_TIMEOUT_MS = 10 * 60_000;
const SANITIZE_TIMEOUT_MS = 5 * 60_000;
/**
 * Before a build instance's first step: where the image has cloud-init, until its config stage is
 * over (the stage that may restart sshd and install what the user data asks for), or cloud-init is
 * done, failed or disabled; the final stage may still run (the clean-up waits for it). A test
 * instance's session does not wait: its one shared connection outlives an sshd restart, and what
 * its tests check is the image.
 */
const GUEST_READY_SCRIPT = cloudInitWaitScript('config');
const GUEST_READY_ATTEMPTS = 5;
const GUEST_RETRY_MS = 3000;

/** Why a build was stopped: a CancelImageCreation, or the service shutting down. */
export class BuildStopped extends Error {
  readonly cancelled: boolean;
  constructor(message: string, cancelled: boolean) {
    super(message);
    this.cancelled = cancelled;
  }
}

export class BuildWorkflow {
  private readonly deps: BuildServiceDeps;
  private readonly b: BuildInput;
  private readonly res: BuildResources = { instances: [], images: [] };
  private current?: WorkflowExecution;
  private session?: GuestSession;
  private privateKey?: string;

  constructor(deps: BuildServiceDeps, input: BuildInput) {
    this.deps = deps;
    this.b = input;
  }

  private get caller(): Caller {
    return this.b.caller;
  }

  private get signal(): AbortSignal {
    return this.b.signal;
  }

  async run(): Promise<void> {
    try {
      const images = await this.buildPhase();
      if (this.b.tests.enabled) await this.testPhase(images.intermediate);
      else await WorkflowExecution.skipped(this.deps, this.caller, this.b.imageArn, 'TEST', 'Image tests are disabled for this build.');
      const amis = await this.distributePhase(images.intermediate, images.usedAsOutput);
      await this.setStatus('INTEGRATING');
      await this.removeTemporaries();
      this.res.images = [];
      await this.deps.records.update(this.b.imageArn, (r) => ({
        ...r, state: 'AVAILABLE', updatedAt: this.now(),
        doc: { ...r.doc, state: { status: 'AVAILABLE' }, outputResources: { amis }, buildResources: undefined },
      }));
    } catch (err) {
      await this.fail(err);
    }
  }

  // --- build ---------------------------------------------------------------------------------

  private async buildPhase(): Promise<{ intermediate: string; usedAsOutput: boolean }> {
    await this.setStatus('CREATING');
    const wf = this.current = await WorkflowExecution.start(this.deps, this.caller, this.b.imageArn, 'BUILD');
    const { instanceId } = await wf.step('LaunchBuildInstance', 'LaunchInstance', { imageId: this.b.parentImageId }, async (ctx) => {
      const launched = await this.launch(this.b.parentImageId, 'Build', ctx);
      return { instanceId: launched };
    }, this.signal);
    await this.setStatus('BUILDING');
    try {
      await wf.step('ApplyBuildComponents', 'ExecuteComponents', { components: this.b.components.map((c) => c.arn) }, async (ctx) => {
        const session = this.session = await this.openSession(instanceId, ctx, this.signal, { waitForCloudInit: true });
        for (const phase of ['build', 'validate'] as const) {
          ctx.log(`phase ${phase}`);
          const outcome = await this.deps.runComponents(phase, this.b.components, session, {
            workingDirectory: this.b.recipe.workingDirectory, signal: this.signal, onLog: (line) => ctx.log(line),
          });
          logOutcome(ctx, outcome);
          if (!outcome.ok) throw new Error(outcome.failure ?? `The ${phase} phase failed.`);
        }
      }, this.signal);
      await wf.step('RunSanitizeScript', 'RunCommand', {}, async (ctx) => {
        const skip = sanitizeSkipReason(this.b.recipe);
        if (skip) {
          ctx.log(skip);
          throw new StepSkipped(skip);
        }
        const r = await this.session!.run(SANITIZE_SCRIPT, { timeoutMs: SANITIZE_TIMEOUT_MS, signal: this.signal });
        for (const line of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean)) ctx.log(line);
        if (r.exitCode !== 0) throw new Error(`The clean-up script exited with ${r.exitCode}.`);
      }, this.signal);
    } finally {
      await this.closeSession();
    }
    const plan = this.outputPlan();
    const { imageId } = await wf.step('CreateOutputAMI', 'CreateImage', { instanceId, name: plan.name }, async (ctx) => {
      ctx.log(`stopping ${instanceId}`);
      await this.deps.ec2.stopInstance(this.caller, instanceId, this.signal);
      const id = await this.deps.ec2.createImage(this.caller, instanceId, plan.name, plan.description, plan.tags);
      this.res.images.push({ region: this.caller.region, account: this.caller.account, imageId: id });
      await this.track();
      ctx.log(`CreateImage: ${id} (${plan.name}); waiting for it to be available`);
      await this.deps.ec2.waitImageAvailable(this.caller, id, this.signal);
      ctx.log(`${id} is available`);
      return { imageId: id };
    }, this.signal);
    await wf.step('TerminateBuildInstance', 'TerminateInstance', { instanceId }, async (ctx) => {
      await this.terminate(instanceId, ctx);
    }, this.signal);
    await wf.finish('COMPLETED');
    return { intermediate: imageId, usedAsOutput: plan.usedAsOutput };
  }

  /**
   * The image CreateImage makes: named and tagged as the build region's output when that region
   * has no KMS key (the image is then the output itself), otherwise an intermediate the
   * distribution copies and then deregisters (AMI names are unique per account and region).
   */
  private outputPlan(): { name: string; description?: string; tags: Record<string, string>; usedAsOutput: boolean } {
    const here = this.regionDistribution(this.caller.region);
    const ami = here?.amiDistributionConfiguration;
    const name = this.amiName(ami?.name);
    const usedAsOutput = !this.b.dist?.distributions?.length || (!!here && !ami?.kmsKeyId);
    return {
      name: usedAsOutput ? name : `${name} intermediate`,
      description: ami?.description ?? this.b.recipe.description,
      tags: { ...this.outputTags(), ...(usedAsOutput ? ami?.amiTags : {}) },
      usedAsOutput,
    };
  }

  // --- test ----------------------------------------------------------------------------------

  private async testPhase(imageId: string): Promise<void> {
    await this.setStatus('TESTING');
    const wf = this.current = await WorkflowExecution.start(this.deps, this.caller, this.b.imageArn, 'TEST');
    const { instanceId } = await wf.step('LaunchTestInstance', 'LaunchInstance', { imageId }, async (ctx) => {
      return { instanceId: await this.launch(imageId, 'Test', ctx) };
    }, this.signal);
    const minutes = this.b.tests.timeoutMinutes;
    const timeout = AbortSignal.timeout(minutes * 60_000);
    const signal = AbortSignal.any([this.signal, timeout]);
    const scanned = this.b.components.filter((c) => c.name === HYGIENE_COMPONENT);
    const inGuest = this.b.components.filter((c) => c.name !== HYGIENE_COMPONENT);
    try {
      await wf.step('RunTestSuite', 'ExecuteComponents', { components: this.b.components.map((c) => c.arn), timeoutMinutes: minutes }, async (ctx) => {
        try {
          if (inGuest.length) {
            const session = this.session = await this.openSession(instanceId, ctx, signal, { waitForCloudInit: false });
            ctx.log('phase test');
            const outcome = await this.deps.runComponents('test', inGuest, session, {
              workingDirectory: this.b.recipe.workingDirectory, signal, onLog: (line) => ctx.log(line),
            });
            logOutcome(ctx, outcome);
            if (!outcome.ok) throw new Error(outcome.failure ?? 'The test phase failed.');
          }
          if (scanned.length) {
            ctx.log(`${HYGIENE_COMPONENT}: scanning ${imageId} offline`);
            const high = await this.scan(imageId, ctx);
            if (high.length) throw new Error(`${HYGIENE_COMPONENT}: ${describeFindings(high)}`);
          }
        } catch (err) {
          if (timeout.aborted && !this.signal.aborted) throw new Error(`The test phase did not finish within ${minutes} minutes.`);
          throw err;
        }
      }, this.signal);
    } finally {
      await this.closeSession();
    }
    await wf.step('TerminateTestInstance', 'TerminateInstance', { instanceId }, async (ctx) => {
      await this.terminate(instanceId, ctx);
    }, this.signal);
    await wf.finish('COMPLETED');
  }

  // --- distribute ----------------------------------------------------------------------------

  private async distributePhase(intermediate: string, usedAsOutput: boolean): Promise<Ami[]> {
    await this.setStatus('DISTRIBUTING');
    const wf = this.current = await WorkflowExecution.start(this.deps, this.caller, this.b.imageArn, 'DISTRIBUTION');
    const distributions = this.b.dist?.distributions ?? [];
    if (this.sharesOutside() && this.deps.hygiene) {
      await wf.step('ScanBeforeSharing', 'HygieneScan', { imageId: intermediate }, async (ctx) => {
        if (this.b.recipe.tags?.[HYGIENE_OPT_OUT_TAG] === 'skip') {
          const why = `The recipe's tag ${HYGIENE_OPT_OUT_TAG}=skip opts out of the hygiene scan before sharing.`;
          ctx.log(why);
          throw new StepSkipped(why);
        }
        const high = await this.scan(intermediate, ctx);
        if (high.length) throw new Error(`The image is not shared outside its account: ${describeFindings(high)}`);
      }, this.signal);
    }
    const amis = await wf.step('DistributeImage', 'CopyImage', { regions: distributions.map((d) => d.region) }, async (ctx) => {
      const out: Ami[] = [];
      if (!distributions.length) {
        const plan = this.outputPlan();
        out.push({ region: this.caller.region, image: intermediate, name: plan.name, description: plan.description, state: { status: 'AVAILABLE' }, accountId: this.caller.account });
      }
      for (const d of distributions) out.push(...await this.distributeTo(d, intermediate, usedAsOutput, ctx));
      if (!usedAsOutput) {
        ctx.log(`deregistering the intermediate image ${intermediate}`);
        await this.deps.ec2.deregisterImage(this.caller, intermediate);
        this.res.images = this.res.images.filter((i) => i.imageId !== intermediate);
        await this.track();
      }
      return { amis: out };
    }, this.signal);
    await wf.finish('COMPLETED');
    return amis.amis;
  }

  private async distributeTo(d: NonNullable<DistributionConfiguration['distributions']>[number], intermediate: string, usedAsOutput: boolean, ctx: StepContext): Promise<Ami[]> {
    const ami = d.amiDistributionConfiguration ?? {};
    const name = this.amiName(ami.name);
    const description = ami.description ?? this.b.recipe.description;
    const here: Caller = { ...this.caller, region: d.region };
    let imageId: string;
    if (d.region === this.caller.region && usedAsOutput) {
      imageId = intermediate;
      ctx.log(`${d.region}: the build's image ${imageId} is the output`);
    } else {
      imageId = await this.copy(here, { sourceRegion: this.caller.region, sourceImageId: intermediate, name, description, kmsKeyId: ami.kmsKeyId, tags: { ...this.outputTags(), ...ami.amiTags } }, ctx);
    }
    const out: Ami[] = [{ region: d.region, image: imageId, name, description, state: { status: 'AVAILABLE' }, accountId: this.caller.account }];
    const permissions = launchPermissionsOf(ami.launchPermission, this.caller.account);
    if (permissions.length) {
      ctx.log(`${d.region}: launch permissions ${JSON.stringify(permissions)}`);
      await this.deps.ec2.addLaunchPermissions(here, imageId, permissions);
    }
    for (const account of ami.targetAccountIds ?? []) {
      if (account === this.caller.account) continue;
      // The target account copies the image as its own: it may read it for the copy's time.
      await this.deps.ec2.shareSnapshots(here, imageId, account, true);
      await this.deps.ec2.addLaunchPermissions(here, imageId, [{ UserId: account }]);
      const theirs = await this.copy({ account, region: d.region }, { sourceRegion: d.region, sourceImageId: imageId, name, description, kmsKeyId: ami.kmsKeyId, tags: { ...this.outputTags(), ...ami.amiTags } }, ctx);
      await this.deps.ec2.shareSnapshots(here, imageId, account, false);
      out.push({ region: d.region, image: theirs, name, description, state: { status: 'AVAILABLE' }, accountId: account });
    }
    for (const p of d.ssmParameterConfigurations ?? []) {
      const owner = p.amiAccountId ?? this.caller.account;
      const image = out.find((o) => o.accountId === owner)!.image!;
      if (!this.deps.publishParameter) throw new Error('Systems Manager parameters are not available on this service.');
      await this.deps.publishParameter({ account: owner, region: d.region }, p.parameterName, image, p.dataType ?? 'aws:ec2:image');
      ctx.log(`${d.region}${owner === this.caller.account ? '' : ` (account ${owner})`}: parameter ${p.parameterName} = ${image}`);
    }
    return out;
  }

  private async copy(to: Caller, spec: Parameters<BuildServiceDeps['ec2']['copyImage']>[1], ctx: StepContext): Promise<string> {
    const id = await this.deps.ec2.copyImage(to, spec);
    this.res.images.push({ region: to.region, account: to.account, imageId: id });
    await this.track();
    ctx.log(`${to.region}${to.account === this.caller.account ? '' : ` (account ${to.account})`}: CopyImage ${spec.sourceImageId} → ${id} (${spec.name})${spec.kmsKeyId ? ` encrypted with ${spec.kmsKeyId}` : ''}; waiting for it to be available`);
    await this.deps.ec2.waitImageAvailable(to, id, this.signal);
    ctx.log(`${id} is available`);
    return id;
  }

  /** Whether any region shares the image beyond its account: what the hygiene gate guards. */
  private sharesOutside(): boolean {
    return (this.b.dist?.distributions ?? []).some((d) => {
      const a = d.amiDistributionConfiguration;
      return !!a?.targetAccountIds?.some((t) => t !== this.caller.account)
        || launchPermissionsOf(a?.launchPermission, this.caller.account).length > 0;
    });
  }

  private async scan(imageId: string, ctx: StepContext): Promise<HygieneFinding[]> {
    if (!this.deps.hygiene) throw new Error('The hygiene scanner is not available on this service.');
    const report = await this.deps.hygiene.scan(this.caller, imageId);
    // Kept on the image record (`hygieneScan`), where ListImageScanFindings reads a build's findings.
    const stored = { scannedAt: this.now(), report };
    await this.deps.records.update(this.b.imageArn, (r) => ({ ...r, doc: { ...r.doc, hygieneScan: stored } }));
    for (const f of report.findings) ctx.log(`${f.severity} ${f.kind} ${f.path}: ${f.detail}`);
    ctx.log(`${report.findings.length} finding(s)`);
    return report.findings.filter((f) => f.severity === 'HIGH');
  }

  // --- instances and sessions ----------------------------------------------------------------

  /** Launches a build or test instance with the temporaries; resolves with its id once it runs. */
  private async launch(imageId: string, purpose: 'Build' | 'Test', ctx: StepContext): Promise<string> {
    const { infra, recipe } = this.b;
    await this.ensureTemporaries(ctx);
    const spec: LaunchSpec = {
      imageId, instanceType: infra.instanceTypes?.[0] ?? DEFAULT_INSTANCE_TYPE, subnetId: infra.subnetId,
      securityGroupIds: [...(infra.securityGroupIds ?? []), this.res.groupId!], keyName: this.res.keyName!,
      userData: purpose === 'Build' ? recipe.additionalInstanceConfiguration?.userDataOverride : undefined,
      blockDeviceMappings: purpose === 'Build' ? recipe.blockDeviceMappings?.map(toEc2Mapping) : undefined,
      tags: { ...infra.resourceTags, Name: `${purpose} instance for ${recipe.name} ${this.b.version}`, ...this.builderTags() },
    };
    const instanceId = await this.deps.ec2.runInstance(this.caller, spec);
    this.res.instances.push(instanceId);
    await this.track();
    ctx.log(`RunInstances: ${instanceId} (${spec.instanceType}) from ${imageId}; waiting for it to run`);
    const { publicIp } = await this.deps.ec2.waitRunning(this.caller, instanceId, this.signal);
    ctx.log(`${instanceId} is running${publicIp ? ` at ${publicIp}` : ''}`);
    this.addresses.set(instanceId, publicIp);
    return instanceId;
  }

  private readonly addresses = new Map<string, string | undefined>();

  private async ensureTemporaries(ctx: StepContext): Promise<void> {
    const suffix = this.b.imageArn.split('/').slice(-3).join('-').replace(/[^A-Za-z0-9-]/g, '-');
    if (!this.res.keyName) {
      // Recorded before it exists: a restart in between still finds and removes it.
      this.res.keyName = `imagebuilder-${suffix}-${this.deps.ids.next('k').slice(2, 10)}`;
      await this.track();
      this.privateKey = (await this.deps.ec2.createKeyPair(this.caller, this.res.keyName)).privateKey;
      ctx.log(`temporary key pair ${this.res.keyName}`);
    }
    if (!this.res.groupId) {
      this.res.groupId = await this.deps.ec2.createSshGroup(this.caller, `imagebuilder-ssh-${suffix}-${this.deps.ids.next('g').slice(2, 10)}`, this.b.infra.subnetId);
      await this.track();
      ctx.log(`temporary security group ${this.res.groupId} (TCP 22)`);
    }
  }

  /**
   * A session to the instance once the guest is ready (as Image Builder waits for its agent before
   * the first step); on a build instance, ready means past cloud-init's config stage (above).
   */
  private async openSession(instanceId: string, ctx: StepContext, signal: AbortSignal, o: { waitForCloudInit: boolean }): Promise<GuestSession> {
    const timeoutMs = this.deps.timing?.guestTimeoutMs ?? DEFAULT_GUEST_TIMEOUT_MS;
    for (let attempt = 1; ; attempt++) {
      const session = await this.deps.guestAccess.open({
        account: this.caller.account, region: this.caller.region, instanceId, address: this.addresses.get(instanceId), privateKey: this.privateKey,
      }, { timeoutMs, signal });
      try {
        if (o.waitForCloudInit) await session.run(GUEST_READY_SCRIPT, { timeoutMs, signal });
        ctx.log(`session: ${session.description}`);
        return session;
      } catch (err) {
        await session.close().catch(() => {});
        if (signal.aborted || attempt >= GUEST_READY_ATTEMPTS) throw err;
        ctx.log(`the guest is not ready yet (${messageOf(err)}); trying again`);
        await pause(GUEST_RETRY_MS, signal);
      }
    }
  }

  private async closeSession(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.close().catch((err) => this.deps.onError?.('closing a guest session', err));
  }

  private async terminate(instanceId: string, ctx?: StepContext): Promise<void> {
    ctx?.log(`terminating ${instanceId}`);
    await this.deps.ec2.terminateInstance(this.caller, instanceId);
    this.res.instances = this.res.instances.filter((i) => i !== instanceId);
    await this.track();
  }

  private async removeTemporaries(): Promise<void> {
    if (this.res.keyName) {
      await this.deps.ec2.deleteKeyPair(this.caller, this.res.keyName);
      this.res.keyName = undefined;
    }
    if (this.res.groupId) {
      await this.deps.ec2.deleteSecurityGroup(this.caller, this.res.groupId);
      this.res.groupId = undefined;
    }
    await this.track();
  }

  // --- failure -------------------------------------------------------------------------------

  private async fail(err: unknown): Promise<void> {
    const stopped = this.signal.aborted ? (this.signal.reason instanceof BuildStopped ? this.signal.reason : new BuildStopped('The image build was cancelled.', true)) : undefined;
    const status = stopped?.cancelled ? 'CANCELLED' : 'FAILED';
    let reason = stopped ? stopped.message : messageOf(err);
    await this.closeSession();
    await this.current?.finish(status, reason).catch((e) => this.deps.onError?.('recording a workflow', e));
    const keep = !stopped && this.b.infra.terminateInstanceOnFailure === false && this.res.instances.length > 0;
    const notes: string[] = [];
    await cleanUp(this.deps, this.caller, this.res, { keepInstances: keep, notes });
    if (keep) reason += ` The instance ${this.res.instances.join(', ')} was kept (terminateInstanceOnFailure is false).`;
    if (notes.length) reason += ` Clean-up: ${notes.join('; ')}`;
    await this.deps.records.update(this.b.imageArn, (r) => ({
      ...r, state: status, updatedAt: this.now(),
      doc: { ...r.doc, state: { status, reason }, buildResources: keep ? { ...this.res } : undefined },
    })).catch((e) => this.deps.onError?.('recording a failed build', e));
  }

  // --- helpers -------------------------------------------------------------------------------

  private async setStatus(status: string): Promise<void> {
    this.signal.throwIfAborted();
    await this.deps.records.update(this.b.imageArn, (r) => ({ ...r, state: status, updatedAt: this.now(), doc: { ...r.doc, state: { status } } }));
  }

  private async track(): Promise<void> {
    const resources = structuredClone(this.res);
    await this.deps.records.update(this.b.imageArn, (r) => ({ ...r, doc: { ...r.doc, buildResources: resources } as ImageDoc as Record<string, unknown> }));
  }

  private regionDistribution(region: string) {
    return this.b.dist?.distributions?.find((d) => d.region === region);
  }

  private amiName(template: string | undefined): string {
    const c: NameContext = { buildDate: this.b.buildDate, version: this.b.version, build: this.b.build };
    return template ? expandName(template, c) : defaultAmiName(this.b.recipe.name ?? 'image', c);
  }

  /** Tags Image Builder puts on what a build makes, so the image's AMIs can be traced to it. */
  private builderTags(): Record<string, string> {
    return { CreatedBy: 'EC2 Image Builder', Ec2ImageBuilderArn: this.b.imageArn };
  }

  private outputTags(): Record<string, string> {
    return { ...this.b.recipe.amiTags, ...this.builderTags() };
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/**
 * Ends what a build left: its instances (unless kept), its AMIs (deregistered with their
 * snapshots, in whichever account and region they were made), the temporary key pair and group.
 * Used by a failed or cancelled build and by the start-up recovery; each failure is noted and the
 * rest still goes.
 */
export async function cleanUp(deps: BuildServiceDeps, caller: Caller, res: BuildResources, o: { keepInstances: boolean; notes: string[] }): Promise<void> {
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      o.notes.push(`${what}: ${messageOf(err)}`);
      deps.onError?.(what, err);
    }
  };
  if (!o.keepInstances) {
    for (const id of res.instances) await attempt(`terminating ${id}`, () => deps.ec2.terminateInstance(caller, id));
    res.instances = [];
  }
  for (const i of [...res.images].reverse()) {
    await attempt(`deregistering ${i.imageId}`, () => deps.ec2.deregisterImage({ account: i.account, region: i.region }, i.imageId));
  }
  res.images = [];
  const keyName = res.keyName;
  if (keyName) await attempt(`deleting the key pair ${keyName}`, () => deps.ec2.deleteKeyPair(caller, keyName));
  res.keyName = undefined;
  const groupId = res.groupId;
  // A kept instance still uses the group: it stays with it.
  if (groupId && !res.instances.length) {
    await attempt(`deleting the security group ${groupId}`, () => deps.ec2.deleteSecurityGroup(caller, groupId));
    res.groupId = undefined;
  }
}

function logOutcome(ctx: StepContext, outcome: PhaseOutcome): void {
  for (const s of outcome.steps) {
    ctx.log(`${s.component} ${s.phase}/${s.step} (${s.action}): ${s.status}${s.attempts > 1 ? ` after ${s.attempts} attempts` : ''}`);
    for (const line of s.output.split('\n').filter(Boolean)) ctx.log(`  ${line}`);
  }
}

function describeFindings(high: HygieneFinding[]): string {
  const shown = high.slice(0, 5).map((f) => `${f.kind} at ${f.path}`).join(', ');
  return `${high.length} high-severity hygiene finding(s): ${shown}${high.length > 5 ? ', ...' : ''}. Remove them, or tag the recipe ${HYGIENE_OPT_OUT_TAG}=skip to share anyway.`;
}

/** EC2 launch permissions from a distribution's, leaving out the owner itself. */
export function launchPermissionsOf(lp: { userIds?: string[]; userGroups?: string[]; organizationArns?: string[]; organizationalUnitArns?: string[] } | undefined, owner: string): LaunchPermission[] {
  if (!lp) return [];
  return [
    ...(lp.userIds ?? []).filter((u) => u !== owner).map((UserId) => ({ UserId })),
    ...(lp.userGroups ?? []).map((g) => ({ Group: g as 'all' })),
    ...(lp.organizationArns ?? []).map((OrganizationArn) => ({ OrganizationArn })),
    ...(lp.organizationalUnitArns ?? []).map((OrganizationalUnitArn) => ({ OrganizationalUnitArn })),
  ];
}

function toEc2Mapping(m: NonNullable<ImageRecipe['blockDeviceMappings']>[number]): NonNullable<LaunchSpec['blockDeviceMappings']>[number] {
  return {
    DeviceName: m.deviceName, VirtualName: m.virtualName, NoDevice: m.noDevice,
    Ebs: m.ebs && {
      DeleteOnTermination: m.ebs.deleteOnTermination, Encrypted: m.ebs.encrypted, Iops: m.ebs.iops, KmsKeyId: m.ebs.kmsKeyId,
      SnapshotId: m.ebs.snapshotId, VolumeSize: m.ebs.volumeSize, VolumeType: m.ebs.volumeType, Throughput: m.ebs.throughput,
    },
  };
}
