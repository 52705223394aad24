// Distribution configurations: where a built AMI goes. One entry per region (each a region
// amiforge serves, none twice), each with an AMI output: its name may use Image Builder's
// variables {{ imagebuilder:buildDate }} and {{ imagebuilder:buildVersion }} and no others;
// launch permissions name accounts, the group `all`, organizations or OUs. Outputs amiforge
// cannot produce (containers, launch templates, S3 exports, fast launch, license configurations,
// SSM parameters) are refused rather than silently ignored.
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import { findRegion } from '../../regions.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type {
  CreateDistributionConfigurationRequest, Distribution, DistributionConfiguration, DistributionConfigurationSummary,
  ListDistributionConfigurationsRequest, UpdateDistributionConfigurationRequest,
} from '../../../protocol/imagebuilder/types.generated.ts';
import { ibArn } from '../arns.ts';
import { applyFilters, checkCreateTags, ownRecord, page, pipelinesUsing, refuseIfUsed, type FilterRule } from './records.ts';
import { distributionConfigurationToWire, type DistributionConfigurationRecord } from './wire-mappers.ts';

/** Image Builder's default distribution timeout (minutes). */
const DEFAULT_TIMEOUT_MINUTES = 720;
const NAME_VARIABLES = new Set(['imagebuilder:buildDate', 'imagebuilder:buildVersion']);
const UNSUPPORTED_OUTPUTS = ['containerDistributionConfiguration', 'licenseConfigurationArns', 'launchTemplateConfigurations',
  's3ExportConfiguration', 'fastLaunchConfigurations'] as const;

const FILTERS: FilterRule<DistributionConfiguration> = { name: (c) => c.name };

export interface DistributionDeps {
  store: ImageBuilderRepository;
  clock: Clock;
}

/** Checks an AMI name template; its variables are filled in at distribution. */
export function checkAmiNameTemplate(name: string, parameter: string): void {
  const invalid = (why: string) => Errors.ibInvalidParameterValue(`The value supplied for parameter '${parameter}' is not valid: ${why}`);
  const rest = name.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_, variable: string) => {
    if (!NAME_VARIABLES.has(variable)) throw invalid(`unknown variable {{ ${variable} }}; use {{ imagebuilder:buildDate }} or {{ imagebuilder:buildVersion }}.`);
    return 'x';
  });
  if (/[{}]/.test(rest)) throw invalid(`unbalanced braces in '${name}'.`);
  if (rest.length < 3) throw invalid('an AMI name must have at least 3 characters.');
}

export class DistributionConfigurationService {
  private readonly deps: DistributionDeps;
  constructor(deps: DistributionDeps) {
    this.deps = deps;
  }

  private check(distributions: Distribution[]): Distribution[] {
    if (!distributions.length) throw Errors.ibInvalidParameterValue("The value supplied for parameter 'distributions' is not valid: give at least one region.");
    const seen = new Set<string>();
    distributions.forEach((d, i) => {
      const at = `distributions[${i}]`;
      if (!findRegion(d.region)) throw Errors.ibInvalidParameterValue(`The value supplied for parameter '${at}.region' is not valid: ${d.region} is not a region amiforge serves.`);
      if (seen.has(d.region)) throw Errors.ibInvalidParameterValue(`The value supplied for parameter '${at}.region' is not valid: ${d.region} appears more than once.`);
      seen.add(d.region);
      for (const output of UNSUPPORTED_OUTPUTS) {
        if (d[output] !== undefined) throw Errors.ibInvalidRequest(`${at}.${output} is not supported: amiforge distributes AMIs only (amiDistributionConfiguration).`);
      }
      const ami = d.amiDistributionConfiguration;
      if (!ami) {
        throw Errors.ibInvalidParameterValue(`The value supplied for parameter '${at}' is not valid. One or more outputs should be provided for each region in a distribution configuration.`);
      }
      if (ami.name !== undefined) checkAmiNameTemplate(ami.name, `${at}.amiDistributionConfiguration.name`);
      for (const [j, p] of (d.ssmParameterConfigurations ?? []).entries()) {
        // The parameter is written in the account whose copy of the AMI it names: the build's, or a target account's.
        if (p.amiAccountId !== undefined && !(ami.targetAccountIds ?? []).includes(p.amiAccountId)) {
          throw Errors.ibInvalidParameterValue(`The value supplied for parameter '${at}.ssmParameterConfigurations[${j}].amiAccountId' is not valid: ${p.amiAccountId} must be one of the region's targetAccountIds.`);
        }
      }
      const groups = ami.launchPermission?.userGroups ?? [];
      if (groups.some((g) => g !== 'all')) {
        throw Errors.ibInvalidParameterValue(`The value supplied for parameter '${at}.amiDistributionConfiguration.launchPermission.userGroups' is not valid: the only group is 'all'.`);
      }
    });
    return distributions;
  }

