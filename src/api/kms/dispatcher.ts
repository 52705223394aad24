// Dispatches one KMS request (AWS JSON 1.1, `X-Amz-Target: TrentService.<Operation>`) through
// the codec generated from KMS's model.
import type { RequestContext } from '../../domain/context.ts';
import { Errors } from '../../domain/errors.ts';
import type { KmsService } from '../../domain/kms/kms-service.ts';
import { AwsJsonCodec } from '../../protocol/json/codec.ts';
import { loadJsonModel } from '../../protocol/rest-json/model.ts';
import type { RestResponse } from '../../protocol/rest-json/codec.ts';
import { kmsHandlers } from './handlers.ts';

export const kmsModel = loadJsonModel(new URL('../../protocol/kms/model.generated.json', import.meta.url));

const codec = new AwsJsonCodec(kmsModel, {
  invalid: Errors.kmsValidation,
  serialization: Errors.kmsSerialization,
  unknownOperation: Errors.kmsUnknownOperation,
});

export interface JsonRequest { headers: Record<string, string | string[] | undefined>; body: Buffer }

export async function dispatchKms(
  req: JsonRequest, ctx: RequestContext, kms: KmsService,
  authorize?: (action: string, input: Record<string, unknown>) => Promise<void>,
): Promise<{ action: string; response: RestResponse }> {
  const action = codec.operation(req.headers['x-amz-target']);
  const handler = kmsHandlers[action as keyof typeof kmsHandlers] as
    | ((i: unknown, c: RequestContext, k: KmsService) => Promise<Record<string, unknown>>) | undefined;
  if (!handler) throw Errors.kmsUnsupported(`amiforge does not implement the KMS operation ${action} yet.`);
  const input = codec.parseInput(action, req.body);
  await authorize?.(action, input as Record<string, unknown>);
  const output = await handler(input, ctx, kms);
  return { action, response: codec.serializeOutput(action, output) };
}
