// The Image Builder dispatcher: routing, the codec's errors, unsupported operations and
// ClientToken idempotency, with fake services.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientTokenService } from '../../domain/imagebuilder/resources/client-tokens.ts';
import type { ImageBuilderServices } from '../../domain/imagebuilder/services.ts';
import { SqliteMetadataStore } from '../../adapters/sqlite/sqlite-store.ts';
import { dispatchImageBuilder } from './dispatcher.ts';

const ctx = { requestId: 'req-1', caller: { account: '111111111111', region: 'us-east-1' } };
const request = (method: string, rawPath: string, body: unknown = undefined, rawQuery = '') =>
  ({ method, rawPath, rawQuery, headers: { 'content-type': 'application/json' }, body: Buffer.from(body === undefined ? '' : JSON.stringify(body)) });

function services(): { ib: ImageBuilderServices; calls: unknown[] } {
  const calls: unknown[] = [];
  const store = new SqliteMetadataStore(':memory:').imageBuilder;
  const ib = {
    clientTokens: new ClientTokenService({ store, clock: { now: () => new Date() } }),
    distribution: {
      create: async (_caller: unknown, input: unknown) => {
        calls.push(input);
        return { distributionConfigurationArn: `arn:aws:imagebuilder:us-east-1:111111111111:distribution-configuration/d${calls.length}` };
      },
    },
  } as unknown as ImageBuilderServices;
  return { ib, calls };
}

const body = (r: { response: { body: string | Buffer } }) => JSON.parse(String(r.response.body));

test('a repeated clientToken answers the first result without calling the service again', async () => {
  const { ib, calls } = services();
  const input = { name: 'dist', distributions: [{ region: 'us-east-1' }], clientToken: 'tok' };
  const first = await dispatchImageBuilder(request('PUT', '/CreateDistributionConfiguration', input), ctx, ib);
  const again = await dispatchImageBuilder(request('PUT', '/CreateDistributionConfiguration', input), { ...ctx, requestId: 'req-2' }, ib);
  assert.equal(calls.length, 1);
  assert.equal(body(again).distributionConfigurationArn, body(first).distributionConfigurationArn);
  assert.equal(body(again).requestId, 'req-2');
  await assert.rejects(dispatchImageBuilder(request('PUT', '/CreateDistributionConfiguration', { ...input, name: 'other' }), ctx, ib),
    { code: 'IdempotentParameterMismatchException' });
});

test('codec errors are InvalidRequestException, InvalidParameterException for the tag operations; unknown routes too', async () => {
  const { ib } = services();
  await assert.rejects(dispatchImageBuilder(request('PUT', '/CreateDistributionConfiguration', { name: 'dist' }), ctx, ib),
    { code: 'InvalidRequestException', message: /distributions/ });
  await assert.rejects(dispatchImageBuilder(request('GET', '/tags/not-an-arn'), ctx, ib), { code: 'InvalidParameterException' });
  await assert.rejects(dispatchImageBuilder(request('GET', '/NoSuchOperation'), ctx, ib), { code: 'InvalidRequestException' });
});

test('an operation without a handler answers the error its model declares, naming it', async () => {
  const { ib } = services();
  await assert.rejects(dispatchImageBuilder(request('PUT', '/CreateContainerRecipe', {}), ctx, ib),
    { code: 'InvalidRequestException', message: 'CreateContainerRecipe is not supported: amiforge does not implement this Image Builder operation.' });
  await assert.rejects(dispatchImageBuilder(request('PUT', '/ImportVmImage', {}), ctx, ib), { code: 'ClientException', status: 400 });
});
