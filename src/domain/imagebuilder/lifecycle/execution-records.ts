// How lifecycle executions and the resources they act on are kept in the Image Builder store: an
// execution is a `lifecycle-execution` record (its id as key, the policy as parent, its status as
// state); each resource a `lifecycle-execution-resource` record under it, numbered in the order
// the execution processes them. Docs are the wire members plus the execution's own (preview, planned, manualUpdate;
// a resource's resourceKind, plannedAction, ...), which toWireExecution and toWireResource drop.
import { randomUUID } from 'node:crypto';
import type { IbRecord } from '../../../ports/imagebuilder-repository.ts';
import type {
  LifecycleExecution, LifecycleExecutionResource, LifecycleExecutionResourceAction, LifecycleExecutionResourcesImpactedSummary,
  LifecycleExecutionResourceState, LifecycleExecutionSnapshotResource, LifecycleExecutionState, LifecyclePolicyDetailExclusionRules,
} from '../../../protocol/imagebuilder/types.generated.ts';
import type { LifecycleActionType } from './rules.ts';

/** A policy's actions, and AVAILABLE, which only a manual state update (StartResourceStateUpdate) asks for. */
export type ResourceAction = LifecycleActionType | 'AVAILABLE';

export type ExecutionStatus = NonNullable<NonNullable<LifecycleExecution['state']>['status']>;
export type ResourceStatus = NonNullable<NonNullable<LifecycleExecutionResource['state']>['status']>;

/** Statuses of an execution that is not over (a restart resumes it). */
export const UNFINISHED: ExecutionStatus[] = ['PENDING', 'IN_PROGRESS', 'CANCELLING'];

/** A lifecycle execution's record: LifecycleExecution's members, and the execution's own (toWireExecution drops them). */
export interface ExecutionDoc {
  lifecycleExecutionId?: string;
  lifecyclePolicyArn?: string;
  resourcesImpactedSummary?: LifecycleExecutionResourcesImpactedSummary;
  state?: LifecycleExecutionState;
  /** Written as Dates, read back from JSON as ISO strings (as endTime). */
  startTime?: Date | string;
  endTime?: Date | string;
  /** A dry run: the resources say what would happen; nothing is changed. */
  preview?: boolean;
  /** Every resource record has been written (a restart before that plans again). */
  planned?: boolean;
  /** A manual state update of one image (StartResourceStateUpdate) instead of a policy's rules. */
  manualUpdate?: ManualUpdate;
}

export interface ManualUpdate {
  action: ResourceAction;
  includeResources?: { amis?: boolean; snapshots?: boolean };
  exclusionRules?: LifecyclePolicyDetailExclusionRules;
  /** ISO time before which the execution stays PENDING. */
  updateAt?: string;
}

/** A resource an execution acts on: LifecycleExecutionResource's members, and how the execution acts (toWireResource drops them). */
export interface ResourceDoc {
  accountId?: string;
  resourceId?: string;
  state?: LifecycleExecutionResourceState;
  action?: LifecycleExecutionResourceAction;
  region?: string;
  snapshots?: LifecycleExecutionSnapshotResource[];
  imageUris?: string[];
  /** Written as Dates, read back from JSON as ISO strings (as endTime). */
  startTime?: Date | string;
  endTime?: Date | string;
  /** The Image Builder image ARN an output AMI belongs to (ListLifecycleExecutionResources' parentResourceId). */
  parentImageArn?: string;
  resourceKind: 'image' | 'ami';
  plannedAction: ResourceAction;
  /** DELETE: the AMI's snapshots go with it. */
  withSnapshots?: boolean;
  /** An Image Builder image: whether its AMIs are acted on too. */
  includeAmis?: boolean;
}

export type ExecutionRecord = IbRecord<ExecutionDoc>;
export type ResourceRecord = IbRecord<ResourceDoc>;

/** The store's generic records seen as this module's (its docs are the wire shapes it wrote). */
export const asTyped = <T>(r: IbRecord): IbRecord<T> => r as unknown as IbRecord<T>;
export const asGeneric = <T>(r: IbRecord<T>): IbRecord => r as unknown as IbRecord;

export const newExecutionId = (): string => `lce-${randomUUID()}`;

/**
 * A new execution: of a policy (its ARN as parent), or a manual state update of one image (the
 * image's ARN as parent), PENDING when it waits for its `updateAt`.
 */
export function executionRecord(o: {
  account: string; region: string; now: Date; policyArn?: string; preview?: boolean; manual?: { imageArn: string; update: ManualUpdate };
}): ExecutionRecord {
  const id = newExecutionId();
  const at = o.now.toISOString();
  const status: ExecutionStatus = o.manual?.update.updateAt && o.manual.update.updateAt > at ? 'PENDING' : 'IN_PROGRESS';
  return {
    arn: id, kind: 'lifecycle-execution', account: o.account, region: o.region, name: id, parent: o.policyArn ?? o.manual?.imageArn, state: status,
    doc: {
      lifecycleExecutionId: id, lifecyclePolicyArn: o.policyArn, state: { status }, startTime: o.now,
      resourcesImpactedSummary: { hasImpactedResources: false }, preview: o.preview || undefined, manualUpdate: o.manual?.update,
    },
    createdAt: at, updatedAt: at,
  };
}

/** Resource records sort by their key: the execution id and a zero-padded sequence number. */
export function resourceRecord(exec: ExecutionRecord, seq: number, doc: ResourceDoc, now: Date): ResourceRecord {
  const at = now.toISOString();
  return {
    arn: `${exec.arn}/${String(seq).padStart(6, '0')}`, kind: 'lifecycle-execution-resource', account: exec.account, region: exec.region,
    name: doc.resourceId ?? '', parent: exec.arn, state: doc.state?.status, doc, createdAt: at, updatedAt: at,
  };
}

/** The execution as GetLifecycleExecution returns it (timestamps as Dates, private fields dropped). */
export function toWireExecution(doc: ExecutionDoc): LifecycleExecution {
  return defined({
    lifecycleExecutionId: doc.lifecycleExecutionId, lifecyclePolicyArn: doc.lifecyclePolicyArn, resourcesImpactedSummary: doc.resourcesImpactedSummary,
    state: doc.state, startTime: asDate(doc.startTime), endTime: asDate(doc.endTime),
  });
}

export function toWireResource(doc: ResourceDoc): LifecycleExecutionResource {
  return defined({
    accountId: doc.accountId, resourceId: doc.resourceId, state: doc.state, action: doc.action, region: doc.region, snapshots: doc.snapshots,
    imageUris: doc.imageUris, startTime: asDate(doc.startTime), endTime: asDate(doc.endTime),
  });
}

/** Drops undefined members, so a wire object has only the members the record has. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Stored docs come back from JSON with timestamps as strings. */
export const asDate = (v: Date | string | undefined): Date | undefined => (v === undefined ? undefined : new Date(v));
