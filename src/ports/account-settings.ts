// Per-account, per-region settings of EC2 (EBS encryption by default and the default KMS key;
// the Allowed AMIs settings).
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

export interface AccountSettingsRepository {
  ebsEncryption(account: string, region: string): Promise<EbsEncryptionDefaults>;
  setEbsEncryption(account: string, region: string, value: EbsEncryptionDefaults): Promise<void>;
  /** `{ state: 'disabled', criteria: [] }` until set. */
  allowedImages(account: string, region: string): Promise<AllowedImagesSettings>;
  setAllowedImages(account: string, region: string, value: AllowedImagesSettings): Promise<void>;
}
