// SecureString values: sealed under a data key that the built-in KMS generates from the
// parameter's key and wraps, exactly as for a KMS caller coming through SSM
// (kms:ViaService = ssm.<region>.amazonaws.com), so the key's policy and grants decide, at both
// PutParameter and every decrypting read, with the caller's identity. The encryption context
// binds the wrapped key to the parameter's ARN, as SSM's PARAMETER_ARN context does.
// Only the sealed form is ever stored; the data key is wiped after use.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Caller } from '../context.ts';
import { Errors, isServiceError, type ServiceError } from '../errors.ts';
import type { KmsService } from '../kms/kms-service.ts';

/** The key SSM uses when PutParameter names none. */
export const DEFAULT_SSM_KEY = 'alias/aws/ssm';

interface Envelope { k: string; iv: string; tag: string; ct: string }

export class SecureValues {
  private readonly kms: KmsService;
  constructor(kms: KmsService) {
    this.kms = kms;
  }

  private static source(caller: Caller) {
    return { viaService: `ssm.${caller.region}.amazonaws.com` };
  }

  async seal(caller: Caller, keyId: string, arn: string, value: string): Promise<string> {
    const out = await kmsErrors(() => this.kms.crypto.generateDataKey(caller,
      { KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: { PARAMETER_ARN: arn } }, SecureValues.source(caller)));
    try {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', out.Plaintext, iv);
      const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
      const env: Envelope = { k: out.CiphertextBlob.toString('base64'), iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
      return Buffer.from(JSON.stringify(env)).toString('base64');
    } finally {
      out.Plaintext.fill(0);
    }
  }

  async open(caller: Caller, arn: string, sealed: string): Promise<string> {
    const env = JSON.parse(Buffer.from(sealed, 'base64').toString('utf8')) as Envelope;
    const out = await kmsErrors(() => this.kms.crypto.decrypt(caller,
      { CiphertextBlob: Buffer.from(env.k, 'base64'), EncryptionContext: { PARAMETER_ARN: arn } }, SecureValues.source(caller)));
    const key = out.Plaintext as Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(env.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(env.ct, 'base64')), decipher.final()]).toString('utf8');
    } finally {
      key.fill(0);
    }
  }
}

/**
 * KMS's refusals in SSM's words: a key that does not exist, is disabled or pending deletion is
 * InvalidKeyId; a key the caller may not use is AccessDeniedException (KMS's message kept).
 */
async function kmsErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isServiceError(err)) throw err;
    throw translate(err);
  }
}

function translate(err: ServiceError): ServiceError {
  if (err.code === 'AccessDeniedException') return Errors.ssmAccessDenied(err.message);
  if (['NotFoundException', 'DisabledException', 'KMSInvalidStateException', 'InvalidKeyUsageException', 'InvalidArnException'].includes(err.code)) {
    return Errors.ssmInvalidKeyId(`The KMS key is not usable: ${err.message}`);
  }
  if (err.code === 'InvalidCiphertextException') return Errors.ssmInvalidKeyId('The parameter value could not be decrypted with its KMS key.');
  return err;
}
