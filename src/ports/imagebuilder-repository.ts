// The Image Builder part of the metadata store port. Image Builder's resources (components,
// recipes, configurations, pipelines, images and their build versions, lifecycle policies) and its
// running work (workflow and step executions with their logs, lifecycle executions and the
// resources they touched) are all documents under an ARN, owned by one account in one region.
// One generic record keeps the store small and the adapters alike; the columns beside the
// document are the ones queries need (kind, owner, name and version, parent, state).
export type IbKind =
  | 'component'
  | 'image-recipe'
  | 'infrastructure-configuration'
  | 'distribution-configuration'
  | 'image-pipeline'
  | 'image'
  | 'lifecycle-policy'
  | 'workflow-execution'
  | 'workflow-step-execution'
  | 'lifecycle-execution'
  | 'lifecycle-execution-resource'
  /** A ClientToken's first request: `name` is the token, `doc` the request's hash and answer. */
  | 'client-token';

export interface IbRecord<T = Record<string, unknown>> {
  /** The resource's ARN (or, for executions and tokens, an id unique in its kind). */
  arn: string;
  kind: IbKind;
  account: string;
  region: string;
  /** The resource's name (a workflow execution's id, a lifecycle execution's id, a token). */
  name: string;
  /** Semantic version `major.minor.patch`, for versioned resources. */
  version?: string;
  /** Build number of a build version (components, images). */
  build?: number;
  /** The ARN this record belongs to: an image's pipeline, an execution's image or policy. */
  parent?: string;
  /** The status queries select by (an image's build status, an execution's status). */
  state?: string;
  doc: T;
  /** ISO 8601. */
  createdAt: string;
  updatedAt: string;
}

export interface IbQuery {
  kind: IbKind;
  account?: string;
  region?: string;
  name?: string;
  version?: string;
  parent?: string;
  /** Any of these states. */
  states?: string[];
}

export interface ImageBuilderRepository {
  /** Inserts; false (nothing written) when a record with this ARN exists. */
  insert(record: IbRecord): Promise<boolean>;
  /** Inserts or replaces. */
  put(record: IbRecord): Promise<void>;
  get(arn: string): Promise<IbRecord | undefined>;
  /** Matching records, oldest first: by createdAt, records created in the same millisecond in the order they were inserted. */
  list(query: IbQuery): Promise<IbRecord[]>;
  /**
   * Reads, changes and writes one record atomically: `change` gets the current record and
   * returns the new one (or undefined to leave it). Returns what was written, or undefined when
   * the record does not exist or was left.
   */
  update(arn: string, change: (current: IbRecord) => IbRecord | undefined): Promise<IbRecord | undefined>;
  delete(arn: string): Promise<boolean>;
}
