// The Systems Manager part of the metadata store port: an account's parameters in a region, each
// stored whole (its versions, labels and tags in one document) with a revision number, so that a
// write is a compare-and-swap and two concurrent PutParameter calls cannot both make version N.

export interface ParameterVersionRecord {
  version: number;
  type: 'String' | 'StringList' | 'SecureString';
  /** String and StringList values; a SecureString's value is never stored in clear. */
  value?: string;
  /** SecureString only: the sealed value (base64 JSON envelope, see domain/ssm/secure-values.ts). */
  sealed?: string;
  /** SecureString only: the KeyId as given (or alias/aws/ssm), as DescribeParameters reports it. */
  keyId?: string;
  description?: string;
  allowedPattern?: string;
  dataType: string;
  tier: 'Standard' | 'Advanced' | 'Intelligent-Tiering';
  lastModifiedDate: string;
  lastModifiedUser: string;
  labels: string[];
}

export interface ParameterRecord {
  account: string;
  region: string;
  name: string;
  /** Oldest first; at most 100. */
  versions: ParameterVersionRecord[];
  tags: { Key: string; Value: string }[];
}

export interface StoredParameterRecord { record: ParameterRecord; revision: number }

export interface SsmParameterRepository {
  get(account: string, region: string, name: string): Promise<StoredParameterRecord | undefined>;
  /**
   * Inserts (`expectedRevision` undefined) or replaces the record stored at `expectedRevision`.
   * False when another write came first (the name exists, or the revision moved on).
   */
  save(record: ParameterRecord, expectedRevision?: number): Promise<boolean>;
  delete(account: string, region: string, name: string): Promise<boolean>;
  /** The account's parameters in the region whose names start with `prefix`, in name order. */
  list(account: string, region: string, prefix: string): Promise<ParameterRecord[]>;
}
