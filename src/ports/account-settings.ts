// Per-account, per-region settings of EC2 (EBS encryption by default and the default KMS key).
export interface EbsEncryptionDefaults {
  encryptByDefault: boolean;
  /** The default key's id or ARN as set (ModifyEbsDefaultKmsKeyId); absent: alias/aws/ebs. */
  kmsKeyId?: string;
}

export interface AccountSettingsRepository {
  ebsEncryption(account: string, region: string): Promise<EbsEncryptionDefaults>;
  setEbsEncryption(account: string, region: string, value: EbsEncryptionDefaults): Promise<void>;
}
