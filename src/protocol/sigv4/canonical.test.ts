// The canonical request, piece by piece, and whole against what the AWS SDK for JavaScript's
// signer (@smithy/signature-v4, default options) builds for the same request.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignatureV4, getCanonicalHeaders } from '@smithy/signature-v4';
import { buildQueryString, extendedEncodeURIComponent as enc } from '@smithy/core/protocols';
import { Hash } from '@smithy/core/serde';
import type { HttpRequest } from '@smithy/types';
import { canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri } from './canonical.ts';
import { percentDecode, uriEncode } from './encoding.ts';

// Exposes smithy's (protected) canonical-request builder so the two can be compared directly.
class SmithyProbe extends SignatureV4 {
  constructor() {
    super({ credentials: { accessKeyId: 'a', secretAccessKey: 's' }, region: 'us-east-1', service: 'ebs', sha256: Hash.bind(null, 'sha256') });
  }
  canonical(req: HttpRequest, payloadHash: string): string {
    return this.createCanonicalRequest(req, getCanonicalHeaders(req), payloadHash);
  }
}

function compareWithSmithy(path: string, query: Record<string, string | string[]> = {}, headers: Record<string, string> = {}) {
  const req: HttpRequest = { method: 'GET', protocol: 'https:', hostname: 'h', path, query, headers: { host: 'h', ...headers } };
  const ours = canonicalRequest({
    method: 'GET',
    rawPath: path,
    rawQuery: buildQueryString(query),
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])),
    signedHeaders: Object.keys(getCanonicalHeaders(req)).sort(),
    payloadHash: 'UNSIGNED-PAYLOAD',
  });
  assert.equal(ours, new SmithyProbe().canonical(req, 'UNSIGNED-PAYLOAD'), `canonical request for ${path}`);
}

test('uriEncode: unreserved kept, everything else %XX upper-case over UTF-8 bytes', () => {
  assert.equal(uriEncode('AZaz09-._~'), 'AZaz09-._~');
  assert.equal(uriEncode("a b/+*!'()é"), 'a%20b%2F%2B%2A%21%27%28%29%C3%A9');
  assert.equal(uriEncode('✓'), '%E2%9C%93');
});

test('percentDecode is lenient and byte-exact', () => {
  assert.deepEqual(percentDecode('a%20b%c3%A9'), Buffer.from('a bé'));
  assert.deepEqual(percentDecode('100%'), Buffer.from('100%'));
  assert.deepEqual(percentDecode('%zz%4'), Buffer.from('%zz%4'));
  assert.deepEqual(percentDecode('a+b'), Buffer.from('a+b'));
  assert.deepEqual(percentDecode('%FF'), Buffer.from([0xff])); // not valid UTF-8, kept as the byte
});

test('canonicalUri double-encodes each segment of the path as sent (AWS documentation example)', () => {
  assert.equal(canonicalUri('/documents%20and%20settings/'), '/documents%2520and%2520settings/');
  assert.equal(canonicalUri('/'), '/');
  assert.equal(canonicalUri(''), '/');
  assert.equal(canonicalUri('/a%2Fb/c'), '/a%252Fb/c');
  assert.equal(canonicalUri('/caf%C3%A9'), '/caf%25C3%25A9');
});

test('canonicalUri normalises the path as the AWS SDKs do for non-S3 services', () => {
  assert.equal(canonicalUri('/a//b/./c/../d/'), '/a/b/d/');
  assert.equal(canonicalUri('/..'), '/');
  assert.equal(canonicalUri('/a/%2E%2E/b'), '/a/%252E%252E/b'); // encoded dots are data
});

test('canonical request matches @smithy/signature-v4 for paths with spaces, %2F and unicode', () => {
  const labels = ['my snapshot', 'a/b', 'naïve ✓', '日本語', "it's (1)*!", '~tilde-._', '%41 literal percent', 'a+b=c&d'];
  for (const label of labels) compareWithSmithy(`/snapshots/${enc(label)}/blocks/0`);
  compareWithSmithy(`/${labels.map(enc).join('/')}/`);
  compareWithSmithy('/a//b/./c/../d');
  compareWithSmithy('/');
});

test('canonical request matches @smithy/signature-v4 for query strings and headers', () => {
  compareWithSmithy('/x', { b: '2', a: '1', 'a b': 'c d', 'Z': "é~*!'()+/=&", list: ['z', 'a', 'm'], empty: '' },
    { 'X-Amz-Target': 'Svc.Op', 'content-type': '  text/plain;   charset=utf-8 ', 'x-amz-meta': 'a\t\tb' });
});

test('canonicalQuery sorts by encoded name then value, and re-encodes what arrived', () => {
  assert.equal(canonicalQuery('b=2&a=1&a=0&B=3'), 'B=3&a=0&a=1&b=2');
  assert.equal(canonicalQuery('flag&x='), 'flag=&x=');
  assert.equal(canonicalQuery('k=%7e%7E~&s=a%20b'), 'k=~~~&s=a%20b');
  assert.equal(canonicalQuery('k=a+b'), 'k=a%2Bb');
  assert.equal(canonicalQuery('k=%zz'), 'k=%25zz');
  assert.equal(canonicalQuery('a=1&&b=2&'), 'a=1&b=2');
  assert.equal(canonicalQuery(''), '');
  assert.equal(canonicalQuery('X-Amz-Signature=abc&X-Amz-Date=1', 'X-Amz-Signature'), 'X-Amz-Date=1');
  assert.equal(canonicalQuery('X-Amz-Signature=abc&X-Amz-Date=1'), 'X-Amz-Date=1&X-Amz-Signature=abc');
});

test('canonicalHeaders trims, collapses whitespace and joins repeated values with ","', () => {
  const headers = { host: 'h', 'x-a': ['  one  ', 'two   three'], 'x-b': ' \t padded\t value  ' };
  assert.equal(canonicalHeaders(headers, ['host', 'x-a', 'x-b', 'x-missing']), 'host:h\nx-a:one,two three\nx-b:padded value\nx-missing:\n');
});
