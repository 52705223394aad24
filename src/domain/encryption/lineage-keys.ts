// The data keys of encrypted lineages. A lineage (a volume, the snapshots taken from it, the
// volumes made from those) has one data key, made by KMS under the lineage's KMS key and stored
// only wrapped, beside the records (SnapshotRecord.dataKey, VolumeRecord.dataKey). Unwrapping it
// goes through KMS as the caller, so the caller's right to use the key is checked at every use.
import type { Caller } from '../context.ts';
import { Errors, isServiceError, type ServiceError } from '../errors.ts';
import { DEFAULT_EBS_KEY, type KmsService } from '../kms/kms-service.ts';

import type { WrappedDataKey as DataKeyRef } from '../../ports/snapshot-repository.ts';

export type { DataKeyRef };

/** What an encrypted snapshot or volume record carries. */
export interface LineageEncryption { kmsKeyId: string; dataKey: DataKeyRef }

const context = (lineage: string) => ({ 'aws:ebs:id': lineage });

/** Why KMS refused: the key's state, or the caller's access (or the key does not exist). */
export type KeyRefusal = 'state' | 'access';

export function keyRefusal(err: unknown): KeyRefusal | undefined {
  if (!isServiceError(err)) return undefined;
  if (err.code === 'DisabledException' || err.code === 'KMSInvalidStateException') return 'state';
  if (['NotFoundException', 'AccessDeniedException', 'InvalidCiphertextException', 'InvalidArnException'].includes(err.code)) return 'access';
  return undefined;
}

/** KMS's refusal as EC2's Query APIs report it (see docs/decisions.md, Encryption). */
export function ec2KeyError(err: unknown, keyId: string | undefined): unknown {
  const why = keyRefusal(err);
  if (!why) return err;
  const detail = (err as ServiceError).message;
  return why === 'state'
    ? Errors.keyInvalidState(`The KMS key ${keyId ?? ''} is not in a valid state for this operation: ${detail}`.replace('  ', ' '))
    : Errors.keyNotAccessible(`The KMS key ${keyId ?? ''} does not exist, or you do not have access to it: ${detail}`.replace('  ', ' '));
}

/** KMS's refusal as the EBS direct APIs report it (reasons from the EBS model). */
export function ebsKeyError(err: unknown): unknown {
  const why = keyRefusal(err);
  if (!why) return err;
  const detail = (err as ServiceError).message;
  return why === 'state'
    ? Errors.ebsValidation('INVALID_CUSTOMER_KEY', `The KMS key is not in a valid state: ${detail}`)
    : Errors.ebsAccessDenied(`Access to the KMS key was denied: ${detail}`, 'DEPENDENCY_ACCESS_DENIED');
}

export class LineageKeys {
  private readonly kms: KmsService;
  constructor(kms: KmsService) {
    this.kms = kms;
  }

  /** The ARN of the key a KmsKeyId names (default: the account's EBS default key), if usable. */
  async resolve(caller: Caller, keyId: string | undefined): Promise<string> {
    return (await this.kms.resolveKey(caller, keyId)).arn;
  }

  /** Whether `keyArn` is the account's AWS managed EBS key (alias/aws/ebs), which cannot be shared. */
  async isAwsManaged(caller: Caller, keyArn: string | undefined): Promise<boolean> {
    if (!keyArn) return false;
    return (await this.kms.resolveKey(caller, DEFAULT_EBS_KEY).catch(() => undefined))?.arn === keyArn;
  }

  /** A new data key for a lineage starting with `lineage`; wipe `plaintext` after use. */
  async create(caller: Caller, keyArn: string, lineage: string): Promise<{ encryption: LineageEncryption; plaintext: Buffer }> {
    const key = await this.kms.generateDataKeyFor(caller, keyArn, context(lineage));
    return { encryption: { kmsKeyId: key.keyArn, dataKey: { wrapped: key.wrapped.toString('base64'), lineage } }, plaintext: key.plaintext };
  }

  /** The lineage's data key, if the caller may use its KMS key now. */
  async open(caller: Caller, ref: DataKeyRef): Promise<Buffer> {
    return (await this.kms.decryptDataKeyFor(caller, Buffer.from(ref.wrapped, 'base64'), context(ref.lineage))).plaintext;
  }
}