  async create(caller: Caller, req: CreateDistributionConfigurationRequest): Promise<{ distributionConfigurationArn: string }> {
    checkCreateTags(req.tags);
    const arn = ibArn({ region: caller.region, owner: caller.account, type: 'distribution-configuration', name: req.name });
    const exists = () => Errors.ibAlreadyExists(`The distribution configuration ${arn} already exists.`);
    if (await this.deps.store.get(arn)) throw exists();
    const now = this.deps.clock.now().toISOString();
    const config: DistributionConfigurationRecord = {
      arn, name: req.name, ...(req.description !== undefined && { description: req.description }),
      distributions: this.check(req.distributions), timeoutMinutes: DEFAULT_TIMEOUT_MINUTES, dateCreated: now, tags: { ...req.tags },
    };
    const inserted = await this.deps.store.insert({
      arn, kind: 'distribution-configuration', account: caller.account, region: caller.region, name: req.name,
      doc: config as unknown as Record<string, unknown>, createdAt: now, updatedAt: now,
    });
    if (!inserted) throw exists();
    return { distributionConfigurationArn: arn };
  }

  async update(caller: Caller, req: UpdateDistributionConfigurationRequest): Promise<{ distributionConfigurationArn: string }> {
    const arn = req.distributionConfigurationArn;
    await ownRecord(this.deps.store, caller, arn, 'distribution-configuration', 'distribution-configuration', 'distributionConfigurationArn');
    const distributions = this.check(req.distributions);
    const now = this.deps.clock.now().toISOString();
    const written = await this.deps.store.update(arn, (r) => {
      const old = r.doc as unknown as DistributionConfigurationRecord;
      const doc: DistributionConfigurationRecord = {
        arn, name: old.name, ...(req.description !== undefined && { description: req.description }), distributions,
        timeoutMinutes: old.timeoutMinutes, dateCreated: old.dateCreated, dateUpdated: now, tags: old.tags,
      };
      return { ...r, doc: doc as unknown as Record<string, unknown>, updatedAt: now };
    });
    if (!written) throw Errors.ibNotFound(`The distribution-configuration ${arn} does not exist.`);
    return { distributionConfigurationArn: arn };
  }

  async get(caller: Caller, arn: string): Promise<DistributionConfiguration> {
    const record = await ownRecord(this.deps.store, caller, arn, 'distribution-configuration', 'distribution-configuration', 'distributionConfigurationArn');
    return distributionConfigurationToWire(record.doc as unknown as DistributionConfigurationRecord);
  }

  async list(caller: Caller, req: ListDistributionConfigurationsRequest): Promise<{ distributionConfigurationSummaryList: DistributionConfigurationSummary[]; nextToken?: string }> {
    const records = await this.deps.store.list({ kind: 'distribution-configuration', account: caller.account, region: caller.region });
    const configs = applyFilters(records.map((r) => distributionConfigurationToWire(r.doc as unknown as DistributionConfigurationRecord)), req.filters, FILTERS)
      .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
    const p = page(configs, req.maxResults, req.nextToken);
    return {
      distributionConfigurationSummaryList: p.items.map((c) => ({
        arn: c.arn, name: c.name, description: c.description, dateCreated: c.dateCreated, dateUpdated: c.dateUpdated, tags: c.tags,
        regions: (c.distributions ?? []).map((d) => d.region),
      })),
      nextToken: p.nextToken,
    };
  }

  async delete(caller: Caller, arn: string): Promise<void> {
    await ownRecord(this.deps.store, caller, arn, 'distribution-configuration', 'distribution-configuration', 'distributionConfigurationArn');
    refuseIfUsed(arn, await pipelinesUsing(this.deps.store, caller, 'distributionConfigurationArn', arn));
    await this.deps.store.delete(arn);
  }
}
