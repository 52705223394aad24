// Every Systems Manager error amiforge answers has the code of an error shape in SSM's model (or
// is one of the AWS-wide codes the model leaves out) and the HTTP status that shape gives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errors, type ServiceError } from '../../domain/errors.ts';
import { ssmModel } from './dispatcher.ts';

const AWS_WIDE = new Set(['AccessDeniedException', 'SerializationException', 'UnknownOperationException']);

test('SSM error factories: codes from the model\'s error shapes, HTTP status as the shape says', () => {
  const factories = Object.entries(Errors).filter(([name]) => name.startsWith('ssm'));
  assert.ok(factories.length > 20);
  for (const [name, factory] of factories) {
    const err = (factory as (...args: string[]) => ServiceError)('/name', 'selector');
    if (AWS_WIDE.has(err.code)) {
      assert.equal(err.status, 400, name);
      continue;
    }
    const shape = ssmModel.shapes[err.code];
    assert.ok(shape?.exception, `${name}: ${err.code} is an error shape of SSM's model`);
    assert.equal(err.status, shape.error?.httpStatusCode ?? (shape.fault ? 500 : 400), `${name}: HTTP status of ${err.code}`);
  }
});
