import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../../domain/errors.ts';
import { loadJsonModel } from '../rest-json/model.ts';
import { AwsJsonCodec } from './codec.ts';

const model = loadJsonModel(new URL('../kms/model.generated.json', import.meta.url));
const codec = new AwsJsonCodec(model, {
  invalid: (m) => new ServiceError('ValidationException', 400, m),
  serialization: (m) => new ServiceError('SerializationException', 400, m),
  unknownOperation: (t) => new ServiceError('UnknownOperationException', 400, t),
});
const body = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

test('the target names the operation; anything else is UnknownOperationException', () => {
  assert.equal(codec.operation('TrentService.Encrypt'), 'Encrypt');
  for (const t of [undefined, '', 'Encrypt', 'TrentService.', 'TrentService.Nope', 'TrentService.constructor', 'Other.Encrypt']) {
    assert.throws(() => codec.operation(t), { code: 'UnknownOperationException' }, String(t));
  }
});

test('input: blobs from base64, maps, required members and the model\'s constraints', () => {
  const input = codec.parseInput('Encrypt', body({ KeyId: 'k', Plaintext: Buffer.from('hi').toString('base64'), EncryptionContext: { a: 'b' } }));
  assert.deepEqual(input, { KeyId: 'k', Plaintext: Buffer.from('hi'), EncryptionContext: { a: 'b' } });
  assert.throws(() => codec.parseInput('Encrypt', body({ KeyId: 'k' })), { code: 'ValidationException', message: /Plaintext/ });
  assert.throws(() => codec.parseInput('Encrypt', body({ KeyId: 'k', Plaintext: Buffer.alloc(4097).toString('base64') })), { code: 'ValidationException', message: /at most 4096/ });
  assert.throws(() => codec.parseInput('Encrypt', body({ KeyId: 5, Plaintext: 'aGk=' })), { code: 'ValidationException', message: /KeyId/ });
  assert.throws(() => codec.parseInput('ListKeys', body({ Limit: 0 })), { code: 'ValidationException' });
  assert.throws(() => codec.parseInput('CreateKey', body({ KeySpec: 'AES' })), { code: 'ValidationException', message: /must be one of/ });
  assert.deepEqual(codec.parseInput('ListKeys', Buffer.alloc(0)), {});
  assert.throws(() => codec.parseInput('ListKeys', body('{nope')), { code: 'SerializationException' });
  assert.throws(() => codec.parseInput('ListKeys', body('[]')), { code: 'SerializationException' });
});

test('output: JSON 1.1 with blobs in base64 and timestamps in epoch seconds', () => {
  const r = codec.serializeOutput('ScheduleKeyDeletion', { KeyId: 'k', DeletionDate: new Date(1500), KeyState: 'PendingDeletion' });
  assert.equal(r.headers['content-type'], 'application/x-amz-json-1.1');
  assert.deepEqual(JSON.parse(String(r.body)), { KeyId: 'k', DeletionDate: 1.5, KeyState: 'PendingDeletion' });
  assert.deepEqual(JSON.parse(String(codec.serializeOutput('Decrypt', { Plaintext: Buffer.from('hi') }).body)), { Plaintext: 'aGk=' });
  assert.equal(codec.serializeOutput('EnableKey', {}).body, '{}');
});
