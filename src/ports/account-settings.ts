// Per-account, per-region settings of EC2: EBS encryption by default and the default KMS key, and
// block public access for AMIs and for snapshots.
export interface EbsEncryptionDefaults {
  encryptByDefault: boolean;
  /** The default key's id or ARN as set (ModifyEbsDefaultKmsKeyId); absent: alias/aws/ebs. */
  kmsKeyId?: string;
}

/** The states of block public access, per resource kind, as EC2 names them. */
export interface BlockPublicAccessStates {
  image: 'block-new-sharing' | 'unblocked';
  snapshot: 'block-all-sharing' | 'block-new-sharing' | 'unblocked';
}
export type BlockPublicAccessKind = keyof BlockPublicAccessStates;

export interface AccountSettingsRepository {
  ebsEncryption(account: string, region: string): Promise<EbsEncryptionDefaults>;
  setEbsEncryption(account: string, region: string, value: EbsEncryptionDefaults): Promise<void>;
  /** The account's block public access state for a kind of resource; `unblocked` when never set. */
  blockPublicAccess<K extends BlockPublicAccessKind>(account: string, region: string, kind: K): Promise<BlockPublicAccessStates[K]>;
  setBlockPublicAccess<K extends BlockPublicAccessKind>(account: string, region: string, kind: K, state: BlockPublicAccessStates[K]): Promise<void>;
}
