// EBS encryption by default (per account and region) and the choice of key for new volumes and
// snapshots: what a request asks for (Encrypted, KmsKeyId), what the source already is, and the
// account's defaults, following EC2's rules (an encrypted source stays encrypted; a copy never
// decrypts; KmsKeyId needs Encrypted).
import type { MetadataStore } from '../../ports/metadata-store.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { DEFAULT_EBS_KEY } from '../kms/kms-service.ts';
import { ec2KeyError, type LineageKeys } from './lineage-keys.ts';

export interface EbsEncryptionDeps { store: MetadataStore; keys: LineageKeys }

export interface EncryptionRequest {
  encrypted?: boolean;
  kmsKeyId?: string;
  /** The source's KMS key ARN when the source (snapshot) is encrypted. */
  sourceKeyArn?: string;
}

export class EbsEncryption {
  readonly keys: LineageKeys;
  private readonly deps: EbsEncryptionDeps;
  constructor(deps: EbsEncryptionDeps) {
    this.deps = deps;
    this.keys = deps.keys;
  }

  async enableByDefault(caller: Caller): Promise<{ EbsEncryptionByDefault: boolean }> {
    const d = await this.deps.store.accountSettings.ebsEncryption(caller.account, caller.region);
    await this.deps.store.accountSettings.setEbsEncryption(caller.account, caller.region, { ...d, encryptByDefault: true });
    return { EbsEncryptionByDefault: true };
  }

  async disableByDefault(caller: Caller): Promise<{ EbsEncryptionByDefault: boolean }> {
    const d = await this.deps.store.accountSettings.ebsEncryption(caller.account, caller.region);
    await this.deps.store.accountSettings.setEbsEncryption(caller.account, caller.region, { ...d, encryptByDefault: false });
    return { EbsEncryptionByDefault: false };
  }

  async getByDefault(caller: Caller): Promise<{ EbsEncryptionByDefault: boolean; SseType: 'none' }> {
    const d = await this.deps.store.accountSettings.ebsEncryption(caller.account, caller.region);
    return { EbsEncryptionByDefault: d.encryptByDefault, SseType: 'none' };
  }

  /** The default key's ARN (alias/aws/ebs's, created on first use, unless another was set). */
  async getDefaultKey(caller: Caller): Promise<{ KmsKeyId: string }> {
    const d = await this.deps.store.accountSettings.ebsEncryption(caller.account, caller.region);
    if (d.kmsKeyId) return { KmsKeyId: d.kmsKeyId };
    return { KmsKeyId: await this.resolve(caller, DEFAULT_EBS_KEY) };
  }

  async modifyDefaultKey(caller: Caller, keyId: string): Promise<{ KmsKeyId: string }> {
    const arn = await this.resolve(caller, keyId);
    const d = await this.deps.store.accountSettings.ebsEncryption(caller.account, caller.region);
    await this.deps.store.accountSettings.setEbsEncryption(caller.account, caller.region, { ...d, kmsKeyId: arn });
    return { KmsKeyId: arn };
  }

  async resetDefaultKey(caller: Caller): Promise<{ KmsKeyId: string }> {
    const d = await this.deps.store.accountSettings.ebsEncryption(caller.account, caller.region);
    await this.deps.store.accountSettings.setEbsEncryption(caller.account, caller.region, { encryptByDefault: d.encryptByDefault });
    return { KmsKeyId: await this.resolve(caller, DEFAULT_EBS_KEY) };
  }

  /** A usable key's ARN, or EC2's error for one KMS refuses. */
  async resolve(caller: Caller, keyId: string, mapError: (err: unknown, keyId: string) => unknown = ec2KeyError): Promise<string> {
    try {
      return await this.keys.resolve(caller, keyId);
    } catch (err) {
      throw mapError(err, keyId);
    }
  }

  /**
   * The KMS key ARN a new volume or snapshot is encrypted with, or undefined for unencrypted.
   * It is the source's key when the source is encrypted and no other key is asked for.
   */
  async target(caller: Caller, req: EncryptionRequest, mapError: (err: unknown, keyId: string) => unknown = ec2KeyError): Promise<string | undefined> {
    // An empty KmsKeyId is no key (see ImageCopies.copy).
    if (req.kmsKeyId !== undefined && req.kmsKeyId !== '' && req.encrypted !== true) {
      throw Errors.invalidParameterDependency('The parameter KmsKeyId requires the parameter Encrypted to be set.');
    }
    if (req.kmsKeyId) return this.resolve(caller, req.kmsKeyId, mapError);
    if (req.sourceKeyArn) return req.sourceKeyArn;
    const d = await this.deps.store.accountSettings.ebsEncryption(caller.account, caller.region);
    if (!req.encrypted && !d.encryptByDefault) return undefined;
    return this.resolve(caller, d.kmsKeyId ?? DEFAULT_EBS_KEY, mapError);
  }
}

/** Encryption over a KMS of its own, with a fresh root key: for unit tests that build services by hand. */
export async function standaloneEncryption(store: MetadataStore, clock: { now(): Date }): Promise<EbsEncryption> {
  const { randomBytes } = await import('node:crypto');
  const { KeyVault } = await import('../kms/key-vault.ts');
  const { KmsService } = await import('../kms/kms-service.ts');
  const { LineageKeys } = await import('./lineage-keys.ts');
  const kms = new KmsService({ keys: store.keys, clock, vault: new KeyVault(randomBytes(32)) });
  return new EbsEncryption({ store, keys: new LineageKeys(kms) });
}
