// Dispatches one Image Builder API request through the rest-json codec generated from the
// imagebuilder model: route, bind and check the input, authorize, apply ClientToken idempotency,
// run the area's handler, render the output.
//
// Input the codec refuses (a missing required member, a value outside the model's constraints)
// is InvalidRequestException, the error every Image Builder operation declares for a request it
// cannot act on; the tag operations declare InvalidParameterException instead and answer that.
import type { RequestContext } from '../../domain/context.ts';
import { Errors, isServiceError } from '../../domain/errors.ts';
import type { ImageBuilderServices } from '../../domain/imagebuilder/services.ts';
import { RestJsonCodec, type RestRequest, type RestResponse } from '../../protocol/rest-json/codec.ts';
import { loadJsonModel } from '../../protocol/rest-json/model.ts';
import { imageBuilderHandlers } from './handlers/index.ts';

const model = loadJsonModel(new URL('../../protocol/imagebuilder/model.generated.json', import.meta.url));
const codec = new RestJsonCodec(model, (message) => Errors.ibInvalidRequest(message));

const TAG_OPERATIONS = new Set(['TagResource', 'UntagResource', 'ListTagsForResource']);

/** Operations whose input has a clientToken member. */
const IDEMPOTENT = new Set(Object.entries(model.operations)
  .filter(([, op]) => op.input && model.shapes[op.input].members?.clientToken)
  .map(([name]) => name));

type AnyHandler = (input: unknown, ctx: RequestContext, ib: ImageBuilderServices) => Promise<Record<string, unknown>>;

/** What an operation amiforge does not implement answers: the model's InvalidRequestException, or ClientException where that is not declared. */
function unsupported(operation: string) {
  const message = `${operation} is not supported: amiforge does not implement this Image Builder operation.`;
  const declared = model.operations[operation]?.errors ?? [];
  return declared.includes('InvalidRequestException') ? Errors.ibInvalidRequest(message) : Errors.ibClient(message);
}

export async function dispatchImageBuilder(
  req: RestRequest, ctx: RequestContext, ib: ImageBuilderServices,
  authorize?: (action: string, input: Record<string, unknown>) => Promise<void>,
): Promise<{ action: string; response: RestResponse }> {
  const route = codec.route(req.method, req.rawPath);
  if (!route) throw Errors.ibInvalidRequest(`No Image Builder operation answers ${req.method} ${req.rawPath}.`);
  const handler = imageBuilderHandlers[route.operation as keyof typeof imageBuilderHandlers] as AnyHandler | undefined;
  if (!handler) throw unsupported(route.operation);
  let input: Record<string, unknown>;
  try {
    input = codec.parseInput(route.operation, route.uri, req);
  } catch (err) {
    if (isServiceError(err) && TAG_OPERATIONS.has(route.operation)) throw Errors.ibInvalidParameter(err.message);
    throw err;
  }
  await authorize?.(route.operation, input);
  const token = input.clientToken;
  const output = IDEMPOTENT.has(route.operation) && typeof token === 'string'
    ? await ib.clientTokens.once(ctx.caller, route.operation, token, input, () => handler(input, ctx, ib))
    : await handler(input, ctx, ib);
  // Every answer is this request's, a repeated token's too; outputs without a requestId member drop it.
  return { action: route.operation, response: codec.serializeOutput(route.operation, { ...output, requestId: ctx.requestId }) };
}
