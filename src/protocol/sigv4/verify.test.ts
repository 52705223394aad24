// End-to-end checks of parseSigV4 + verifySigV4 against requests signed by the AWS SDK for
// JavaScript's own signer (@smithy/signature-v4), with its default options. Every case must verify
// with the right secret and fail, with SignatureDoesNotMatch, once anything it signed is changed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { extendedEncodeURIComponent as enc } from '@smithy/core/protocols';
import { check, serviceError, SIGNING_DATE, smithyPresign, smithySign, type SmithyInput } from './test-support.ts';
import type { SignedRequest } from './types.ts';

const withBody = (r: SignedRequest, body: string): SignedRequest => ({ ...r, body: Buffer.from(body) });
const withQuery = (r: SignedRequest, rawQuery: string): SignedRequest => ({ ...r, rawQuery });
const withHeader = (r: SignedRequest, name: string, value: string): SignedRequest =>
  ({ ...r, headers: { ...r.headers, [name]: value } });
const addQueryParam = (r: SignedRequest, pair: string) => withQuery(r, r.rawQuery === '' ? pair : `${r.rawQuery}&${pair}`);

const ec2Form: SmithyInput = {
  method: 'POST',
  host: 'ec2.us-east-1.amazonaws.com',
  path: '/',
  headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
  body: 'Action=DescribeImages&Version=2016-11-15&Owner.1=self&Filter.1.Name=name&Filter.1.Value.1=my%20image%2A',
  service: 'ec2',
};

// A path whose labels hold a space, non-ASCII text and an encoded '/', as the SDK puts labels on
// the wire; the query holds characters SigV4 encodes differently from encodeURIComponent.
const restJsonGet: SmithyInput = {
  method: 'GET',
  host: 'ebs.eu-west-3.amazonaws.com',
  path: `/snapshots/${enc('snap 1')}/blocks/${enc('naïve ✓ é')}/${enc('a/b')}`,
  query: { maxResults: '100', pageToken: "a b+c/é~*!'()", startingBlockIndex: '0', tag: ['z', 'a'] },
  headers: { 'content-type': 'application/json', 'x-amz-user-agent': 'aws-sdk-js/3  test   agent' },
  service: 'ebs',
  region: 'eu-west-3',
};

const unsignedPut: SmithyInput = {
  method: 'PUT',
  host: 'ebs.us-east-1.amazonaws.com',
  path: '/snapshots/snap-0123456789abcdef0/blocks/7',
  query: { pageToken: 'x' },
  headers: {
    'content-type': 'application/octet-stream',
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'x-amz-data-length': '5',
    'x-amz-checksum': 'LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=',
  },
  body: 'hello',
  service: 'ebs',
};

const presignedGet: SmithyInput = {
  method: 'GET',
  host: 'ebs.us-east-1.amazonaws.com',
  path: '/snapshots/snap-1/blocks/3',
  query: { blockToken: 'tok/en+==' },
  service: 'ebs',
};

interface Case {
  name: string;
  sign: () => Promise<SignedRequest>;
  now: Date;
  signedHeader: string;  // a header the signer signed, to tamper with
  bodySigned: boolean;
}

const cases: Case[] = [
  { name: 'EC2 form POST', sign: () => smithySign(ec2Form), now: SIGNING_DATE, signedHeader: 'content-type', bodySigned: true },
  {
    name: 'EC2 form POST without x-amz-content-sha256 (body hashed by the verifier)',
    sign: () => smithySign({ ...ec2Form, applyChecksum: false }),
    now: SIGNING_DATE, signedHeader: 'content-type', bodySigned: true,
  },
  { name: 'REST-JSON GET, encoded path and query', sign: () => smithySign(restJsonGet), now: SIGNING_DATE, signedHeader: 'x-amz-user-agent', bodySigned: true },
  { name: 'PUT with UNSIGNED-PAYLOAD', sign: () => smithySign(unsignedPut), now: SIGNING_DATE, signedHeader: 'x-amz-data-length', bodySigned: false },
  {
    name: 'presigned GET URL',
    sign: () => smithyPresign(presignedGet, 900),
    now: new Date(SIGNING_DATE.getTime() + 60_000), signedHeader: 'host', bodySigned: true,
  },
];

