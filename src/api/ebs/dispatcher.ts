// Dispatches one EBS direct API request through the rest-json codec generated from EBS's model.
import type { RequestContext } from '../../domain/context.ts';
import { Errors } from '../../domain/errors.ts';
import type { EbsDirectService } from '../../domain/snapshots/ebs-direct-service.ts';
import { RestJsonCodec, type RestRequest, type RestResponse } from '../../protocol/rest-json/codec.ts';
import { loadJsonModel } from '../../protocol/rest-json/model.ts';
import { ebsHandlers } from './handlers.ts';

const codec = new RestJsonCodec(
  loadJsonModel(new URL('../../protocol/ebs/model.generated.json', import.meta.url)),
  (message) => Errors.ebsValidation('INVALID_PARAMETER_VALUE', message),
);

export async function dispatchEbs(
  req: RestRequest, ctx: RequestContext, ebs: EbsDirectService,
  authorize?: (action: string, input: Record<string, unknown>) => Promise<void>,
): Promise<{ action: string; response: RestResponse }> {
  const route = codec.route(req.method, req.rawPath);
  if (!route) throw Errors.ebsValidation('INVALID_PARAMETER_VALUE', `No EBS direct API operation answers ${req.method} ${req.rawPath}.`);
  const input = codec.parseInput(route.operation, route.uri, req);
  await authorize?.(route.operation, input as Record<string, unknown>);
  const handler = ebsHandlers[route.operation as keyof typeof ebsHandlers] as (i: unknown, c: RequestContext, e: EbsDirectService) => Promise<Record<string, unknown>>;
  const output = await handler(input, ctx, ebs);
  return { action: route.operation, response: codec.serializeOutput(route.operation, output) };
}
