// KMS keys, aliases, policies and grants through KMS's own actions (JSON protocol).
import { kms } from '../../api.ts';
import type { AliasListEntry, GrantListEntry, KeyMetadata } from '../../wire.ts';

export type { AliasListEntry, GrantListEntry, KeyMetadata };

/** Every page of a Marker-paged KMS list. */
async function allPages<T>(action: string, input: Record<string, unknown>, items: string): Promise<T[]> {
  const out: T[] = [];
  let Marker: string | undefined;
  do {
    const page = await kms<Record<string, unknown> & { Truncated?: boolean; NextMarker?: string }>(action, { ...input, Marker });
    out.push(...((page[items] as T[] | undefined) ?? []));
    Marker = page.Truncated ? page.NextMarker : undefined;
  } while (Marker);
  return out;
}

export const listAliases = (): Promise<AliasListEntry[]> => allPages<AliasListEntry>('ListAliases', {}, 'Aliases');

export async function describeKey(keyId: string): Promise<KeyMetadata> {
  return (await kms<{ KeyMetadata: KeyMetadata }>('DescribeKey', { KeyId: keyId })).KeyMetadata;
}

/** The account's keys with their metadata (ListKeys, then DescribeKey for each). */
export async function listKeys(): Promise<KeyMetadata[]> {
  const keys = await allPages<{ KeyId: string }>('ListKeys', {}, 'Keys');
  return Promise.all(keys.map((k) => describeKey(k.KeyId)));
}

export async function getKeyPolicy(keyId: string): Promise<string> {
  return (await kms<{ Policy?: string }>('GetKeyPolicy', { KeyId: keyId, PolicyName: 'default' })).Policy ?? '';
}

export const putKeyPolicy = (keyId: string, policy: string) => kms('PutKeyPolicy', { KeyId: keyId, PolicyName: 'default', Policy: policy });
export const listGrants = (keyId: string): Promise<GrantListEntry[]> => allPages<GrantListEntry>('ListGrants', { KeyId: keyId }, 'Grants');
export const createKey = (description: string) => kms<{ KeyMetadata: KeyMetadata }>('CreateKey', { Description: description });
export const createAlias = (aliasName: string, keyId: string) => kms('CreateAlias', { AliasName: aliasName, TargetKeyId: keyId });
export const enableKey = (keyId: string) => kms('EnableKey', { KeyId: keyId });
export const disableKey = (keyId: string) => kms('DisableKey', { KeyId: keyId });
export const scheduleDeletion = (keyId: string, days: number) =>
  kms<{ DeletionDate?: number }>('ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: days });
export const cancelDeletion = (keyId: string) => kms('CancelKeyDeletion', { KeyId: keyId });

/** A policy as indented JSON for reading and editing; as it came when it is not JSON. */
export function formatPolicy(policy: string): string {
  try {
    return JSON.stringify(JSON.parse(policy), null, 2);
  } catch {
    return policy;
  }
}

/** The aliases pointing at each key id. */
export function aliasesByKey(aliases: AliasListEntry[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of aliases) if (a.TargetKeyId && a.AliasName) out.set(a.TargetKeyId, [...(out.get(a.TargetKeyId) ?? []), a.AliasName]);
  return out;
}
