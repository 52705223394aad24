// KMS's cryptographic operations on symmetric keys: Encrypt, Decrypt, ReEncrypt, GenerateDataKey
// (with and without plaintext) and GenerateRandom. Every call authorizes the caller's use of the
// key (key policy, then grants), checks the key is enabled, and holds the key's plaintext
// material only while it seals or opens one blob (see ciphertext.ts for the blob format).
import { randomBytes } from 'node:crypto';
import type {
  DecryptRequest, DecryptResponse, EncryptRequest, EncryptResponse, GenerateDataKeyRequest, GenerateDataKeyResponse,
  GenerateDataKeyWithoutPlaintextRequest, GenerateDataKeyWithoutPlaintextResponse, GenerateRandomRequest,
  GenerateRandomResponse, ReEncryptRequest, ReEncryptResponse,
} from '../../protocol/kms/types.generated.ts';
import type { KeyRecord } from '../../ports/key-repository.ts';
import type { Caller } from '../context.ts';
import { Errors } from '../errors.ts';
import { open, readHeader, seal } from './ciphertext.ts';
import { checkState, KeyAccess } from './key-access.ts';

const ALGORITHM = 'SYMMETRIC_DEFAULT';
type Context = Record<string, string> | undefined;

/** Who is asking on whose behalf: the AWS service calling for the caller, if any (kms:ViaService). */
export interface CallSource { viaService?: string }

function checkAlgorithm(algorithm: string | undefined): void {
  if (algorithm !== undefined && algorithm !== ALGORITHM) {
    throw Errors.kmsInvalidKeyUsage(`The encryption algorithm ${algorithm} is not compatible with KeySpec SYMMETRIC_DEFAULT; use SYMMETRIC_DEFAULT.`);
  }
}

function noRecipient(recipient: unknown): void {
  if (recipient !== undefined) throw Errors.kmsUnsupported('amiforge does not support Recipient (Nitro Enclaves attestation).');
}

/** Data key length from KeySpec or NumberOfBytes, exactly one of which must be given. */
function dataKeyBytes(keySpec: string | undefined, numberOfBytes: number | undefined): number {
  if (keySpec !== undefined && numberOfBytes !== undefined) {
    throw Errors.kmsValidation('KeySpec and NumberOfBytes are mutually exclusive: give one of them.');
  }
  if (keySpec === undefined && numberOfBytes === undefined) throw Errors.kmsValidation('Please specify either number of bytes or key spec.');
  return keySpec === 'AES_128' ? 16 : keySpec === 'AES_256' ? 32 : numberOfBytes!;
}

export class KmsCrypto {
  private readonly access: KeyAccess;
  constructor(access: KeyAccess) {
    this.access = access;
  }

  private async sealWith(key: KeyRecord, plaintext: Uint8Array, context: Context): Promise<Buffer> {
    return this.access.withMaterial(key, key.materialVersion, (m) => seal(m, { keyId: key.keyId, version: key.materialVersion }, plaintext, context));
  }

  /**
   * Opens a blob for `operation` (Decrypt or ReEncryptFrom): the key comes from the blob; a KeyId,
   * when given, must name that same key (IncorrectKeyException otherwise).
   */
  private async openBlob(caller: Caller, o: {
    blob: Uint8Array | undefined; context: Context; keyId?: string; operation: string; grantTokens?: string[]; source: CallSource; dryRun?: boolean;
  }): Promise<{ key: KeyRecord; plaintext: Buffer }> {
    if (!o.blob) throw Errors.kmsValidation("1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: Member must not be null");
    const header = readHeader(o.blob);
    const key = await this.access.load(caller.region, header.keyId);
    if (o.keyId !== undefined) {
      const named = await this.access.find(caller, o.keyId, true);
      if (named.keyId !== key?.keyId) throw Errors.kmsIncorrectKey();
    }
    if (!key) throw Errors.kmsInvalidCiphertext();
    await this.access.authorize(caller, key, o.operation, { encryptionContext: o.context, grantTokens: o.grantTokens, viaService: o.source.viaService });
    checkState(key, 'enabled');
    if (o.dryRun) throw Errors.kmsDryRun();
    const plaintext = await this.access.withMaterial(key, header.version, (m) => open(m, o.blob!, o.context));
    return { key, plaintext };
  }

