// How KMS names things: key ids (UUIDs), key ARNs, alias names (`alias/...`), alias ARNs, and the
// IAM principals that key policies and grants name.
import { Errors } from '../errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KMS_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key\/.+|alias\/.+)$/;

/** What a KeyId parameter names, before it is looked up. */
export type KeyReference =
  | { kind: 'key'; keyId: string; account?: string; region?: string; text: string }
  | { kind: 'alias'; aliasName: string; account?: string; region?: string; text: string };

export const keyArn = (region: string, account: string, keyId: string): string => `arn:aws:kms:${region}:${account}:key/${keyId}`;
export const aliasArn = (region: string, account: string, aliasName: string): string => `arn:aws:kms:${region}:${account}:${aliasName}`;
/** amiforge's callers are accounts: each acts as its account's root user. */
export const rootPrincipal = (account: string): string => `arn:aws:iam::${account}:root`;

export const isKeyId = (text: string): boolean => UUID.test(text);

/** Reads a KeyId parameter: a key id, a key ARN, an alias name or an alias ARN. */
export function parseKeyReference(text: string): KeyReference {
  if (text.startsWith('alias/')) return { kind: 'alias', aliasName: text, text };
  if (text.startsWith('arn:')) {
    const m = KMS_ARN.exec(text);
    if (!m) throw Errors.kmsInvalidArn(`${text} is not a valid KMS key or alias ARN.`);
    const [, region, account, resource] = m;
    if (resource.startsWith('alias/')) return { kind: 'alias', aliasName: resource, account, region, text };
    return { kind: 'key', keyId: resource.slice('key/'.length), account, region, text };
  }
  return { kind: 'key', keyId: text, text };
}

/**
 * The account an IAM principal belongs to: an account id, an account's root, an IAM user or
 * role, or an assumed-role session. Undefined for anything else (service principals, `*`).
 * amiforge has no users or roles: a principal inside an account stands for that account.
 */
export function principalAccount(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  const m = /^arn:aws:(iam|sts)::(\d{12}):(.+)$/.exec(principal);
  if (!m) return undefined;
  const [, service, account, resource] = m;
  if (service === 'iam' && (resource === 'root' || /^(user|role)\/.+/.test(resource))) return account;
  if (service === 'sts' && /^(assumed-role|federated-user)\/.+/.test(resource)) return account;
  return undefined;
}
