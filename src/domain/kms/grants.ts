// Grants: what a grant lets its grantee do, and the ids and tokens that name grants.
import { randomBytes } from 'node:crypto';
import type { GrantConstraintsRecord, GrantRecord } from '../../ports/key-repository.ts';
import { Errors } from '../errors.ts';

/** Grant operations a symmetric encryption key supports. */
export const SYMMETRIC_GRANT_OPERATIONS = new Set([
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo',
  'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext', 'CreateGrant', 'RetireGrant', 'DescribeKey',
]);

/** Operations that take an encryption context, the only ones a grant's constraints can apply to. */
export const CONTEXT_OPERATIONS = new Set([
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo',
  'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
]);

export const newGrantId = (): string => randomBytes(32).toString('hex');
export const isGrantId = (id: string): boolean => /^[0-9a-f]{64}$/.test(id);

const TOKEN_PREFIX = 'amiforge-grant-token-v1';

/**
 * Grant tokens name a grant. A grant takes effect at once in amiforge, so a token adds no
 * permission; it is checked for form and used by RetireGrant to find the grant.
 */
export function grantToken(keyId: string, grantId: string): string {
  return Buffer.from(`${TOKEN_PREFIX}:${keyId}:${grantId}`, 'utf8').toString('base64');
}

export function readGrantToken(token: string): { keyId: string; grantId: string } {
  const parts = Buffer.from(token, 'base64').toString('utf8').split(':');
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX || !isGrantId(parts[2])) throw Errors.kmsInvalidGrantToken();
  return { keyId: parts[1], grantId: parts[2] };
}

export function checkGrantTokens(tokens: string[] | undefined): void {
  for (const t of tokens ?? []) readGrantToken(t);
}

/** True when the request's encryption context satisfies the grant's constraints. */
export function constraintsAllow(c: GrantConstraintsRecord | undefined, context: Record<string, string> | undefined): boolean {
  if (!c) return true;
  const ctx = context ?? {};
  if (c.encryptionContextEquals) {
    const want = Object.entries(c.encryptionContextEquals);
    if (want.length !== Object.keys(ctx).length || !want.every(([k, v]) => ctx[k] === v)) return false;
  }
  if (c.encryptionContextSubset) {
    if (!Object.entries(c.encryptionContextSubset).every(([k, v]) => ctx[k] === v)) return false;
  }
  return true;
}

/** True when the grant lets its grantee perform `operation` with this encryption context. */
export function grantAllows(g: GrantRecord, operation: string, context: Record<string, string> | undefined): boolean {
  if (!g.operations.includes(operation)) return false;
  return !CONTEXT_OPERATIONS.has(operation) || constraintsAllow(g.constraints, context);
}
