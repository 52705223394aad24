// Components: versioned, immutable documents of build and test steps. A user's component has one
// build (`/1`) per semantic version; creating a version that exists is ResourceAlreadyExists.
// Amazon's components (owner `aws`) come from the injected catalogue. An ARN may name a build
// (`name/1.0.0/1`) or a version with `x` wildcards (`name/1.x.x`), resolved to the newest match.
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { IbRecord, ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type {
  Component, ComponentSummary, ComponentVersion, CreateComponentRequest, ImportComponentRequest, ListComponentBuildVersionsRequest,
  ListComponentsRequest,
} from '../../../protocol/imagebuilder/types.generated.ts';
import { AMAZON_OWNER, arnName, ibArn, parseIbArn, requireIbArn } from '../arns.ts';
import { compareSemVer, isValidVersionFilter, matchesVersionFilter, parseSemVer } from '../versions.ts';
import { documentFacts, shellScriptDocument } from './component-document-facts.ts';
import { applyFilters, checkCreateTags, ownRecord, page, type FilterRule } from './records.ts';
import { componentToWire, type ComponentRecord } from './wire-mappers.ts';

export interface ComponentDeps {
  store: ImageBuilderRepository;
  clock: Clock;
  /** Throws InvalidParameterValueException for a document Image Builder would refuse. */
  validateDocument: (data: string) => void;
  /** Amazon-managed components of a region (owner `aws`), each with its `data`. */
  amazonComponents: (region: string) => Component[];
}

const FILTERS: FilterRule<Component> = {
  name: (c) => c.name,
  platform: (c) => c.platform,
  type: (c) => c.type,
  version: (c) => c.version,
  description: (c) => c.description,
  supportedOsVersion: (c) => c.supportedOsVersions,
};

const byNameThenVersion = (a: Component, b: Component) =>
  (a.name ?? '').localeCompare(b.name ?? '') || compareSemVer(a.version ?? '0.0.0', b.version ?? '0.0.0');

/** A build ARN's version ARN (`.../name/1.0.0/1` → `.../name/1.0.0`). */
const versionArnOf = (buildArn: string) => buildArn.replace(/\/\d+$/, '');

export class ComponentService {
  private readonly deps: ComponentDeps;
  constructor(deps: ComponentDeps) {
    this.deps = deps;
  }

  async create(caller: Caller, req: CreateComponentRequest): Promise<{ componentBuildVersionArn: string }> {
    if (req.uri !== undefined && req.data !== undefined) {
      throw Errors.ibInvalidParameterCombination("You can specify either 'data' or 'uri', not both.");
    }
    if (req.uri !== undefined) {
      throw Errors.ibInvalidParameterValue(
        "The value supplied for parameter 'uri' is not supported: amiforge does not read component documents from Amazon S3. Pass the document inline in 'data'.");
    }
    if (req.data === undefined) throw Errors.ibInvalidParameterCombination("You must specify either 'data' or 'uri'.");
    return this.insertVersion(caller, { ...req, data: req.data }, undefined);
  }

  async import(caller: Caller, req: ImportComponentRequest): Promise<{ componentBuildVersionArn: string }> {
    if (req.uri !== undefined) {
      throw Errors.ibInvalidParameterValue(
        "The value supplied for parameter 'uri' is not supported: amiforge does not read scripts from Amazon S3. Pass the script inline in 'data'.");
    }
    if (req.data === undefined) throw Errors.ibInvalidParameterCombination("You must specify either 'data' or 'uri'.");
    const data = shellScriptDocument({ name: req.name, description: req.description, type: req.type, platform: req.platform, script: req.data });
    const { format: _format, type, ...rest } = req;
    return this.insertVersion(caller, { ...rest, data, clientToken: req.clientToken }, type);
  }

  private async insertVersion(caller: Caller, req: Omit<CreateComponentRequest, 'data'> & { data: string }, type: 'BUILD' | 'TEST' | undefined) {
    checkCreateTags(req.tags);
    parseSemVer(req.semanticVersion);
    this.deps.validateDocument(req.data);
    const facts = documentFacts(req.data);
    const arn = ibArn({ region: caller.region, owner: caller.account, type: 'component', name: req.name, version: req.semanticVersion, build: 1 });
    // The ARN holds the name as ARNs write it, so `Hello World` and `hello world` are one component.
    if (await this.deps.store.get(arn)) {
      throw Errors.ibAlreadyExists(`The component ${versionArnOf(arn)} already exists. Create a new semantic version instead.`);
    }
    if (req.dryRun) throw Errors.ibDryRun();
    const now = this.deps.clock.now().toISOString();
    const component: ComponentRecord = {
      arn, name: req.name, version: req.semanticVersion, type: type ?? facts.type, platform: req.platform,
      state: { status: 'ACTIVE' }, owner: caller.account, data: req.data, encrypted: true, dateCreated: now, tags: { ...req.tags },
      ...(req.description !== undefined && { description: req.description }),
      ...(req.changeDescription !== undefined && { changeDescription: req.changeDescription }),
      ...(req.supportedOsVersions && { supportedOsVersions: req.supportedOsVersions }),
      ...(facts.parameters.length && { parameters: facts.parameters }),
      ...(req.kmsKeyId !== undefined && { kmsKeyId: req.kmsKeyId }),
    };
    const inserted = await this.deps.store.insert({
      arn, kind: 'component', account: caller.account, region: caller.region, name: req.name, version: req.semanticVersion, build: 1,
      state: 'ACTIVE', doc: component as unknown as Record<string, unknown>, createdAt: now, updatedAt: now,
    });
    if (!inserted) throw Errors.ibAlreadyExists(`The component ${versionArnOf(arn)} already exists. Create a new semantic version instead.`);
    return { componentBuildVersionArn: arn };
  }

  /** Every build the caller may use: its own in this region and Amazon's. */
  private async owned(caller: Caller): Promise<Component[]> {
    const records = await this.deps.store.list({ kind: 'component', account: caller.account, region: caller.region });
    return records.map((r: IbRecord) => componentToWire(r.doc as unknown as ComponentRecord));
  }

  /**
   * The component build an ARN names, when the caller may use it: its own, or Amazon's. Another
   * account's is ForbiddenException; a missing one ResourceNotFoundException.
   */
  async resolve(caller: Caller, arn: string, parameter = 'componentBuildVersionArn'): Promise<Component> {
    const parsed = requireIbArn(arn, 'component', parameter);
    if (parsed.version === undefined || !isValidVersionFilter(parsed.version) || (parsed.build !== undefined && parsed.version.includes('x'))) {
      throw Errors.ibInvalidParameterValue(`The value supplied for parameter '${parameter}' is not a valid component version ARN: ${arn}`);
    }
    if (parsed.owner !== AMAZON_OWNER && parsed.owner !== caller.account) throw Errors.ibForbidden(`You are not authorized to access ${arn}.`);
    if (parsed.region !== caller.region) throw Errors.ibNotFound(`The component ${arn} does not exist in ${caller.region}.`);
    const pool = parsed.owner === AMAZON_OWNER ? this.deps.amazonComponents(caller.region) : await this.owned(caller);
    const matches = pool.filter((c) => arnName(c.name ?? '') === parsed.name && matchesVersionFilter(parsed.version!, c.version ?? '')
      && (parsed.build === undefined || c.arn?.endsWith(`/${parsed.build}`)));
    const newest = matches.sort((a, b) => compareSemVer(a.version!, b.version!) || buildOf(a) - buildOf(b)).at(-1);
    if (!newest) throw Errors.ibNotFound(`The component ${arn} does not exist.`);
    return newest;
  }

  async list(caller: Caller, req: ListComponentsRequest): Promise<{ componentVersionList: ComponentVersion[]; nextToken?: string }> {
    const owner = req.owner ?? 'Self';
    const pool = owner === 'Self' ? await this.owned(caller) : owner === 'Amazon' ? this.deps.amazonComponents(caller.region) : [];
    // One entry per version: the newest build stands for it, under the version ARN.
    const versions = new Map<string, Component>();
    for (const c of pool) {
      const key = versionArnOf(c.arn ?? '');
      const seen = versions.get(key);
      if (!seen || buildOf(c) > buildOf(seen)) versions.set(key, c);
    }
    let items = applyFilters([...versions.values()], req.filters, FILTERS).sort(byNameThenVersion);
    // byName: one entry per name, its newest version (how the console lists components).
    if (req.byName) items = [...new Map(items.map((c) => [c.name, c])).values()];
    const p = page(items, req.maxResults, req.nextToken);
    return { componentVersionList: p.items.map((c) => versionOf(c)), nextToken: p.nextToken };
  }

  async listBuildVersions(caller: Caller, req: ListComponentBuildVersionsRequest): Promise<{ componentSummaryList: ComponentSummary[]; nextToken?: string }> {
    if (!req.componentVersionArn) throw Errors.ibInvalidParameterValue("The value supplied for parameter 'componentVersionArn' is required.");
    const parsed = requireIbArn(req.componentVersionArn, 'component', 'componentVersionArn');
    if (parsed.owner !== AMAZON_OWNER && parsed.owner !== caller.account) throw Errors.ibForbidden(`You are not authorized to access ${req.componentVersionArn}.`);
    const pool = parsed.owner === AMAZON_OWNER ? this.deps.amazonComponents(caller.region) : parsed.region === caller.region ? await this.owned(caller) : [];
    const builds = pool.filter((c) => versionArnOf(c.arn ?? '') === req.componentVersionArn).sort((a, b) => buildOf(a) - buildOf(b));
    const p = page(builds, req.maxResults, req.nextToken);
    return { componentSummaryList: p.items.map(summaryOf), nextToken: p.nextToken };
  }

  async get(caller: Caller, arn: string): Promise<Component> {
    return this.resolve(caller, arn);
  }

  async delete(caller: Caller, arn: string): Promise<void> {
    const record = await ownRecord(this.deps.store, caller, arn, 'component', 'component', 'componentBuildVersionArn');
    // A recipe that names this build, its version, or a wildcard version it matches depends on it.
    const recipes = await this.deps.store.list({ kind: 'image-recipe', account: caller.account, region: caller.region });
    const users = recipes.filter((r) => ((r.doc.components ?? []) as { componentArn: string }[]).some((c) => {
      const ref = parseIbArn(c.componentArn);
      return !!ref && ref.owner === caller.account && ref.name === arnName(record.name) && ref.version !== undefined
        && matchesVersionFilter(ref.version, record.version ?? '') && (ref.build === undefined || ref.build === record.build);
    })).map((r) => r.arn);
    if (users.length) {
      throw Errors.ibDependency(`Resource dependency error: the component ${arn} is used by the image recipes ${users.join(', ')}.`);
    }
    await this.deps.store.delete(record.arn);
  }
}

const buildOf = (c: Component) => Number(/\/(\d+)$/.exec(c.arn ?? '')?.[1] ?? 0);

function versionOf(c: Component): ComponentVersion {
  return {
    arn: versionArnOf(c.arn ?? ''), name: c.name, version: c.version, description: c.description, platform: c.platform,
    supportedOsVersions: c.supportedOsVersions, type: c.type, owner: c.owner, dateCreated: c.dateCreated, status: 'ACTIVE',
  };
}

function summaryOf(c: Component): ComponentSummary {
  return {
    arn: c.arn, name: c.name, version: c.version, platform: c.platform, supportedOsVersions: c.supportedOsVersions, state: c.state,
    type: c.type, owner: c.owner, description: c.description, changeDescription: c.changeDescription, dateCreated: c.dateCreated, tags: c.tags,
    publisher: c.publisher, obfuscate: c.obfuscate,
  };
}