for (const c of cases) {
  test(`${c.name}: verifies with the right secret`, async () => {
    const req = await c.sign();
    check(req, undefined, c.now);
  });

  test(`${c.name}: SignatureDoesNotMatch with a wrong secret`, async () => {
    const req = await c.sign();
    assert.throws(() => check(req, 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ', c.now), serviceError('SignatureDoesNotMatch'));
  });

  test(`${c.name}: SignatureDoesNotMatch with a tampered query`, async () => {
    const req = await c.sign();
    assert.throws(() => check(addQueryParam(req, 'Action=DeleteSnapshot'), undefined, c.now), serviceError('SignatureDoesNotMatch'));
    // Change one existing operation parameter's value rather than add a parameter.
    const pairs = req.rawQuery === '' ? [] : req.rawQuery.split('&');
    const i = pairs.findIndex((p) => !p.startsWith('X-Amz-'));
    if (i >= 0) {
      pairs[i] += 'x';
      assert.throws(() => check(withQuery(req, pairs.join('&')), undefined, c.now), serviceError('SignatureDoesNotMatch'));
    }
  });

  test(`${c.name}: SignatureDoesNotMatch with a tampered signed header`, async () => {
    const req = await c.sign();
    assert.ok(req.headers[c.signedHeader] !== undefined, `${c.signedHeader} was sent`);
    assert.throws(() => check(withHeader(req, c.signedHeader, `${String(req.headers[c.signedHeader])}x`), undefined, c.now),
      serviceError('SignatureDoesNotMatch'));
  });

  if (c.bodySigned) {
    test(`${c.name}: SignatureDoesNotMatch with a tampered body`, async () => {
      const req = await c.sign();
      assert.throws(() => check(withBody(req, `${req.body.toString()}&x=1`), undefined, c.now), serviceError('SignatureDoesNotMatch'));
    });
  }
}

test('UNSIGNED-PAYLOAD: the body is not signed, but the declaration is', async () => {
  const req = await smithySign(unsignedPut);
  // The client chose not to sign the body, so another body still verifies (integrity of the
  // block then rests on x-amz-checksum, which is signed).
  check(withBody(req, 'HELLO'));
  // Replacing the declaration with the body's real hash changes what was signed.
  const realHash = createHash('sha256').update(req.body).digest('hex');
  assert.throws(() => check(withHeader(req, 'x-amz-content-sha256', realHash)), serviceError('SignatureDoesNotMatch'));
});

test('x-amz-content-sha256 that does not match the body is rejected even though the header verifies', async () => {
  // smithy signs the header holding the body hash; swapping the body keeps the header and the
  // signature valid, so only the verifier's body check can catch it.
  const req = await smithySign(restJsonGet);
  assert.equal(typeof req.headers['x-amz-content-sha256'], 'string');
  assert.throws(() => check(withBody(req, 'x')), serviceError('SignatureDoesNotMatch'));
});

test('query parameters are verified whatever order they arrive in', async () => {
  const req = await smithySign(restJsonGet);
  const reversed = req.rawQuery.split('&').reverse().join('&');
  assert.notEqual(reversed, req.rawQuery);
  check(withQuery(req, reversed));
});

test('equivalent percent-encodings of the query verify alike', async () => {
  const req = await smithySign(restJsonGet);
  // '~' may arrive as %7E or %7e, and hex digits may be lower-case: same bytes, same signature.
  const variant = req.rawQuery.replace('~', '%7e').replace(/%C3%A9/g, '%c3%a9');
  assert.notEqual(variant, req.rawQuery);
  check(withQuery(req, variant));
});

test('presigned GET: extending X-Amz-Expires breaks the signature', async () => {
  const req = await smithyPresign(presignedGet, 900);
  assert.match(req.rawQuery, /X-Amz-Expires=900/);
  assert.throws(() => check(withQuery(req, req.rawQuery.replace('X-Amz-Expires=900', 'X-Amz-Expires=3600'))),
    serviceError('SignatureDoesNotMatch'));
});

test('presigned URL with a hoisted x-amz-content-sha256 query parameter', async () => {
  // smithy's presigner moves x-amz-* headers into the query; the declared hash still rules.
  const req = await smithyPresign({ ...presignedGet, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, 900);
  assert.match(req.rawQuery, /x-amz-content-sha256=UNSIGNED-PAYLOAD/);
  check(req);
  check(withBody(req, 'anything'));
});

test('the parsed region and service come from the signed credential scope', async () => {
  // The host names another region and service; only the scope counts, and it is signed.
  const auth = check(await smithySign({ ...restJsonGet, host: 'example.internal:8443' }));
  assert.equal(auth.region, 'eu-west-3');
  assert.equal(auth.service, 'ebs');
  assert.equal(auth.accessKeyId, 'AKIDEXAMPLE');
  assert.equal(auth.date, '20240315');
});

test('a signature from another region or service scope does not verify', async () => {
  const req = await smithySign(restJsonGet);
  const forged = String(req.headers.authorization).replace('/eu-west-3/', '/us-east-1/');
  assert.throws(() => check(withHeader(req, 'authorization', forged)), serviceError('SignatureDoesNotMatch'));
});

test('AWS documentation example (IAM ListUsers) verifies', () => {
  // The worked example from AWS's SigV4 documentation: a third, independent source.
  const req: SignedRequest = {
    method: 'GET',
    rawPath: '/',
    rawQuery: 'Action=ListUsers&Version=2010-05-08',
    headers: {
      host: 'iam.amazonaws.com',
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'x-amz-date': '20150830T123600Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    },
    body: Buffer.alloc(0),
  };
  check(req, undefined, new Date('2015-08-30T12:40:00Z'));
  assert.throws(() => check(withQuery(req, 'Action=ListUsers&Version=2010-05-09'), undefined, new Date('2015-08-30T12:40:00Z')),
    serviceError('SignatureDoesNotMatch'));
});
