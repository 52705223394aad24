// What the SSM API returns for a stored parameter version (Parameter, ParameterMetadata,
// ParameterHistory), in the generated wire types.
import type { Parameter, ParameterHistory, ParameterMetadata } from '../../protocol/ssm/types.generated.ts';
import type { ParameterRecord, ParameterVersionRecord } from '../../ports/ssm-parameter-repository.ts';
import { parameterArn } from './parameter-names.ts';

/** A parameter as the read operations see it: an account's own, or a public one (no account). */
export interface ParameterView {
  name: string;
  region: string;
  /** '' for public parameters, whose ARN names no account. */
  account: string;
  version: ParameterVersionRecord;
}

export function latest(record: ParameterRecord): ParameterVersionRecord {
  return record.versions[record.versions.length - 1];
}

export function viewOf(record: ParameterRecord, version = latest(record)): ParameterView {
  return { name: record.name, region: record.region, account: record.account, version };
}

/** `value` is the clear value when the caller asked for decryption, else the stored form. */
export function toParameter(p: ParameterView, value: string, selector?: string): Parameter {
  return {
    Name: p.name, Type: p.version.type, Value: value, Version: p.version.version,
    ...(selector ? { Selector: selector } : {}),
    LastModifiedDate: new Date(p.version.lastModifiedDate), ARN: parameterArn(p.region, p.account, p.name), DataType: p.version.dataType,
  };
}

export function toMetadata(p: ParameterView): ParameterMetadata {
  const v = p.version;
  return {
    Name: p.name, ARN: parameterArn(p.region, p.account, p.name), Type: v.type, ...(v.keyId ? { KeyId: v.keyId } : {}),
    LastModifiedDate: new Date(v.lastModifiedDate), LastModifiedUser: v.lastModifiedUser,
    ...(v.description ? { Description: v.description } : {}), ...(v.allowedPattern ? { AllowedPattern: v.allowedPattern } : {}),
    Version: v.version, Tier: v.tier, Policies: [], DataType: v.dataType,
  };
}

export function toHistory(p: ParameterView, value: string): ParameterHistory {
  const v = p.version;
  return {
    Name: p.name, Type: v.type, ...(v.keyId ? { KeyId: v.keyId } : {}), LastModifiedDate: new Date(v.lastModifiedDate),
    LastModifiedUser: v.lastModifiedUser, ...(v.description ? { Description: v.description } : {}), Value: value,
    ...(v.allowedPattern ? { AllowedPattern: v.allowedPattern } : {}), Version: v.version, Labels: v.labels, Tier: v.tier,
    Policies: [], DataType: v.dataType,
  };
}
