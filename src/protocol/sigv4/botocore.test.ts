// Requests signed by Python's botocore, a SigV4 implementation independent of the JavaScript SDK.
// The signed output is recorded in botocore-vectors.json so these checks run on machines without
// botocore; where botocore is installed, each vector is also signed live and must reproduce the
// recording exactly (so the file is known to be botocore's own output), then verified.
// Re-record with: UPDATE_BOTOCORE_VECTORS=1 npx node --test src/protocol/sigv4/botocore.test.ts

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  botocoreSign, botocoreToWire, botocoreUnavailable, check, serviceError,
  type BotocoreInput, type BotocoreOutput,
} from './test-support.ts';

const TIME = '2024-03-15T10:20:30Z';
const inputs: Record<string, BotocoreInput> = {
  'EC2 query-protocol form POST': {
    method: 'POST',
    host: 'ec2.us-east-1.amazonaws.com',
    segments: [''],
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: 'Action=DescribeImages&Version=2016-11-15&Owner.1=self&Filter.1.Name=name&Filter.1.Value.1=my%20image',
    service: 'ec2',
    time: TIME,
  },
  'EBS REST GET with spaces, unicode and %2F in the path': {
    method: 'GET',
    host: 'ebs.ap-south-1.amazonaws.com',
    segments: ['snapshots', 'snap 1', 'blocks', 'naïve ✓ é', 'a/b'],
    query: [['maxResults', '100'], ['pageToken', "a b+c/é~*!'()"], ['startingBlockIndex', '0']],
    service: 'ebs',
    region: 'ap-south-1',
    time: TIME,
  },
  'KMS JSON POST': {
    method: 'POST',
    host: 'kms.us-east-1.amazonaws.com',
    segments: [''],
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.Encrypt' },
    body: '{"KeyId":"alias/amiforge","Plaintext":"aGVsbG8="}',
    service: 'kms',
    time: TIME,
  },
  'EC2 presigned GET URL (SigV4QueryAuth)': {
    method: 'GET',
    host: 'ec2.us-east-1.amazonaws.com',
    segments: [''],
    query: [['Action', 'DescribeImages'], ['Version', '2016-11-15']],
    service: 'ec2',
    time: TIME,
    presignExpires: 600,
  },
};

const vectorsFile = new URL('./botocore-vectors.json', import.meta.url);
const unavailable = botocoreUnavailable();

if (process.env.UPDATE_BOTOCORE_VECTORS) {
  if (unavailable) throw new Error(unavailable);
  const fresh = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, botocoreSign(input)]));
  writeFileSync(vectorsFile, JSON.stringify(fresh, null, 2) + '\n');
}
const recorded = JSON.parse(readFileSync(vectorsFile, 'utf8')) as Record<string, BotocoreOutput>;
const now = new Date(Date.parse(TIME) + 60_000);

for (const [name, input] of Object.entries(inputs)) {
  test(`botocore ${name}: verifies, and fails when tampered`, () => {
    const out = recorded[name];
    assert.ok(out, `no recorded vector for '${name}'; re-record the vectors`);
    const req = botocoreToWire(out);
    const auth = check(req, undefined, now);
    assert.equal(auth.form, input.presignExpires === undefined ? 'header' : 'query');
    assert.equal(auth.service, input.service);
    assert.equal(auth.region, input.region ?? 'us-east-1');

    assert.throws(() => check(req, 'not-the-secret', now), serviceError('SignatureDoesNotMatch'));
    assert.throws(() => check({ ...req, body: Buffer.from(`${out.body} `) }, undefined, now), serviceError('SignatureDoesNotMatch'));
    assert.throws(() => check({ ...req, rawQuery: req.rawQuery ? `${req.rawQuery}&a=1` : 'a=1' }, undefined, now),
      serviceError('SignatureDoesNotMatch'));
    assert.throws(() => check({ ...req, headers: { ...req.headers, host: 'other.example' } }, undefined, now),
      serviceError('SignatureDoesNotMatch'));
  });

  test(`botocore ${name}: signed live, reproduces the recording`, { skip: unavailable }, () => {
    const live = botocoreSign(input);
    assert.deepEqual(live, recorded[name]);
    check(botocoreToWire(live), undefined, now);
  });
}
