// Dispatches one Systems Manager request (AWS JSON 1.1, `X-Amz-Target: AmazonSSM.<Operation>`)
// through the codec generated from SSM's model.
import type { RequestContext } from '../../domain/context.ts';
import { Errors } from '../../domain/errors.ts';
import type { SsmService } from '../../domain/ssm/ssm-service.ts';
import { AwsJsonCodec } from '../../protocol/json/codec.ts';
import { loadJsonModel } from '../../protocol/rest-json/model.ts';
import type { RestResponse } from '../../protocol/rest-json/codec.ts';
import type { JsonRequest } from '../kms/dispatcher.ts';
import { ssmHandlers } from './handlers.ts';

export const ssmModel = loadJsonModel(new URL('../../protocol/ssm/model.generated.json', import.meta.url));

const codec = new AwsJsonCodec(ssmModel, {
  invalid: Errors.ssmValidation,
  serialization: Errors.ssmSerialization,
  unknownOperation: Errors.ssmUnknownOperation,
});

export async function dispatchSsm(
  req: JsonRequest, ctx: RequestContext, ssm: SsmService,
  authorize?: (action: string, input: Record<string, unknown>) => Promise<void>,
): Promise<{ action: string; response: RestResponse }> {
  const action = codec.operation(req.headers['x-amz-target']);
  const handler = ssmHandlers[action as keyof typeof ssmHandlers] as
    | ((i: unknown, c: RequestContext, s: SsmService) => Promise<Record<string, unknown>>) | undefined;
  if (!handler) throw Errors.ssmUnsupported(action);
  const input = codec.parseInput(action, req.body);
  await authorize?.(action, input as Record<string, unknown>);
  const output = await handler(input, ctx, ssm);
  return { action, response: codec.serializeOutput(action, output) };
}