  async encrypt(caller: Caller, req: EncryptRequest, source: CallSource = {}): Promise<EncryptResponse> {
    checkAlgorithm(req.EncryptionAlgorithm);
    const key = await this.access.use(caller, req.KeyId, 'Encrypt', {
      aliases: true, encryptionContext: req.EncryptionContext, grantTokens: req.GrantTokens, viaService: source.viaService,
    });
    if (req.DryRun) throw Errors.kmsDryRun();
    return { CiphertextBlob: await this.sealWith(key, req.Plaintext, req.EncryptionContext), KeyId: key.arn, EncryptionAlgorithm: ALGORITHM };
  }

  async decrypt(caller: Caller, req: DecryptRequest, source: CallSource = {}): Promise<DecryptResponse> {
    noRecipient(req.Recipient);
    checkAlgorithm(req.EncryptionAlgorithm);
    const { key, plaintext } = await this.openBlob(caller, {
      blob: req.CiphertextBlob, context: req.EncryptionContext, keyId: req.KeyId, operation: 'Decrypt', grantTokens: req.GrantTokens,
      source, dryRun: req.DryRun,
    });
    return { KeyId: key.arn, Plaintext: plaintext, EncryptionAlgorithm: ALGORITHM };
  }

  async reEncrypt(caller: Caller, req: ReEncryptRequest): Promise<ReEncryptResponse> {
    checkAlgorithm(req.SourceEncryptionAlgorithm);
    checkAlgorithm(req.DestinationEncryptionAlgorithm);
    const { key: source, plaintext } = await this.openBlob(caller, {
      blob: req.CiphertextBlob, context: req.SourceEncryptionContext, keyId: req.SourceKeyId, operation: 'ReEncryptFrom',
      grantTokens: req.GrantTokens, source: {},
    });
    try {
      const destination = await this.access.use(caller, req.DestinationKeyId, 'ReEncryptTo', {
        aliases: true, encryptionContext: req.DestinationEncryptionContext, grantTokens: req.GrantTokens,
      });
      if (req.DryRun) throw Errors.kmsDryRun();
      return {
        CiphertextBlob: await this.sealWith(destination, plaintext, req.DestinationEncryptionContext),
        SourceKeyId: source.arn, KeyId: destination.arn, SourceEncryptionAlgorithm: ALGORITHM, DestinationEncryptionAlgorithm: ALGORITHM,
      };
    } finally {
      plaintext.fill(0);
    }
  }

  async generateDataKey(caller: Caller, req: GenerateDataKeyRequest, source: CallSource = {}): Promise<GenerateDataKeyResponse & { Plaintext: Buffer; CiphertextBlob: Buffer; KeyId: string }> {
    noRecipient(req.Recipient);
    return this.dataKey(caller, req, 'GenerateDataKey', source);
  }

  async generateDataKeyWithoutPlaintext(caller: Caller, req: GenerateDataKeyWithoutPlaintextRequest): Promise<GenerateDataKeyWithoutPlaintextResponse> {
    const { Plaintext, ...rest } = await this.dataKey(caller, req, 'GenerateDataKeyWithoutPlaintext', {});
    Plaintext.fill(0);
    return rest;
  }

  private async dataKey(caller: Caller, req: GenerateDataKeyWithoutPlaintextRequest, operation: string, source: CallSource) {
    const bytes = dataKeyBytes(req.KeySpec, req.NumberOfBytes);
    const key = await this.access.use(caller, req.KeyId, operation, {
      aliases: true, encryptionContext: req.EncryptionContext, grantTokens: req.GrantTokens, viaService: source.viaService,
    });
    if (req.DryRun) throw Errors.kmsDryRun();
    const plaintext = randomBytes(bytes);
    return { CiphertextBlob: await this.sealWith(key, plaintext, req.EncryptionContext), Plaintext: plaintext, KeyId: key.arn };
  }

  generateRandom(req: GenerateRandomRequest): GenerateRandomResponse {
    noRecipient(req.Recipient);
    if (req.CustomKeyStoreId) throw Errors.kmsUnsupported('amiforge has no custom key stores.');
    if (req.NumberOfBytes === undefined) throw Errors.kmsValidation('Please specify the number of bytes.');
    return { Plaintext: randomBytes(req.NumberOfBytes) };
  }
}
