// KMS: keys, aliases, grants and the cryptographic operations, for the KMS API handlers; and the
// domain API other services use to encrypt their data (EBS volumes and snapshots).
//
// Domain API (for other services; everything is authorized as the KMS API is, at the moment of
// use, with kms:ViaService = ec2.<region>.amazonaws.com, as when EC2 calls KMS for a caller):
//
//   resolveKey(caller, keyId?)      -> the key a KmsKeyId parameter names (id, ARN, alias name or
//                                      alias ARN; default alias/aws/ebs, created on first use), if
//                                      the caller may use it and it is enabled. Store its ARN.
//   generateDataKeyFor(caller, keyId, context)
//                                   -> a new 256-bit data key: `plaintext` to seal blocks with,
//                                      then wipe (fill(0)); `wrapped` to store beside the data.
//   decryptDataKeyFor(caller, wrapped, context)
//                                   -> the data key back, if the caller may still use the key
//                                      that wrapped it (policy and grants checked now) and it is
//                                      enabled; the same context is required.
//
// Errors are KMS's (NotFoundException, AccessDeniedException, DisabledException,
// KMSInvalidStateException, InvalidCiphertextException); a caller translates them into its own
// API's codes where AWS does (EC2's volume errors, for example).
import type { Caller } from '../context.ts';
import { AliasService } from './aliases.ts';
import { KmsCrypto } from './crypto-operations.ts';
import { GrantService } from './grant-service.ts';
import { KeyAccess, type KmsDeps } from './key-access.ts';
import { KeyManagement } from './key-management.ts';

export type { KmsDeps } from './key-access.ts';

/** The key EBS uses when a request names none. */
export const DEFAULT_EBS_KEY = 'alias/aws/ebs';

export interface ResolvedKey {
  keyId: string;
  arn: string;
  account: string;
}

export interface DataKey {
  /** The data key itself: use it, then wipe it (`plaintext.fill(0)`). Never store it. */
  plaintext: Buffer;
  /** The data key encrypted under the KMS key (a KMS ciphertext blob): store this. */
  wrapped: Buffer;
  /** The KMS key that wrapped it. */
  keyArn: string;
}

export class KmsService {
  readonly keys: KeyManagement;
  readonly aliases: AliasService;
  readonly grants: GrantService;
  readonly crypto: KmsCrypto;
  private readonly deps: KmsDeps;
  private readonly access: KeyAccess;

  constructor(deps: KmsDeps) {
    this.deps = deps;
    this.access = new KeyAccess(deps);
    this.keys = new KeyManagement(deps, this.access);
    this.aliases = new AliasService(deps, this.access);
    this.grants = new GrantService(deps, this.access);
    this.crypto = new KmsCrypto(this.access);
  }

  /**
   * Checks the root key is the one this store's key material was wrapped under (a new store
   * adopts it). Call once at start-up: with another root key no KMS key could be used.
   */
  async verifyRootKey(): Promise<void> {
    const expected = this.deps.vault.fingerprint();
    const stored = await this.deps.keys.rootKeyFingerprint();
    if (stored === undefined) await this.deps.keys.setRootKeyFingerprint(expected);
    else if (stored !== expected) {
      throw new Error(`the KMS root key (fingerprint ${expected}) is not the one this data directory's KMS keys are wrapped under `
        + `(fingerprint ${stored}); start with the original root key (--kms-root-key-file or AMIFORGE_KMS_ROOT_KEY)`);
    }
  }

  private static via(caller: Caller) {
    return { viaService: `ec2.${caller.region}.amazonaws.com` };
  }

  async resolveKey(caller: Caller, keyId: string = DEFAULT_EBS_KEY): Promise<ResolvedKey> {
    this.deps.onServiceOperation?.('DescribeKey');
    const key = await this.access.use(caller, keyId, 'DescribeKey', { aliases: true, states: 'enabled', ...KmsService.via(caller) });
    return { keyId: key.keyId, arn: key.arn, account: key.account };
  }

  async generateDataKeyFor(caller: Caller, keyId: string, context: Record<string, string>): Promise<DataKey> {
    this.deps.onServiceOperation?.('GenerateDataKey');
    const out = await this.crypto.generateDataKey(caller, { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }, KmsService.via(caller));
    return { plaintext: out.Plaintext, wrapped: out.CiphertextBlob, keyArn: out.KeyId };
  }

  async decryptDataKeyFor(caller: Caller, wrapped: Uint8Array, context: Record<string, string>): Promise<{ plaintext: Buffer; keyArn: string }> {
    this.deps.onServiceOperation?.('Decrypt');
    const out = await this.crypto.decrypt(caller, { CiphertextBlob: wrapped, EncryptionContext: context }, KmsService.via(caller));
    return { plaintext: out.Plaintext as Buffer, keyArn: out.KeyId! };
  }
}
