// Per-account, per-region settings of EC2: EBS encryption by default and the default KMS key,
// the Allowed AMIs settings, and block public access for AMIs and for snapshots.
import type { ImageCriterion } from '../protocol/ec2/types.generated.ts';

export interface EbsEncryptionDefaults {
  encryptByDefault: boolean;
  /** The default key's id or ARN as set (ModifyEbsDefaultKmsKeyId); absent: alias/aws/ebs. */
  kmsKeyId?: string;
}

export type AllowedImagesState = 'disabled' | 'enabled' | 'audit-mode';

/** Allowed AMIs: the state and the criteria, kept across enabling and disabling. */
export interface AllowedImagesSettings {
  state: AllowedImagesState;
  criteria: ImageCriterion[];
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
  /** `{ state: 'disabled', criteria: [] }` until set. */
  allowedImages(account: string, region: string): Promise<AllowedImagesSettings>;
  setAllowedImages(account: string, region: string, value: AllowedImagesSettings): Promise<void>;
  /** The account's block public access state for a kind of resource; `unblocked` when never set. */
  blockPublicAccess<K extends BlockPublicAccessKind>(account: string, region: string, kind: K): Promise<BlockPublicAccessStates[K]>;
  setBlockPublicAccess<K extends BlockPublicAccessKind>(account: string, region: string, kind: K, state: BlockPublicAccessStates[K]): Promise<void>;
}
