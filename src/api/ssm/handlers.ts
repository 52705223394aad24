// Systems Manager API handlers: the json 1.1 codec binds input; the rules live in SsmService.
// Operations of SSM's model without a handler answer UnsupportedOperationException, naming them.
import type { RequestContext } from '../../domain/context.ts';
import type { SsmService } from '../../domain/ssm/ssm-service.ts';
import type { SsmOperations } from '../../protocol/ssm/types.generated.ts';

type Handler<Op extends keyof SsmOperations> = (
  input: SsmOperations[Op]['input'], ctx: RequestContext, ssm: SsmService,
) => Promise<SsmOperations[Op]['output']>;

export const ssmHandlers: { [Op in keyof SsmOperations]?: Handler<Op> } = {
  PutParameter: (input, ctx, ssm) => ssm.parameters.put(ctx.caller, input),
  GetParameter: (input, ctx, ssm) => ssm.parameters.get(ctx.caller, input),
  GetParameters: (input, ctx, ssm) => ssm.parameters.getMany(ctx.caller, input),
  GetParametersByPath: (input, ctx, ssm) => ssm.queries.byPath(ctx.caller, input),
  DescribeParameters: (input, ctx, ssm) => ssm.queries.describe(ctx.caller, input),
  DeleteParameter: (input, ctx, ssm) => ssm.parameters.delete(ctx.caller, input),
  DeleteParameters: (input, ctx, ssm) => ssm.parameters.deleteMany(ctx.caller, input),
  GetParameterHistory: (input, ctx, ssm) => ssm.parameters.history(ctx.caller, input),
  LabelParameterVersion: (input, ctx, ssm) => ssm.parameters.label(ctx.caller, input),
  UnlabelParameterVersion: (input, ctx, ssm) => ssm.parameters.unlabel(ctx.caller, input),
  AddTagsToResource: (input, ctx, ssm) => ssm.parameters.addTags(ctx.caller, input),
  RemoveTagsFromResource: (input, ctx, ssm) => ssm.parameters.removeTags(ctx.caller, input),
  ListTagsForResource: (input, ctx, ssm) => ssm.parameters.listTags(ctx.caller, input),
};
