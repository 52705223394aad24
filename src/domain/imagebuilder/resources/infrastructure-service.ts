// Infrastructure configurations: where and how a build instance runs. Instance types must be
// EC2's; the security groups, subnet and key pair must be the caller's (groups and subnet in one
// VPC). An update replaces every setting the request can carry, as Image Builder's Update does;
// the name, tags and creation date stay.
import type { Caller } from '../../context.ts';
import { Errors } from '../../errors.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { ImageBuilderRepository } from '../../../ports/imagebuilder-repository.ts';
import type {
  CreateInfrastructureConfigurationRequest, InfrastructureConfiguration, InfrastructureConfigurationSummary,
  ListInfrastructureConfigurationsRequest, UpdateInfrastructureConfigurationRequest,
} from '../../../protocol/imagebuilder/types.generated.ts';
import { ibArn } from '../arns.ts';
import type { Ec2Lookups } from './ec2-lookups.ts';
import { applyFilters, checkCreateTags, ownRecord, page, pipelinesUsing, refuseIfUsed, type FilterRule } from './records.ts';
import { infrastructureConfigurationToWire, type InfrastructureConfigurationRecord } from './wire-mappers.ts';

export interface InfrastructureDeps {
  store: ImageBuilderRepository;
  clock: Clock;
  ec2: Ec2Lookups;
}

type Settings = Omit<UpdateInfrastructureConfigurationRequest, 'infrastructureConfigurationArn' | 'clientToken'>;

const FILTERS: FilterRule<InfrastructureConfiguration> = { name: (c) => c.name };

export class InfrastructureConfigurationService {
  private readonly deps: InfrastructureDeps;
  constructor(deps: InfrastructureDeps) {
    this.deps = deps;
  }

  /** The settings as stored, after checking each against EC2. */
  private async settings(caller: Caller, req: Settings): Promise<Partial<InfrastructureConfiguration>> {
    const invalid = (parameter: string, why: string) =>
      Errors.ibInvalidParameterValue(`The value supplied for parameter '${parameter}' is not valid: ${why}`);
    for (const type of req.instanceTypes ?? []) {
      if (!this.deps.ec2.instanceTypeExists(type)) throw invalid('instanceTypes', `${type} is not an EC2 instance type.`);
    }
    const vpcs = new Set<string>();
    for (const id of req.securityGroupIds ?? []) {
      const vpc = await this.deps.ec2.securityGroupVpc(caller, id);
      if (!vpc) throw invalid('securityGroupIds', `the security group ${id} does not exist in your account.`);
      vpcs.add(vpc);
    }
    if (req.subnetId !== undefined) {
      const vpc = await this.deps.ec2.subnetVpc(caller, req.subnetId);
      if (!vpc) throw invalid('subnetId', `the subnet ${req.subnetId} does not exist in your account.`);
      if (vpcs.size && !vpcs.has(vpc)) throw invalid('securityGroupIds', `the security groups must be in the subnet's VPC ${vpc}.`);
      vpcs.add(vpc);
    }
    if (vpcs.size > 1) throw invalid('securityGroupIds', 'the security groups must all be in one VPC.');
    if (req.keyPair !== undefined && !(await this.deps.ec2.keyPairExists(caller, req.keyPair))) {
      throw invalid('keyPair', `the key pair ${req.keyPair} does not exist in your account.`);
    }
    const tokens = req.instanceMetadataOptions?.httpTokens;
    if (tokens !== undefined && tokens !== 'required' && tokens !== 'optional') {
      throw invalid('instanceMetadataOptions.httpTokens', "it must be 'required' or 'optional'.");
    }
    const settings: Partial<InfrastructureConfiguration> = {
      instanceProfileName: req.instanceProfileName,
      terminateInstanceOnFailure: req.terminateInstanceOnFailure ?? true,
    };
    for (const key of ['description', 'instanceTypes', 'securityGroupIds', 'subnetId', 'logging', 'keyPair', 'snsTopicArn', 'resourceTags',
      'instanceMetadataOptions', 'placement'] as const) {
      if (req[key] !== undefined) (settings as Record<string, unknown>)[key] = req[key];
    }
    return settings;
  }

