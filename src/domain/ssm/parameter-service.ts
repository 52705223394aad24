// Systems Manager parameters: an account's own parameters per region (versions, labels, tags,
// SecureString values sealed under KMS) and the public ones (`/aws/service/...`), which every
// account reads and none owns. Reads accept `name:version` and `name:label` selectors.
import type { Clock } from '../../ports/clock.ts';
import type { ParameterRecord, ParameterVersionRecord, SsmParameterRepository, StoredParameterRecord } from '../../ports/ssm-parameter-repository.ts';
import type * as W from '../../protocol/ssm/types.generated.ts';
import type { Caller } from '../context.ts';
import { Errors, isServiceError } from '../errors.ts';
import { checkName, checkNewName, labelProblem, parameterArn, parseSelector, type Selector } from './parameter-names.ts';
import { latest, toHistory, toParameter, viewOf, type ParameterView } from './parameter-views.ts';
import type { PublicParameters } from './public-parameters.ts';
import { DEFAULT_SSM_KEY, type SecureValues } from './secure-values.ts';
import { checkValue } from './parameter-values.ts';
import { pageOf } from './parameter-paging.ts';

const MAX_VERSIONS = 100;
const MAX_LABELS = 10;
const MAX_TAGS = 50;

export interface ParameterServiceDeps {
  parameters: SsmParameterRepository;
  secure: SecureValues;
  publicParameters: PublicParameters;
  clock: Clock;
  /** Whether the caller can see the image in its region, as DescribeImages would show it. */
  imageVisible(caller: Caller, imageId: string): Promise<boolean>;
}

export class ParameterService {
  readonly deps: ParameterServiceDeps;
  constructor(deps: ParameterServiceDeps) {
    this.deps = deps;
  }

