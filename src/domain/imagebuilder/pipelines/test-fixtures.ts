// Fixtures of the pipeline tests: an in-memory record store with a recipe and configurations, a
// clock the test moves, and a build starter that records an image for each build as the build
// service does (parent = the pipeline).
import { SqliteMetadataStore } from '../../../adapters/sqlite/sqlite-store.ts';
import type { Caller } from '../../context.ts';
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import { ibArn } from '../arns.ts';
import type { StartBuildRequest } from '../builds/build-types.ts';
import type { PipelineBuildStarter } from './pipeline-builds.ts';
import { PipelineService } from './pipeline-service.ts';

export const ALICE: Caller = { account: '111111111111', region: 'us-east-1' };
export const BOB: Caller = { account: '222222222222', region: 'us-east-1' };

export class TestClock {
  t: Date;
  constructor(iso: string) {
    this.t = new Date(iso);
  }
  now(): Date {
    return new Date(this.t);
  }
  set(iso: string): void {
    this.t = new Date(iso);
  }
}

export class FakeBuilds implements PipelineBuildStarter {
  readonly started: { caller: Caller; req: StartBuildRequest; arn: string }[] = [];
  private readonly store: ImageBuilderRepository;
  private readonly clock: TestClock;
  constructor(store: ImageBuilderRepository, clock: TestClock) {
    this.store = store;
    this.clock = clock;
  }
  async startBuild(caller: Caller, req: StartBuildRequest): Promise<{ imageBuildVersionArn: string }> {
    const build = this.started.length + 1;
    const arn = ibArn({ region: caller.region, owner: caller.account, type: 'image', name: 'golden', version: '1.0.0', build });
    const now = this.clock.now().toISOString();
    await this.store.insert({
      arn, kind: 'image', account: caller.account, region: caller.region, name: 'golden', version: '1.0.0', build,
      parent: req.imagePipelineArn, state: 'BUILDING',
      doc: { arn, name: 'golden', version: `1.0.0/${build}`, type: 'AMI', state: { status: 'BUILDING' }, sourcePipelineArn: req.imagePipelineArn, buildType: req.buildType, dateCreated: now },
      createdAt: now, updatedAt: now,
    });
    this.started.push({ caller, req, arn });
    return { imageBuildVersionArn: arn };
  }
  /** Ends a build as the build service would. */
  async finish(arn: string, status: 'AVAILABLE' | 'FAILED' | 'CANCELLED'): Promise<void> {
    await this.store.update(arn, (r) => ({ ...r, state: status, doc: { ...r.doc, state: { status } } }));
  }
}

export function record(caller: Caller, kind: IbRecord['kind'], arn: string, doc: Record<string, unknown>, extra: Partial<IbRecord> = {}): IbRecord {
  const now = '2026-01-01T00:00:00.000Z';
  return { arn, kind, account: caller.account, region: caller.region, name: String(doc.name ?? arn), doc: { arn, ...doc }, createdAt: now, updatedAt: now, ...extra };
}

export const componentArn = (caller: Caller, name: string, version: string, build?: number) =>
  ibArn({ region: caller.region, owner: caller.account, type: 'component', name, version, build });

export async function addComponent(store: ImageBuilderRepository, caller: Caller, name: string, version: string, build = 1): Promise<string> {
  const arn = componentArn(caller, name, version, build);
  await store.insert(record(caller, 'component', arn, { name, version }, { name, version, build }));
  return arn;
}

export interface World {
  store: ImageBuilderRepository;
  clock: TestClock;
  builds: FakeBuilds;
  service: PipelineService;
  recipeArn: string;
  infraArn: string;
  distArn: string;
}

/** A store with Alice's recipe (components `harden` 1.x.x and `audit` 2.0.0), infrastructure and distribution. */
export async function world(now = '2026-03-01T00:00:00Z', parentImage = 'ami-0123456789abcdef0'): Promise<World> {
  const store = new SqliteMetadataStore(':memory:').imageBuilder;
  const clock = new TestClock(now);
  const builds = new FakeBuilds(store, clock);
  await addComponent(store, ALICE, 'harden', '1.0.0');
  await addComponent(store, ALICE, 'audit', '2.0.0');
  const recipeArn = ibArn({ region: ALICE.region, owner: ALICE.account, type: 'image-recipe', name: 'golden', version: '1.0.0' });
  await store.insert(record(ALICE, 'image-recipe', recipeArn, {
    name: 'golden', version: '1.0.0', platform: 'Linux', parentImage,
    components: [{ componentArn: componentArn(ALICE, 'harden', '1.x.x') }, { componentArn: componentArn(ALICE, 'audit', '2.0.0') }],
  }));
  const infraArn = ibArn({ region: ALICE.region, owner: ALICE.account, type: 'infrastructure-configuration', name: 'small' });
  await store.insert(record(ALICE, 'infrastructure-configuration', infraArn, { name: 'small' }));
  const distArn = ibArn({ region: ALICE.region, owner: ALICE.account, type: 'distribution-configuration', name: 'two-regions' });
  await store.insert(record(ALICE, 'distribution-configuration', distArn, { name: 'two-regions' }));
  const service = new PipelineService({ store, builds, clock });
  return { store, clock, builds, service, recipeArn, infraArn, distArn };
}
