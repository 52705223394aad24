// The SigV4 cryptography proper: hashing, key derivation and the string to sign. Kept apart from
// the request handling so each step can be read against AWS's specification on its own.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export interface Scope {
  date: string;    // yyyymmdd
  region: string;
  service: string;
}

export function scopeString(s: Scope): string {
  return `${s.date}/${s.region}/${s.service}/aws4_request`;
}

/**
 * The signing key: the secret is never used directly, but narrowed by HMAC to one day, region and
 * service, so a leaked derived key is worth little elsewhere.
 */
export function signingKey(secretAccessKey: string, s: Scope): Buffer {
  const kDate = hmac('AWS4' + secretAccessKey, s.date);
  const kRegion = hmac(kDate, s.region);
  const kService = hmac(kRegion, s.service);
  return hmac(kService, 'aws4_request');
}

export function stringToSign(isoBasicTime: string, s: Scope, canonicalRequest: string): string {
  return ['AWS4-HMAC-SHA256', isoBasicTime, scopeString(s), sha256Hex(canonicalRequest)].join('\n');
}

export function signatureHex(key: Buffer, toSign: string): string {
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

/**
 * Compares signatures in constant time, so response timing cannot reveal how many leading
 * characters of a forged signature were right. Only the length may short-circuit; every real
 * signature has the same length, so it reveals nothing.
 */
export function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