  async put(caller: Caller, req: W.PutParameterRequest): Promise<W.PutParameterResult> {
    const name = req.Name;
    checkNewName(name);
    if (req.Tags?.length && req.Overwrite) throw Errors.ssmValidation('Invalid request: tags and overwrite can\'t be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.');
    if (req.Policies) throw Errors.ssmValidation('amiforge does not support parameter policies (Policies).');
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.deps.parameters.get(caller.account, caller.region, name);
      if (stored && !req.Overwrite) throw Errors.ssmParameterExists();
      const previous = stored && latest(stored.record);
      const type = req.Type ?? previous?.type;
      if (!type) throw Errors.ssmValidation('A parameter type is required when you create a parameter.');
      const dataType = req.DataType ?? previous?.dataType ?? 'text';
      const tier = req.Tier === 'Advanced' ? 'Advanced' : previous?.tier ?? 'Standard';
      await checkValue({ type, dataType, tier, value: req.Value, allowedPattern: req.AllowedPattern ?? previous?.allowedPattern, keyId: req.KeyId },
        (id) => this.deps.imageVisible(caller, id));
      const versionNumber = (previous?.version ?? 0) + 1;
      const versions = [...(stored?.record.versions ?? [])];
      if (versions.length >= MAX_VERSIONS) {
        if (versions[0].labels.length) throw Errors.ssmMaxVersions(name);
        versions.shift();
      }
      const version: ParameterVersionRecord = {
        version: versionNumber, type, dataType, tier, labels: [],
        lastModifiedDate: this.deps.clock.now().toISOString(), lastModifiedUser: `arn:aws:iam::${caller.account}:root`,
        ...(req.Description ?? previous?.description ? { description: req.Description ?? previous?.description } : {}),
        ...(req.AllowedPattern ?? previous?.allowedPattern ? { allowedPattern: req.AllowedPattern ?? previous?.allowedPattern } : {}),
      };
      if (type === 'SecureString') {
        const keyId = req.KeyId ?? (previous?.type === 'SecureString' ? previous.keyId : undefined) ?? DEFAULT_SSM_KEY;
        version.keyId = keyId;
        version.sealed = await this.deps.secure.seal(caller, keyId, parameterArn(caller.region, caller.account, name), req.Value);
      } else {
        version.value = req.Value;
      }
      const record: ParameterRecord = {
        account: caller.account, region: caller.region, name, versions: [...versions, version],
        tags: stored?.record.tags ?? (req.Tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value })),
      };
      if (!stored && record.tags.length > MAX_TAGS) throw Errors.ssmTooManyTags();
      if (await this.deps.parameters.save(record, stored?.revision)) return { Version: versionNumber, Tier: tier };
      if (!stored && !req.Overwrite) throw Errors.ssmParameterExists();
    }
    throw Errors.ssmTooManyUpdates();
  }

  async get(caller: Caller, req: W.GetParameterRequest): Promise<W.GetParameterResult> {
    const selector = parseSelector(req.Name);
    const found = await this.find(caller, selector);
    if (!found) throw Errors.ssmParameterNotFound(req.Name);
    return { Parameter: await this.output(caller, found, req.WithDecryption, selector) };
  }

  async getMany(caller: Caller, req: W.GetParametersRequest): Promise<W.GetParametersResult> {
    const Parameters: W.Parameter[] = [];
    const InvalidParameters: string[] = [];
    for (const text of [...new Set(req.Names)]) {
      let found: ParameterView | undefined;
      let selector: Selector | undefined;
      try {
        selector = parseSelector(text);
        found = await this.find(caller, selector);
      } catch (err) {
        // A malformed name or a missing version is reported as invalid, as SSM does.
        if ((err as { code?: string }).code !== 'ValidationException' && (err as { code?: string }).code !== 'ParameterVersionNotFound') throw err;
      }
      if (found && selector) Parameters.push(await this.output(caller, found, req.WithDecryption, selector));
      else InvalidParameters.push(text);
    }
    return { Parameters, InvalidParameters };
  }

  async delete(caller: Caller, req: W.DeleteParameterRequest): Promise<W.DeleteParameterResult> {
    checkName(req.Name);
    if (!await this.deps.parameters.delete(caller.account, caller.region, req.Name)) throw Errors.ssmParameterNotFound(req.Name);
    return {};
  }

  async deleteMany(caller: Caller, req: W.DeleteParametersRequest): Promise<W.DeleteParametersResult> {
    const DeletedParameters: string[] = [];
    const InvalidParameters: string[] = [];
    for (const name of [...new Set(req.Names)]) {
      let deleted = false;
      try {
        checkName(name);
        deleted = await this.deps.parameters.delete(caller.account, caller.region, name);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ValidationException') throw err;
      }
      (deleted ? DeletedParameters : InvalidParameters).push(name);
    }
    return { DeletedParameters, InvalidParameters };
  }

  async history(caller: Caller, req: W.GetParameterHistoryRequest): Promise<W.GetParameterHistoryResult> {
    checkName(req.Name);
    const views = await this.versions(caller, req.Name);
    if (!views) throw Errors.ssmParameterNotFound(req.Name);
    const page = pageOf(views, (v) => String(v.version.version).padStart(6, '0'), req.MaxResults ?? 50, req.NextToken);
    const Parameters = [];
    for (const v of page.items) Parameters.push(toHistory(v, await this.value(caller, v, req.WithDecryption)));
    return { Parameters, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  async label(caller: Caller, req: W.LabelParameterVersionRequest): Promise<W.LabelParameterVersionResult> {
    checkName(req.Name);
    const InvalidLabels = req.Labels.filter((l) => labelProblem(l));
    const valid = [...new Set(req.Labels.filter((l) => !labelProblem(l)))];
    let version = 0;
    await this.update(caller, req.Name, (record) => {
      const target = req.ParameterVersion === undefined ? latest(record) : record.versions.find((v) => v.version === req.ParameterVersion);
      if (!target) throw Errors.ssmVersionNotFound(req.Name, String(req.ParameterVersion));
      version = target.version;
      const labels = [...new Set([...target.labels, ...valid])];
      if (labels.length > MAX_LABELS) throw Errors.ssmVersionLabelLimit();
      // A label names one version: attaching it here moves it from wherever it was.
      for (const v of record.versions) v.labels = v === target ? labels : v.labels.filter((l) => !valid.includes(l));
    });
    return { InvalidLabels, ParameterVersion: version };
  }

  async unlabel(caller: Caller, req: W.UnlabelParameterVersionRequest): Promise<W.UnlabelParameterVersionResult> {
    checkName(req.Name);
    let RemovedLabels: string[] = [];
    let InvalidLabels: string[] = [];
    await this.update(caller, req.Name, (record) => {
      const target = record.versions.find((v) => v.version === req.ParameterVersion);
      if (!target) throw Errors.ssmVersionNotFound(req.Name, String(req.ParameterVersion));
      RemovedLabels = req.Labels.filter((l) => target.labels.includes(l));
      InvalidLabels = req.Labels.filter((l) => !target.labels.includes(l));
      target.labels = target.labels.filter((l) => !req.Labels.includes(l));
    });
    return { RemovedLabels, InvalidLabels };
  }

  async addTags(caller: Caller, req: W.AddTagsToResourceRequest): Promise<W.AddTagsToResourceResult> {
    await this.updateTagged(caller, req.ResourceType, req.ResourceId, (record) => {
      const tags = new Map(record.tags.map((t) => [t.Key, t.Value]));
      for (const t of req.Tags) tags.set(t.Key, t.Value);
      if (tags.size > MAX_TAGS) throw Errors.ssmTooManyTags();
      record.tags = [...tags].map(([Key, Value]) => ({ Key, Value }));
    });
    return {};
  }

  async removeTags(caller: Caller, req: W.RemoveTagsFromResourceRequest): Promise<W.RemoveTagsFromResourceResult> {
    await this.updateTagged(caller, req.ResourceType, req.ResourceId, (record) => {
      record.tags = record.tags.filter((t) => !req.TagKeys.includes(t.Key));
    });
    return {};
  }

  async listTags(caller: Caller, req: W.ListTagsForResourceRequest): Promise<W.ListTagsForResourceResult> {
    if (req.ResourceType !== 'Parameter') throw Errors.ssmInvalidResourceType();
    const stored = await this.owned(caller, req.ResourceId);
    if (!stored) throw Errors.ssmInvalidResourceId();
    return { TagList: stored.record.tags };
  }

  /**
   * Image Builder's distribution: a new version of `name` in the owner's account holding the
   * output image (created, or overwritten keeping its type), checked as PutParameter checks it.
   */
  async publishImage(owner: Caller, name: string, imageId: string, dataType: 'text' | 'aws:ec2:image'): Promise<void> {
    const exists = await this.deps.parameters.get(owner.account, owner.region, name);
    await this.put(owner, { Name: name, Value: imageId, DataType: dataType, Overwrite: true, ...(exists ? {} : { Type: 'String' }) });
  }

  /**
   * The image id a RunInstances ImageId of `resolve:ssm:NAME[:version|:label]` names, read as the
   * caller (its own parameters and the public ones). EC2's InvalidParameterValue otherwise.
   */
  async resolveImageId(caller: Caller, reference: string): Promise<string> {
    const text = reference.slice('resolve:ssm:'.length);
    let found: ParameterView | undefined;
    try {
      found = await this.find(caller, parseSelector(text));
    } catch (err) {
      if (!isServiceError(err)) throw err;
    }
    if (!found) throw Errors.invalidParameterValue(`Invalid value '${reference}' for parameter ImageId: the parameter ${text} was not found.`);
    const value = found.version.type === 'String' ? found.version.value ?? '' : '';
    if (!/^ami-[0-9a-f]{8,17}$/.test(value)) {
      throw Errors.invalidParameterValue(`Invalid value '${reference}' for parameter ImageId: the parameter ${text} does not hold an image id.`);
    }
    return value;
  }

  /** The value a read returns: clear for String(List), or a SecureString's clear or stored form. */
  async value(caller: Caller, p: ParameterView, decrypt = false): Promise<string> {
    const v = p.version;
    if (v.type !== 'SecureString') return v.value ?? '';
    return decrypt ? this.deps.secure.open(caller, parameterArn(p.region, p.account, p.name), v.sealed!) : v.sealed!;
  }

  private async output(caller: Caller, p: ParameterView, decrypt: boolean | undefined, selector: Selector): Promise<W.Parameter> {
    return toParameter(p, await this.value(caller, p, decrypt), selector.text);
  }

  /** The caller's own parameter (or a public one) and the version a selector names. */
  async find(caller: Caller, selector: Selector): Promise<ParameterView | undefined> {
    checkName(selector.name);
    const versions = await this.versions(caller, selector.name);
    if (!versions) return undefined;
    if (selector.version === undefined && selector.label === undefined) return versions[versions.length - 1];
    const match = versions.find((v) => (selector.version !== undefined ? v.version.version === selector.version : v.version.labels.includes(selector.label!)));
    if (!match) throw Errors.ssmVersionNotFound(selector.name, selector.text!.slice(1));
    return match;
  }

  private async versions(caller: Caller, name: string): Promise<ParameterView[] | undefined> {
    const pub = await this.deps.publicParameters.get(caller.region, name);
    if (pub) return [pub];
    const stored = await this.deps.parameters.get(caller.account, caller.region, name);
    return stored?.record.versions.map((v) => viewOf(stored.record, v));
  }

  private async owned(caller: Caller, name: string): Promise<StoredParameterRecord | undefined> {
    try {
      checkName(name);
    } catch {
      return undefined;
    }
    return this.deps.parameters.get(caller.account, caller.region, name);
  }

  private async updateTagged(caller: Caller, type: string, name: string, change: (r: ParameterRecord) => void): Promise<void> {
    if (type !== 'Parameter') throw Errors.ssmInvalidResourceType();
    if (!await this.owned(caller, name)) throw Errors.ssmInvalidResourceId();
    await this.update(caller, name, change, Errors.ssmInvalidResourceId);
  }

  /** Applies `change` to the stored record and saves it, retrying when another write came first. */
  private async update(caller: Caller, name: string, change: (r: ParameterRecord) => void, notFound = () => Errors.ssmParameterNotFound(name)): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await this.deps.parameters.get(caller.account, caller.region, name);
      if (!stored) throw notFound();
      change(stored.record);
      if (await this.deps.parameters.save(stored.record, stored.revision)) return;
    }
    throw Errors.ssmTooManyUpdates();
  }
}