  async create(caller: Caller, req: CreateInfrastructureConfigurationRequest): Promise<{ infrastructureConfigurationArn: string }> {
    checkCreateTags(req.tags);
    const arn = ibArn({ region: caller.region, owner: caller.account, type: 'infrastructure-configuration', name: req.name });
    const exists = () => Errors.ibAlreadyExists(`The infrastructure configuration ${arn} already exists.`);
    if (await this.deps.store.get(arn)) throw exists();
    const now = this.deps.clock.now().toISOString();
    const config: InfrastructureConfigurationRecord = {
      arn, name: req.name, ...(await this.settings(caller, req)), dateCreated: now, tags: { ...req.tags },
    };
    const inserted = await this.deps.store.insert({
      arn, kind: 'infrastructure-configuration', account: caller.account, region: caller.region, name: req.name,
      doc: config as unknown as Record<string, unknown>, createdAt: now, updatedAt: now,
    });
    if (!inserted) throw exists();
    return { infrastructureConfigurationArn: arn };
  }

  async update(caller: Caller, req: UpdateInfrastructureConfigurationRequest): Promise<{ infrastructureConfigurationArn: string }> {
    const arn = req.infrastructureConfigurationArn;
    await ownRecord(this.deps.store, caller, arn, 'infrastructure-configuration', 'infrastructure-configuration', 'infrastructureConfigurationArn');
    const settings = await this.settings(caller, req);
    const now = this.deps.clock.now().toISOString();
    const written = await this.deps.store.update(arn, (r) => {
      const old = r.doc as unknown as InfrastructureConfigurationRecord;
      const doc: InfrastructureConfigurationRecord = { arn, name: old.name, ...settings, dateCreated: old.dateCreated, dateUpdated: now, tags: old.tags };
      return { ...r, doc: doc as unknown as Record<string, unknown>, updatedAt: now };
    });
    if (!written) throw Errors.ibNotFound(`The infrastructure-configuration ${arn} does not exist.`);
    return { infrastructureConfigurationArn: arn };
  }

  async get(caller: Caller, arn: string): Promise<InfrastructureConfiguration> {
    const record = await ownRecord(this.deps.store, caller, arn, 'infrastructure-configuration', 'infrastructure-configuration', 'infrastructureConfigurationArn');
    return infrastructureConfigurationToWire(record.doc as unknown as InfrastructureConfigurationRecord);
  }

  async list(caller: Caller, req: ListInfrastructureConfigurationsRequest): Promise<{ infrastructureConfigurationSummaryList: InfrastructureConfigurationSummary[]; nextToken?: string }> {
    const records = await this.deps.store.list({ kind: 'infrastructure-configuration', account: caller.account, region: caller.region });
    const configs = applyFilters(records.map((r) => infrastructureConfigurationToWire(r.doc as unknown as InfrastructureConfigurationRecord)), req.filters, FILTERS)
      .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
    const p = page(configs, req.maxResults, req.nextToken);
    return {
      infrastructureConfigurationSummaryList: p.items.map((c) => ({
        arn: c.arn, name: c.name, description: c.description, dateCreated: c.dateCreated, dateUpdated: c.dateUpdated,
        resourceTags: c.resourceTags, tags: c.tags, instanceTypes: c.instanceTypes, instanceProfileName: c.instanceProfileName, placement: c.placement,
      })),
      nextToken: p.nextToken,
    };
  }

  async delete(caller: Caller, arn: string): Promise<void> {
    await ownRecord(this.deps.store, caller, arn, 'infrastructure-configuration', 'infrastructure-configuration', 'infrastructureConfigurationArn');
    refuseIfUsed(arn, await pipelinesUsing(this.deps.store, caller, 'infrastructureConfigurationArn', arn));
    await this.deps.store.delete(arn);
  }
}
