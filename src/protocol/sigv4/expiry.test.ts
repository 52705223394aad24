// Request time: a header-signed request is good for 15 minutes either side of its X-Amz-Date; a
// presigned URL from its X-Amz-Date until X-Amz-Expires seconds later.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRequest } from './canonical.ts';
import { parseSigV4 } from './parse.ts';
import { signatureHex, signingKey, stringToSign } from './signing.ts';
import { check, SECRET, serviceError, SIGNING_DATE, smithyPresign, smithySign, type SmithyInput } from './test-support.ts';

const MIN = 60_000;
const at = (ms: number) => new Date(SIGNING_DATE.getTime() + ms);

const get: SmithyInput = {
  method: 'GET',
  host: 'ebs.us-east-1.amazonaws.com',
  path: '/snapshots/snap-1/blocks',
  query: { maxResults: '10' },
  service: 'ebs',
};

test('header form: 20 minutes old is RequestExpired', async () => {
  const req = await smithySign(get);
  assert.throws(() => check(req, undefined, at(20 * MIN)), serviceError('RequestExpired'));
});

test('header form: 20 minutes in the future is RequestExpired', async () => {
  const req = await smithySign(get);
  assert.throws(() => check(req, undefined, at(-20 * MIN)), serviceError('RequestExpired'));
});

test('header form: within 15 minutes either way verifies', async () => {
  const req = await smithySign(get);
  check(req, undefined, at(14 * MIN));
  check(req, undefined, at(-14 * MIN));
  check(req, undefined, at(15 * MIN));
});

test('presigned: past its X-Amz-Expires is RequestExpired', async () => {
  const req = await smithyPresign(get, 300);
  check(req, undefined, at(299_000));
  check(req, undefined, at(300_000));
  assert.throws(() => check(req, undefined, at(301_000)), serviceError('RequestExpired'));
});

test('presigned: a long X-Amz-Expires outlives the 15-minute skew', async () => {
  const req = await smithyPresign(get, 24 * 3600);
  check(req, undefined, at(23 * 60 * MIN));
  assert.throws(() => check(req, undefined, at(24 * 60 * MIN + 1000)), serviceError('RequestExpired'));
});

test('presigned: signed more than 15 minutes in the future is RequestExpired', async () => {
  const req = await smithyPresign(get, 3600);
  assert.throws(() => check(req, undefined, at(-20 * MIN)), serviceError('RequestExpired'));
});

test('a credential scope dated another day than X-Amz-Date is SignatureDoesNotMatch', async () => {
  const req = await smithySign(get);
  // Changing the scope's date alone already breaks the signature (it changes the signing key),
  // so sign the mismatched scope properly to prove the verifier checks the two dates agree.
  const auth = parseSigV4(req)!;
  const scope = { date: '20240314', region: auth.region, service: auth.service };
  const canonical = canonicalRequest({
    method: req.method, rawPath: req.rawPath, rawQuery: req.rawQuery, headers: req.headers,
    signedHeaders: auth.signedHeaders, payloadHash: String(req.headers['x-amz-content-sha256']),
  });
  const signature = signatureHex(signingKey(SECRET, scope), stringToSign(auth.amzDate, scope, canonical));
  const authorization = `AWS4-HMAC-SHA256 Credential=${auth.accessKeyId}/20240314/${auth.region}/${auth.service}/aws4_request, ` +
    `SignedHeaders=${auth.signedHeaders.join(';')}, Signature=${signature}`;
  assert.throws(() => check({ ...req, headers: { ...req.headers, authorization } }), serviceError('SignatureDoesNotMatch'));
});
