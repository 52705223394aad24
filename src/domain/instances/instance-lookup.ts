// Finding a caller's instances. An account never sees another account's instances: theirs are
// NotFound, exactly as ids that never existed. Terminated instances stay visible for a while
// (an hour, as EC2 keeps them), then disappear.
import type { InstanceRecord } from '../../ports/instance-repository.ts';
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { isResourceId } from '../resource-ids.ts';

export const TERMINATED_RETENTION_MS = 3600_000;

export function requireInstanceId(id: string): string {
  if (!isResourceId('i', id)) throw Errors.instanceMalformed(id);
  return id;
}

/** True once a terminated instance has been gone longer than it stays visible. */
export function expired(r: InstanceRecord, now: Date, retentionMs = TERMINATED_RETENTION_MS): boolean {
  return r.state === 'terminated' && !!r.terminatedAt && now.getTime() - Date.parse(r.terminatedAt) > retentionMs;
}

export async function findOwnedInstance(store: MetadataStore, caller: Caller, id: string, now: Date): Promise<InstanceRecord> {
  requireInstanceId(id);
  const r = await store.instances.get(caller.region, id);
  if (!r || r.ownerId !== caller.account || expired(r, now)) throw Errors.instanceNotFound(id);
  return r;
}

/** Every id checked (malformed, then not found) before anything is done to any of them. */
export async function findOwnedInstances(store: MetadataStore, caller: Caller, ids: string[], now: Date): Promise<InstanceRecord[]> {
  if (!ids.length) throw Errors.missingParameter('InstanceId');
  for (const id of ids) requireInstanceId(id);
  const out: InstanceRecord[] = [];
  for (const id of new Set(ids)) out.push(await findOwnedInstance(store, caller, id, now));
  return out;
}
