// Image Builder's ARNs: arn:aws:imagebuilder:REGION:OWNER:TYPE/NAME[/VERSION[/BUILD]]. The name in
// an ARN is the resource's name in lower case with spaces as hyphens, as Image Builder writes it;
// Amazon's own resources have the owner `aws`.
import { Errors } from '../errors.ts';

export type IbResourceType =
  | 'component' | 'image-recipe' | 'container-recipe' | 'infrastructure-configuration'
  | 'distribution-configuration' | 'image-pipeline' | 'image' | 'lifecycle-policy' | 'workflow';

const TYPES: readonly IbResourceType[] = ['component', 'image-recipe', 'container-recipe', 'infrastructure-configuration',
  'distribution-configuration', 'image-pipeline', 'image', 'lifecycle-policy', 'workflow'];

/** The owner in ARNs of Amazon-managed components and images. */
export const AMAZON_OWNER = 'aws';

export interface IbArn {
  region: string;
  /** An account id, or `aws` for Amazon-managed resources. */
  owner: string;
  type: IbResourceType;
  /** Workflows only: build | test | distribution. */
  workflowType?: string;
  name: string;
  /** `1.0.0`, or with wildcards where a version ARN allows them (`1.x.x`, `x.x.x`). */
  version?: string;
  build?: number;
}

/** The name as it appears in an ARN. */
export const arnName = (name: string): string => name.toLowerCase().replace(/ /g, '-');

export function ibArn(a: IbArn): string {
  const type = a.workflowType ? `${a.type}/${a.workflowType}` : a.type;
  const parts = [`arn:aws:imagebuilder:${a.region}:${a.owner}:${type}`, arnName(a.name)];
  if (a.version !== undefined) parts.push(a.version);
  if (a.build !== undefined) parts.push(String(a.build));
  return parts.join('/');
}

const ARN = /^arn:aws[^:]*:imagebuilder:([a-z0-9-]+):(\d{12}|aws):([a-z-]+)\/(.+)$/;

/** Reads an Image Builder ARN; undefined when it is not one. */
export function parseIbArn(arn: string): IbArn | undefined {
  const m = ARN.exec(arn);
  if (!m || !TYPES.includes(m[3] as IbResourceType)) return undefined;
  const type = m[3] as IbResourceType;
  let rest = m[4].split('/');
  let workflowType: string | undefined;
  if (type === 'workflow') [workflowType, ...rest] = rest;
  const [name, version, build, ...extra] = rest;
  if (!name || extra.length) return undefined;
  if (version !== undefined && !/^(\d+|x)\.(\d+|x)\.(\d+|x)$/.test(version)) return undefined;
  if (build !== undefined && !/^\d+$/.test(build)) return undefined;
  return { region: m[1], owner: m[2], type, workflowType, name, version, build: build === undefined ? undefined : Number(build) };
}

/** Reads an ARN of the given type or answers Image Builder's InvalidParameterValueException. */
export function requireIbArn(arn: string, type: IbResourceType, parameter: string): IbArn {
  const parsed = parseIbArn(arn);
  if (!parsed || parsed.type !== type) {
    throw Errors.ibInvalidParameterValue(`The value supplied for parameter '${parameter}' is not a valid ${type} ARN: ${arn}`);
  }
  return parsed;
}
