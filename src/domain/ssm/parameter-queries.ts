// DescribeParameters and GetParametersByPath: listing with SSM's filters and paging.
import type { ParameterRecord } from '../../ports/ssm-parameter-repository.ts';
import type * as W from '../../protocol/ssm/types.generated.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { checkPath } from './parameter-names.ts';
import { pageOf } from './parameter-paging.ts';
import type { ParameterService } from './parameter-service.ts';
import { toMetadata, toParameter, viewOf, type ParameterView } from './parameter-views.ts';

interface Candidate { view: ParameterView; record?: ParameterRecord }

type Filter = W.ParameterStringFilter;

const OPTIONS: Record<string, string[]> = {
  Name: ['Equals', 'BeginsWith', 'Contains'], Path: ['Recursive', 'OneLevel'], Type: ['Equals'], KeyId: ['Equals'],
  Label: ['Equals'], Tier: ['Equals'], DataType: ['Equals'], tag: ['Equals'],
};

export class ParameterQueries {
  private readonly service: ParameterService;
  constructor(service: ParameterService) {
    this.service = service;
  }

  async describe(caller: Caller, req: W.DescribeParametersRequest): Promise<W.DescribeParametersResult> {
    if (req.Filters?.length && req.ParameterFilters?.length) {
      throw Errors.ssmValidation('You can use either Filters or ParameterFilters in a single request, not both.');
    }
    const filters: Filter[] = [
      ...(req.ParameterFilters ?? []),
      ...(req.Filters ?? []).map((f) => ({ Key: f.Key, Option: f.Key === 'Name' ? 'BeginsWith' : 'Equals', Values: f.Values })),
    ];
    filters.forEach((f) => checkFilter(f, false));
    const records = await this.service.deps.parameters.list(caller.account, caller.region, '');
    const matching = records.map((r) => ({ view: viewOf(r), record: r })).filter((c) => filters.every((f) => matches(c, f)));
    const page = pageOf(matching, (c) => c.view.name, req.MaxResults ?? 50, req.NextToken);
    return { Parameters: page.items.map((c) => toMetadata(c.view)), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  async byPath(caller: Caller, req: W.GetParametersByPathRequest): Promise<W.GetParametersByPathResult> {
    const prefix = checkPath(req.Path);
    const filters = req.ParameterFilters ?? [];
    filters.forEach((f) => checkFilter(f, true));
    const own: Candidate[] = (await this.service.deps.parameters.list(caller.account, caller.region, prefix)).map((r) => ({ view: viewOf(r), record: r }));
    // Public parameters are listed under their own path only, as they live in no account's tree.
    const pub = prefix.startsWith('/aws/')
      ? (await this.service.deps.publicParameters.list(caller.region, prefix)).map((view): Candidate => ({ view }))
      : [];
    const label = filters.find((f) => f.Key === 'Label');
    const candidates = [...own, ...pub]
      .filter((c) => req.Recursive || !c.view.name.slice(prefix.length).includes('/'))
      .map((c) => (label && c.record ? labelled(c.record, label.Values ?? []) : c))
      .filter((c): c is Candidate => !!c && filters.every((f) => f.Key === 'Label' || matches(c, f)))
      .sort((a, b) => (a.view.name < b.view.name ? -1 : a.view.name > b.view.name ? 1 : 0));
    const page = pageOf(candidates, (c) => c.view.name, req.MaxResults ?? 10, req.NextToken);
    const Parameters: W.Parameter[] = [];
    for (const c of page.items) Parameters.push(toParameter(c.view, await this.service.value(caller, c.view, req.WithDecryption)));
    return { Parameters, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }
}

/** The version of a parameter carrying one of the labels, if any. */
function labelled(record: ParameterRecord, labels: string[]): Candidate | undefined {
  const version = [...record.versions].reverse().find((v) => v.labels.some((l) => labels.includes(l)));
  return version && { view: viewOf(record, version), record };
}

function checkFilter(f: Filter, byPath: boolean): void {
  const key = f.Key.startsWith('tag:') ? 'tag' : f.Key;
  const allowed = byPath ? ['Type', 'KeyId', 'Label', 'tag', 'DataType', 'Tier'] : Object.keys(OPTIONS);
  if (!allowed.includes(key)) {
    throw Errors.ssmInvalidFilterKey(`The following filter key is not valid: ${f.Key}. Valid filter keys include: [${allowed.join(', ')}].`);
  }
  if (f.Option !== undefined && !OPTIONS[key].includes(f.Option)) {
    throw Errors.ssmInvalidFilterOption(`The following filter option is not valid: ${f.Option}. Valid options include: [${OPTIONS[key].join(', ')}].`);
  }
  if (key !== 'tag' && !f.Values?.length) throw Errors.ssmInvalidFilterValue(`The following filter values are missing: null for filter key ${f.Key}.`);
  if (key === 'Path') for (const v of f.Values ?? []) checkPath(v);
}

function matches(c: Candidate, f: Filter): boolean {
  const v = c.view.version;
  const values = f.Values ?? [];
  const name = c.view.name;
  switch (f.Key) {
    case 'Name': {
      const option = f.Option ?? 'Equals';
      // SSM compares names with and without the leading slash alike.
      const bare = (s: string) => (s.startsWith('/') ? s.slice(1) : s);
      return values.some((x) => (option === 'Equals' ? bare(name) === bare(x) : option === 'BeginsWith' ? bare(name).startsWith(bare(x)) : name.includes(x)));
    }
    case 'Path':
      return values.some((x) => {
        const prefix = x.endsWith('/') ? x : `${x}/`;
        return name.startsWith(prefix) && (f.Option === 'Recursive' || !name.slice(prefix.length).includes('/'));
      });
    case 'Type': return values.includes(v.type);
    case 'KeyId': return !!v.keyId && values.includes(v.keyId);
    case 'Label': return !!c.record?.versions.some((x) => x.labels.some((l) => values.includes(l)));
    case 'Tier': return values.includes(v.tier);
    case 'DataType': return values.includes(v.dataType);
    default: {
      const tagKey = f.Key.slice('tag:'.length);
      const tag = c.record?.tags.find((t) => t.Key === tagKey);
      return !!tag && (!values.length || values.includes(tag.Value));
    }
  }
}
