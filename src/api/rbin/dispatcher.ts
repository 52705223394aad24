// Dispatches one Recycle Bin API request through the rest-json codec generated from rbin's model.
import type { RequestContext } from '../../domain/context.ts';
import { Errors } from '../../domain/errors.ts';
import type { RetentionRuleService } from '../../domain/recycle-bin/retention-rules.ts';
import { RestJsonCodec, type RestRequest, type RestResponse } from '../../protocol/rest-json/codec.ts';
import { loadJsonModel } from '../../protocol/rest-json/model.ts';
import { rbinHandlers } from './handlers.ts';

const codec = new RestJsonCodec(
  loadJsonModel(new URL('../../protocol/rbin/model.generated.json', import.meta.url)),
  (message) => Errors.rbinValidation(message),
);

export async function dispatchRbin(
  req: RestRequest, ctx: RequestContext, rules: RetentionRuleService,
  authorize?: (action: string, input: Record<string, unknown>) => Promise<void>,
): Promise<{ action: string; response: RestResponse }> {
  const route = codec.route(req.method, req.rawPath);
  if (!route) throw Errors.rbinValidation(`No Recycle Bin operation answers ${req.method} ${req.rawPath}.`);
  const input = codec.parseInput(route.operation, route.uri, req);
  await authorize?.(route.operation, input as Record<string, unknown>);
  const handler = rbinHandlers[route.operation as keyof typeof rbinHandlers] as
    (i: unknown, c: RequestContext, r: RetentionRuleService) => Promise<Record<string, unknown>>;
  const output = await handler(input, ctx, rules);
  return { action: route.operation, response: codec.serializeOutput(route.operation, output) };
}
