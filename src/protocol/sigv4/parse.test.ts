// parseSigV4: finds SigV4 in either form, returns null without it, and rejects malformed
// authentication with IncompleteSignature before any signature is computed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSigV4 } from './parse.ts';
import { serviceError } from './test-support.ts';
import type { SignedRequest } from './types.ts';

const SIG = 'fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024';
const GOOD = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240315/eu-west-3/ebs/aws4_request, SignedHeaders=host;x-amz-date, Signature=${SIG}`;

function request(headers: SignedRequest['headers'], rawQuery = ''): SignedRequest {
  return { method: 'GET', rawPath: '/', rawQuery, headers: { host: 'ec2.us-east-1.amazonaws.com', ...headers }, body: Buffer.alloc(0) };
}
const withAuth = (authorization: string) => request({ authorization, 'x-amz-date': '20240315T102030Z' });

test('no SigV4 at all: null', () => {
  assert.equal(parseSigV4(request({})), null);
  assert.equal(parseSigV4(request({ 'x-amz-date': '20240315T102030Z' }, 'Action=DescribeImages&Version=2016-11-15')), null);
  // Query auth parameter names are case-sensitive, as AWS treats them.
  assert.equal(parseSigV4(request({}, 'x-amz-algorithm=AWS4-HMAC-SHA256')), null);
});

test('header form: every field, region and service from the credential scope', () => {
  // The host names us-east-1 and ec2; the signed scope names eu-west-3 and ebs, and wins.
  const auth = parseSigV4(withAuth(GOOD));
  assert.deepEqual(auth, {
    form: 'header',
    accessKeyId: 'AKIDEXAMPLE',
    date: '20240315',
    region: 'eu-west-3',
    service: 'ebs',
    signedHeaders: ['host', 'x-amz-date'],
    signature: SIG,
    amzDate: '20240315T102030Z',
  });
});

test('header form tolerates missing or extra spaces between components', () => {
  const auth = parseSigV4(withAuth(`AWS4-HMAC-SHA256   Credential=AKID/20240315/us-west-2/kms/aws4_request,SignedHeaders=host,  Signature=${SIG}`));
  assert.equal(auth?.region, 'us-west-2');
  assert.equal(auth?.service, 'kms');
  assert.deepEqual(auth?.signedHeaders, ['host']);
});

test('header form falls back to the Date header when X-Amz-Date is absent', () => {
  const auth = parseSigV4(request({ authorization: GOOD, date: 'Fri, 15 Mar 2024 10:20:30 GMT' }));
  assert.equal(auth?.amzDate, 'Fri, 15 Mar 2024 10:20:30 GMT');
  // X-Amz-Date wins when both are present.
  assert.equal(parseSigV4(request({ authorization: GOOD, date: 'Fri, 15 Mar 2024 10:20:30 GMT', 'x-amz-date': '20240315T102030Z' }))?.amzDate,
    '20240315T102030Z');
});

const malformedHeaders: Array<[string, string]> = [
  ['algorithm only', 'AWS4-HMAC-SHA256'],
  ['missing Credential', `AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=${SIG}`],
  ['missing SignedHeaders', `AWS4-HMAC-SHA256 Credential=AKID/20240315/us-east-1/ec2/aws4_request, Signature=${SIG}`],
  ['missing Signature', 'AWS4-HMAC-SHA256 Credential=AKID/20240315/us-east-1/ec2/aws4_request, SignedHeaders=host'],
  ['empty Signature', 'AWS4-HMAC-SHA256 Credential=AKID/20240315/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature='],
  ['component without =', `AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=${SIG}`],
  ['repeated component', `AWS4-HMAC-SHA256 Credential=AKID/20240315/us-east-1/ec2/aws4_request, Credential=AKID/20240315/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=${SIG}`],
  ['wrong algorithm (SigV2)', 'AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg='],
  ['wrong algorithm (SHA-512)', GOOD.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512')],
  ['wrong algorithm (SigV4a)', GOOD.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256')],
  ['not AWS at all', 'Bearer abc.def.ghi'],
  ['scope with 4 parts', GOOD.replace('AKIDEXAMPLE/20240315/eu-west-3/ebs/aws4_request', 'AKIDEXAMPLE/20240315/eu-west-3/aws4_request')],
  ['scope with 6 parts', GOOD.replace('/ebs/', '/ebs/extra/')],
  ['scope not ending in aws4_request', GOOD.replace('/aws4_request', '/aws4_requests')],
  ['scope with an empty region', GOOD.replace('/eu-west-3/', '//')],
  ['scope date not yyyymmdd', GOOD.replace('/20240315/', '/2024-03-15/')],
  ['host not signed', GOOD.replace('SignedHeaders=host;x-amz-date', 'SignedHeaders=x-amz-date')],
  ['empty name in SignedHeaders', GOOD.replace('SignedHeaders=host;x-amz-date', 'SignedHeaders=host;;x-amz-date')],
];

for (const [name, authorization] of malformedHeaders) {
  test(`malformed Authorization header (${name}): IncompleteSignature`, () => {
    assert.throws(() => parseSigV4(withAuth(authorization)), serviceError('IncompleteSignature'));
  });
}

test('header form without a usable request date: IncompleteSignature', () => {
  assert.throws(() => parseSigV4(request({ authorization: GOOD })), serviceError('IncompleteSignature'));
  for (const bad of ['2024-03-15T10:20:30Z', '20240231T102030Z', '20240315T102030', 'yesterday']) {
    assert.throws(() => parseSigV4(request({ authorization: GOOD, 'x-amz-date': bad })), serviceError('IncompleteSignature'), bad);
  }
});

test('conflicting repeated Authorization headers: IncompleteSignature', () => {
  assert.throws(() => parseSigV4(request({ authorization: [GOOD, GOOD.replace(SIG, 'f'.repeat(64))], 'x-amz-date': '20240315T102030Z' })),
    serviceError('IncompleteSignature'));
});

const PRESIGNED = [
  'Action=DescribeImages',
  'X-Amz-Algorithm=AWS4-HMAC-SHA256',
  'X-Amz-Credential=AKIDEXAMPLE%2F20240315%2Fap-south-1%2Fec2%2Faws4_request',
  'X-Amz-Date=20240315T102030Z',
  'X-Amz-Expires=600',
  'X-Amz-SignedHeaders=host',
  `X-Amz-Signature=${SIG}`,
].join('&');

test('query (presigned) form: every field, decoded from the query', () => {
  assert.deepEqual(parseSigV4(request({}, PRESIGNED)), {
    form: 'query',
    accessKeyId: 'AKIDEXAMPLE',
    date: '20240315',
    region: 'ap-south-1',
    service: 'ec2',
    signedHeaders: ['host'],
    signature: SIG,
    amzDate: '20240315T102030Z',
    expiresSeconds: 600,
  });
  const noExpiry = parseSigV4(request({}, PRESIGNED.replace('X-Amz-Expires=600&', '')));
  assert.equal(noExpiry?.expiresSeconds, undefined);
});

const malformedQueries: Array<[string, string]> = [
  ['missing X-Amz-Signature', PRESIGNED.replace(/&X-Amz-Signature=[^&]*/, '')],
  ['missing X-Amz-Credential', PRESIGNED.replace(/&X-Amz-Credential=[^&]*/, '')],
  ['missing X-Amz-Date', PRESIGNED.replace(/&X-Amz-Date=[^&]*/, '')],
  ['missing X-Amz-SignedHeaders', PRESIGNED.replace(/&X-Amz-SignedHeaders=[^&]*/, '')],
  ['wrong algorithm', PRESIGNED.replace('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-HMAC-SHA1')],
  ['bad scope', PRESIGNED.replace('%2Faws4_request', '%2Faws5_request')],
  ['X-Amz-Expires 0', PRESIGNED.replace('X-Amz-Expires=600', 'X-Amz-Expires=0')],
  ['X-Amz-Expires over a week', PRESIGNED.replace('X-Amz-Expires=600', 'X-Amz-Expires=604801')],
  ['X-Amz-Expires not a number', PRESIGNED.replace('X-Amz-Expires=600', 'X-Amz-Expires=1e3')],
  ['repeated X-Amz-Signature', `${PRESIGNED}&X-Amz-Signature=${'0'.repeat(64)}`],
  ['bad X-Amz-Date', PRESIGNED.replace('X-Amz-Date=20240315T102030Z', 'X-Amz-Date=Fri%2C%2015%20Mar%202024%2010%3A20%3A30%20GMT')],
];

for (const [name, rawQuery] of malformedQueries) {
  test(`malformed presigned query (${name}): IncompleteSignature`, () => {
    assert.throws(() => parseSigV4(request({}, rawQuery)), serviceError('IncompleteSignature'));
  });
}

test('both an Authorization header and presigned query: IncompleteSignature', () => {
  assert.throws(() => parseSigV4(request({ authorization: GOOD, 'x-amz-date': '20240315T102030Z' }, PRESIGNED)),
    serviceError('IncompleteSignature'));
});
