import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockStoreUnavailableError } from '../ports/block-store.ts';
import { StoreUnavailableError } from '../ports/metadata-store.ts';
import { internalErrorFor } from './internal-errors.ts';

const down = new BlockStoreUnavailableError('block store s3://b at http://10.0.0.1:7480 failed to read x: ECONNREFUSED');

test('a block store outage is a retryable error in each service\'s own terms, without its detail', () => {
  const expected: Record<string, [string, number]> = {
    ec2: ['ServiceUnavailable', 503],
    ebs: ['InternalServerException', 500],
    amiforge: ['InternalServerException', 500],
    kms: ['KMSInternalException', 500],
    rbin: ['InternalServerException', 500],
    imagebuilder: ['ServiceException', 500],
  };
  for (const [service, [code, status]] of Object.entries(expected)) {
    const e = internalErrorFor(service, down);
    assert.deepEqual([e.code, e.status], [code, status], service);
    assert.doesNotMatch(e.message, /s3:|10\.0\.0\.1|ECONNREFUSED/, `${service} leaks the cause`);
    assert.match(e.message, /Retry|temporary/, service);
  }
});

test('a metadata database outage is EC2\'s ServiceUnavailable too', () => {
  const e = internalErrorFor('ec2', new StoreUnavailableError('the metadata database is unavailable: ECONNREFUSED'));
  assert.deepEqual([e.code, e.status], ['ServiceUnavailable', 503]);
  assert.doesNotMatch(e.message, /ECONNREFUSED/);
});

test('any other unexpected failure stays the service\'s internal error', () => {
  const e = internalErrorFor('ec2', new TypeError('x is undefined'));
  assert.deepEqual([e.code, e.status], ['InternalError', 500]);
  assert.equal(internalErrorFor('ebs', new Error('boom')).code, 'InternalServerException');
});
